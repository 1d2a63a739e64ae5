// mkstemp and friends: libc creates the file with internal calls, so the
// template is placed here and the generated name copied back.
#include <errno.h>
#include <string.h>

#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/track.hpp"

namespace fractfs::shim {
namespace {

constexpr std::size_t kXs = 6;  // "XXXXXX"

// Copies the generated characters (the Xs before the suffix) from `from`
// to `to`; both end with the same template tail.
void copy_generated(const char* from, char* to, std::size_t suffixlen) {
  std::size_t lf = strlen(from), lt = strlen(to);
  if (lf < kXs + suffixlen || lt < kXs + suffixlen) return;
  memcpy(to + lt - suffixlen - kXs, from + lf - suffixlen - kXs, kXs);
}

// Runs `make(path)` (>= 0 on success) on the template's physical location,
// then copies the generated name into the caller's template and into t's
// virtual path (same length, so t.vpath and t.rel stay valid).
template <typename Make>
int make_temp(Target& t, char* tmpl, std::size_t suffixlen, Make&& make) {
  char* phys = t.remote() ? t.rbuf : tmpl;
  int rc = with_parents(t, [&] { return make(phys); });
  if (rc < 0) return rc;
  if (t.remote()) copy_generated(phys, tmpl, suffixlen);
  if (t.vstr == t.vbuf) copy_generated(tmpl, t.vbuf, suffixlen);  // else vpath is tmpl itself
  track::changed(t);
  return rc;
}

// Every mkstemp variant comes down to mkostemps(template, suffixlen, flags).
template <typename Pass>
int temp_file(const char* where, char* tmpl, int suffixlen, int flags, Pass&& pass) {
  if (!tmpl || suffixlen < 0) return pass();
  return on_path(
      where, AT_FDCWD, tmpl, Kind::file,
      [&](Target& t) {
        int fd = make_temp(t, tmpl, static_cast<std::size_t>(suffixlen),
                           [&](char* p) { return REAL(mkostemps)(p, suffixlen, flags); });
        if (fd >= 0) fd_table::set(fd, t.vpath, fd_table::writable | (t.remote() ? fd_table::remote_half : 0u));
        return fd;
      },
      pass);
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int mkstemp(char* tmpl) {
  return temp_file(__func__, tmpl, 0, 0, [&] { return REAL(mkstemp)(tmpl); });
}
SHIM_EXPORT int mkstemp64(char* tmpl) {
  return temp_file(__func__, tmpl, 0, 0, [&] { return REAL(mkstemp64)(tmpl); });
}
SHIM_EXPORT int mkostemp(char* tmpl, int flags) {
  return temp_file(__func__, tmpl, 0, flags, [&] { return REAL(mkostemp)(tmpl, flags); });
}
SHIM_EXPORT int mkostemp64(char* tmpl, int flags) {
  return temp_file(__func__, tmpl, 0, flags, [&] { return REAL(mkostemp64)(tmpl, flags); });
}
SHIM_EXPORT int mkstemps(char* tmpl, int suffixlen) {
  return temp_file(__func__, tmpl, suffixlen, 0, [&] { return REAL(mkstemps)(tmpl, suffixlen); });
}
SHIM_EXPORT int mkstemps64(char* tmpl, int suffixlen) {
  return temp_file(__func__, tmpl, suffixlen, 0, [&] { return REAL(mkstemps64)(tmpl, suffixlen); });
}
SHIM_EXPORT int mkostemps(char* tmpl, int suffixlen, int flags) {
  return temp_file(__func__, tmpl, suffixlen, flags, [&] { return REAL(mkostemps)(tmpl, suffixlen, flags); });
}
SHIM_EXPORT int mkostemps64(char* tmpl, int suffixlen, int flags) {
  return temp_file(__func__, tmpl, suffixlen, flags, [&] { return REAL(mkostemps64)(tmpl, suffixlen, flags); });
}

// A temporary directory in the remote tier gets both halves, as mkdir would.
SHIM_EXPORT char* mkdtemp(char* tmpl) {
  if (!tmpl) return REAL(mkdtemp)(tmpl);
  return on_path(
      __func__, AT_FDCWD, tmpl, Kind::dir,
      [&](Target& t) -> char* {
        if (make_temp(t, tmpl, 0, [&](char* p) { return REAL(mkdtemp)(p) ? 0 : -1; }) != 0) return nullptr;
        if (t.remote()) {
          ErrnoGuard g;
          materialize(t);
          half::changed(t, half::Change::made);
        }
        return tmpl;
      },
      [&] { return REAL(mkdtemp)(tmpl); });
}

// mktemp only picks a name; it must be free in the template's tier.
SHIM_EXPORT char* mktemp(char* tmpl) {
  if (!tmpl) return REAL(mktemp)(tmpl);
  return on_path(
      __func__, AT_FDCWD, tmpl, Kind::file,
      [&](Target& t) {
        if (!t.remote()) return REAL(mktemp)(tmpl);
        if (!REAL(mktemp)(t.rbuf)[0]) {
          tmpl[0] = '\0';
          return tmpl;
        }
        copy_generated(t.rbuf, tmpl, 0);
        return tmpl;
      },
      [&] { return REAL(mktemp)(tmpl); },
      [&](Failure f) {  // mktemp fails with an empty template, never null
        errno = f.err;
        tmpl[0] = '\0';
        return tmpl;
      });
}
