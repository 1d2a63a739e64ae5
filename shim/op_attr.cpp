// Metadata calls (chmod, chown, truncate, utime*, xattrs) and the creation
// of special files (mknod, mkfifo).
#include <errno.h>
#include <sys/stat.h>

#include "shim/envelope.hpp"
#include "shim/fs_ops.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"
#include "shim/track.hpp"

namespace fractfs::shim {
namespace {

// A metadata change. Local tiers: the caller's own call. Remote tier: the
// remote path; for a union directory, with `both` its local half as well so
// the two halves agree.
// A truncate is a change of `content`: the half makes the content present first.
template <typename Call, typename Pass>
auto change_attr(const char* where, int dirfd, const char* path, bool both, bool follow, Call&& call, Pass&& pass,
                 half::Change change = half::Change::attrs) -> decltype(pass()) {
  return on_path(
      where, dirfd, path, Kind::unknown,
      [&](Target& t) -> decltype(pass()) {
        if (change == half::Change::content)
          if (int err = half::opening(t, O_WRONLY)) return Failure{err}.as<decltype(pass())>();
        auto rc = with_relink(t, Kind::unknown, follow, [&] { return t.passes() ? pass() : call(t.at_path()); });
        if (rc < 0) return rc;
        if (t.remote() && both) {
          ErrnoGuard g;
          if (kind_at(t.natural()) == 'd') call(t.natural());
        }
        track::changed(t);
        half::changed(t, change);
        return rc;
      },
      pass);
}

// Reads need only the path mapped.
template <typename Call, typename Pass>
auto read_attr(const char* where, int dirfd, const char* path, bool follow, Call&& call, Pass&& pass)
    -> decltype(pass()) {
  return on_path(
      where, dirfd, path, Kind::unknown,
      [&](Target& t) {
        return with_relink(t, Kind::unknown, follow, [&] { return t.passes() ? pass() : call(t.at_path()); });
      },
      pass);
}

// mknod/mkfifo: a new name, whose parents may need creating on demand.
template <typename Call, typename Pass>
int create_node(const char* where, int dirfd, const char* path, Call&& call, Pass&& pass) {
  return on_path(
      where, dirfd, path, Kind::file,
      [&](Target& t) {
        auto attempt = [&] { return t.passes() ? pass() : call(t.at_path()); };
        int rc = with_parents(t, [&] { return with_relink(t, Kind::file, false, attempt); });
        if (rc == 0) {
          track::changed(t);
          half::changed(t, half::Change::made);
        }
        return rc;
      },
      pass);
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int chmod(const char* path, mode_t mode) {
  return change_attr(
      __func__, AT_FDCWD, path, true, true, [&](const char* p) { return REAL(chmod)(p, mode); },
      [&] { return REAL(chmod)(path, mode); });
}
SHIM_EXPORT int lchmod(const char* path, mode_t mode) {
  return change_attr(
      __func__, AT_FDCWD, path, true, false, [&](const char* p) { return REAL(lchmod)(p, mode); },
      [&] { return REAL(lchmod)(path, mode); });
}
SHIM_EXPORT int fchmodat(int dirfd, const char* path, mode_t mode, int flags) {
  return change_attr(
      __func__, dirfd, path, true, !(flags & AT_SYMLINK_NOFOLLOW),
      [&](const char* p) { return REAL(fchmodat)(AT_FDCWD, p, mode, flags); },
      [&] { return REAL(fchmodat)(dirfd, path, mode, flags); });
}
SHIM_EXPORT int chown(const char* path, uid_t uid, gid_t gid) {
  return change_attr(
      __func__, AT_FDCWD, path, true, true, [&](const char* p) { return REAL(chown)(p, uid, gid); },
      [&] { return REAL(chown)(path, uid, gid); });
}
SHIM_EXPORT int lchown(const char* path, uid_t uid, gid_t gid) {
  return change_attr(
      __func__, AT_FDCWD, path, true, false, [&](const char* p) { return REAL(lchown)(p, uid, gid); },
      [&] { return REAL(lchown)(path, uid, gid); });
}
SHIM_EXPORT int fchownat(int dirfd, const char* path, uid_t uid, gid_t gid, int flags) {
  return change_attr(
      __func__, dirfd, path, true, !(flags & AT_SYMLINK_NOFOLLOW),
      [&](const char* p) { return REAL(fchownat)(AT_FDCWD, p, uid, gid, flags); },
      [&] { return REAL(fchownat)(dirfd, path, uid, gid, flags); });
}
SHIM_EXPORT int truncate(const char* path, off_t len) {
  return change_attr(
      __func__, AT_FDCWD, path, false, true, [&](const char* p) { return REAL(truncate)(p, len); },
      [&] { return REAL(truncate)(path, len); }, half::Change::content);
}
SHIM_EXPORT int truncate64(const char* path, off64_t len) {
  return change_attr(
      __func__, AT_FDCWD, path, false, true, [&](const char* p) { return REAL(truncate64)(p, len); },
      [&] { return REAL(truncate64)(path, len); }, half::Change::content);
}
SHIM_EXPORT int utime(const char* path, const struct utimbuf* times) {
  return change_attr(
      __func__, AT_FDCWD, path, true, true, [&](const char* p) { return REAL(utime)(p, times); },
      [&] { return REAL(utime)(path, times); });
}
SHIM_EXPORT int utimes(const char* path, const struct timeval times[2]) {
  return change_attr(
      __func__, AT_FDCWD, path, true, true, [&](const char* p) { return REAL(utimes)(p, times); },
      [&] { return REAL(utimes)(path, times); });
}
SHIM_EXPORT int lutimes(const char* path, const struct timeval times[2]) {
  return change_attr(
      __func__, AT_FDCWD, path, true, false, [&](const char* p) { return REAL(lutimes)(p, times); },
      [&] { return REAL(lutimes)(path, times); });
}
SHIM_EXPORT int utimensat(int dirfd, const char* path, const struct timespec times[2], int flags) {
  if (!path) return REAL(utimensat)(dirfd, path, times, flags);  // futimens on dirfd
  return change_attr(
      __func__, dirfd, path, true, !(flags & AT_SYMLINK_NOFOLLOW),
      [&](const char* p) { return REAL(utimensat)(AT_FDCWD, p, times, flags); },
      [&] { return REAL(utimensat)(dirfd, path, times, flags); });
}
SHIM_EXPORT int futimesat(int dirfd, const char* path, const struct timeval times[2]) {
  if (!path) return REAL(futimesat)(dirfd, path, times);
  return change_attr(
      __func__, dirfd, path, true, true, [&](const char* p) { return REAL(futimesat)(AT_FDCWD, p, times); },
      [&] { return REAL(futimesat)(dirfd, path, times); });
}

#define XATTR_GET(NAME, FOLLOW)                                                                            \
  SHIM_EXPORT ssize_t NAME(const char* path, const char* name, void* value, size_t size) {                 \
    return read_attr(                                                                                      \
        __func__, AT_FDCWD, path, FOLLOW, [&](const char* p) { return REAL(NAME)(p, name, value, size); }, \
        [&] { return REAL(NAME)(path, name, value, size); });                                              \
  }
XATTR_GET(getxattr, true)
XATTR_GET(lgetxattr, false)

#define XATTR_LIST(NAME, FOLLOW)                                                                    \
  SHIM_EXPORT ssize_t NAME(const char* path, char* list, size_t size) {                             \
    return read_attr(                                                                               \
        __func__, AT_FDCWD, path, FOLLOW, [&](const char* p) { return REAL(NAME)(p, list, size); }, \
        [&] { return REAL(NAME)(path, list, size); });                                              \
  }
XATTR_LIST(listxattr, true)
XATTR_LIST(llistxattr, false)

#define XATTR_SET(NAME, FOLLOW)                                                                         \
  SHIM_EXPORT int NAME(const char* path, const char* name, const void* value, size_t size, int flags) { \
    return change_attr(                                                                                 \
        __func__, AT_FDCWD, path, true, FOLLOW,                                                         \
        [&](const char* p) { return REAL(NAME)(p, name, value, size, flags); },                         \
        [&] { return REAL(NAME)(path, name, value, size, flags); });                                    \
  }
XATTR_SET(setxattr, true)
XATTR_SET(lsetxattr, false)

#define XATTR_REMOVE(NAME, FOLLOW)                                                                  \
  SHIM_EXPORT int NAME(const char* path, const char* name) {                                        \
    return change_attr(                                                                             \
        __func__, AT_FDCWD, path, true, FOLLOW, [&](const char* p) { return REAL(NAME)(p, name); }, \
        [&] { return REAL(NAME)(path, name); });                                                    \
  }
XATTR_REMOVE(removexattr, true)
XATTR_REMOVE(lremovexattr, false)

SHIM_EXPORT int mknod(const char* path, mode_t mode, dev_t dev) {
  return create_node(
      __func__, AT_FDCWD, path, [&](const char* p) { return REAL(mknod)(p, mode, dev); },
      [&] { return REAL(mknod)(path, mode, dev); });
}
SHIM_EXPORT int mknodat(int dirfd, const char* path, mode_t mode, dev_t dev) {
  return create_node(
      __func__, dirfd, path, [&](const char* p) { return REAL(mknodat)(AT_FDCWD, p, mode, dev); },
      [&] { return REAL(mknodat)(dirfd, path, mode, dev); });
}
SHIM_EXPORT int __xmknod(int ver, const char* path, mode_t mode, dev_t* dev) {
  return create_node(
      __func__, AT_FDCWD, path, [&](const char* p) { return REAL(__xmknod)(ver, p, mode, dev); },
      [&] { return REAL(__xmknod)(ver, path, mode, dev); });
}
SHIM_EXPORT int __xmknodat(int ver, int dirfd, const char* path, mode_t mode, dev_t* dev) {
  return create_node(
      __func__, dirfd, path, [&](const char* p) { return REAL(__xmknodat)(ver, AT_FDCWD, p, mode, dev); },
      [&] { return REAL(__xmknodat)(ver, dirfd, path, mode, dev); });
}
SHIM_EXPORT int mkfifo(const char* path, mode_t mode) {
  return create_node(
      __func__, AT_FDCWD, path, [&](const char* p) { return REAL(mkfifo)(p, mode); },
      [&] { return REAL(mkfifo)(path, mode); });
}
SHIM_EXPORT int mkfifoat(int dirfd, const char* path, mode_t mode) {
  return create_node(
      __func__, dirfd, path, [&](const char* p) { return REAL(mkfifoat)(AT_FDCWD, p, mode); },
      [&] { return REAL(mkfifoat)(dirfd, path, mode); });
}
