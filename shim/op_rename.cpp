// rename, renameat, renameat2. Within one physical place a rename is
// rename(2). Across tiers a file is copied into place (never seen
// half-written) before its source goes, and a directory is moved entry by
// entry, each to its own tier. renameat2 flags are honoured, or refused
// with EINVAL where they cannot be (RENAME_EXCHANGE across tiers).
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "shim/cwd.hpp"
#include "shim/envelope.hpp"
#include "shim/fs_ops.hpp"
#include "shim/half_calls.hpp"
#include "shim/move.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/track.hpp"
#include "shim/union_dir.hpp"
#include "sync/fileops.hpp"

namespace fractfs::shim {
namespace {

constexpr unsigned kKnownFlags = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;

// One side of a rename: placed by the shim, or the caller's own path.
struct End {
  Target t;
  bool ours = false;
  int dirfd = AT_FDCWD;
  const char* arg = nullptr;

  int at_fd() const { return ours ? t.at_fd() : dirfd; }
  const char* at_path() const { return ours ? t.at_path() : arg; }
  bool remote() const { return ours && t.remote(); }
  // Absolute physical path, for the copy fallbacks.
  std::string abs() const {
    if (ours) return t.remote() ? t.remote_path() : t.natural();
    if (arg[0] == '/') return arg;
    if (dirfd != AT_FDCWD) return "/proc/self/fd/" + std::to_string(dirfd) + "/" + arg;
    char cwd[PATH_MAX];
    return std::string(REAL(getcwd)(cwd, sizeof cwd) ? cwd : ".") + "/" + arg;
  }
  // Path of a child for the recursive move: virtual when ours.
  std::string child(const std::string& name) const { return (ours ? std::string(t.vpath) : abs()) + "/" + name; }
  // A directory whose subtree is all at natural paths (no union inside).
  bool plain_dir() const { return !ours || (!t.remote() && !g_state->resolver.holds_dirs(t.rel)); }
};

int rename_impl(int olddirfd, const char* oldp, int newdirfd, const char* newp, unsigned flags);

int kernel_rename(const End& a, const End& b, unsigned flags) {
  return flags ? REAL(renameat2)(a.at_fd(), a.at_path(), b.at_fd(), b.at_path(), flags)
               : REAL(renameat)(a.at_fd(), a.at_path(), b.at_fd(), b.at_path());
}

// rename(2) on the physical pair, creating the destination's parents on
// demand (a union directory's half may not exist yet).
int direct(const End& a, const End& b, unsigned flags) {
  int rc = kernel_rename(a, b, flags);
  if (rc != 0 && errno == ENOENT && b.ours && ensure_parent(b.t) == 0) rc = kernel_rename(a, b, flags);
  return rc;
}

int rename_file(const End& a, const End& b, unsigned flags) {
  int rc = direct(a, b, flags);
  bool moved_by_us = a.remote() || b.remote();
  if (rc == 0 || errno != EXDEV || !moved_by_us) return rc;
  // Across file systems, where the app sees one tree: copy, then unlink.
  if (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) return errno = EINVAL, -1;
  std::string src = a.abs(), dst = b.abs();
  if (kind_at(dst.c_str()) == 'd') return errno = EISDIR, -1;
  return fileops::move_node(src, dst, flags & RENAME_NOREPLACE);
}

// Does the destination directory exist, and is it empty? 0 if it may be
// replaced (removing it), -1 with errno otherwise.
int clear_destination(End& b, bool noreplace) {
  bool exists = b.remote() ? is_union_dir(b.t) : kind_at(b.abs().c_str()) != 0;
  if (!exists) {
    if (b.remote() && kind_at(b.t.remote_path()) == 'f') return errno = ENOTDIR, -1;
    return 0;
  }
  if (noreplace) return errno = EEXIST, -1;
  if (b.remote()) {
    if (int err = half::listing(b.t)) return errno = err, -1;
    if (list_union(b.t).size() > 2) return errno = ENOTEMPTY, -1;
    return rmdir_union(b.t);
  }
  if (kind_at(b.abs().c_str()) != 'd') return errno = ENOTDIR, -1;
  return REAL(unlinkat)(b.at_fd(), b.at_path(), AT_REMOVEDIR);
}

// Both ends remote-tier directories: rename each half, then move whatever
// changed tier with its new path.
int rename_union_dirs(End& a, End& b, bool noreplace) {
  if (clear_destination(b, noreplace) != 0) return -1;
  if (REAL(rename)(a.t.remote_path(), b.t.remote_path()) != 0) {
    if (errno != ENOENT || ensure_parent(b.t) != 0 || REAL(rename)(a.t.remote_path(), b.t.remote_path()) != 0)
      return -1;
  }
  if (kind_at(a.t.natural()) == 'd') {
    ensure_local_parent(b.t);
    if (REAL(rename)(a.t.natural(), b.t.natural()) != 0) {
      int err = errno;
      REAL(rename)(b.t.remote_path(), a.t.remote_path());  // undo the first half
      return errno = err, -1;
    }
  }
  return settle_tree(b.t);
}

// Across tiers: create the destination, move each entry to its own tier,
// remove the source.
int move_dir_entries(End& a, End& b, bool noreplace, mode_t mode) {
  if (clear_destination(b, noreplace) != 0) return -1;
  int rc = b.remote() ? mkdir_union(b.t, mode) : REAL(mkdirat)(b.at_fd(), b.at_path(), mode);
  if (rc != 0 && errno == ENOENT && b.ours && ensure_parent(b.t) == 0)
    rc = b.remote() ? mkdir_union(b.t, mode) : REAL(mkdirat)(b.at_fd(), b.at_path(), mode);
  if (rc != 0) return -1;
  std::vector<std::string> names;
  if (a.remote()) {
    if (int err = half::listing(a.t)) return errno = err, -1;
    for (const DirEntry& e : list_union(a.t))
      if (e.name != "." && e.name != "..") names.push_back(e.name);
  } else if (DIR* d = REAL(opendir)(a.abs().c_str())) {
    while (const struct dirent64* e = REAL(readdir64)(d))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.emplace_back(e->d_name);
    REAL(closedir)(d);
  }
  for (const std::string& name : names)
    if (rename_impl(AT_FDCWD, a.child(name).c_str(), AT_FDCWD, b.child(name).c_str(), 0) != 0) return -1;
  return a.remote() ? rmdir_union(a.t) : REAL(unlinkat)(a.at_fd(), a.at_path(), AT_REMOVEDIR);
}

int rename_dir(End& a, End& b, unsigned flags, mode_t mode) {
  if (a.ours && b.ours && path::is_ancestor(a.t.vpath, b.t.vpath)) return errno = EINVAL, -1;
  if (a.plain_dir() && b.plain_dir()) return direct(a, b, flags);
  if (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) return errno = EINVAL, -1;
  bool noreplace = flags & RENAME_NOREPLACE;
  if (a.remote() && b.remote()) return rename_union_dirs(a, b, noreplace);
  return move_dir_entries(a, b, noreplace, mode);
}

// For the remote half, a rename across tiers is its end there appearing or going.
void half_renamed(const End& a, const End& b) {
  if (a.remote() && b.remote()) half::changed(a.t, half::Change::renamed, &b.t);
  else if (a.remote()) half::changed(a.t, half::Change::removed);
  else if (b.remote()) half::changed(b.t, half::Change::made);
}

// The remote half's lookup error of an end, or 0.
int half_error(const End& e) { return e.ours ? e.t.half_err : 0; }

int rename_impl(int olddirfd, const char* oldp, int newdirfd, const char* newp, unsigned flags) {
  auto a = std::make_unique<End>(), b = std::make_unique<End>();
  a->dirfd = olddirfd, a->arg = oldp, b->dirfd = newdirfd, b->arg = newp;
  a->ours = place(olddirfd, oldp, Kind::unknown, a->t);
  b->ours = place(newdirfd, newp, Kind::unknown, b->t);
  if (!a->ours && !b->ours) return kernel_rename(*a, *b, flags);
  if (flags & ~kKnownFlags) return errno = EINVAL, -1;
  if (int err = half_error(*a) ? half_error(*a) : half_error(*b)) return errno = err, -1;
  struct stat st;
  if (REAL(fstatat)(a->at_fd(), a->at_path(), &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
  Kind kind = S_ISDIR(st.st_mode) ? Kind::dir : Kind::file;
  if (a->ours) replace_kind(a->t, kind);
  if (b->ours) replace_kind(b->t, kind);
  if (a->ours && b->ours && a->t.vpath == b->t.vpath) return 0;
  int rc = kind == Kind::dir ? rename_dir(*a, *b, flags, st.st_mode & 07777) : rename_file(*a, *b, flags);
  if (rc == 0) {
    if (a->ours) track::removed(a->t);
    if (b->ours) track::changed(b->t);
    half_renamed(*a, *b);
  }
  return rc;
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int rename(const char* oldp, const char* newp) {
  return on_paths(
      __func__, AT_FDCWD, oldp, AT_FDCWD, newp, [&] { return rename_impl(AT_FDCWD, oldp, AT_FDCWD, newp, 0); },
      [&] { return REAL(rename)(oldp, newp); });
}
SHIM_EXPORT int renameat(int olddirfd, const char* oldp, int newdirfd, const char* newp) {
  return on_paths(
      __func__, olddirfd, oldp, newdirfd, newp, [&] { return rename_impl(olddirfd, oldp, newdirfd, newp, 0); },
      [&] { return REAL(renameat)(olddirfd, oldp, newdirfd, newp); });
}
SHIM_EXPORT int renameat2(int olddirfd, const char* oldp, int newdirfd, const char* newp, unsigned flags) {
  return on_paths(
      __func__, olddirfd, oldp, newdirfd, newp, [&] { return rename_impl(olddirfd, oldp, newdirfd, newp, flags); },
      [&] { return REAL(renameat2)(olddirfd, oldp, newdirfd, newp, flags); });
}
