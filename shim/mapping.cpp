#include "shim/mapping.hpp"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "shim/cwd.hpp"
#include "shim/fd_table.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

// Compared from the first byte: an outside path usually differs at once.
bool starts_with_root(const char* p, std::size_t len, const std::string& root) noexcept {
  std::size_t n = root.size();
  if (!n || len < n) return false;
  const char* r = root.data();
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != r[i]) return false;
  return len == n || p[n] == '/';
}

// The component starting at p is "." or ".." (it ends at '/' or NUL).
inline bool dot_component(const char* p) noexcept {
  return p[0] == '.' && (p[1] == '/' || !p[1] || (p[1] == '.' && (p[2] == '/' || !p[2])));
}

// Any "/." (a '.' after a '/') or "//" in p? glibc's strchr and strstr
// are vectorized, and most paths hold a '.' or two at most. (A "/." may
// begin an ordinary name: a false alarm only means a closer look.)
bool maybe_dirty(const char* p) noexcept {
  for (const char* d = strchr(p, '.'); d; d = strchr(d + 1, '.'))
    if (d > p && d[-1] == '/') return true;
  return strstr(p, "//") != nullptr;
}

// One pass over an absolute path: its length, and whether it is already
// what normalization would make of it (no empty, "." or ".." component,
// no trailing slash). A "/." may begin an ordinary name (".cache"): those
// get the exact byte-by-byte look.
struct Scan {
  std::size_t len = 0;
  bool clean = true;
};
Scan scan_absolute(const char* p) noexcept {
  Scan s;
  s.len = strlen(p);
  if (s.len > 1 && p[s.len - 1] == '/') s.clean = false;
  else if (maybe_dirty(p)) {
    for (const char* c = p; *c; ++c) {
      if (*c != '/') continue;
      char a = c[1];
      if (a == '/' || (a == '\0' && c != p)) s.clean = false;
      else if (dot_component(c + 1)) s.clean = false;
    }
  }
  return s;
}

// A relative path the kernel resolves exactly as normalization does: no
// empty, "." or ".." component.
bool clean_relative(const char* p) noexcept {
  if (dot_component(p)) return false;
  for (const char* c = p; *c; ++c) {
    if (*c != '/') continue;
    char a = c[1];
    if (a == '/' || a == '\0') return false;
    if (dot_component(c + 1)) return false;
  }
  return true;
}

bool is_root_ancestor(std::string_view p) noexcept {
  const State& s = *g_state;
  return p == "/" || path::is_ancestor(p, s.root) || (!s.root_real.empty() && path::is_ancestor(p, s.root_real));
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
    scratch::Buf base_buf;
    char* base = base_buf.get();
    if (!base) return {};
    std::ptrdiff_t bl;
    std::uint32_t flags = 0;
    if (dirfd == AT_FDCWD) {
      if (cwd::relation() == cwd::Relation::unrelated && !path::has_dotdot(p)) return {};
      bl = cwd::copy(base, path::kMax);
    } else {
      bl = fd_table::get(dirfd, base, path::kMax, &flags);
    }
    if (bl < 0) return {};
    // A descriptor on a directory's remote half resolves names over there.
    direct = !(flags & fd_table::remote_half) && clean_relative(p);
    n = path::normalize({base, static_cast<std::size_t>(bl)}, p, buf, cap);
  }
  return n < 0 ? std::string_view{} : std::string_view(buf, static_cast<std::size_t>(n));
}

const char* tail_text(Tail tail) noexcept { return tail == Tail::slash ? "/" : tail == Tail::dot ? "/." : ""; }

// Appends t's tail to the NUL-terminated path in buf (of length len).
bool append_tail(const Target& t, char* buf, std::size_t len) noexcept {
  const char* s = tail_text(t.tail);
  std::size_t n = strlen(s);
  if (len + n + 1 > path::kMax) return false;
  memcpy(buf + len, s, n + 1);
  return true;
}

bool set_place(Target& t) noexcept {
  t.place = t.decision.tier == Tier::remote ? Place::remote : Place::local;
  t.half_err = 0;
  if (!t.remote()) return true;
  if (!remote_half().place(t.rel, t.rbuf, path::kMax)) return false;
  // The directory the name is in ("" for the remote root), before the name is used.
  std::size_t slash = t.rel.rfind('/');
  t.half_err = half::lookup(slash == std::string_view::npos ? std::string_view{} : t.rel.substr(0, slash));
  return t.tail == Tail::none || append_tail(t, t.rbuf, strlen(t.rbuf));
}

// "x/" or "x/." (any number of trailing slashes): how p ends, past what
// normalization keeps. A path that ends in ".." is left to normalization.
Tail tail_of(const char* p) noexcept {
  std::size_t n = strlen(p);
  bool slash = n > 1 && p[n - 1] == '/';
  while (n > 1 && p[n - 1] == '/') --n;
  if (p[n - 1] == '.' && (n == 1 || p[n - 2] == '/')) return Tail::dot;
  return slash ? Tail::slash : Tail::none;
}

// A path whose own name matches a directory-only pattern is decided by what
// is on disk: look where the directory variant would live.
void settle_ambiguous(Target& t) noexcept {
  const Resolver& r = g_state->resolver;
  if (t.rel.empty() || !r.dir_only_may_match(t.rel.back())) return;
  Decision as_dir = decide(t.rel, true);
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

Target::Target() noexcept : vbuf(scratch::take()), rbuf(scratch::take()) {}
Target::~Target() {
  if (!owned_) return;
  scratch::give(rbuf);
  scratch::give(vbuf);
}

bool inside_root(std::string_view abs, std::string_view* rel) noexcept {
  const State& s = *g_state;
  auto r = path::relative_to(s.root, abs);
  if (!r && !s.root_real.empty()) r = path::relative_to(s.root_real, abs);
  if (r && rel) *rel = *r;
  return r.has_value();
}

namespace {

// The last directory this thread decided about and what its ancestors say:
// a directory's entries come in runs, and the parents' part of a decision
// is most of its cost. Zero-initialized, it holds the root's (empty) verdict.
struct ParentCache {
  int ignore_index, local_index;
  bool ignore_excluded, local_excluded;
  std::uint16_t len;
  char dir[246];
};
__thread ParentCache t_parents __attribute__((tls_model("initial-exec")));

Resolver::Parents parents_for(const Resolver& r, std::string_view dir) noexcept {
  ParentCache& c = t_parents;
  if (dir.size() >= sizeof c.dir) return r.parents_of(dir);
  if (c.len != dir.size() || (!dir.empty() && memcmp(c.dir, dir.data(), dir.size()) != 0)) {
    Resolver::Parents p = r.parents_of(dir);
    c.ignore_index = p.ignore.index, c.ignore_excluded = p.ignore.excluded;
    c.local_index = p.local.index, c.local_excluded = p.local.excluded;
    if (!dir.empty()) memcpy(c.dir, dir.data(), dir.size());
    c.len = static_cast<std::uint16_t>(dir.size());
  }
  return {{c.ignore_index, c.ignore_excluded}, {c.local_index, c.local_excluded}};
}

}  // namespace

Decision decide(std::string_view rel, bool is_dir) noexcept {
  const Resolver& r = g_state->resolver;
  if (!r.has_patterns()) return r.decide(rel, is_dir, {});
  std::size_t slash = rel.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? std::string_view{} : rel.substr(0, slash);
  return r.decide(rel, is_dir, parents_for(r, dir));
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

// An absolute path that differs from `root` at some byte i cannot reach it
// by normalization unless p[i] starts an odd component ('/', '.') or a ".."
// later climbs back: p[0, i) equals the root's own (clean) prefix. Costs the
// shared prefix and a look at each '.' after it: no scan of the whole path.
bool certainly_not_under(const char* p, const std::string& root) noexcept {
  std::size_t n = root.size(), i = 0;
  const char* r = root.data();
  while (i < n && p[i] == r[i]) ++i;  // one pass: where p leaves the root's name
  char c = p[i];
  if (i == n || c == '/' || c == '.' || c == '\0') return false;  // under it, beside it ("rootx"), above it
  // A ".." component after the split could lead back under it.
  for (const char* d = strstr(p + i, "/.."); d; d = strstr(d + 3, "/.."))
    if (d[3] == '/' || !d[3]) return false;
  return true;
}

bool maybe_ours(int dirfd, const char* p) noexcept {
  if (!shim_on() || !p || !*p) return false;
  const State& s = *g_state;
  if (p[0] == '/')
    return !certainly_not_under(p, s.root) || (!s.root_real.empty() && !certainly_not_under(p, s.root_real));
  if (dirfd == AT_FDCWD) return cwd::relation() != cwd::Relation::unrelated || path::has_dotdot(p);
  return fd_table::tracked(dirfd);
}

// The common case, an absolute path under the root spelled cleanly: its
// root-relative part is checked for odd components in the same pass that
// measures it, and nothing is copied. False: not that case.
bool place_clean_absolute(const char* p, Target& t) noexcept {
  const State& s = *g_state;
  const std::string* root = nullptr;
  for (const std::string* r : {&s.root, &s.root_real}) {
    std::size_t n = r->size();
    if (n && !strncmp(p, r->data(), n) && (p[n] == '/' || p[n] == '\0')) root = r;
  }
  if (!root) return false;
  const char* rel = p + root->size() + (p[root->size()] == '/');
  if ((*rel == '\0' && rel[-1] == '/') ||  // "ROOT/": its trailing slash must reach the kernel
      *rel == '/' || dot_component(rel))
    return false;
  const char* c = rel;
  for (; *c; ++c) {
    if (*c != '/') continue;
    char a = c[1];
    if (a == '/' || !a) return false;
    if (dot_component(c + 1)) return false;
  }
  t.vpath = std::string_view(p, static_cast<std::size_t>(c - p));
  t.rel = std::string_view(rel, static_cast<std::size_t>(c - rel));
  t.direct = true;
  return true;
}

bool place(int dirfd, const char* p, Kind kind, Target& t) noexcept {
  if (!shim_on() || !p || !*p || !t.vbuf || !t.rbuf) return false;  // no memory: not ours, passed through
  if (p[0] != '/' || !place_clean_absolute(p, t)) {
    t.vpath = virtual_of(dirfd, p, t.vbuf, path::kMax, false, t.direct);
    if (t.vpath.empty() || !inside_root(t.vpath, &t.rel)) return false;
  }
  t.vstr = t.vpath.data();
  t.tail = t.direct ? Tail::none : tail_of(p);
  if (t.tail != Tail::none) {
    // vpath is in vbuf (the caller's string was not clean): the tail goes after it.
    if (t.vstr != t.vbuf || !append_tail(t, t.vbuf, t.vpath.size())) return false;
    kind = Kind::dir;
  }
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
  to.tail = from.tail;
  to.half_err = from.half_err;
  memcpy(to.vbuf, from.vpath.data(), from.vpath.size());
  to.vbuf[from.vpath.size()] = '\0';
  append_tail(to, to.vbuf, from.vpath.size());
  to.vstr = to.arg = to.vbuf;
  to.dirfd = AT_FDCWD;
  to.direct = false;  // not the caller's own path: never pass the call through
  to.vpath = std::string_view(to.vbuf, from.vpath.size());
  to.rel = to.vpath.substr(from.vpath.size() - from.rel.size());
  if (from.remote()) memcpy(to.rbuf, from.rbuf, strlen(from.rbuf) + 1);
}

void set_tail(Target& t, Tail tail) noexcept {
  t.tail = tail;
  if (t.vstr == t.vbuf) append_tail(t, t.vbuf, t.vpath.size());
  // rbuf is the half's place of rel, maybe with another tail: rebuilt.
  if (t.remote() && remote_half().place(t.rel, t.rbuf, path::kMax)) append_tail(t, t.rbuf, strlen(t.rbuf));
}

const char* physical_no_tail(const Target& t, char* buf) noexcept {
  if (t.remote()) {
    if (!remote_half().place(t.rel, buf, path::kMax)) buf[0] = '\0';
    return buf;
  }
  if (t.tail == Tail::none) return t.natural();
  memcpy(buf, t.vpath.data(), t.vpath.size());
  buf[t.vpath.size()] = '\0';
  return buf;
}

void replace_kind(Target& t, Kind kind) noexcept {
  t.is_dir_decision = kind == Kind::dir;
  t.decision = decide(t.rel, t.is_dir_decision);
  set_place(t);
}

}  // namespace fractfs::shim
