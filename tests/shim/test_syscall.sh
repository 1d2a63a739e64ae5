#!/usr/bin/env bash
# Path calls made through libc's syscall() function (as libuv makes statx):
# each goes where the libc function of the same meaning would, and any
# other system call passes through.
#   BUILD=build bash tests/shim/test_syscall.sh
source "$(dirname "$0")/lib.sh"

SRC='
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char* what, long rc) { printf("%s %s\n", what, rc < 0 ? strerror(errno) : "ok"); }

int main(void) {
  struct statx sx;
  struct stat st;
  char buf[64];
  say("statx", syscall(SYS_statx, AT_FDCWD, "data/blobs/r/f.bin", 0, STATX_SIZE, &sx));
  printf("size %llu\n", (unsigned long long)sx.stx_size);
  say("newfstatat", syscall(SYS_newfstatat, AT_FDCWD, "data/blobs/r", &st, 0));
  say("stat", syscall(SYS_stat, "data/blobs/r/f.bin", &st));
  say("access", syscall(SYS_access, "data/blobs/r/f.bin", R_OK));
  say("faccessat2", syscall(SYS_faccessat2, AT_FDCWD, "data/blobs/r/f.bin", R_OK, 0));
  long fd = syscall(SYS_openat, AT_FDCWD, "data/blobs/r/f.bin", O_RDONLY);
  say("openat", fd);
  long n = read((int)fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  printf("read %s", buf);
  syscall(SYS_close, fd);
  struct open_how how = {.flags = O_WRONLY | O_CREAT | O_EXCL, .mode = 0644};
  fd = syscall(SYS_openat2, AT_FDCWD, "data/blobs/r/new.bin", &how, sizeof how);
  say("openat2", fd);
  if (fd >= 0) { (void)!write((int)fd, "new\n", 4); close((int)fd); }
  say("mkdir", syscall(SYS_mkdir, "data/blobs/r/sub/made", 0755));
  say("mkdirat", syscall(SYS_mkdirat, AT_FDCWD, "data/blobs/r/sub2", 0755));
  say("rename", syscall(SYS_rename, "data/blobs/r/new.bin", "data/blobs/r/sub2/moved.bin"));
  say("symlink", syscall(SYS_symlinkat, "moved.bin", AT_FDCWD, "data/blobs/r/sub2/ln"));
  n = syscall(SYS_readlinkat, AT_FDCWD, "data/blobs/r/sub2/ln", buf, sizeof buf);
  printf("readlink %.*s\n", (int)(n > 0 ? n : 0), buf);
  say("chmod", syscall(SYS_chmod, "data/blobs/r/f.bin", 0600));
  say("unlink", syscall(SYS_unlinkat, AT_FDCWD, "data/blobs/r/sub2/ln", 0));
  say("rmdir", syscall(SYS_rmdir, "data/blobs/r/sub2/none"));
  say("chdir", syscall(SYS_chdir, "data/blobs/r"));
  say("stat after chdir", syscall(SYS_newfstatat, AT_FDCWD, "f.bin", &st, 0));
  printf("pid %s\n", syscall(SYS_getpid) == getpid() ? "same" : "differs");
  return 0;
}'

raw_syscalls() {
  cc_build raw "$SRC"
  mk R data/blobs/r/f.bin 'remote data'
  x "$T/raw"
  eq "statx ok
size 12
newfstatat ok
stat ok
access ok
faccessat2 ok
openat ok
read remote data
openat2 ok
mkdir No such file or directory
mkdirat ok
rename ok
symlink ok
readlink moved.bin
chmod ok
unlink ok
rmdir No such file or directory
chdir ok
stat after chdir ok
pid same" "$OUT" "raw system calls through syscall()"
  content R data/blobs/r/sub2/moved.bin new
  eq 600 "$(stat -c %a "$REMOTE/data/blobs/r/f.bin")" "chmod reached the remote file"
  expect_phys data/blobs <<'EOF2'
R d r
R f r/f.bin
R d r/sub2
R f r/sub2/moved.bin
L d r
L d r/sub2
EOF2
}

run_modes syscall raw_syscalls
