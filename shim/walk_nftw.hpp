// nftw/ftw built only on public libc calls (opendir, readdir64, fstatat64,
// fchdir, ...), so that inside libfractfs.so every step of the walk goes
// through the library's own union-aware versions. glibc's walker calls
// glibc-internal aliases that a preloaded library cannot interpose.
//
// Behaviour is glibc's as an application observes it: callback order
// (readdir order), typeflags, paths, struct FTW, return values, errno, the
// current directory under FTW_CHDIR and the descriptors used (nopenfd).
#pragma once

#include <ftw.h>

namespace fractfs::walk {

int nftw(const char* dir, __nftw_func_t fn, int nopenfd, int flags);
int nftw64(const char* dir, __nftw64_func_t fn, int nopenfd, int flags);
int ftw(const char* dir, __ftw_func_t fn, int nopenfd);
int ftw64(const char* dir, __ftw64_func_t fn, int nopenfd);

}  // namespace fractfs::walk
