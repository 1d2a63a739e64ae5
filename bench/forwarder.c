// Calibration for bench_shim: the thinnest possible interposer. Each
// function forwards to libc's definition, found once at load, so the
// benchmark can tell the price of any wrapper from the shim's own work.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static int (*next_stat)(const char*, struct stat*);
static int (*next_lstat)(const char*, struct stat*);
static int (*next_open)(const char*, int, ...);
static int (*next_openat)(int, const char*, int, ...);
static int (*next_close)(int);
static int (*next_unlink)(const char*);

// Where each function forwards to; the benchmark checks it is libc's.
// Not dlsym(RTLD_NEXT): dlopen'd RTLD_LOCAL into a process that preloads
// libfractfs.so, glibc's RTLD_NEXT search runs over the loading program's
// scope and yields the shim's definition, so this wrapper would measure the
// shim too. libc's own handle gives the definition RTLD_NEXT gives a
// preloaded interposer.
void* forwarder_next(const char* name) {
  void* libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
  return libc ? dlsym(libc, name) : NULL;
}

// Resolved before first use, as a real interposer would.
__attribute__((constructor)) static void resolve(void) {
  next_stat = forwarder_next("stat");
  next_lstat = forwarder_next("lstat");
  next_open = forwarder_next("open");
  next_openat = forwarder_next("openat");
  next_close = forwarder_next("close");
  next_unlink = forwarder_next("unlink");
}

// The mode argument only exists with O_CREAT or O_TMPFILE.
static mode_t mode_of(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int stat(const char* path, struct stat* st) { return next_stat(path, st); }
int lstat(const char* path, struct stat* st) { return next_lstat(path, st); }
int close(int fd) { return next_close(fd); }
int unlink(const char* path) { return next_unlink(path); }

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  return next_open(path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  return next_openat(dirfd, path, flags, mode);
}
