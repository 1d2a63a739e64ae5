// A name a call found missing, proven missing in one system call per tier.
//
// When a call on a path inside the root fails with ENOENT, something the
// kernel cannot see may have misled it: a socket in a union directory's
// local half (sockets live there, whatever their name's tier), or a
// symlink on the way whose target lies in the other tier (symlinks.cpp).
// Looking for those costs one lstat per component. openat2 with
// RESOLVE_NO_SYMLINKS answers for a whole path at once: ENOENT means
// nothing is there and no link was on the way; a link anywhere is ELOOP.
#pragma once

#include "shim/mapping.hpp"

namespace fractfs::shim {

// True when `t`'s name is absent from its local half and, where a
// component can be in the remote tier, from the remote half, with no
// symlink on the way in either: no socket and no link can change the
// ENOENT a call on `t` just got. False whenever unsure (a link, something
// there, openat2 refused), and where looking component by component costs
// no more: the caller then looks so. Keeps errno; never allocates.
bool surely_absent(const Target& t) noexcept;

}  // namespace fractfs::shim
