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
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"

namespace fractfs::shim {
namespace {

constexpr int kMaxHops = 40;  // the kernel's limit (ELOOP beyond)

// Where the virtual path `v` lives physically.
bool physical_of(const char* v, Kind kind, Target& probe) { return place(AT_FDCWD, v, kind, probe); }

// If the component ending at cur[end) is a symlink, splices its target
// into `cur` (normalized) and returns true.
bool splice_link(char* cur, std::size_t end, Target& probe) {
  scratch::Buf prefix_buf, target_buf, joined_buf;
  char *prefix = prefix_buf.get(), *target = target_buf.get(), *joined = joined_buf.get();
  if (!prefix || !target || !joined) return false;
  memcpy(prefix, cur, end);
  prefix[end] = '\0';
  if (!physical_of(prefix, Kind::unknown, probe)) return false;
  const char* phys = probe.remote() ? probe.remote_path() : probe.natural();
  struct stat st;
  if (REAL(fstatat)(AT_FDCWD, phys, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) return false;
  ssize_t n = REAL(readlinkat)(AT_FDCWD, phys, target, path::kMax - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  // New path: target (absolute, or relative to the link's directory) + rest.
  std::string_view dir = path::dirname(std::string_view(cur, end));
  std::string_view rest(cur + end);
  int len = target[0] == '/'
                ? snprintf(joined, path::kMax, "%s%.*s", target, static_cast<int>(rest.size()), rest.data())
                : snprintf(joined, path::kMax, "%.*s/%s%.*s", static_cast<int>(dir.size()), dir.data(), target,
                           static_cast<int>(rest.size()), rest.data());
  if (len < 0 || static_cast<std::size_t>(len) >= path::kMax) return false;
  return path::normalize({}, joined, cur, path::kMax) >= 0;
}

}  // namespace

bool relink(Target& t, Kind kind, bool follow_last, bool last_absent) noexcept {
  if (!shim_on()) return false;
  // A trailing "/" or "/." makes the kernel follow the last component.
  follow_last = follow_last || t.tail != Tail::none;
  ErrnoGuard g;
  auto probe = std::make_unique<Target>();
  scratch::Buf cur_buf;
  char* cur = cur_buf.get();
  if (!cur || t.vpath.size() + 1 > path::kMax) return false;
  memcpy(cur, t.vpath.data(), t.vpath.size());
  cur[t.vpath.size()] = '\0';
  int hops = 0;
  for (std::size_t i = 1;;) {
    // Components inside the root only: above it, the kernel is right.
    std::size_t end = strcspn(cur + i, "/") + i;
    bool last = cur[end] == '\0';
    if (!last || (follow_last && !(last_absent && hops == 0))) {
      // Components below the root: the root's own name is the kernel's.
      std::string_view prefix(cur, end), rel;
      if (inside_root(prefix, &rel) && !rel.empty() && splice_link(cur, end, *probe)) {
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
  set_tail(*fresh, t.tail);
  copy_target(*fresh, t);
  return true;
}

bool retry_errno(int err) noexcept { return err == ENOENT || err == ENOTDIR || err == ELOOP; }

bool last_is_link(const Target& t) noexcept {
  scratch::Buf buf;
  return buf.ok() && is_symlink(physical_no_tail(t, buf.get()));
}

// A link on the path inside the root may lead into the other tier (or into
// one half of a union directory): relink() looks, component by component.
// Paths of one component below the root have no such link but the last.
bool worth_relinking(const Target& t, int err, bool follow_last) noexcept {
  if (!retry_errno(err) || t.rel.empty()) return false;
  if (t.rel.find('/') != std::string_view::npos) return true;
  return (follow_last || t.tail != Tail::none) && last_is_link(t);
}

}  // namespace fractfs::shim
