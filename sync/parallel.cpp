#include "sync/parallel.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace fractfs {

unsigned worker_count(std::size_t items) {
  if (items < 16) return 1;
  unsigned hw = std::thread::hardware_concurrency();
  unsigned n = hw == 0 ? 2 : hw + 2;  // I/O waits leave cores idle
  if (n > 8) n = 8;
  return items < n * 4 ? 1 + static_cast<unsigned>(items / 8) : n;
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t, unsigned)>& fn) {
  if (threads <= 1 || n <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&](unsigned worker) {
    while (!stop.load(std::memory_order_relaxed)) {
      std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
        stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < threads; ++w) {
    try {
      pool.emplace_back([&, w] { work(w); });
    } catch (const std::system_error&) {
      break;  // no more threads to be had: fewer workers do the same work
    }
  }
  work(0);
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace fractfs
