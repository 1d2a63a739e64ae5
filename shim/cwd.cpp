#include "shim/cwd.hpp"

#include <pthread.h>

#include <atomic>
#include <cstring>

#include "resolver/path.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"

namespace fractfs::shim::cwd {
namespace {

constexpr std::size_t kWords = path::kMax / 8;

std::atomic<std::uint32_t> g_seq{0};
std::atomic<std::uint64_t> g_words[kWords];
std::atomic<std::size_t> g_len{0};
std::atomic<Relation> g_relation{Relation::stale};
pthread_mutex_t g_write = PTHREAD_MUTEX_INITIALIZER;

Relation classify(std::string_view abs) {
  const State& s = *g_state;
  for (const std::string* root : {&s.root, &s.root_real}) {
    if (root->empty()) continue;
    if (path::contains(*root, abs)) return Relation::inside;
    if (path::is_ancestor(abs, *root)) return Relation::ancestor;
  }
  return Relation::unrelated;
}

void store_locked(std::string_view abs) {
  g_seq.fetch_add(1, std::memory_order_acq_rel);  // odd: write in progress
  std::uint64_t w[kWords];
  std::size_t n = (abs.size() + 1 + 7) / 8;
  std::memset(w, 0, n * 8);
  std::memcpy(w, abs.data(), abs.size());
  for (std::size_t i = 0; i < n; ++i) g_words[i].store(w[i], std::memory_order_relaxed);
  g_len.store(abs.size(), std::memory_order_relaxed);
  g_relation.store(classify(abs), std::memory_order_relaxed);
  g_seq.fetch_add(1, std::memory_order_release);
}

void refresh() noexcept {
  scratch::Buf buf;
  if (!buf.ok() || !REAL(getcwd)(buf.get(), path::kMax)) return;
  set(buf.get());
}

}  // namespace

Relation relation() noexcept { return g_relation.load(std::memory_order_acquire); }

std::ptrdiff_t copy(char* buf, std::size_t cap) noexcept {
  if (relation() == Relation::stale) refresh();
  for (;;) {
    std::uint32_t s1 = g_seq.load(std::memory_order_acquire);
    if (s1 & 1) continue;
    std::size_t len = g_len.load(std::memory_order_relaxed);
    if (len + 1 > cap || len + 1 > path::kMax) return -1;
    std::size_t n = (len + 1 + 7) / 8;
    std::uint64_t w[kWords];
    // Acquire loads keep the check of the sequence below after them (and
    // cost nothing more than plain loads on x86).
    for (std::size_t i = 0; i < n; ++i) w[i] = g_words[i].load(std::memory_order_acquire);
    if (g_seq.load(std::memory_order_relaxed) != s1) continue;
    std::memcpy(buf, w, len + 1);
    buf[len] = '\0';
    return static_cast<std::ptrdiff_t>(len);
  }
}

void set(std::string_view abs) noexcept {
  if (abs.size() + 1 > path::kMax) return invalidate();
  pthread_mutex_lock(&g_write);
  store_locked(abs);
  pthread_mutex_unlock(&g_write);
}

void invalidate() noexcept { g_relation.store(Relation::stale, std::memory_order_release); }

void lock() noexcept { pthread_mutex_lock(&g_write); }
void unlock() noexcept { pthread_mutex_unlock(&g_write); }

}  // namespace fractfs::shim::cwd
