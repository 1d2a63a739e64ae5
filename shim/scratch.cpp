#include "shim/scratch.hpp"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <new>

namespace fractfs::shim::scratch {
namespace {

constexpr int kSlots = 64;

struct Pool {
  std::atomic<std::uint64_t> used{0};
  alignas(64) char slots[kSlots][path::kMax];
};

pthread_key_t g_key;
pthread_once_t g_once = PTHREAD_ONCE_INIT;
bool g_key_ok = false;

void unmap(void* p) { ::munmap(p, sizeof(Pool)); }
void make_key() { g_key_ok = ::pthread_key_create(&g_key, unmap) == 0; }

// This thread's pool, mapped on first use; nullptr if that failed.
Pool* pool() noexcept {
  ::pthread_once(&g_once, make_key);
  if (!g_key_ok) return nullptr;
  if (void* p = ::pthread_getspecific(g_key)) return static_cast<Pool*>(p);
  void* m = ::mmap(nullptr, sizeof(Pool), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  auto* p = new (m) Pool;
  if (::pthread_setspecific(g_key, p) != 0) {
    ::munmap(m, sizeof(Pool));
    return nullptr;
  }
  return p;
}

bool in_pool(const Pool* p, const char* buf) noexcept {
  return p && buf >= p->slots[0] && buf < p->slots[0] + sizeof p->slots;
}

}  // namespace

char* take() noexcept {
  if (Pool* p = pool()) {
    std::uint64_t used = p->used.load(std::memory_order_relaxed);
    while (~used) {
      int i = __builtin_ctzll(~used);
      if (p->used.compare_exchange_weak(used, used | (std::uint64_t{1} << i), std::memory_order_acquire))
        return p->slots[i];
    }
  }
  return static_cast<char*>(::malloc(path::kMax));
}

void give(char* buf) noexcept {
  if (!buf) return;
  auto* p = static_cast<Pool*>(g_key_ok ? ::pthread_getspecific(g_key) : nullptr);
  if (!in_pool(p, buf)) return ::free(buf);
  auto i = static_cast<std::size_t>(buf - p->slots[0]) / path::kMax;
  p->used.fetch_and(~(std::uint64_t{1} << i), std::memory_order_release);
}

}  // namespace fractfs::shim::scratch
