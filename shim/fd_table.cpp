#include "shim/fd_table.hpp"

#include <stdlib.h>
#include <string.h>

#include <atomic>

namespace fractfs::shim::fd_table {

struct detail::Entry {
  std::uint32_t flags;
  std::uint32_t len;
  std::uint32_t cap;  // bytes available in path
  char path[1];       // len + 1 bytes used
};
std::atomic<detail::Slot*> detail::g_chunks[detail::kChunks];

namespace {

using detail::Entry;
using detail::g_chunks;
using detail::kChunk;
using detail::kChunkBits;
using detail::kChunks;
using detail::Slot;

// One freed entry kept aside: an open/close loop then costs two atomic
// exchanges per descriptor instead of a malloc/free pair.
std::atomic<Entry*> g_spare{nullptr};

void release_entry(Entry* e) noexcept {
  Entry* none = nullptr;
  if (e && !g_spare.compare_exchange_strong(none, e, std::memory_order_acq_rel)) free(e);
}

constexpr int kStripes = 64;

// Entries are freed under their stripe's lock, and readers copy under it,
// so a close racing a lookup never frees what is being read.
struct Spin {
  std::atomic<bool> held{false};
  void lock() noexcept {
    while (held.exchange(true, std::memory_order_acquire)) __builtin_ia32_pause();
  }
  void unlock() noexcept { held.store(false, std::memory_order_release); }
};
Spin g_stripes[kStripes];
std::atomic<int> g_limit{0};

Slot* slot(int fd, bool create) noexcept {
  if (fd < 0 || fd >= kChunk * kChunks) return nullptr;
  std::atomic<Slot*>& chunk = g_chunks[fd >> kChunkBits];
  Slot* c = chunk.load(std::memory_order_acquire);
  if (!c && create) {
    auto* fresh = static_cast<Slot*>(calloc(kChunk, sizeof(Slot)));
    if (!fresh) return nullptr;
    if (chunk.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) c = fresh;
    else free(fresh);
  }
  return c ? &c[fd & (kChunk - 1)] : nullptr;
}

Spin& stripe(int fd) noexcept { return g_stripes[fd % kStripes]; }

Entry* make(std::string_view vpath, std::uint32_t flags) noexcept {
  Entry* e = g_spare.exchange(nullptr, std::memory_order_acq_rel);
  if (e && e->cap <= vpath.size()) {
    free(e);
    e = nullptr;
  }
  if (!e) {
    // Rounded up, so the spare fits most paths that follow.
    std::size_t cap = (vpath.size() + 1 + 127) & ~std::size_t{127};
    e = static_cast<Entry*>(malloc(sizeof(Entry) + cap));
    if (!e) return nullptr;
    e->cap = static_cast<std::uint32_t>(cap);
  }
  e->flags = flags;
  e->len = static_cast<std::uint32_t>(vpath.size());
  memcpy(e->path, vpath.data(), vpath.size());
  e->path[vpath.size()] = '\0';
  return e;
}

void replace(int fd, Slot* s, Entry* e) noexcept {
  Spin& lk = stripe(fd);
  lk.lock();
  Entry* old = s->exchange(e, std::memory_order_acq_rel);
  lk.unlock();
  release_entry(old);
}

}  // namespace

void set(int fd, std::string_view vpath, std::uint32_t flags) noexcept {
  Slot* s = slot(fd, true);
  if (!s) return;
  for (int cur = g_limit.load(std::memory_order_relaxed); cur <= fd;)
    if (g_limit.compare_exchange_weak(cur, fd + 1, std::memory_order_relaxed)) break;
  replace(fd, s, make(vpath, flags));
}

void forget(int fd) noexcept {
  Slot* s = slot(fd, false);
  if (!s || !s->load(std::memory_order_acquire)) return;
  replace(fd, s, nullptr);
}

bool take(int fd, std::uint32_t& flags, char* buf, std::size_t cap) noexcept {
  Slot* s = slot(fd, false);
  if (!s || !s->load(std::memory_order_acquire)) return false;
  Spin& lk = stripe(fd);
  lk.lock();
  Entry* e = s->exchange(nullptr, std::memory_order_acq_rel);
  lk.unlock();
  if (!e) return false;
  flags = e->flags;
  if ((flags & writable) && e->len + 1 <= cap) memcpy(buf, e->path, e->len + 1);
  release_entry(e);
  return true;
}

std::ptrdiff_t get(int fd, char* buf, std::size_t cap, std::uint32_t* flags) noexcept {
  Slot* s = slot(fd, false);
  if (!s || !s->load(std::memory_order_acquire)) return -1;
  Spin& lk = stripe(fd);
  lk.lock();
  Entry* e = s->load(std::memory_order_acquire);
  std::ptrdiff_t n = -1;
  if (e && e->len + 1 <= cap) {
    memcpy(buf, e->path, e->len + 1);
    if (flags) *flags = e->flags;
    n = e->len;
  }
  lk.unlock();
  return n;
}

int limit() noexcept { return g_limit.load(std::memory_order_relaxed); }

bool writable_elsewhere(std::string_view vpath) noexcept {
  for (int fd = 0, n = limit(); fd < n; ++fd) {
    Slot* s = slot(fd, false);
    if (!s || !s->load(std::memory_order_acquire)) continue;
    Spin& lk = stripe(fd);
    lk.lock();
    Entry* e = s->load(std::memory_order_acquire);
    bool same = e && (e->flags & writable) && std::string_view(e->path, e->len) == vpath;
    lk.unlock();
    if (same) return true;
  }
  return false;
}

void copy(int oldfd, int newfd) noexcept {
  if (oldfd == newfd) return;
  char buf[4096];
  std::uint32_t flags = 0;
  std::ptrdiff_t n = get(oldfd, buf, sizeof buf, &flags);
  if (n < 0) return forget(newfd);
  set(newfd, std::string_view(buf, static_cast<std::size_t>(n)), flags);
}

void lock_all() noexcept {
  for (Spin& s : g_stripes) s.lock();
}
void unlock_all() noexcept {
  for (Spin& s : g_stripes) s.unlock();
}

}  // namespace fractfs::shim::fd_table
