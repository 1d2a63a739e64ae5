// Deterministic crash points for the reliability tests:
// FRACTFS_INTERNAL_CRASH=POINT:N ends the process with _exit(99) the N-th
// time POINT is reached (N defaults to 1). Off (one load) otherwise.
#pragma once

namespace fractfs {

void crash_point(const char* point) noexcept;

}  // namespace fractfs
