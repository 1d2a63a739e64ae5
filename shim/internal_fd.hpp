// Descriptors fractfs itself keeps open in an app process (the holder's
// lock, control socket and wake-up descriptor). An app that closes "all
// descriptors" must not close these: close() pretends, close_range()
// skips them. One that dup2()s over one takes it; the holder then stops.
#pragma once

namespace fractfs::shim::internal_fd {

constexpr int kSlots = 4;

void add(int fd) noexcept;
void clear() noexcept;
bool is(int fd) noexcept;
// Lowest internal descriptor in [first, last], or -1.
int first_in(unsigned first, unsigned last) noexcept;
// The app took `fd` over (dup2 onto it): forget it and tell the holder.
void taken(int fd) noexcept;

}  // namespace fractfs::shim::internal_fd
