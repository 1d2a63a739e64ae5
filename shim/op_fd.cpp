// Descriptor bookkeeping: the fd table follows close, dup and fcntl. For a
// descriptor the shim never recorded, each costs one atomic load.
#include <errno.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdio.h>

#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/half_calls.hpp"
#include "shim/internal_fd.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/track.hpp"

namespace fractfs::shim {
namespace {

// Forgets fd before it is closed: once closed, its number may be reused by
// another thread at once. A writable one is a change to record, and on the
// remote half it is the half's to store (`written`): its error is returned.
// `stream`, when fd is a stream's, is flushed for the half first.
int release(int fd, FILE* stream = nullptr) {
  if (!fd_table::tracked(fd)) return 0;
  return out_of_line([&] {
    scratch::Buf v;
    std::uint32_t flags = 0;
    if (!fd_table::take(fd, flags, v.get(), v.ok() ? path::kMax : 0) || !(flags & fd_table::writable) || !v.ok())
      return 0;
    int err = 0;
    if (fd_table::writes_remote(flags) && remote_half().hooks())
      err = stream && ::fflush(stream) != 0 ? errno : half::last_close(v.get(), fd);  // fclose's flush error, kept
    track::closed(v.get());
    return err;
  });
}

// The close itself, failing with the half's error when it had one.
template <typename Close>
int close_released(int err, Close&& close) {
  int rc = close();
  if (err && rc == 0) errno = err, rc = -1;
  return rc;
}

// fsync and fdatasync of a descriptor written on the remote half: the
// half's to make durable too.
template <typename Sync>
int sync_fd(const char* where, int fd, Sync&& sync) {
  int rc = sync();
  if (rc != 0) return rc;
  return on_fd(
      where, fd,
      [&] {
        if (!remote_half().hooks()) return rc;  // a mount: fsync(2) was all
        scratch::Buf v;
        std::uint32_t flags = 0;
        if (!v.ok() || fd_table::get(fd, v.get(), path::kMax, &flags) < 0) return rc;
        if (fd_table::writes_remote(flags))
          if (int err = half::written(v.get(), fd)) return errno = err, -1;
        return rc;
      },
      [&] { return rc; });
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

// Both checks are inline: an unrecorded descriptor is closed with no call
// out of line but libc's.
SHIM_EXPORT int close(int fd) {
  if (internal_fd::is(fd)) return 0;  // fractfs's own: the app never opened it
  if (!fd_table::tracked(fd)) return REAL(close)(fd);
  return on_fd(
      __func__, fd, [&] { return close_released(release(fd), [&] { return REAL(close)(fd); }); },
      [&] {
        fd_table::forget(fd);
        return REAL(close)(fd);
      });
}

SHIM_EXPORT int fclose(FILE* stream) {
  int fd = stream ? ::fileno(stream) : -1;
  return on_fd(
      __func__, fd, [&] { return close_released(release(fd, stream), [&] { return REAL(fclose)(stream); }); },
      [&] {
        fd_table::forget(fd);
        return REAL(fclose)(stream);
      });
}

SHIM_EXPORT int fsync(int fd) {
  return sync_fd(__func__, fd, [&] { return REAL(fsync)(fd); });
}
SHIM_EXPORT int fdatasync(int fd) {
  return sync_fd(__func__, fd, [&] { return REAL(fdatasync)(fd); });
}

namespace {

// close_range, leaving fractfs's own descriptors open.
int close_around_own(unsigned first, unsigned last, int flags) {
  for (int own; first <= last && (own = internal_fd::first_in(first, last)) >= 0;) {
    if (static_cast<unsigned>(own) > first && REAL(close_range)(first, static_cast<unsigned>(own) - 1, flags) != 0)
      return -1;
    if (static_cast<unsigned>(own) == last) return 0;
    first = static_cast<unsigned>(own) + 1;
  }
  return REAL(close_range)(first, last, flags);
}

}  // namespace

SHIM_EXPORT int close_range(unsigned first, unsigned last, int flags) {
  if (flags & CLOSE_RANGE_CLOEXEC) return REAL(close_range)(first, last, flags);
  // Nothing at or above the table's limit was ever recorded.
  auto limit = static_cast<unsigned>(fd_table::limit());
  auto each = [&](auto&& fn) {
    for (unsigned fd = first; fd <= last && fd < limit; ++fd) fn(static_cast<int>(fd));
    return 0;
  };
  if (first < limit && shim_on())
    slow_path(
        __func__, [&] { return each([](int fd) { release(fd); }); }, [&] { return each(fd_table::forget); });
  return close_around_own(first, last, flags);
}

namespace {

// dup2 and dup3 close fd2 first: a writable one is a change to record.
void close_target(const char* where, int fd, int fd2) {
  if (fd == fd2) return;
  if (internal_fd::is(fd2)) internal_fd::taken(fd2);
  on_fd(
      where, fd2, [&] { return release(fd2), 0; },
      [&] { return fd_table::forget(fd2), 0; });  // its error is lost, as dup2's own close loses it
}

}  // namespace

SHIM_EXPORT int dup(int fd) {
  int n = REAL(dup)(fd);
  if (n >= 0) fd_table::copy(fd, n);
  return n;
}

SHIM_EXPORT int dup2(int fd, int fd2) {
  close_target(__func__, fd, fd2);
  int n = REAL(dup2)(fd, fd2);
  if (n >= 0) fd_table::copy(fd, n);
  return n;
}

SHIM_EXPORT int dup3(int fd, int fd2, int flags) {
  close_target(__func__, fd, fd2);
  int n = REAL(dup3)(fd, fd2, flags);
  if (n >= 0) fd_table::copy(fd, n);
  return n;
}

// fcntl's third argument is an int or a pointer; passing it on as a pointer
// is what every interposer does on this ABI.
#define FCNTL(NAME)                                                                  \
  SHIM_EXPORT int NAME(int fd, int cmd, ...) {                                       \
    va_list ap;                                                                      \
    va_start(ap, cmd);                                                               \
    void* arg = va_arg(ap, void*);                                                   \
    va_end(ap);                                                                      \
    int r = REAL(NAME)(fd, cmd, arg);                                                \
    if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) fd_table::copy(fd, r); \
    return r;                                                                        \
  }
FCNTL(fcntl)
FCNTL(fcntl64)
