// Symlinks on a path inside the root. The kernel follows a link from where
// it physically sits, so a link whose target lies in the other tier (an
// absolute link to a remote-tier file; "../x" from inside a [dirs] tree;
// a link to a union directory) leads nowhere physically. The shim then
// resolves the path itself, virtually: each component is placed, and a
// link's target is read from its physical location and spliced in relative
// to the link's virtual directory. Done only when a call failed or a link
// was seen, so it costs nothing otherwise.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"

namespace fractfs::shim {
namespace {

constexpr int kMaxHops = 40;  // the kernel's limit (ELOOP beyond)

// Where the virtual path `v` lives physically.
bool physical_of(const char* v, Kind kind, Target& probe) {
  return place(AT_FDCWD, v, kind, probe);
}

// If the component ending at cur[end) is a symlink, splices its target
// into `cur` (normalized) and returns true.
bool splice_link(char* cur, std::size_t end, Target& probe) {
  char prefix[path::kMax];
  memcpy(prefix, cur, end);
  prefix[end] = '\0';
  if (!physical_of(prefix, Kind::unknown, probe)) return false;
  const char* phys = probe.remote() ? probe.remote_path() : probe.natural();
  struct stat st;
  if (REAL(fstatat)(AT_FDCWD, phys, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) return false;
  char target[path::kMax];
  ssize_t n = REAL(readlinkat)(AT_FDCWD, phys, target, sizeof target - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  // New path: target (absolute, or relative to the link's directory) + rest.
  char joined[path::kMax];
  std::string_view dir = path::dirname(std::string_view(cur, end));
  std::string_view rest(cur + end);
  int len = target[0] == '/'
                ? snprintf(joined, sizeof joined, "%s%.*s", target, static_cast<int>(rest.size()), rest.data())
                : snprintf(joined, sizeof joined, "%.*s/%s%.*s", static_cast<int>(dir.size()), dir.data(), target,
                           static_cast<int>(rest.size()), rest.data());
  if (len < 0 || static_cast<std::size_t>(len) >= sizeof joined) return false;
  return path::normalize({}, joined, cur, path::kMax) >= 0;
}

}  // namespace

bool relink(Target& t, Kind kind, bool follow_last) noexcept {
  if (!shim_on()) return false;
  ErrnoGuard g;
  auto probe = std::make_unique<Target>();
  char cur[path::kMax];
  if (t.vpath.size() + 1 > sizeof cur) return false;
  memcpy(cur, t.vpath.data(), t.vpath.size());
  cur[t.vpath.size()] = '\0';
  int hops = 0;
  for (std::size_t i = 1;;) {
    // Components inside the root only: above it, the kernel is right.
    std::size_t end = strcspn(cur + i, "/") + i;
    bool last = cur[end] == '\0';
    if (!last || follow_last) {
      std::string_view prefix(cur, end);
      if (inside_root(prefix) && splice_link(cur, end, *probe)) {
        if (++hops > kMaxHops) return false;
        i = 1;
        continue;
      }
    }
    if (last) break;
    i = end + 1;
  }
  if (!hops) return false;
  auto fresh = std::make_unique<Target>();
  if (!place(AT_FDCWD, cur, kind, *fresh)) {
    // It left the root: the caller's path is now plain (dirfd, absolute).
    return false;
  }
  copy_target(*fresh, t);
  return true;
}

bool retry_errno(int err) noexcept { return err == ENOENT || err == ENOTDIR || err == ELOOP; }

bool parent_missing(const Target& t) noexcept {
  if (t.remote() || g_state->resolver.dirs_index(t.rel) < 0) return false;
  std::string_view parent = path::dirname(t.vpath);
  char buf[path::kMax];
  if (parent.size() + 1 > sizeof buf) return false;
  memcpy(buf, parent.data(), parent.size());
  buf[parent.size()] = '\0';
  return kind_at(buf) == 0;
}

bool worth_relinking(const Target& t, int err, bool follow_last) noexcept {
  if (!retry_errno(err)) return false;
  return (follow_last && is_symlink(t.remote() ? t.remote_path() : t.natural())) || parent_missing(t);
}

}  // namespace fractfs::shim
