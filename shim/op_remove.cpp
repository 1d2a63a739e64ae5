// mkdir, rmdir, unlink, remove: creating and removing names.
#include <errno.h>
#include <stdio.h>

#include "shim/envelope.hpp"
#include "shim/fs_ops.hpp"
#include "shim/guard.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"
#include "shim/track.hpp"
#include "shim/union_dir.hpp"

namespace fractfs::shim {
namespace {

void removed(const Target& t) {
  track::removed(t);
  half::changed(t, half::Change::removed);
}

int mkdir_placed(Target& t, mode_t mode) {
  if (t.remote()) {
    int rc = mkdir_union(t, mode);
    if (rc == 0) {
      track::changed(t);
      half::changed(t, half::Change::made);
    }
    return rc;
  }
  int rc = with_parents(t, [&] { return REAL(mkdirat)(t.at_fd(), t.at_path(), mode); });
  if (rc == 0) track::changed(t);
  return rc;
}

int rmdir_placed(Target& t) {
  int rc = t.remote() ? rmdir_union(t) : REAL(unlinkat)(t.at_fd(), t.at_path(), AT_REMOVEDIR);
  if (rc == 0) removed(t);
  return rc;
}

int unlink_placed(Target& t) {
  int rc = REAL(unlinkat)(t.at_fd(), t.at_path(), 0);
  if (rc == 0) removed(t);
  return rc;
}

// A symlink on the way may lead into the other tier; the last component
// itself is never followed by these.
template <typename Pass>
int mkdir_at(const char* where, int dirfd, const char* path, mode_t mode, Pass&& pass) {
  return on_path(
      where, dirfd, path, Kind::dir,
      [&](Target& t) { return with_relink(t, Kind::dir, false, [&] { return mkdir_placed(t, mode); }); }, pass);
}

template <typename Pass>
int rmdir_at(const char* where, int dirfd, const char* path, Pass&& pass) {
  return on_path(
      where, dirfd, path, Kind::dir,
      [&](Target& t) { return with_relink(t, Kind::dir, false, [&] { return rmdir_placed(t); }); }, pass);
}

template <typename Pass>
int unlink_at(const char* where, int dirfd, const char* path, Pass&& pass) {
  return on_path(
      where, dirfd, path, Kind::file,
      [&](Target& t) { return with_relink(t, Kind::file, false, [&] { return unlink_placed(t); }); }, pass);
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int mkdir(const char* path, mode_t mode) {
  return mkdir_at(__func__, AT_FDCWD, path, mode, [&] { return REAL(mkdir)(path, mode); });
}
SHIM_EXPORT int mkdirat(int dirfd, const char* path, mode_t mode) {
  return mkdir_at(__func__, dirfd, path, mode, [&] { return REAL(mkdirat)(dirfd, path, mode); });
}
SHIM_EXPORT int rmdir(const char* path) {
  return rmdir_at(__func__, AT_FDCWD, path, [&] { return REAL(rmdir)(path); });
}
SHIM_EXPORT int unlink(const char* path) {
  return unlink_at(__func__, AT_FDCWD, path, [&] { return REAL(unlink)(path); });
}
SHIM_EXPORT int unlinkat(int dirfd, const char* path, int flags) {
  if (flags & AT_REMOVEDIR) return rmdir_at(__func__, dirfd, path, [&] { return REAL(unlinkat)(dirfd, path, flags); });
  return unlink_at(__func__, dirfd, path, [&] { return REAL(unlinkat)(dirfd, path, flags); });
}

// remove: unlink, or rmdir for a directory (libc does this internally).
SHIM_EXPORT int remove(const char* path) {
  return on_path(
      __func__, AT_FDCWD, path, Kind::unknown,
      [&](Target& t) {
        int rc = unlink_placed(t);
        if (rc == 0 || (errno != EISDIR && errno != EPERM)) return rc;
        replace_kind(t, Kind::dir);
        return rmdir_placed(t);
      },
      [&] { return REAL(remove)(path); });
}
