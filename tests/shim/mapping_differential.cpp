// Differential test of the shim's mapping (shim/mapping.cpp): for random
// (dirfd, path, kind) combinations, what place() decides must equal what
// the pure pieces say when composed the plain way: join to the cwd's or the
// descriptor's path, path::normalized, relative_to the root (or its real
// path), Resolver::decide with no parent cache, REMOTE_ROOT/rel, and the
// caller's trailing "/" or "/." kept. Also checked, for every case:
//  - maybe_ours() is true whenever the path is ours (the fast filter never
//    drops one);
//  - when place() says the caller's own (dirfd, path) reach the natural
//    location ("direct"), the kernel agrees (same inode, when it exists).
// Linked with the shim's objects and run with FRACTFS_ROOT set (a root that
// is a symlink to its real directory, so both spellings are exercised).
//
//   mapping_differential ROOT REAL_ROOT OUTSIDE [cases] [seed]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "resolver/path.hpp"
#include "shim/mapping.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace {

using namespace fractfs;
using shim::Kind;
using shim::Tail;

int g_failures = 0;
long g_ours = 0, g_remote = 0, g_direct_checked = 0;

// A place to resolve relative paths from: the cwd, or a directory descriptor.
struct Base {
  std::string vpath;  // as the test opened it (either spelling of the root)
  int fd;             // AT_FDCWD: the cwd, which is chdir'ed to vpath per case
};

const char* kNames[] = {"a", "b", "data", "deep", "x.tmp", "keep.lock", "db.sqlite", ".cache", "..", ".", ""};

std::string random_rel(std::mt19937& rng) {
  std::string p;
  int n = 1 + static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i) {
    if (i) p += (rng() % 8 == 0) ? "//" : "/";
    p += kNames[rng() % (sizeof kNames / sizeof *kNames)];
  }
  switch (rng() % 6) {
    case 0: p += "/"; break;
    case 1: p += "/."; break;
    case 2: p += "//"; break;
    default: break;
  }
  return p;
}

Tail expected_tail(const std::string& p) {
  std::size_t n = p.size();
  bool slash = n > 1 && p[n - 1] == '/';
  while (n > 1 && p[n - 1] == '/') --n;
  if (p[n - 1] == '.' && (n == 1 || p[n - 2] == '/')) return Tail::dot;
  return slash ? Tail::slash : Tail::none;
}

const char* tail_text(Tail t) { return t == Tail::slash ? "/" : t == Tail::dot ? "/." : ""; }

void fail(const std::string& what) {
  if (++g_failures <= 30) std::fprintf(stderr, "MISMATCH: %s\n", what.c_str());
}

std::string describe(const Base& b, const std::string& p, Kind k) {
  return std::string("(") + (b.fd == AT_FDCWD ? "cwd " : "dirfd ") + b.vpath + ", \"" + p + "\", " +
         (k == Kind::dir    ? "dir"
          : k == Kind::file ? "file"
                            : "unknown") +
         ")";
}

void check_case(const Base& b, const std::string& p, Kind kind) {
  const shim::State& s = *shim::g_state;
  if (p.empty()) {  // ENOENT from the kernel: never ours
    shim::Target t;
    if (shim::place(b.fd, "", kind, t)) fail(describe(b, p, kind) + ": place() takes the empty path");
    return;
  }
  std::string v = path::normalized(b.vpath, p);
  auto rel = path::relative_to(s.root, v);
  if (!rel && !s.root_real.empty()) rel = path::relative_to(s.root_real, v);
  std::string what = describe(b, p, kind);
  bool maybe = shim::maybe_ours(b.fd, p.c_str());
  shim::Target t;
  bool placed = shim::place(b.fd, p.c_str(), kind, t);
  if (placed != rel.has_value()) return fail(what + ": place() says " + (placed ? "ours" : "not ours") + ", " + v);
  if (!rel) return;
  ++g_ours;
  if (!maybe) fail(what + ": maybe_ours() is false for a path of the root");
  if (t.rel != *rel) fail(what + ": rel '" + std::string(t.rel) + "', expected '" + std::string(*rel) + "'");
  Tail tail = t.direct ? Tail::none : expected_tail(p);
  if (t.tail != tail) fail(what + ": tail " + tail_text(t.tail) + ", expected " + tail_text(tail));
  bool is_dir = kind == Kind::dir || tail != Tail::none;
  Decision d = s.resolver.decide(*rel, is_dir);
  if (!(t.decision == d)) fail(what + ": decision differs from Resolver::decide('" + std::string(*rel) + "')");
  bool remote = d.tier == Tier::remote;
  if (t.remote() != remote) fail(what + ": placed " + (t.remote() ? "remote" : "local"));
  if (remote) {
    ++g_remote;
    std::string want = s.cfg.remote_root + (rel->empty() ? "" : "/" + std::string(*rel)) + tail_text(tail);
    if (want != t.remote_path()) fail(what + ": remote path " + t.remote_path() + ", expected " + want);
  }
  // Where the caller's own (dirfd, path) lead, the kernel must agree.
  struct stat a, n;
  if (t.direct && REAL(fstatat)(b.fd, p.c_str(), &a, AT_SYMLINK_NOFOLLOW) == 0) {
    ++g_direct_checked;
    if (REAL(fstatat)(AT_FDCWD, v.c_str(), &n, AT_SYMLINK_NOFOLLOW) != 0 || a.st_ino != n.st_ino ||
        a.st_dev != n.st_dev)
      fail(what + ": 'direct', but the kernel reaches another file than " + v);
  }
}

// Every directory the names can spell, two levels deep, made natively at
// the natural location (local halves included).
void make_tree(const std::string& real_root) {
  for (const char* x : {"a", "b", "data", "deep", ".cache"}) {
    std::string d1 = real_root + "/" + x;
    REAL(mkdir)(d1.c_str(), 0755);
    for (const char* y : {"a", "b", "data", "deep", ".cache"}) REAL(mkdir)((d1 + "/" + y).c_str(), 0755);
    for (const char* f : {"x.tmp", "keep.lock", "db.sqlite"}) {
      int fd = REAL(open)((d1 + "/" + f).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) ::close(fd);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: mapping_differential ROOT REAL_ROOT OUTSIDE [cases] [seed]\n");
    return 64;
  }
  std::string root = argv[1], real_root = argv[2], outside = argv[3];
  long cases = argc > 4 ? std::atol(argv[4]) : 200000;
  std::mt19937 rng(argc > 5 ? static_cast<unsigned>(std::atol(argv[5])) : 1u);
  if (!shim::shim_on()) {
    std::fprintf(stderr, "mapping_differential: the shim is off (FRACTFS_ROOT and its .fractfs.toml?)\n");
    return 1;
  }
  make_tree(real_root);
  std::vector<Base> bases;
  for (const std::string& d : {root, root + "/a", root + "/data", root + "/data/deep", root + "/b/deep", real_root,
                               real_root + "/data", outside, std::string("/")}) {
    bases.push_back({d, AT_FDCWD});
    int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);  // through the shim: tracked
    if (fd >= 0) bases.push_back({d, fd});
  }
  const std::string prefixes[] = {
      "",           root + "/", real_root + "/", root + "//",
      root + "/./", "/",        outside + "/",   outside + "/../" + root.substr(root.rfind('/') + 1) + "/"};
  const Kind kinds[] = {Kind::unknown, Kind::file, Kind::dir};
  for (long i = 0; i < cases; ++i) {
    const Base& b = bases[rng() % bases.size()];
    if (b.fd == AT_FDCWD && ::chdir(b.vpath.c_str()) != 0) {  // through the shim: the cwd it tracks
      fail("chdir " + b.vpath);
      continue;
    }
    const std::string& pre = prefixes[rng() % (sizeof prefixes / sizeof *prefixes)];
    std::string p = pre + random_rel(rng);
    check_case(b, p, kinds[rng() % 3]);  // (an absolute path ignores the base)
  }
  std::printf(
      "mapping_differential: %ld cases, %ld of the root (%ld remote), %ld 'direct' checked by the kernel, "
      "%d mismatches\n",
      cases, g_ours, g_remote, g_direct_checked, g_failures);
  return g_failures == 0 ? 0 : 1;
}
