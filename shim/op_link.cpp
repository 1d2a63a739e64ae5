// Hard links, symbolic links and readlink.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/envelope.hpp"
#include "shim/fs_ops.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"
#include "shim/track.hpp"
#include "sync/fileops.hpp"

namespace fractfs::shim {
namespace {

// The descriptor a linkat source names when it is not a path: the fd
// itself with AT_EMPTY_PATH, or N in "/proc/self/fd/N".
int source_fd(int olddirfd, const char* oldpath, int flags) {
  if ((flags & AT_EMPTY_PATH) && oldpath && !*oldpath) return olddirfd;
  static constexpr char kProc[] = "/proc/self/fd/";
  if (oldpath && !strncmp(oldpath, kProc, sizeof kProc - 1)) {
    char* end = nullptr;
    long n = strtol(oldpath + sizeof kProc - 1, &end, 10);
    if (end && !*end && n >= 0) return static_cast<int>(n);
  }
  return -1;
}

// The app's descriptor may be write-only: read through a fresh one.
int copy_named(int fd, const char* dst) {
  char proc[64];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int in = REAL(open)(proc, O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno = EXDEV, -1;
  int rc = fileops::copy_fd_into_place(in, dst, true);
  int err = errno;
  REAL(close)(in);
  return errno = err, rc;
}

int link_at(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
  Target a, b;
  bool pa = place(olddirfd, oldpath, Kind::unknown, a);
  bool pb = place(newdirfd, newpath, Kind::file, b);
  if (!pa && !pb) return REAL(linkat)(olddirfd, oldpath, newdirfd, newpath, flags);
  if (int err = pa && a.half_err ? a.half_err : pb ? b.half_err : 0) return errno = err, -1;
  int afd = pa ? a.at_fd() : olddirfd, bfd = pb ? b.at_fd() : newdirfd;
  const char* ap = pa ? a.at_path() : oldpath;
  const char* bp = pb ? b.at_path() : newpath;
  int rc = REAL(linkat)(afd, ap, bfd, bp, flags);
  if (rc != 0 && errno == ENOENT && pb && ensure_parent(b) == 0) rc = REAL(linkat)(afd, ap, bfd, bp, flags);
  // An unnamed (O_TMPFILE) or /proc file cannot be linked across file
  // systems: give it its name by copying, still without a torn moment.
  int fd = source_fd(olddirfd, oldpath, flags);
  if (rc != 0 && errno == EXDEV && pb && fd >= 0) rc = copy_named(fd, b.remote() ? b.remote_path() : b.natural());
  if (rc == 0 && pb) {
    track::changed(b);
    half::changed(b, half::Change::made);
  }
  return rc;
}

template <typename Call, typename Pass>
auto read_link(const char* where, int dirfd, const char* path, Call&& call, Pass&& pass) -> decltype(pass()) {
  return on_path(
      where, dirfd, path, Kind::unknown,
      [&](Target& t) {
        return with_relink(t, Kind::unknown, false, [&] { return t.passes() ? pass() : call(t.at_path()); });
      },
      pass);
}

int symlink_placed(const char* target, Target& t) {
  int rc = with_parents(t, [&] { return REAL(symlinkat)(target, t.at_fd(), t.at_path()); });
  if (rc == 0) {
    track::changed(t);
    half::changed(t, half::Change::made);
  }
  return rc;
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int link(const char* oldpath, const char* newpath) {
  return on_paths(
      __func__, AT_FDCWD, oldpath, AT_FDCWD, newpath, [&] { return link_at(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0); },
      [&] { return REAL(link)(oldpath, newpath); });
}
SHIM_EXPORT int linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
  return on_paths(
      __func__, olddirfd, oldpath, newdirfd, newpath,
      [&] { return link_at(olddirfd, oldpath, newdirfd, newpath, flags); },
      [&] { return REAL(linkat)(olddirfd, oldpath, newdirfd, newpath, flags); });
}
SHIM_EXPORT int symlink(const char* target, const char* linkpath) {
  return on_path(
      __func__, AT_FDCWD, linkpath, Kind::file, [&](Target& t) { return symlink_placed(target, t); },
      [&] { return REAL(symlink)(target, linkpath); });
}
SHIM_EXPORT int symlinkat(const char* target, int dirfd, const char* linkpath) {
  return on_path(
      __func__, dirfd, linkpath, Kind::file, [&](Target& t) { return symlink_placed(target, t); },
      [&] { return REAL(symlinkat)(target, dirfd, linkpath); });
}

SHIM_EXPORT ssize_t readlink(const char* path, char* buf, size_t size) {
  return read_link(
      __func__, AT_FDCWD, path, [&](const char* p) { return REAL(readlink)(p, buf, size); },
      [&] { return REAL(readlink)(path, buf, size); });
}
SHIM_EXPORT ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size) {
  return read_link(
      __func__, dirfd, path, [&](const char* p) { return REAL(readlinkat)(AT_FDCWD, p, buf, size); },
      [&] { return REAL(readlinkat)(dirfd, path, buf, size); });
}
SHIM_EXPORT ssize_t __readlink_chk(const char* path, char* buf, size_t size, size_t buflen) {
  return read_link(
      __func__, AT_FDCWD, path, [&](const char* p) { return REAL(__readlink_chk)(p, buf, size, buflen); },
      [&] { return REAL(__readlink_chk)(path, buf, size, buflen); });
}
SHIM_EXPORT ssize_t __readlinkat_chk(int dirfd, const char* path, char* buf, size_t size, size_t buflen) {
  return read_link(
      __func__, dirfd, path, [&](const char* p) { return REAL(__readlinkat_chk)(AT_FDCWD, p, buf, size, buflen); },
      [&] { return REAL(__readlinkat_chk)(dirfd, path, buf, size, buflen); });
}
