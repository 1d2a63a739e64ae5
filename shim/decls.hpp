// Prototypes of libc entry points that glibc's headers no longer declare
// (the pre-2.33 "__x" stat forms) or declare only under _FORTIFY_SOURCE.
// Binaries built against older glibc, or with fortification, call these.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

extern "C" {
int __xstat(int ver, const char* path, struct stat* st);
int __xstat64(int ver, const char* path, struct stat64* st);
int __lxstat(int ver, const char* path, struct stat* st);
int __lxstat64(int ver, const char* path, struct stat64* st);
int __fxstat(int ver, int fd, struct stat* st);
int __fxstat64(int ver, int fd, struct stat64* st);
int __fxstatat(int ver, int dirfd, const char* path, struct stat* st, int flags);
int __fxstatat64(int ver, int dirfd, const char* path, struct stat64* st, int flags);
int __xmknod(int ver, const char* path, mode_t mode, dev_t* dev);
int __xmknodat(int ver, int dirfd, const char* path, mode_t mode, dev_t* dev);
int __open_2(const char* path, int flags);
int __open64_2(const char* path, int flags);
int __openat_2(int dirfd, const char* path, int flags);
int __openat64_2(int dirfd, const char* path, int flags);
ssize_t __readlink_chk(const char* path, char* buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char* path, char* buf, size_t len, size_t buflen);
char* __realpath_chk(const char* path, char* resolved, size_t resolvedlen);
}
