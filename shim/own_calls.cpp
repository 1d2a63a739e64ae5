// libc, for the library's own calls: with --wrap=NAME on the link (see
// shim/app_calls.hpp), every call of fractfs's code to a function the shim
// interposes lands here and goes straight to libc. A function the library
// starts calling needs its line here, or the link fails (-z defs): no call
// of ours can reach an interposer by accident.
#include <stdarg.h>

#include "shim/real.hpp"

// Declared with libc's own types, so each definition below must match its
// libc declaration exactly (noexcept included) or not compile.
#define LIKE_LIBC_PREFIX __wrap_
#include "shim/like_libc.inc"

// WRAP(ret, name, (params), (args)[, noexcept])
#define WRAP(ret, name, params, args, ...) \
  extern "C" ret __wrap_##name params __VA_ARGS__ { return REAL(name) args; }

WRAP(int, access, (const char* p, int m), (p, m), noexcept)
WRAP(int, close, (int fd), (fd))
WRAP(int, closedir, (DIR * d), (d))
WRAP(int, fchmod, (int fd, mode_t m), (fd, m), noexcept)
WRAP(int, fstat, (int fd, struct stat* st), (fd, st), noexcept)
WRAP(int, fsync, (int fd), (fd))
WRAP(int, fdatasync, (int fd), (fd))
WRAP(int, futimens, (int fd, const struct timespec* ts), (fd, ts), noexcept)
WRAP(char*, getcwd, (char* buf, size_t n), (buf, n), noexcept)
WRAP(int, link, (const char* a, const char* b), (a, b), noexcept)
WRAP(int, lstat, (const char* p, struct stat* st), (p, st), noexcept)
WRAP(int, mkdir, (const char* p, mode_t m), (p, m), noexcept)
WRAP(int, mknod, (const char* p, mode_t m, dev_t d), (p, m, d), noexcept)
WRAP(DIR*, opendir, (const char* p), (p))
WRAP(struct dirent*, readdir, (DIR * d), (d))
WRAP(ssize_t, readlink, (const char* p, char* buf, size_t n), (p, buf, n), noexcept)
WRAP(char*, realpath, (const char* p, char* out), (p, out), noexcept)
WRAP(int, rename, (const char* a, const char* b), (a, b), noexcept)
WRAP(int, renameat2, (int da, const char* a, int db, const char* b, unsigned f), (da, a, db, b, f), noexcept)
WRAP(int, rmdir, (const char* p), (p), noexcept)
WRAP(int, stat, (const char* p, struct stat* st), (p, st), noexcept)
WRAP(int, symlink, (const char* a, const char* b), (a, b), noexcept)
WRAP(int, unlink, (const char* p), (p), noexcept)
WRAP(int, utimensat, (int d, const char* p, const struct timespec* ts, int f), (d, p, ts, f), noexcept)

// Variadic in libc: the optional argument is passed on as it came.
extern "C" int __wrap_open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? static_cast<mode_t>(va_arg(ap, unsigned)) : 0;
  va_end(ap);
  return REAL(open)(path, flags, mode);
}

extern "C" int __wrap_fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);  // every fcntl argument fits a pointer
  va_end(ap);
  return REAL(fcntl)(fd, cmd, arg);
}

// Six arguments are passed on whatever the caller gave, as libc's syscall()
// does with registers; the sixth is read from the caller's stack, which
// ASan would report for a call with fewer.
extern "C" __attribute__((no_sanitize("address"))) long __wrap_syscall(long number, ...) noexcept {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

extern "C" void __wrap__exit(int status) {
  REAL(_exit)(status);
  __builtin_unreachable();
}
