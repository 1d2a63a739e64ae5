// syscall(): libc's generic entry point. libuv (Node.js) calls statx
// through it, and other programs reach open, rename or mkdir that way, so
// every system call that takes a path (or changes what the shim tracks
// about descriptors) is routed to the shim's own function of the same
// meaning. Any other number goes straight to the kernel: one switch, no
// lookup, nothing else.
#include <errno.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/app_calls.hpp"
#include "shim/decls.hpp"
#include "shim/guard.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

using Args = long[6];

// The kernel's answer in libc's convention: -1 and errno for an error.
long to_libc(long rc) noexcept {
  if (rc < 0 && rc >= -4095) {
    errno = static_cast<int>(-rc);
    return -1;
  }
  return rc;
}

// A system call made directly, as glibc's syscall() makes it.
long direct(long nr, const Args& a) noexcept {
#if defined(__x86_64__)
  long rc;
  register long r10 __asm__("r10") = a[3];
  register long r8 __asm__("r8") = a[4];
  register long r9 __asm__("r9") = a[5];
  __asm__ volatile("syscall"
                   : "=a"(rc)
                   : "0"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return to_libc(rc);
#else
  return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
#endif
}

// openat2 has no libc wrapper to route to. Without resolve flags it is
// openat with stricter argument checks (done here as the kernel does);
// with them, the shim places the path and the kernel resolves the rest.
long openat2_call(const Args& a) noexcept {
  auto* how = reinterpret_cast<const struct open_how*>(a[2]);
  auto size = static_cast<std::size_t>(a[3]);
  const char* path = reinterpret_cast<const char*>(a[1]);
  int dirfd = static_cast<int>(a[0]);
  if (!how || size < sizeof(struct open_how) || how->resolve) return direct(SYS_openat2, a);
  if (how->flags >> 32 || (how->mode && !(how->flags & (O_CREAT | __O_TMPFILE))) || how->mode & ~07777ull)
    return errno = EINVAL, -1;
  return APP(openat)(dirfd, path, static_cast<int>(how->flags), static_cast<mode_t>(how->mode));
}

#define P(i) reinterpret_cast<const char*>(a[i])
#define I(i) static_cast<int>(a[i])
#define U(i) static_cast<unsigned>(a[i])
#define M(i) static_cast<mode_t>(a[i])
#define PTR(T, i) reinterpret_cast<T>(a[i])

long routed(long nr, const Args& a) {
  switch (nr) {
    // open family
#ifdef SYS_open
    case SYS_open: return APP(open)(P(0), I(1), M(2));
#endif
#ifdef SYS_creat
    case SYS_creat: return APP(creat)(P(0), M(1));
#endif
    case SYS_openat: return APP(openat)(I(0), P(1), I(2), M(3));
    case SYS_openat2:
      return openat2_call(a);
      // stat family
#ifdef SYS_stat
    case SYS_stat: return APP(stat)(P(0), PTR(struct stat*, 1));
    case SYS_lstat: return APP(lstat)(P(0), PTR(struct stat*, 1));
#endif
    case SYS_fstat: return APP(fstat)(I(0), PTR(struct stat*, 1));
#ifdef SYS_newfstatat
    case SYS_newfstatat: return APP(fstatat)(I(0), P(1), PTR(struct stat*, 2), I(3));
#endif
    case SYS_statx: return APP(statx)(I(0), P(1), I(2), U(3), PTR(struct statx*, 4));
    case SYS_statfs: return APP(statfs)(P(0), PTR(struct statfs*, 1));
#ifdef SYS_access
    case SYS_access: return APP(access)(P(0), I(1));
#endif
    case SYS_faccessat: return APP(faccessat)(I(0), P(1), I(2), 0);
    case SYS_faccessat2:
      return APP(faccessat)(I(0), P(1), I(2), I(3));
      // names
#ifdef SYS_mkdir
    case SYS_mkdir: return APP(mkdir)(P(0), M(1));
    case SYS_rmdir: return APP(rmdir)(P(0));
    case SYS_unlink: return APP(unlink)(P(0));
    case SYS_rename: return APP(rename)(P(0), P(1));
    case SYS_link: return APP(link)(P(0), P(1));
    case SYS_symlink: return APP(symlink)(P(0), P(1));
    case SYS_readlink: return APP(readlink)(P(0), PTR(char*, 1), static_cast<size_t>(a[2]));
    case SYS_mknod: return APP(mknod)(P(0), M(1), static_cast<dev_t>(a[2]));
#endif
    case SYS_mkdirat: return APP(mkdirat)(I(0), P(1), M(2));
    case SYS_unlinkat: return APP(unlinkat)(I(0), P(1), I(2));
    case SYS_renameat: return APP(renameat)(I(0), P(1), I(2), P(3));
    case SYS_renameat2: return APP(renameat2)(I(0), P(1), I(2), P(3), U(4));
    case SYS_linkat: return APP(linkat)(I(0), P(1), I(2), P(3), I(4));
    case SYS_symlinkat: return APP(symlinkat)(P(0), I(1), P(2));
    case SYS_readlinkat: return APP(readlinkat)(I(0), P(1), PTR(char*, 2), static_cast<size_t>(a[3]));
    case SYS_mknodat:
      return APP(mknodat)(I(0), P(1), M(2), static_cast<dev_t>(a[3]));
      // attributes
#ifdef SYS_chmod
    case SYS_chmod: return APP(chmod)(P(0), M(1));
    case SYS_chown: return APP(chown)(P(0), U(1), U(2));
    case SYS_lchown: return APP(lchown)(P(0), U(1), U(2));
    case SYS_utime: return APP(utime)(P(0), PTR(const struct utimbuf*, 1));
    case SYS_utimes: return APP(utimes)(P(0), PTR(const struct timeval*, 1));
    case SYS_futimesat: return APP(futimesat)(I(0), P(1), PTR(const struct timeval*, 2));
#endif
    case SYS_fchmodat: return APP(fchmodat)(I(0), P(1), M(2), 0);
    case SYS_fchownat: return APP(fchownat)(I(0), P(1), U(2), U(3), I(4));
    case SYS_utimensat: return APP(utimensat)(I(0), P(1), PTR(const struct timespec*, 2), I(3));
    case SYS_truncate: return APP(truncate)(P(0), static_cast<off_t>(a[1]));
    case SYS_fchmod: return APP(fchmod)(I(0), M(1));
    case SYS_fchown: return APP(fchown)(I(0), U(1), U(2));
    case SYS_setxattr: return APP(setxattr)(P(0), P(1), PTR(const void*, 2), static_cast<size_t>(a[3]), I(4));
    case SYS_lsetxattr: return APP(lsetxattr)(P(0), P(1), PTR(const void*, 2), static_cast<size_t>(a[3]), I(4));
    case SYS_getxattr: return APP(getxattr)(P(0), P(1), PTR(void*, 2), static_cast<size_t>(a[3]));
    case SYS_lgetxattr: return APP(lgetxattr)(P(0), P(1), PTR(void*, 2), static_cast<size_t>(a[3]));
    case SYS_listxattr: return APP(listxattr)(P(0), PTR(char*, 1), static_cast<size_t>(a[2]));
    case SYS_llistxattr: return APP(llistxattr)(P(0), PTR(char*, 1), static_cast<size_t>(a[2]));
    case SYS_removexattr: return APP(removexattr)(P(0), P(1));
    case SYS_lremovexattr: return APP(lremovexattr)(P(0), P(1));
    // working directory, programs, watches, sockets
    case SYS_chdir: return APP(chdir)(P(0));
    case SYS_fchdir: return APP(fchdir)(I(0));
    case SYS_execve: return APP(execve)(P(0), PTR(char* const*, 1), PTR(char* const*, 2));
    case SYS_execveat: return APP(execveat)(I(0), P(1), PTR(char* const*, 2), PTR(char* const*, 3), I(4));
#ifdef SYS_inotify_add_watch
    case SYS_inotify_add_watch: return APP(inotify_add_watch)(I(0), P(1), U(2));
#endif
    case SYS_bind: return APP(bind)(I(0), PTR(const struct sockaddr*, 1), static_cast<socklen_t>(a[2]));
    // descriptor bookkeeping
    case SYS_close: return APP(close)(I(0));
    case SYS_close_range: return APP(close_range)(U(0), U(1), I(2));
    case SYS_dup: return APP(dup)(I(0));
#ifdef SYS_dup2
    case SYS_dup2: return APP(dup2)(I(0), I(1));
#endif
    case SYS_dup3: return APP(dup3)(I(0), I(1), I(2));
    case SYS_fcntl: return APP(fcntl)(I(0), I(1), a[2]);
    default: return direct(nr, a);
  }
}

#undef P
#undef I
#undef U
#undef M
#undef PTR

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

// The arguments are read as six longs, as every libc does: the kernel
// takes at most six register-sized arguments.
SHIM_EXPORT long syscall(long nr, ...) {
  Args a;
  va_list ap;
  va_start(ap, nr);
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  if (!shim_on()) return direct(nr, a);
  return guarded(
      __func__, [&] { return routed(nr, a); }, [&] { return direct(nr, a); });
}
