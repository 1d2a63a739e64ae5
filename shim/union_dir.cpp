#include "shim/union_dir.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <unordered_set>

#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

unsigned char type_of(const char* dir, const struct dirent64* e) {
  if (e->d_type != DT_UNKNOWN) return e->d_type;
  std::string p = std::string(dir) + "/" + e->d_name;
  struct stat st;
  if (REAL(fstatat)(AT_FDCWD, p.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return DT_UNKNOWN;
  return S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
}

// Where an entry named `name` in the union directory `t` lives.
bool lives_remotely(const Target& t, const char* name, bool is_dir) {
  std::string rel = t.rel.empty() ? std::string(name) : std::string(t.rel) + "/" + name;
  return decide(rel, is_dir).tier == Tier::remote;
}

// Appends the entries of one half that belong to the union. `dots`: take
// "." and ".." from this half.
void read_half(const Target& t, const char* dir, bool remote_half, bool dots, std::vector<DirEntry>& out,
               std::unordered_set<std::string>& seen) {
  DIR* d = REAL(opendir)(dir);
  if (!d) return;
  while (const struct dirent64* e = REAL(readdir64)(d)) {
    bool dot = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    if (dot && !dots) continue;
    unsigned char type = type_of(dir, e);
    bool is_dir = type == DT_DIR;
    // A local sub-directory always shows (a local one, or the local half of
    // a remote one), and so does a socket (node-local whatever its tier);
    // anything else shows from the half its tier names.
    bool local_always = !remote_half && (is_dir || type == DT_SOCK);
    if (!dot && !local_always && lives_remotely(t, e->d_name, is_dir) != remote_half) continue;
    if (!seen.insert(e->d_name).second) continue;
    out.push_back({e->d_name, type, e->d_ino});
  }
  REAL(closedir)(d);
}

// Just "." and ".." of a directory.
void read_half_dots(const char* dir, std::vector<DirEntry>& out, std::unordered_set<std::string>& seen) {
  DIR* d = REAL(opendir)(dir);
  if (!d) return;
  while (const struct dirent64* e = REAL(readdir64)(d))
    if ((!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) && seen.insert(e->d_name).second)
      out.push_back({e->d_name, DT_DIR, e->d_ino});
  REAL(closedir)(d);
}

}  // namespace

// The remote half first: a sub-directory in both halves has its identity
// (stat reports the remote half of a union directory). "." and ".." come
// from the remote half too, except at a [dirs] root, whose parent is local.
std::vector<DirEntry> list_union(const Target& t) {
  ErrnoGuard g;
  std::vector<DirEntry> out;
  std::unordered_set<std::string> seen;
  const Resolver& r = g_state->resolver;
  int d = r.dirs_index(t.rel);
  bool at_dirs_root = d >= 0 && r.dirs()[static_cast<std::size_t>(d)].size() == t.rel.size();
  if (at_dirs_root) read_half_dots(t.natural(), out, seen);
  read_half(t, t.remote_path(), true, !at_dirs_root, out, seen);
  read_half(t, t.natural(), false, true, out, seen);
  return out;
}

bool has_entries(const char* physical) noexcept {
  ErrnoGuard g;
  DIR* d = REAL(opendir)(physical);
  if (!d) return false;
  bool any = false;
  while (const struct dirent64* e = REAL(readdir64)(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      any = true;
      break;
    }
  }
  REAL(closedir)(d);
  return any;
}

bool is_union_dir(const Target& t) noexcept {
  return t.remote() && (kind_at(t.remote_path()) == 'd' || kind_at(t.natural()) == 'd');
}

// The remote half is the directory's identity: a local half alone (left
// where the remote half could not be made, e.g. on a read-only store) does
// not make it exist, so mkdir answers as the store does (EROFS there),
// consistently with stat.
int mkdir_union(const Target& t, mode_t mode) noexcept {
  char local = kind_at(t.natural());
  if (local == 'f') return errno = EEXIST, -1;
  int rc = with_parents(t, [&] { return REAL(mkdir)(t.remote_path(), mode); });
  if (rc != 0) return -1;
  // The local half too, so the directory keeps one identity from the start.
  ErrnoGuard g;
  materialize(t);
  return 0;
}

int rmdir_union(const Target& t) noexcept {
  if (has_entries(t.natural())) return errno = ENOTEMPTY, -1;
  int rc = REAL(rmdir)(t.remote_path());
  if (rc != 0 && errno != ENOENT) return -1;
  bool remote_gone = rc == 0;
  if (REAL(rmdir)(t.natural()) != 0) {
    if (errno != ENOENT) {
      int err = errno;
      if (remote_gone) REAL(mkdir)(t.remote_path(), 0755);  // a file appeared meanwhile: undo
      return errno = err, -1;
    }
    if (!remote_gone) return errno = ENOENT, -1;
  }
  return 0;
}

}  // namespace fractfs::shim
