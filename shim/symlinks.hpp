// Virtual resolution of symlinks on a path inside the root (see
// symlinks.cpp): used after a call failed, or where a link was seen.
#pragma once

#include "shim/mapping.hpp"

namespace fractfs::shim {

// Resolves every symlink on t's path (the last component only with
// `follow_last`) and re-places `t` for `kind`. False when there was no
// link to resolve, or the result is not inside the root.
bool relink(Target& t, Kind kind, bool follow_last) noexcept;

// Errors a symlink into the other tier produces.
bool retry_errno(int err) noexcept;

// Runs `attempt()`; if it failed as a link into the other tier would make it
// fail, resolves the links on t's path and runs it once more.
template <typename Attempt>
auto with_relink(Target& t, Kind kind, bool follow_last, Attempt&& attempt) -> decltype(attempt()) {
  auto rc = attempt();
  if (rc < 0 && retry_errno(errno) && relink(t, kind, follow_last)) rc = attempt();
  return rc;
}

}  // namespace fractfs::shim
