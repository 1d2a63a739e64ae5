// The stat family (with the pre-2.33 __xstat forms), access, statfs.
#include <errno.h>
#include <sys/stat.h>

#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"

namespace fractfs::shim {
namespace {

// What a union directory's two stat results are reconciled on.
struct Times {
  struct timespec mtime, ctime;
};
bool later(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}
template <typename St>
bool is_dir(const St& st) {
  return S_ISDIR(st.st_mode);
}
bool is_dir(const struct statx& st) { return S_ISDIR(st.stx_mode); }
template <typename St>
bool is_link(const St& st) {
  return S_ISLNK(st.st_mode);
}
bool is_link(const struct statx& st) { return S_ISLNK(st.stx_mode); }
template <typename St>
Times times_of(const St& st) {
  return {st.st_mtim, st.st_ctim};
}
Times times_of(const struct statx& st) {
  return {{st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec}, {st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec}};
}
template <typename St>
void keep_later(St& st, const Times& t) {
  if (later(t.mtime, st.st_mtim)) st.st_mtim = t.mtime;
  if (later(t.ctime, st.st_ctim)) st.st_ctim = t.ctime;
}
void keep_later(struct statx& st, const Times& t) {
  Times mine = times_of(st);
  if (later(t.mtime, mine.mtime)) st.stx_mtime = {t.mtime.tv_sec, static_cast<std::uint32_t>(t.mtime.tv_nsec), 0};
  if (later(t.ctime, mine.ctime)) st.stx_ctime = {t.ctime.tv_sec, static_cast<std::uint32_t>(t.ctime.tv_nsec), 0};
}
// Each half counts its own sub-directories plus "." and "..": the sum less
// two never undercounts the union's (find and fts skip work on a count).
// 1 means "not counted" (as on btrfs), and stays so.
template <typename N>
void sum_links(N& mine, N local) {
  if (mine < 2 || local < 2) mine = 1;
  else mine = static_cast<N>(mine + local - 2);
}
template <typename St>
void add_links(St& st, const St& local) {
  sum_links(st.st_nlink, local.st_nlink);
}
void add_links(struct statx& st, const struct statx& local) { sum_links(st.stx_nlink, local.stx_nlink); }

// `*buf` holds a union directory's remote half, whose identity the union
// has: it always exists and does not change when a local half appears. The
// local half, if there is one, adds its later times and its sub-directories.
template <typename Call, typename St>
void merge_local_half(const char* natural, Call&& call, St* buf) {
  St local;
  ErrnoGuard g;
  if (call(AT_FDCWD, natural, &local) == 0 && is_dir(local)) {
    keep_later(*buf, times_of(local));
    add_links(*buf, local);
  }
}

// `call(fd, path, buf, flags)` is the real call. A directory of the remote
// tier, found at `t`, gets the union's stat.
template <typename Call, typename St>
int union_stat(const Target& t, Call&& call, St* buf, int flags) {
  auto redo = [&](int fd, const char* p, St* b) { return call(fd, p, b, flags); };
  int rc = redo(AT_FDCWD, t.remote_path(), buf);
  if (rc == 0 && is_dir(*buf)) merge_local_half(t.natural(), redo, buf);
  return rc;
}

template <typename Call, typename St>
int stat_placed(const Target& t, Call&& call, St* buf, int flags) {
  return t.remote() ? union_stat(t, call, buf, flags) : call(t.at_fd(), t.at_path(), buf, flags);
}

// The fd-only forms: one extra branch; the table is consulted only for a
// directory, which may be one of the union's halves.
template <typename Pass, typename Call, typename St>
int fstat_like(const char* where, int fd, Pass&& pass, Call&& call, St* buf) {
  int rc = pass();
  if (rc != 0 || !is_dir(*buf)) return rc;
  return on_fd(
      where, fd,
      [&] {
        scratch::Buf vb;
        char* v = vb.get();
        std::uint32_t flags = 0;
        Target t;
        if (v && fd_table::get(fd, v, path::kMax, &flags) >= 0 &&
            (flags & (fd_table::remote_half | fd_table::union_dir)) && place(AT_FDCWD, v, Kind::dir, t) && t.remote()) {
          ErrnoGuard g;
          union_stat(t, call, buf, 0);
        }
        return rc;
      },
      [&] { return rc; });
}

// A stat that follows links looks at the path without following first: for
// anything but a link that is the answer, in the same one system call, and
// a link is seen before it misleads (its target may be in the other tier).
template <typename Call, typename Pass, typename St>
int stat_like(const char* where, int dirfd, const char* path, int flags, Call&& call, Pass&& pass, St* buf) {
  if ((flags & AT_EMPTY_PATH) && path && !*path) return fstat_like(where, dirfd, pass, call, buf);
  return on_path(
      where, dirfd, path, Kind::unknown,
      [&](Target& t) {
        bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
        int rc = stat_placed(t, call, buf, flags | AT_SYMLINK_NOFOLLOW);
        if (rc != 0 && errno == ENOENT && surely_absent(t)) return rc;
        if (rc != 0 && errno == ENOENT && to_local_socket(t))
          rc = stat_placed(t, call, buf, flags | AT_SYMLINK_NOFOLLOW);
        if (rc == 0 && follow && is_link(*buf)) {
          // Followed virtually: the target may be in the other tier, or a union
          // directory whose identity is its remote half.
          relink(t, Kind::unknown, true);
          rc = stat_placed(t, call, buf, flags);
        } else if (int err = errno;
                   rc != 0 && worth_relinking(t, err, follow) && relink(t, Kind::unknown, follow, err == ENOENT)) {
          rc = stat_placed(t, call, buf, flags);
        }
        return rc;
      },
      pass);
}

// Calls that only need the path mapped.
template <typename Call, typename Pass>
int mapped(const char* where, int dirfd, const char* path, Call&& call, Pass&& pass) {
  return on_path(
      where, dirfd, path, Kind::unknown,
      [&](Target& t) {
        return with_relink(t, Kind::unknown, true, [&] { return t.passes() ? pass() : call(t.at_path()); });
      },
      pass);
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

#define STAT_PATH(NAME, ST, AT_CALL, FLAGS)                                                     \
  SHIM_EXPORT int NAME(const char* path, struct ST* st) {                                       \
    return stat_like(                                                                           \
        __func__, AT_FDCWD, path, FLAGS,                                                        \
        [&](int fd, const char* p, struct ST* b, int f) { return REAL(AT_CALL)(fd, p, b, f); }, \
        [&] { return REAL(NAME)(path, st); }, st);                                              \
  }
STAT_PATH(stat, stat, fstatat, 0)
STAT_PATH(stat64, stat64, fstatat64, 0)
STAT_PATH(lstat, stat, fstatat, AT_SYMLINK_NOFOLLOW)
STAT_PATH(lstat64, stat64, fstatat64, AT_SYMLINK_NOFOLLOW)

#define STAT_AT(NAME, ST)                                                                    \
  SHIM_EXPORT int NAME(int dirfd, const char* path, struct ST* st, int flags) {              \
    return stat_like(                                                                        \
        __func__, dirfd, path, flags,                                                        \
        [&](int fd, const char* p, struct ST* b, int f) { return REAL(NAME)(fd, p, b, f); }, \
        [&] { return REAL(NAME)(dirfd, path, st, flags); }, st);                             \
  }
STAT_AT(fstatat, stat)
STAT_AT(fstatat64, stat64)

SHIM_EXPORT int statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* stx) {
  return stat_like(
      __func__, dirfd, path, flags,
      [&](int fd, const char* p, struct statx* b, int f) { return REAL(statx)(fd, p, f & ~AT_EMPTY_PATH, mask, b); },
      [&] { return REAL(statx)(dirfd, path, flags, mask, stx); }, stx);
}

// Pre-2.33 binaries (and manylinux wheels) call these instead of stat.
#define XSTAT_PATH(NAME, ST, FLAGS, AT_NAME)                                                         \
  SHIM_EXPORT int NAME(int ver, const char* path, struct ST* st) {                                   \
    return stat_like(                                                                                \
        __func__, AT_FDCWD, path, FLAGS,                                                             \
        [&](int fd, const char* p, struct ST* b, int f) { return REAL(AT_NAME)(ver, fd, p, b, f); }, \
        [&] { return REAL(NAME)(ver, path, st); }, st);                                              \
  }
XSTAT_PATH(__xstat, stat, 0, __fxstatat)
XSTAT_PATH(__xstat64, stat64, 0, __fxstatat64)
XSTAT_PATH(__lxstat, stat, AT_SYMLINK_NOFOLLOW, __fxstatat)
XSTAT_PATH(__lxstat64, stat64, AT_SYMLINK_NOFOLLOW, __fxstatat64)

#define XSTAT_AT(NAME, ST)                                                                        \
  SHIM_EXPORT int NAME(int ver, int dirfd, const char* path, struct ST* st, int flags) {          \
    return stat_like(                                                                             \
        __func__, dirfd, path, flags,                                                             \
        [&](int fd, const char* p, struct ST* b, int f) { return REAL(NAME)(ver, fd, p, b, f); }, \
        [&] { return REAL(NAME)(ver, dirfd, path, st, flags); }, st);                             \
  }
XSTAT_AT(__fxstatat, stat)
XSTAT_AT(__fxstatat64, stat64)

#define FSTAT(NAME, ST, AT_NAME)                                                                     \
  SHIM_EXPORT int NAME(int fd, struct ST* st) {                                                      \
    return fstat_like(                                                                               \
        __func__, fd, [&] { return REAL(NAME)(fd, st); },                                            \
        [&](int at, const char* p, struct ST* b, int f) { return REAL(AT_NAME)(at, p, b, f); }, st); \
  }
FSTAT(fstat, stat, fstatat)
FSTAT(fstat64, stat64, fstatat64)

#define XFSTAT(NAME, ST, AT_NAME)                                                                         \
  SHIM_EXPORT int NAME(int ver, int fd, struct ST* st) {                                                  \
    return fstat_like(                                                                                    \
        __func__, fd, [&] { return REAL(NAME)(ver, fd, st); },                                            \
        [&](int at, const char* p, struct ST* b, int f) { return REAL(AT_NAME)(ver, at, p, b, f); }, st); \
  }
XFSTAT(__fxstat, stat, __fxstatat)
XFSTAT(__fxstat64, stat64, __fxstatat64)

#define PATH_BUF(NAME, BUF)                                                          \
  SHIM_EXPORT int NAME(const char* path, struct BUF* buf) {                          \
    return mapped(                                                                   \
        __func__, AT_FDCWD, path, [&](const char* p) { return REAL(NAME)(p, buf); }, \
        [&] { return REAL(NAME)(path, buf); });                                      \
  }
PATH_BUF(statfs, statfs)
PATH_BUF(statfs64, statfs64)
PATH_BUF(statvfs, statvfs)
PATH_BUF(statvfs64, statvfs64)

#define PATH_MODE(NAME)                                                               \
  SHIM_EXPORT int NAME(const char* path, int mode) {                                  \
    return mapped(                                                                    \
        __func__, AT_FDCWD, path, [&](const char* p) { return REAL(NAME)(p, mode); }, \
        [&] { return REAL(NAME)(path, mode); });                                      \
  }
PATH_MODE(access)
PATH_MODE(euidaccess)
PATH_MODE(eaccess)

SHIM_EXPORT int faccessat(int dirfd, const char* path, int mode, int flags) {
  return mapped(
      __func__, dirfd, path, [&](const char* p) { return REAL(faccessat)(AT_FDCWD, p, mode, flags); },
      [&] { return REAL(faccessat)(dirfd, path, mode, flags); });
}
