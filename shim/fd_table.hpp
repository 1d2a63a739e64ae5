// Which virtual path each open descriptor stands for, so that *at calls
// relative to a directory descriptor, fchdir and fdopendir can be placed.
// Only descriptors opened on paths inside the root (or on its ancestors)
// are recorded; looking up any other costs one atomic load.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fractfs::shim::fd_table {

enum Flag : std::uint32_t {
  writable = 1,     // opened for writing: the close is a change to record
  remote_half = 2,  // opened on a remote-tier path: if it is a directory, the
                    // descriptor is its remote half (fstat and fchdir adjust)
  union_dir = 4,    // the local half of a remote-tier directory (fstat adjusts)
};

// Opened for writing on the remote half: the half's to store at its close.
inline bool writes_remote(std::uint32_t flags) noexcept {
  return (flags & (writable | remote_half)) == (writable | remote_half);
}

void set(int fd, std::string_view vpath, std::uint32_t flags = 0) noexcept;

// Forgets fd. Costs one atomic load when fd was not recorded.
void forget(int fd) noexcept;

namespace detail {
struct Entry;
using Slot = std::atomic<Entry*>;
inline constexpr int kChunkBits = 10;
inline constexpr int kChunk = 1 << kChunkBits;  // slots per chunk
inline constexpr int kChunks = 1024;            // descriptors up to 1M are tracked
extern std::atomic<Slot*> g_chunks[kChunks];
}  // namespace detail

// Whether fd is recorded (two atomic loads). Inline: every descriptor call
// of the app asks.
inline bool tracked(int fd) noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(detail::kChunk * detail::kChunks)) return false;
  detail::Slot* c = detail::g_chunks[fd >> detail::kChunkBits].load(std::memory_order_acquire);
  return c && c[fd & (detail::kChunk - 1)].load(std::memory_order_acquire);
}

// Forgets fd and says what it was: false when it was not recorded (one
// atomic load); else its flags, and its path in buf if it was writable.
bool take(int fd, std::uint32_t& flags, char* buf, std::size_t cap) noexcept;

// Copies fd's virtual path (NUL-terminated) into buf; returns its length,
// or -1 when fd is not recorded or the path does not fit.
std::ptrdiff_t get(int fd, char* buf, std::size_t cap, std::uint32_t* flags = nullptr) noexcept;

// One past the highest descriptor ever recorded: nothing above is tracked.
int limit() noexcept;

// Whether another descriptor recorded writable stands for `vpath` (the
// last close of a written file is the one that finds none).
bool writable_elsewhere(std::string_view vpath) noexcept;

// After dup/dup2/fcntl(F_DUPFD): newfd stands for what oldfd does.
void copy(int oldfd, int newfd) noexcept;

// Held across fork.
void lock_all() noexcept;
void unlock_all() noexcept;

}  // namespace fractfs::shim::fd_table
