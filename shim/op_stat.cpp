// The stat family (with the pre-2.33 __xstat forms), access, statfs.
#include <errno.h>
#include <sys/stat.h>

#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

// A descriptor handed out for a remote-tier path that turned out to be a
// directory is its remote half: report the local half instead, as stat on
// the path does. `call_path(path)` redoes the call on a path.
template <typename CallPath>
void adjust_dir_fd(int fd, CallPath&& call_path) {
  char v[path::kMax];
  std::uint32_t flags = 0;
  if (fd_table::get(fd, v, sizeof v, &flags) < 0 || !(flags & fd_table::remote_half)) return;
  Target t;
  if (!place(AT_FDCWD, v, Kind::dir, t) || !t.remote()) return;
  ErrnoGuard g;
  if (materialize(t) == 0) call_path(t.natural());
}

// The fd-only forms: one extra branch, and a look at the table only for a
// directory.
template <typename Call, typename IsDir, typename CallPath>
int fstat_like(int fd, Call&& call, IsDir&& is_dir, CallPath&& call_path) {
  int rc = call();
  if (rc == 0 && shim_on() && is_dir()) adjust_dir_fd(fd, call_path);
  return rc;
}

// `call(fd, path)` performs the real call into the caller's buffer, and
// `is_dir()` reads that buffer. A remote-tier directory reports its local
// half: the same identity its descriptors and the cwd have.
template <typename Call, typename IsDir, typename Pass>
int stat_like(int dirfd, const char* path, int flags, Call&& call, IsDir&& is_dir, Pass&& pass) {
  Target t;
  if ((flags & AT_EMPTY_PATH) && path && !*path)
    return fstat_like(dirfd, pass, is_dir, [&](const char* p) { call(AT_FDCWD, p); });
  if (!place(dirfd, path, Kind::unknown, t) || !t.remote()) return pass();
  int rc = call(AT_FDCWD, t.remote_path());
  if (rc == 0 && is_dir()) {
    ErrnoGuard g;
    if (materialize(t) == 0) call(AT_FDCWD, t.natural());
  }
  return rc;
}

// Calls that only need the remote-tier path mapped.
template <typename Call, typename Pass>
int mapped(int dirfd, const char* path, Call&& call, Pass&& pass) {
  Target t;
  if (!place(dirfd, path, Kind::unknown, t) || !t.remote()) return pass();
  return call(t.remote_path());
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

#define STAT_PATH(NAME, ST, AT_CALL, FLAGS)                                                  \
  SHIM_EXPORT int NAME(const char* path, struct ST* st) {                                    \
    return stat_like(                                                                        \
        AT_FDCWD, path, FLAGS, [&](int fd, const char* p) { return REAL(AT_CALL)(fd, p, st, FLAGS); }, \
        [&] { return S_ISDIR(st->st_mode); }, [&] { return REAL(NAME)(path, st); });         \
  }
STAT_PATH(stat, stat, fstatat, 0)
STAT_PATH(stat64, stat64, fstatat64, 0)
STAT_PATH(lstat, stat, fstatat, AT_SYMLINK_NOFOLLOW)
STAT_PATH(lstat64, stat64, fstatat64, AT_SYMLINK_NOFOLLOW)

#define STAT_AT(NAME, ST)                                                                           \
  SHIM_EXPORT int NAME(int dirfd, const char* path, struct ST* st, int flags) {                     \
    return stat_like(                                                                               \
        dirfd, path, flags, [&](int fd, const char* p) { return REAL(NAME)(fd, p, st, flags); },    \
        [&] { return S_ISDIR(st->st_mode); }, [&] { return REAL(NAME)(dirfd, path, st, flags); }); \
  }
STAT_AT(fstatat, stat)
STAT_AT(fstatat64, stat64)

SHIM_EXPORT int statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* stx) {
  return stat_like(
      dirfd, path, flags, [&](int fd, const char* p) { return REAL(statx)(fd, p, flags, mask, stx); },
      [&] { return S_ISDIR(stx->stx_mode); }, [&] { return REAL(statx)(dirfd, path, flags, mask, stx); });
}

// Pre-2.33 binaries (and manylinux wheels) call these instead of stat.
#define XSTAT_PATH(NAME, ST, FLAGS, AT_NAME)                                                        \
  SHIM_EXPORT int NAME(int ver, const char* path, struct ST* st) {                                  \
    return stat_like(                                                                               \
        AT_FDCWD, path, FLAGS, [&](int fd, const char* p) { return REAL(AT_NAME)(ver, fd, p, st, FLAGS); }, \
        [&] { return S_ISDIR(st->st_mode); }, [&] { return REAL(NAME)(ver, path, st); });           \
  }
XSTAT_PATH(__xstat, stat, 0, __fxstatat)
XSTAT_PATH(__xstat64, stat64, 0, __fxstatat64)
XSTAT_PATH(__lxstat, stat, AT_SYMLINK_NOFOLLOW, __fxstatat)
XSTAT_PATH(__lxstat64, stat64, AT_SYMLINK_NOFOLLOW, __fxstatat64)

#define XSTAT_AT(NAME, ST)                                                                              \
  SHIM_EXPORT int NAME(int ver, int dirfd, const char* path, struct ST* st, int flags) {                \
    return stat_like(                                                                                   \
        dirfd, path, flags, [&](int fd, const char* p) { return REAL(NAME)(ver, fd, p, st, flags); },   \
        [&] { return S_ISDIR(st->st_mode); }, [&] { return REAL(NAME)(ver, dirfd, path, st, flags); }); \
  }
XSTAT_AT(__fxstatat, stat)
XSTAT_AT(__fxstatat64, stat64)

#define FSTAT(NAME, ST, AT_NAME)                                                            \
  SHIM_EXPORT int NAME(int fd, struct ST* st) {                                             \
    return fstat_like(                                                                      \
        fd, [&] { return REAL(NAME)(fd, st); }, [&] { return S_ISDIR(st->st_mode); },      \
        [&](const char* p) { return REAL(AT_NAME)(AT_FDCWD, p, st, 0); });                  \
  }
FSTAT(fstat, stat, fstatat)
FSTAT(fstat64, stat64, fstatat64)

#define XFSTAT(NAME, ST, AT_NAME)                                                           \
  SHIM_EXPORT int NAME(int ver, int fd, struct ST* st) {                                    \
    return fstat_like(                                                                      \
        fd, [&] { return REAL(NAME)(ver, fd, st); }, [&] { return S_ISDIR(st->st_mode); }, \
        [&](const char* p) { return REAL(AT_NAME)(ver, AT_FDCWD, p, st, 0); });             \
  }
XFSTAT(__fxstat, stat, __fxstatat)
XFSTAT(__fxstat64, stat64, __fxstatat64)

#define PATH_BUF(NAME, BUF)                                                                      \
  SHIM_EXPORT int NAME(const char* path, struct BUF* buf) {                                      \
    return mapped(AT_FDCWD, path, [&](const char* p) { return REAL(NAME)(p, buf); },            \
                  [&] { return REAL(NAME)(path, buf); });                                        \
  }
PATH_BUF(statfs, statfs)
PATH_BUF(statfs64, statfs64)
PATH_BUF(statvfs, statvfs)
PATH_BUF(statvfs64, statvfs64)

#define PATH_MODE(NAME)                                                                          \
  SHIM_EXPORT int NAME(const char* path, int mode) {                                             \
    return mapped(AT_FDCWD, path, [&](const char* p) { return REAL(NAME)(p, mode); },           \
                  [&] { return REAL(NAME)(path, mode); });                                       \
  }
PATH_MODE(access)
PATH_MODE(euidaccess)
PATH_MODE(eaccess)

SHIM_EXPORT int faccessat(int dirfd, const char* path, int mode, int flags) {
  return mapped(dirfd, path, [&](const char* p) { return REAL(faccessat)(AT_FDCWD, p, mode, flags); },
                [&] { return REAL(faccessat)(dirfd, path, mode, flags); });
}
