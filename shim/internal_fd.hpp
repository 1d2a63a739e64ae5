// Descriptors fractfs itself keeps open in an app process (the presence
// lock that tells the helper the app runs). An app that closes "all
// descriptors" must not close these: close() pretends, close_range() skips
// them. One that dup2()s over one takes it (and the helper then sees this
// process as gone).
#pragma once

#include <atomic>

namespace fractfs::shim::internal_fd {

constexpr int kSlots = 4;

namespace detail {
extern std::atomic<int> g_fds[kSlots];
extern std::atomic<bool> g_any;
}  // namespace detail

void add(int fd) noexcept;
void clear() noexcept;

// Inline: every close() of the app asks.
inline bool is(int fd) noexcept {
  if (!detail::g_any.load(std::memory_order_relaxed)) return false;
  for (auto& slot : detail::g_fds)
    if (slot.load(std::memory_order_relaxed) == fd) return true;
  return false;
}
// Lowest internal descriptor in [first, last], or -1.
int first_in(unsigned first, unsigned last) noexcept;
// The app took `fd` over (dup2 onto it): forget it.
void taken(int fd) noexcept;

}  // namespace fractfs::shim::internal_fd
