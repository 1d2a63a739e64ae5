// opendir, fdopendir, readdir and friends. A union directory gets a DIR of
// our own that lists both halves; every other directory is libc's.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <new>

#include "shim/dir_stream.hpp"
#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/guard.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"
#include "shim/union_dir.hpp"

namespace fractfs::shim {

UnionDir* as_union(DIR* d) noexcept {
  return d && *reinterpret_cast<const int*>(d) == UnionDir::kMagic ? reinterpret_cast<UnionDir*>(d) : nullptr;
}

// The local half is the directory's identity when it has one; a
// remote-only directory is read through its remote half.
int open_halves(Target& t) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  int fd = REAL(openat)(AT_FDCWD, t.natural(), kFlags);
  if (fd >= 0) return fd_table::set(fd, t.vpath, fd_table::union_dir), fd;
  if (errno != ENOENT) return -1;
  fd = REAL(openat)(AT_FDCWD, t.remote_path(), kFlags);
  if (fd >= 0) fd_table::set(fd, t.vpath, fd_table::remote_half);
  return fd;
}

DIR* open_union(Target& t, int fd) {
  if (int err = half::listing(t)) return errno = err, nullptr;
  if (fd < 0 && (fd = open_halves(t)) < 0) return nullptr;
  auto* u = new UnionDir;
  u->vpath.assign(t.vpath);
  u->entries = list_union(t);
  u->fd = fd;
  return reinterpret_cast<DIR*>(u);
}

struct dirent64* UnionDir::next() noexcept {
  if (pos >= entries.size()) return nullptr;
  const DirEntry& e = entries[pos++];
  memset(&ent, 0, offsetof(struct dirent64, d_name));
  ent.d_ino = e.ino;
  ent.d_off = static_cast<off64_t>(pos);
  ent.d_reclen = sizeof ent;
  ent.d_type = e.type;
  std::size_t n = e.name.size() < sizeof ent.d_name ? e.name.size() : sizeof ent.d_name - 1;
  memcpy(ent.d_name, e.name.data(), n);
  ent.d_name[n] = '\0';
  return &ent;
}

void UnionDir::reload() {
  Target t;
  if (place(AT_FDCWD, vpath.c_str(), Kind::dir, t) && t.remote()) entries = list_union(t);
  pos = 0;
}

}  // namespace fractfs::shim

using namespace fractfs::shim;

namespace {

// Records the descriptor inside a DIR libc opened: dirfd() + openat must
// reach the same virtual directory.
DIR* track_dir(DIR* d, std::string_view vpath) {
  if (!d) return d;
  if (!vpath.empty()) fd_table::set(REAL(dirfd)(d), vpath);
  else fd_table::forget(REAL(dirfd)(d));
  return d;
}

}  // namespace

namespace {

// A link to a directory is followed virtually: the kernel would follow it
// from where it sits (one half of a union, or the other tier), and the
// descriptor must stand for the link's target.
DIR* open_placed(Target& t, bool follow = true) {
  if (follow && last_is_link(t) && relink(t, Kind::dir, true)) return open_placed(t, false);
  if (!t.remote()) return track_dir(REAL(opendir)(t.at_path()), t.vpath);
  return open_union(t, -1);
}

}  // namespace

SHIM_EXPORT DIR* opendir(const char* path) {
  // Not ours, or a fault: libc's, still tracked when it lies above the root.
  auto pass = [&] {
    scratch::Buf buf;
    bool known = buf.ok() && virtual_path(AT_FDCWD, path, buf.get(), fractfs::path::kMax) >= 0;
    return track_dir(REAL(opendir)(path), known ? std::string_view(buf.get()) : std::string_view());
  };
  return on_path(
      __func__, AT_FDCWD, path, Kind::dir,
      [&](Target& t) {
        DIR* d = open_placed(t);
        if (!d && retry_errno(errno) && relink(t, Kind::dir, true)) d = open_placed(t);
        return d;
      },
      pass);
}

SHIM_EXPORT DIR* fdopendir(int fd) {
  return on_fd(
      __func__, fd,
      [&]() -> DIR* {
        scratch::Buf vb;
        char* v = vb.get();
        Target t;
        if (!v || fd_table::get(fd, v, fractfs::path::kMax) < 0 || !place(AT_FDCWD, v, Kind::dir, t) || !t.remote())
          return REAL(fdopendir)(fd);
        struct stat st;
        if (::fstat(fd, &st) != 0) return nullptr;
        if (!S_ISDIR(st.st_mode)) return errno = ENOTDIR, nullptr;
        return open_union(t, fd);
      },
      [&] { return REAL(fdopendir)(fd); });
}

SHIM_EXPORT int closedir(DIR* d) {
  if (UnionDir* u = as_union(d)) {
    fd_table::forget(u->fd);
    int rc = REAL(close)(u->fd);
    delete u;
    return rc;
  }
  if (d) fd_table::forget(REAL(dirfd)(d));
  return REAL(closedir)(d);
}

SHIM_EXPORT struct dirent* readdir(DIR* d) {
  if (UnionDir* u = as_union(d)) return reinterpret_cast<struct dirent*>(u->next());
  return REAL(readdir)(d);
}

SHIM_EXPORT struct dirent64* readdir64(DIR* d) {
  if (UnionDir* u = as_union(d)) return u->next();
  return REAL(readdir64)(d);
}

SHIM_EXPORT int readdir_r(DIR* d, struct dirent* entry, struct dirent** result) {
  UnionDir* u = as_union(d);
  if (!u) return REAL(readdir_r)(d, entry, result);
  struct dirent64* e = u->next();
  if (e) memcpy(entry, e, sizeof *e);
  *result = e ? entry : nullptr;
  return 0;
}

SHIM_EXPORT int readdir64_r(DIR* d, struct dirent64* entry, struct dirent64** result) {
  UnionDir* u = as_union(d);
  if (!u) return REAL(readdir64_r)(d, entry, result);
  struct dirent64* e = u->next();
  if (e) memcpy(entry, e, sizeof *e);
  *result = e ? entry : nullptr;
  return 0;
}

SHIM_EXPORT void rewinddir(DIR* d) {
  if (UnionDir* u = as_union(d))
    return guarded(
        __func__, [&] { u->reload(); }, [&] { u->pos = 0; });
  REAL(rewinddir)(d);
}

SHIM_EXPORT void seekdir(DIR* d, long loc) {
  if (UnionDir* u = as_union(d)) {
    u->pos = loc < 0 ? 0 : static_cast<std::size_t>(loc);
    return;
  }
  REAL(seekdir)(d, loc);
}

SHIM_EXPORT long telldir(DIR* d) {
  if (UnionDir* u = as_union(d)) return static_cast<long>(u->pos);
  return REAL(telldir)(d);
}

SHIM_EXPORT int dirfd(DIR* d) {
  if (UnionDir* u = as_union(d)) return u->fd;
  return REAL(dirfd)(d);
}
