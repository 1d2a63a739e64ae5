#include "shim/internal_fd.hpp"

#include <atomic>

namespace fractfs::shim::internal_fd {

std::atomic<int> detail::g_fds[kSlots] = {-1, -1, -1, -1};
std::atomic<bool> detail::g_any{false};

using detail::g_any;
using detail::g_fds;

void add(int fd) noexcept {
  if (fd < 0) return;
  for (auto& slot : g_fds) {
    int expected = -1;
    if (slot.compare_exchange_strong(expected, fd)) break;
  }
  g_any = true;
}

void clear() noexcept {
  for (auto& slot : g_fds) slot = -1;
  g_any = false;
}

int first_in(unsigned first, unsigned last) noexcept {
  if (!g_any.load(std::memory_order_relaxed)) return -1;
  int best = -1;
  for (auto& slot : g_fds) {
    int fd = slot.load(std::memory_order_relaxed);
    if (fd >= 0 && static_cast<unsigned>(fd) >= first && static_cast<unsigned>(fd) <= last && (best < 0 || fd < best))
      best = fd;
  }
  return best;
}

void taken(int fd) noexcept {
  for (auto& slot : g_fds) {
    int expected = fd;
    slot.compare_exchange_strong(expected, -1);
  }
}

}  // namespace fractfs::shim::internal_fd
