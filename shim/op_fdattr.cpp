// fchmod, fchown, futimens, futimes: on a descriptor for a union directory
// the change reaches only the half it is open on, so it is repeated on the
// other half, keeping the two in agreement. For any other descriptor these
// cost one atomic load more than libc.
#include <sys/stat.h>

#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/guard.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/track.hpp"

namespace fractfs::shim {
namespace {

// The change `fd` had, recorded, and made on the union directory's other
// half too when fd is open on one (rc: the call's result, returned).
template <typename OnPath>
int mirror_on_other_half(int fd, int rc, OnPath&& on_path) {
  scratch::Buf vb;
  char* v = vb.get();
  std::uint32_t flags = 0;
  Target t;
  if (!v || fd_table::get(fd, v, path::kMax, &flags) < 0 || !place(AT_FDCWD, v, Kind::unknown, t)) return rc;
  track::changed(t);
  half::changed(t, half::Change::attrs);
  struct stat st;
  if (!t.remote() || REAL(fstat)(fd, &st) != 0 || !S_ISDIR(st.st_mode)) return rc;
  ErrnoGuard g;
  const char* other = (flags & fd_table::remote_half) ? t.natural() : t.remote_path();
  if (kind_at(other) == 'd') on_path(other);
  return rc;
}

// After `call(fd)` succeeded: the above, under the fault guard.
template <typename Call, typename OnPath>
int fd_attr(const char* where, int fd, Call&& call, OnPath&& on_path) {
  int rc = call();
  if (rc != 0) return rc;
  return on_fd(
      where, fd, [&] { return mirror_on_other_half(fd, rc, on_path); }, [&] { return rc; });
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int fchmod(int fd, mode_t mode) {
  return fd_attr(
      __func__, fd, [&] { return REAL(fchmod)(fd, mode); },
      [&](const char* p) {
        REAL(chmod)
        (p, mode);
      });
}
SHIM_EXPORT int fchown(int fd, uid_t uid, gid_t gid) {
  return fd_attr(
      __func__, fd, [&] { return REAL(fchown)(fd, uid, gid); },
      [&](const char* p) {
        REAL(chown)
        (p, uid, gid);
      });
}
SHIM_EXPORT int futimens(int fd, const struct timespec times[2]) {
  return fd_attr(
      __func__, fd, [&] { return REAL(futimens)(fd, times); },
      [&](const char* p) {
        REAL(utimensat)
        (AT_FDCWD, p, times, 0);
      });
}
SHIM_EXPORT int futimes(int fd, const struct timeval times[2]) {
  return fd_attr(
      __func__, fd, [&] { return REAL(futimes)(fd, times); },
      [&](const char* p) {
        REAL(utimes)
        (p, times);
      });
}
