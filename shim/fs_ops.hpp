// File-system mechanics the operations share: probing, creating a union
// directory's missing halves on demand, and moving entries physically.
#pragma once

#include <errno.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "shim/guard.hpp"
#include "shim/mapping.hpp"

namespace fractfs::shim {

// Saves errno and puts it back on scope exit, unless keep() is called:
// internal probes must not leak their errno into a call that succeeds.
class ErrnoGuard {
 public:
  ErrnoGuard() noexcept;
  ~ErrnoGuard();
  void keep() noexcept { restore_ = false; }
  ErrnoGuard(const ErrnoGuard&) = delete;
  ErrnoGuard& operator=(const ErrnoGuard&) = delete;

 private:
  int saved_;
  bool restore_ = true;
};

// Kind of whatever is at a physical path: 'd' directory, 'f' anything else,
// 0 nothing (or an error).
char kind_at(const char* path) noexcept;

// True if a symlink is at the physical path.
bool is_symlink(const char* path) noexcept;

// A socket is node-local by nature: one bound in a union directory lives
// in its local half, whatever its name's tier. If `t` (remote tier) names
// one there, `t` is re-placed onto it and true returned.
bool to_local_socket(Target& t) noexcept;

// Creates the missing parents of `t`'s physical location, mirroring the
// directories that exist in the other half of the union (and nothing else):
// the virtual parent must exist. 0, or -1 with errno (ENOENT).
int ensure_parent(const Target& t) noexcept;

// `create()`, and once more after ensure_parent() when it failed for want
// of a parent (ENOENT): how every call that makes a name makes it.
template <typename Create>
auto with_parents(const Target& t, Create&& create) -> decltype(create()) {
  auto rc = create();
  if (!succeeded(rc) && errno == ENOENT && ensure_parent(t) == 0) rc = create();
  return rc;
}

// The same for the local half of a remote-tier path's parent.
int ensure_local_parent(const Target& t) noexcept;

// For a remote-tier directory: makes sure its local half exists when the
// remote half is a directory. 0 when the local half exists afterwards;
// else -1 with errno ENOENT (nothing there) or ENOTDIR (not a directory).
int materialize(const Target& t) noexcept;

}  // namespace fractfs::shim
