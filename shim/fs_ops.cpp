#include "shim/fs_ops.hpp"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {

ErrnoGuard::ErrnoGuard() noexcept : saved_(errno) {}
ErrnoGuard::~ErrnoGuard() {
  if (restore_) errno = saved_;
}

namespace {

bool stat_at(const char* p, struct stat& st) noexcept {
  return REAL(fstatat)(AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// The root as spelled in t.vpath (root or its realpath).
std::string_view root_part(const Target& t) noexcept {
  std::size_t cut = t.rel.empty() ? 0 : t.rel.size() + 1;
  return t.vpath.substr(0, t.vpath.size() - cut);
}

// A [dirs] root or a directory above one: it exists on both sides whatever
// happens to either (created on demand if someone removed it).
bool is_skeleton(std::string_view rel) noexcept {
  const Resolver& r = g_state->resolver;
  return r.holds_dirs(rel) ||
         (r.dirs_index(rel) >= 0 && rel.size() == r.dirs()[static_cast<std::size_t>(r.dirs_index(rel))].size());
}

// Fills `nat` and `rem` with the natural and remote paths of rel[0, i).
bool both_paths(const Target& t, std::size_t i, char* nat, char* rem) noexcept {
  std::string_view root = root_part(t);
  std::string_view prefix = t.rel.substr(0, i);
  if (root.size() + 1 + prefix.size() + 1 > path::kMax) return false;
  std::snprintf(nat, path::kMax, "%.*s%s%.*s", static_cast<int>(root.size()), root.data(), prefix.empty() ? "" : "/",
                static_cast<int>(prefix.size()), prefix.data());
  return remote_half().place(prefix, rem, path::kMax);
}

// Where the prefix ending before rel[i] ends: the previous '/' (or 0).
std::size_t up(const Target& t, std::size_t i) noexcept {
  std::size_t slash = i ? t.rel.rfind('/', i - 1) : std::string_view::npos;
  return slash == std::string_view::npos ? 0 : slash;
}

// Creates each missing directory of rel[0, end) on one side (natural when
// `local`, else remote) wherever the other side has one. The deepest
// existing one is found from the bottom (usually the parent, one stat), so
// the cost is linear in the path's length, not quadratic.
int mirror_dirs(const Target& t, std::size_t end, bool local) noexcept {
  scratch::Buf mine_buf, other_buf;
  char *mine = mine_buf.get(), *other = other_buf.get();
  if (!mine || !other) return errno = ENOMEM, -1;
  end = end < t.rel.size() ? end : t.rel.size();
  std::size_t from = end;  // rel[0, from) exists on our side, once found
  for (;; from = up(t, from)) {
    char* nat = local ? mine : other;
    char* rem = local ? other : mine;
    if (!both_paths(t, from, nat, rem)) return errno = ENAMETOOLONG, -1;
    struct stat st;
    if (stat_at(mine, st)) {
      if (!S_ISDIR(st.st_mode)) return errno = ENOTDIR, -1;
      break;
    }
    if (from == 0) break;  // not even the root's half: create from the top
  }
  // Top-down from there: each prefix end after `from`, up to `end`.
  for (std::size_t i = from + 1; i <= end; ++i) {
    if (i != end && t.rel[i] != '/') continue;
    char* nat = local ? mine : other;
    char* rem = local ? other : mine;
    if (!both_paths(t, i, nat, rem)) return errno = ENAMETOOLONG, -1;
    std::string_view prefix = t.rel.substr(0, i);
    struct stat st;
    mode_t mode = 0755;
    if (stat_at(other, st) && S_ISDIR(st.st_mode)) mode = st.st_mode & 07777;
    else if (!is_skeleton(prefix)) return errno = ENOENT, -1;
    if (REAL(mkdir)(mine, mode) != 0) {
      if (errno != EEXIST) return -1;
    } else {
      REAL(chmod)(mine, mode);  // mkdir applied the umask; the halves must agree
    }
  }
  return 0;
}

}  // namespace

char kind_at(const char* p) noexcept {
  ErrnoGuard g;
  struct stat st;
  if (!stat_at(p, st)) return 0;
  return S_ISDIR(st.st_mode) ? 'd' : 'f';
}

bool is_symlink(const char* p) noexcept {
  ErrnoGuard g;
  struct stat st;
  return stat_at(p, st) && S_ISLNK(st.st_mode);
}

bool to_local_socket(Target& t) noexcept {
  if (!t.remote()) return false;
  ErrnoGuard g;
  struct stat st;
  if (!stat_at(t.natural(), st) || !S_ISSOCK(st.st_mode)) return false;
  t.place = Place::local;
  t.direct = false;
  return true;
}

int ensure_parent(const Target& t) noexcept {
  std::size_t slash = t.rel.rfind('/');
  std::size_t end = slash == std::string_view::npos ? 0 : slash;
  return mirror_dirs(t, end, !t.remote());
}

int ensure_local_parent(const Target& t) noexcept {
  std::size_t slash = t.rel.rfind('/');
  return mirror_dirs(t, slash == std::string_view::npos ? 0 : slash, true);
}

int materialize(const Target& t) noexcept {
  if (kind_at(t.natural()) == 'd') return 0;
  switch (kind_at(t.remote_path())) {
    case 'd': return mirror_dirs(t, t.rel.size(), true);
    case 'f': return errno = ENOTDIR, -1;
    default: return errno = ENOENT, -1;
  }
}

}  // namespace fractfs::shim
