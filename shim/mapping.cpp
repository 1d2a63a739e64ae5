#include "shim/mapping.hpp"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "shim/cwd.hpp"
#include "shim/fd_table.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

bool starts_with_root(const char* p, std::size_t len, const std::string& root) noexcept {
  return !root.empty() && len >= root.size() && memcmp(p, root.data(), root.size()) == 0 &&
         (len == root.size() || p[root.size()] == '/');
}

// One pass over an absolute path: its length, and whether it is already
// what normalization would make of it (no empty, "." or ".." component,
// no trailing slash). Plain byte compares: most paths are short.
struct Scan {
  std::size_t len = 0;
  bool clean = true;
};
Scan scan_absolute(const char* p) noexcept {
  Scan s;
  for (const char* c = p; *c; ++c) {
    if (*c != '/') continue;
    char a = c[1];
    if (a == '/' || (a == '\0' && c != p)) s.clean = false;
    else if (a == '.' && (c[2] == '/' || !c[2] || (c[2] == '.' && (c[3] == '/' || !c[3])))) s.clean = false;
  }
  s.len = strlen(p);
  return s;
}

// A relative path the kernel resolves exactly as normalization does: no
// empty, "." or ".." component.
bool clean_relative(const char* p) noexcept {
  if (p[0] == '.' && (p[1] == '/' || !p[1] || (p[1] == '.' && (p[2] == '/' || !p[2])))) return false;
  for (const char* c = p; *c; ++c) {
    if (*c != '/') continue;
    char a = c[1];
    if (a == '/' || a == '\0') return false;
    if (a == '.' && (c[2] == '/' || !c[2] || (c[2] == '.' && (c[3] == '/' || !c[3])))) return false;
  }
  return true;
}

bool is_root_ancestor(std::string_view p) noexcept {
  const State& s = *g_state;
  return p == "/" || path::is_ancestor(p, s.root) ||
         (!s.root_real.empty() && path::is_ancestor(p, s.root_real));
}

// The virtual path of (dirfd, p): the caller's own string when it is
// absolute and clean, else normalized into buf. Empty when the path cannot
// be ours: too long, relative to an untracked descriptor, or plainly outside
// the root (and, with `ancestors`, not above it either). `direct` says
// whether the kernel resolves (dirfd, p) to that same natural path.
std::string_view virtual_of(int dirfd, const char* p, char* buf, std::size_t cap, bool ancestors,
                            bool& direct) noexcept {
  const State& s = *g_state;
  std::ptrdiff_t n;
  if (p[0] == '/') {
    Scan sc = scan_absolute(p);
    bool under = starts_with_root(p, sc.len, s.root) || starts_with_root(p, sc.len, s.root_real);
    direct = sc.clean;
    if (sc.clean) {
      if (under || (ancestors && is_root_ancestor({p, sc.len}))) return {p, sc.len};
      return {};
    }
    n = path::normalize({}, {p, sc.len}, buf, cap);
  } else {
    char base[path::kMax];
    std::ptrdiff_t bl;
    std::uint32_t flags = 0;
    if (dirfd == AT_FDCWD) {
      if (cwd::relation() == cwd::Relation::unrelated && !path::has_dotdot(p)) return {};
      bl = cwd::copy(base, sizeof base);
    } else {
      bl = fd_table::get(dirfd, base, sizeof base, &flags);
    }
    if (bl < 0) return {};
    // A descriptor on a directory's remote half resolves names over there.
    direct = !(flags & fd_table::remote_half) && clean_relative(p);
    n = path::normalize({base, static_cast<std::size_t>(bl)}, p, buf, cap);
  }
  return n < 0 ? std::string_view{} : std::string_view(buf, static_cast<std::size_t>(n));
}

bool set_place(Target& t) noexcept {
  t.place = t.decision.tier == Tier::remote ? Place::remote : Place::local;
  return !t.remote() || remote_of(t.rel, t.rbuf, sizeof t.rbuf);
}

// A path whose own name matches a directory-only pattern is decided by what
// is on disk: look where the directory variant would live.
void settle_ambiguous(Target& t) noexcept {
  const Resolver& r = g_state->resolver;
  Decision as_dir = r.decide(t.rel, true);
  if ((as_dir.tier == Tier::remote) == (t.decision.tier == Tier::remote)) return;
  Target probe;
  probe.rel = t.rel;
  probe.decision = as_dir;
  if (!set_place(probe)) return;
  int saved = errno;
  struct stat st;
  const char* where = probe.remote() ? probe.rbuf : t.natural();
  if (REAL(fstatat)(AT_FDCWD, where, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    t.decision = as_dir;
    t.is_dir_decision = true;
  }
  errno = saved;
}

}  // namespace

bool inside_root(std::string_view abs, std::string_view* rel) noexcept {
  const State& s = *g_state;
  auto r = path::relative_to(s.root, abs);
  if (!r && !s.root_real.empty()) r = path::relative_to(s.root_real, abs);
  if (r && rel) *rel = *r;
  return r.has_value();
}

Decision decide(std::string_view rel, bool is_dir) noexcept { return g_state->resolver.decide(rel, is_dir); }

bool remote_of(std::string_view rel, char* buf, std::size_t cap) noexcept {
  const std::string& rr = g_state->remote_root;
  if (rr.size() + 1 + rel.size() + 1 > cap) return false;
  memcpy(buf, rr.data(), rr.size());
  std::size_t n = rr.size();
  if (!rel.empty()) {
    buf[n++] = '/';
    memcpy(buf + n, rel.data(), rel.size());
    n += rel.size();
  }
  buf[n] = '\0';
  return true;
}

std::ptrdiff_t virtual_path(int dirfd, const char* p, char* buf, std::size_t cap) noexcept {
  if (!shim_on() || !p || !*p) return -1;
  bool direct = true;
  std::string_view v = virtual_of(dirfd, p, buf, cap, true, direct);
  if (v.empty() || !(inside_root(v) || is_root_ancestor(v))) return -1;
  if (v.data() != buf) {
    if (v.size() + 1 > cap) return -1;
    memcpy(buf, v.data(), v.size() + 1);
  }
  return static_cast<std::ptrdiff_t>(v.size());
}

bool maybe_ours(int dirfd, const char* p) noexcept {
  if (!shim_on() || !p || !*p) return false;
  const State& s = *g_state;
  if (p[0] == '/') {
    Scan sc = scan_absolute(p);
    return !sc.clean || starts_with_root(p, sc.len, s.root) || starts_with_root(p, sc.len, s.root_real);
  }
  if (dirfd == AT_FDCWD) return cwd::relation() != cwd::Relation::unrelated || path::has_dotdot(p);
  char buf[path::kMax];
  return fd_table::get(dirfd, buf, sizeof buf) >= 0;
}

bool place(int dirfd, const char* p, Kind kind, Target& t) noexcept {
  if (!shim_on() || !p || !*p) return false;
  t.vpath = virtual_of(dirfd, p, t.vbuf, sizeof t.vbuf, false, t.direct);
  if (t.vpath.empty() || !inside_root(t.vpath, &t.rel)) return false;
  t.vstr = t.vpath.data();
  t.dirfd = dirfd;
  t.arg = p;
  t.is_dir_decision = kind == Kind::dir;
  t.decision = decide(t.rel, t.is_dir_decision);
  if (kind == Kind::unknown && g_state->resolver.dir_only_patterns()) settle_ambiguous(t);
  return set_place(t);
}

void copy_target(const Target& from, Target& to) noexcept {
  to.place = from.place;
  to.decision = from.decision;
  to.is_dir_decision = from.is_dir_decision;
  memcpy(to.vbuf, from.vpath.data(), from.vpath.size());
  to.vbuf[from.vpath.size()] = '\0';
  to.vstr = to.arg = to.vbuf;
  to.dirfd = AT_FDCWD;
  to.direct = false;  // not the caller's own path: never pass the call through
  to.vpath = std::string_view(to.vbuf, from.vpath.size());
  to.rel = to.vpath.substr(from.vpath.size() - from.rel.size());
  if (from.remote()) memcpy(to.rbuf, from.rbuf, strlen(from.rbuf) + 1);
}

void replace_kind(Target& t, Kind kind) noexcept {
  t.is_dir_decision = kind == Kind::dir;
  t.decision = decide(t.rel, t.is_dir_decision);
  set_place(t);
}

}  // namespace fractfs::shim
