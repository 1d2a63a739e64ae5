// open, openat, creat, their 64-bit and fortified forms, fopen, freopen.
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/guard.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"
#include "shim/track.hpp"

namespace fractfs::shim {
namespace {

bool has_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

bool writes(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)); }

// remote tier: on the remote half (maybe a directory's), or on a union
// directory's local half.
std::uint32_t fd_flags(bool writable, bool remote, bool remote_half) {
  std::uint32_t f = writable ? fd_table::writable : 0u;
  if (remote) f |= remote_half ? fd_table::remote_half : fd_table::union_dir;
  return f;
}

Kind kind_of(int flags) {
  if ((flags & O_TMPFILE) == O_TMPFILE) return Kind::dir;
  if (flags & O_DIRECTORY) return Kind::dir;
  return (flags & O_CREAT) ? Kind::file : Kind::unknown;
}

// After a call that was not ours: a directory above the root is recorded
// (openat(fd, "app/...") leads inside); any other descriptor must not keep
// a stale record of an earlier one with the same number.
void after_pass(int fd, int dirfd, const char* path, int flags) {
  if (fd < 0) return;
  if (flags & O_DIRECTORY) {
    scratch::Buf buf;
    if (buf.ok() && virtual_path(dirfd, path, buf.get(), path::kMax) >= 0) return fd_table::set(fd, buf.get());
  }
  fd_table::forget(fd);
}

// A remote-tier path. A directory is opened on its local half when it has
// one (its identity); otherwise, and for a path that may or may not be a
// directory, the descriptor is on the remote half, which `remote_half`
// records: a look at the disk on every open would cost a system call, so
// fstat and fchdir reconcile later, when a descriptor is used as a directory.
int open_remote(Target& t, int flags, mode_t mode, bool& remote_half) {
  remote_half = true;
  if (int err = half::opening(t, flags)) return errno = err, -1;
  if ((flags & O_TMPFILE) == O_TMPFILE)  // an unnamed file: it belongs to the remote half
    return REAL(openat)(AT_FDCWD, t.remote_path(), flags, mode);
  if (t.is_dir_decision) {
    int fd = REAL(openat)(AT_FDCWD, t.natural(), flags, mode);
    if (fd >= 0 || errno != ENOENT) return remote_half = false, fd;
  }
  auto open = [&] { return REAL(openat)(AT_FDCWD, t.remote_path(), flags, mode); };
  return (flags & O_CREAT) ? with_parents(t, open) : open();
}

int open_local(Target& t, int flags, mode_t mode) {
  auto open = [&] { return REAL(openat)(t.at_fd(), t.at_path(), flags, mode); };
  return (flags & O_CREAT) ? with_parents(t, open) : open();
}

// A path of the root: the placed open, and its descriptor recorded.
int open_placed(Target& t, int flags, mode_t mode) {
  bool remote_half = false;
  bool follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
  // A directory opened through a link is recorded under the link's
  // target, so that names looked up relative to it are placed there.
  if ((flags & O_DIRECTORY) && follow && last_is_link(t)) relink(t, Kind::dir, true);
  int fd = with_relink(t, kind_of(flags), follow, [&] {
    return t.remote() ? open_remote(t, flags, mode, remote_half) : open_local(t, flags, mode);
  });
  if (fd >= 0) {
    fd_table::set(fd, t.vpath, fd_flags(writes(flags), t.remote(), remote_half));
    if (writes(flags)) track::opened(t);
  }
  return fd;
}

template <typename Real>
int open_at(const char* where, int dirfd, const char* path, int flags, mode_t mode, Real&& real) {
  auto pass = [&] {
    int fd = real();
    after_pass(fd, dirfd, path, flags);
    return fd;
  };
  return on_path(
      where, dirfd, path, kind_of(flags), [&](Target& t) { return open_placed(t, flags, mode); }, pass);
}

mode_t mode_from(int flags, va_list ap) { return has_mode(flags) ? va_arg(ap, mode_t) : 0; }

bool fopen_writes(const char* mode) { return mode && (mode[0] == 'w' || mode[0] == 'a' || strchr(mode, '+')); }

// The open(2) flags of an fopen mode, as the remote half's open hook sees them.
int fopen_flags(const char* mode) {
  if (!mode) return O_RDONLY;
  int acc = strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
  return acc | (mode[0] == 'w' ? O_CREAT | O_TRUNC : mode[0] == 'a' ? O_CREAT | O_APPEND : 0);
}

template <typename Open>
FILE* fopen_placed(Target& t, const char* mode, bool creating, Open&& real_open) {
  if (int err = half::opening(t, fopen_flags(mode))) return errno = err, nullptr;
  auto open = [&] { return real_open(t.at_path()); };
  FILE* f = creating ? with_parents(t, open) : open();
  if (!f && retry_errno(errno) && relink(t, creating ? Kind::file : Kind::unknown, true)) f = real_open(t.at_path());
  if (f) {
    fd_table::set(::fileno(f), t.vpath, fd_flags(fopen_writes(mode), t.remote(), true));
    if (fopen_writes(mode)) track::opened(t);
  }
  return f;
}

template <typename Open>
FILE* fopen_impl(const char* where, const char* path, const char* mode, Open&& real_open) {
  auto pass = [&] {
    FILE* f = real_open(path);
    if (f) fd_table::forget(::fileno(f));
    return f;
  };
  bool creating = mode && (mode[0] == 'w' || mode[0] == 'a');
  return on_path(
      where, AT_FDCWD, path, creating ? Kind::file : Kind::unknown,
      [&](Target& t) { return fopen_placed(t, mode, creating, real_open); }, pass);
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

#define OPEN_VARIADIC(NAME)                                                                               \
  SHIM_EXPORT int NAME(const char* path, int flags, ...) {                                                \
    va_list ap;                                                                                           \
    va_start(ap, flags);                                                                                  \
    mode_t mode = mode_from(flags, ap);                                                                   \
    va_end(ap);                                                                                           \
    return open_at(__func__, AT_FDCWD, path, flags, mode, [&] { return REAL(NAME)(path, flags, mode); }); \
  }
OPEN_VARIADIC(open)
OPEN_VARIADIC(open64)

#define OPENAT_VARIADIC(NAME)                                                                                 \
  SHIM_EXPORT int NAME(int dirfd, const char* path, int flags, ...) {                                         \
    va_list ap;                                                                                               \
    va_start(ap, flags);                                                                                      \
    mode_t mode = mode_from(flags, ap);                                                                       \
    va_end(ap);                                                                                               \
    return open_at(__func__, dirfd, path, flags, mode, [&] { return REAL(NAME)(dirfd, path, flags, mode); }); \
  }
OPENAT_VARIADIC(openat)
OPENAT_VARIADIC(openat64)

SHIM_EXPORT int creat(const char* path, mode_t mode) {
  return open_at(__func__, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, [&] { return REAL(creat)(path, mode); });
}
SHIM_EXPORT int creat64(const char* path, mode_t mode) {
  return open_at(__func__, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode,
                 [&] { return REAL(creat64)(path, mode); });
}

// Fortified forms: no mode argument (O_CREAT is refused by the caller).
SHIM_EXPORT int __open_2(const char* path, int flags) {
  return open_at(__func__, AT_FDCWD, path, flags, 0, [&] { return REAL(__open_2)(path, flags); });
}
SHIM_EXPORT int __open64_2(const char* path, int flags) {
  return open_at(__func__, AT_FDCWD, path, flags, 0, [&] { return REAL(__open64_2)(path, flags); });
}
SHIM_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return open_at(__func__, dirfd, path, flags, 0, [&] { return REAL(__openat_2)(dirfd, path, flags); });
}
SHIM_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return open_at(__func__, dirfd, path, flags, 0, [&] { return REAL(__openat64_2)(dirfd, path, flags); });
}

SHIM_EXPORT FILE* fopen(const char* path, const char* mode) {
  return fopen_impl(__func__, path, mode, [&](const char* p) { return REAL(fopen)(p, mode); });
}
SHIM_EXPORT FILE* fopen64(const char* path, const char* mode) {
  return fopen_impl(__func__, path, mode, [&](const char* p) { return REAL(fopen64)(p, mode); });
}

// freopen closes the stream's descriptor inside libc: forget it first.
SHIM_EXPORT FILE* freopen(const char* path, const char* mode, FILE* stream) {
  if (stream) fd_table::forget(::fileno(stream));
  if (!path) return REAL(freopen)(path, mode, stream);
  return fopen_impl(__func__, path, mode, [&](const char* p) { return REAL(freopen)(p, mode, stream); });
}
SHIM_EXPORT FILE* freopen64(const char* path, const char* mode, FILE* stream) {
  if (stream) fd_table::forget(::fileno(stream));
  if (!path) return REAL(freopen64)(path, mode, stream);
  return fopen_impl(__func__, path, mode, [&](const char* p) { return REAL(freopen64)(p, mode, stream); });
}
