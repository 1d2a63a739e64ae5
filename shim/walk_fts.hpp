// fts(3) over public libc calls. glibc's own fts_* reach the filesystem
// through libc-internal functions (__opendir, __lstat64, ...) that a
// preloaded library cannot interpose, so libfractfs.so exports these in
// their place: every call they make goes through the PLT and, inside the
// library, to its union-aware versions.
//
// Never changes directory: fts_accpath is fts_path, as under FTS_NOCHDIR,
// whatever the options, so paths the kernel refuses (PATH_MAX) fail as they
// do there. Everything else an application can observe is glibc's, errors
// included; the objects handed out are glibc's FTS and FTSENT.
#pragma once

#include <fts.h>
#include <stddef.h>
#include <sys/stat.h>

namespace fractfs::walk {

FTS* fts_open(char* const* argv, int options, int (*compar)(const FTSENT**, const FTSENT**));
FTSENT* fts_read(FTS* sp);
FTSENT* fts_children(FTS* sp, int instr);
int fts_set(FTS* sp, FTSENT* p, int instr);
int fts_close(FTS* sp);

}  // namespace fractfs::walk

// On x86_64 the LFS variants FTS64/FTSENT64 differ from FTS/FTSENT only in
// naming types that are the same size and layout there (ino64_t is ino_t,
// struct stat64 is struct stat), so fts64_* can be exported by casting
// pointers to the functions above. The assertions prove that layout.
#define FRACTFS_SAME_MEMBER(a, b, m)                                                                                  \
  static_assert(                                                                                                      \
      offsetof(a, m) == offsetof(b, m) && sizeof(static_cast<a*>(nullptr)->m) == sizeof(static_cast<b*>(nullptr)->m), \
      #a "::" #m " differs")

static_assert(sizeof(FTS) == sizeof(FTS64) && alignof(FTS) == alignof(FTS64));
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_cur);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_child);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_array);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_dev);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_path);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_rfd);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_pathlen);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_nitems);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_compar);
FRACTFS_SAME_MEMBER(FTS, FTS64, fts_options);

static_assert(sizeof(FTSENT) == sizeof(FTSENT64) && alignof(FTSENT) == alignof(FTSENT64));
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_cycle);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_parent);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_link);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_number);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_pointer);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_accpath);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_path);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_errno);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_symfd);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_pathlen);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_namelen);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_ino);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_dev);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_nlink);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_level);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_info);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_flags);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_instr);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_statp);
FRACTFS_SAME_MEMBER(FTSENT, FTSENT64, fts_name);

// What fts_statp points to, seen through either name.
static_assert(sizeof(struct stat) == sizeof(struct stat64) && alignof(struct stat) == alignof(struct stat64));
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_dev);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_ino);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_nlink);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_mode);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_uid);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_gid);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_rdev);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_size);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_blksize);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_blocks);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_atim);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_mtim);
FRACTFS_SAME_MEMBER(struct stat, struct stat64, st_ctim);

#undef FRACTFS_SAME_MEMBER
