// Virtual resolution of symlinks on a path inside the root (see
// symlinks.cpp): used after a call failed, or where a link was seen.
#pragma once

#include "shim/absent.hpp"
#include "shim/fs_ops.hpp"
#include "shim/guard.hpp"
#include "shim/mapping.hpp"

namespace fractfs::shim {

// Resolves every symlink on t's path (the last component only with
// `follow_last`) and re-places `t` for `kind`. False when there was no
// link to resolve, or the result is not inside the root. `last_absent`:
// the caller's no-follow call found nothing at t's physical path, so the
// last component is not looked at again unless a link before it moved it.
bool relink(Target& t, Kind kind, bool follow_last, bool last_absent = false) noexcept;

// Errors a symlink into the other tier produces.
bool retry_errno(int err) noexcept;

// True if t's last component is a symlink (looked at without following).
bool last_is_link(const Target& t) noexcept;

// After a call on `t` failed with `err`: could a symlink be the cause? (A
// look at the disk, on error paths only.)
bool worth_relinking(const Target& t, int err, bool follow_last) noexcept;

// Runs `attempt()`; if it failed as a link into the other tier would make it
// fail, resolves the links on t's path and runs it once more. A remote-tier
// name missing there may be a socket, which lives in the local half. A name
// surely absent (no link, no socket) needs neither look.
template <typename Attempt>
auto with_relink(Target& t, Kind kind, bool follow_last, Attempt&& attempt) -> decltype(attempt()) {
  return keep_errno([&] {
    auto rc = attempt();
    if (rc < 0 && errno == ENOENT && surely_absent(t)) return rc;
    if (rc < 0 && errno == ENOENT && to_local_socket(t)) rc = attempt();
    if (rc < 0 && worth_relinking(t, errno, follow_last) && relink(t, kind, follow_last)) rc = attempt();
    return rc;
  });
}

}  // namespace fractfs::shim
