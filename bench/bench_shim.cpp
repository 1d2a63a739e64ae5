// Per-call cost of libfractfs.so, measured inside one process that runs
// under it, as interleaved A/B comparisons: the two sides alternate in many
// short chunks (ABBA order, so neither always runs first) and each chunk
// pair gives one ratio B/A; the report gives the median of those ratios,
// which shrugs off the bursts of a noisy shared machine better than a ratio
// of two medians would.
//
//   bench_shim [--lib LIB] [--forwarder SO] [--out MD] [--data DAT]
//              [--chunks N] [--calls N] [--spawns N] [--tmpdir DIR]
//
// Started plainly it builds its trees under /tmp (or DIR), then runs its measuring
// half as a child with LD_PRELOAD=LIB, FRACTFS_ROOT=ROOT and ROOT as cwd
// (the shim reads its configuration at load, before main, so the tree must
// exist first), and removes the trees afterwards.
//
// Native calls bypass the preloaded shim through libc's own symbols
// (dlopen RTLD_NOLOAD + dlsym); shim calls are the plain ::stat, ::open...
// which the dynamic linker binds to the preloaded library.
//
// Targets: outside the root <= 1.03x; redirected <= 1.15x; redirected
// cheaper than the Python package's directory symlink; process start under
// the library under 0.15 ms more than without.
#include <dlfcn.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// Set in the measuring child's environment: the tree its parent built.
constexpr const char* kTreeVar = "BENCH_SHIM_TREE";  // no FRACTFS_ prefix: the shim warns about those
constexpr char kPayload[] = "0123456789abcdef";      // 16 bytes

double ns_since(Clock::time_point t0) { return std::chrono::duration<double, std::nano>(Clock::now() - t0).count(); }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_shim: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + std::strerror(errno)); }

__attribute__((format(printf, 1, 2))) std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// ---------------------------------------------------------------- options

struct Options {
  std::string lib, forwarder, out = "build/bench/shim.md", data, tmpdir = "/tmp";
  int chunks = 200, calls = 200, spawns = 300;
};

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0) die_errno("readlink /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string dir_of(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

// Defaults follow the Makefile's layout: BUILD/bench/{bench_shim,forwarder.so}
// and BUILD/lib/libfractfs.so.
void set_defaults(Options& o) {
  std::string here = dir_of(self_exe());
  if (o.lib.empty()) o.lib = here + "/../lib/libfractfs.so";
  if (o.forwarder.empty()) o.forwarder = here + "/forwarder.so";
  if (o.data.empty()) {
    auto dot = o.out.rfind('.');
    o.data = (dot != std::string::npos && dot > o.out.rfind('/') + 1 ? o.out.substr(0, dot) : o.out) + ".dat";
  }
}

int to_int(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (!*v.c_str() || *end || n < 2 || n > 1000000) die("bad value for " + flag + ": " + v);
  return static_cast<int>(n);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* l = std::getenv("BENCH_SHIM_LIB"); l && *l) o.lib = l;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : (die("missing value for " + a), ""); };
    if (a == "--lib") o.lib = value();
    else if (a == "--forwarder") o.forwarder = value();
    else if (a == "--out") o.out = value();
    else if (a == "--data") o.data = value();
    else if (a == "--chunks") o.chunks = to_int(a, value());
    else if (a == "--calls") o.calls = to_int(a, value());
    else if (a == "--spawns") o.spawns = to_int(a, value());
    else if (a == "--tmpdir") o.tmpdir = value();
    else if (!a.empty() && a[0] != '-') o.out = a;
    else
      die("usage: bench_shim [--lib LIB] [--forwarder SO] [--out MD] [--data DAT] "
          "[--chunks N] [--calls N] [--spawns N] [--tmpdir DIR]");
  }
  set_defaults(o);
  return o;
}

// ------------------------------------------------------------ file system

void mkdirs(const std::string& p) {
  for (std::size_t i = 1; i <= p.size(); ++i)
    if (i == p.size() || p[i] == '/')
      if (::mkdir(p.substr(0, i).c_str(), 0755) != 0 && errno != EEXIST) die_errno("mkdir " + p.substr(0, i));
}

void write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0)
    die_errno("write " + path);
}

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) die_errno(p);
  return buf;
}

// An absolute path for a file that may not exist yet; its directory is made.
std::string absolute_out(const std::string& p) {
  mkdirs(dir_of(p));
  return real_path(dir_of(p)) + "/" + p.substr(p.rfind('/') + 1);
}

// The trees: ROOT (app root, configured), REMOTE (its remote store),
// OUTSIDE (a plain directory), ROOT2 (the Python package's layout: a
// directory symlink ROOT2/data/blobs -> REMOTE/data/blobs). All on one file
// system, so the remote costs what the local disk costs.
struct Tree {
  std::string top, root, remote, outside, root2;
};

Tree tree_at(const std::string& top) { return {top, top + "/root", top + "/remote", top + "/outside", top + "/root2"}; }

Tree make_tree(const std::string& tmpdir) {
  std::string tmpl = tmpdir + "/fractfs-bench.XXXXXX";
  if (!::mkdtemp(tmpl.data())) die_errno("mkdtemp " + tmpl);
  Tree t = tree_at(real_path(tmpl));
  for (const std::string& d : {t.root + "/data/blobs", t.remote + "/data/blobs", t.outside, t.root2 + "/data"})
    mkdirs(d);
  write_file(t.root + "/.fractfs.toml", "remote_root = \"" + t.remote + "\"\n[dirs]\npaths = [\"data/blobs\"]\n");
  write_file(t.remote + "/data/blobs/f", kPayload);  // only in the remote half
  write_file(t.outside + "/f", kPayload);
  if (::symlink((t.remote + "/data/blobs").c_str(), (t.root2 + "/data/blobs").c_str()) != 0) die_errno("symlink");
  return t;
}

int remove_one(const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }

void remove_tree(const std::string& top) {
  if (::nftw(top.c_str(), remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) die_errno("remove " + top);
}

// ------------------------------------------------------------ the sides

// Entry points of one side, as pointers.
struct Fns {
  decltype(&::stat) stat;
  decltype(&::open) open;
  decltype(&::close) close;
  decltype(&::unlink) unlink;
  decltype(&::write) write;
};

void* sym(void* handle, const char* name) {
  void* p = ::dlsym(handle, name);
  if (!p) die(std::string("dlsym ") + name + ": " + ::dlerror());
  return p;
}

// dlsym on a handle searches that object and its dependencies only: for
// libc that is libc's own definitions, never the preloaded shim's.
Fns fns_of(void* handle) {
  return {reinterpret_cast<decltype(&::stat)>(sym(handle, "stat")),
          reinterpret_cast<decltype(&::open)>(sym(handle, "open")),
          reinterpret_cast<decltype(&::close)>(sym(handle, "close")),
          reinterpret_cast<decltype(&::unlink)>(sym(handle, "unlink")),
          reinterpret_cast<decltype(&::write)>(sym(handle, "write"))};
}

void* libc_handle() {
  static void* h = ::dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
  if (!h) die(std::string("dlopen libc.so.6: ") + ::dlerror());
  return h;
}

decltype(&::posix_spawn) native_spawn() {
  return reinterpret_cast<decltype(&::posix_spawn)>(sym(libc_handle(), "posix_spawn"));
}

// The shim's side: plain calls, bound to the preloaded library.
struct Plain {
  int stat(const char* p, struct stat* st) const { return ::stat(p, st); }
  int open(const char* p, int flags, mode_t m) const { return ::open(p, flags, m); }
  int close(int fd) const { return ::close(fd); }
  int unlink(const char* p) const { return ::unlink(p); }
  ssize_t write(int fd, const void* b, size_t n) const { return ::write(fd, b, n); }
};

// A side reached through pointers: libc's own, or the forwarder's.
struct Via {
  Fns f;
  int stat(const char* p, struct stat* st) const { return f.stat(p, st); }
  int open(const char* p, int flags, mode_t m) const { return f.open(p, flags, m); }
  int close(int fd) const { return f.close(fd); }
  int unlink(const char* p) const { return f.unlink(p); }
  ssize_t write(int fd, const void* b, size_t n) const { return f.write(fd, b, n); }
};

// ------------------------------------------------------------ operations

// Each checks its result, on both sides alike: a wrong answer is a failure.
struct StatHit {
  template <class S>
  void operator()(const S& s, const char* p) const {
    struct stat st;
    if (s.stat(p, &st) != 0) die_errno(std::string("stat ") + p);
  }
};

struct StatMiss {
  template <class S>
  void operator()(const S& s, const char* p) const {
    struct stat st;
    if (s.stat(p, &st) == 0 || errno != ENOENT) die(std::string("stat of missing file: ") + p);
  }
};

struct OpenClose {
  template <class S>
  void operator()(const S& s, const char* p) const {
    int fd = s.open(p, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0 || s.close(fd) != 0) die_errno(std::string("open+close ") + p);
  }
};

struct CreateCycle {
  template <class S>
  void operator()(const S& s, const char* p) const {
    int fd = s.open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && s.write(fd, kPayload, 16) == 16;
    ok = fd >= 0 && s.close(fd) == 0 && ok;
    if (!ok || s.unlink(p) != 0) die_errno(std::string("create cycle ") + p);
  }
};

struct OpInfo {
  const char* name;
  const char* file;  // the name used in each directory
  int fewer;         // chunks hold calls / fewer of these
};
// Creating and unlinking costs tens of microseconds, more and more as a run
// goes on where the file system skips recently freed inodes by a linear
// scan (ext4 without a journal): a tenth as many keeps the run short.
constexpr OpInfo kOps[] = {{"stat (exists)", "f", 1},
                           {"stat (missing)", "missing", 1},
                           {"open+close", "f", 1},
                           {"create+write16+close+unlink", "new", 10}};
constexpr int kNumOps = sizeof kOps / sizeof kOps[0];

// n calls of one operation on one side; returns ns per call.
using Timed = std::function<double(int)>;

template <class S, class Body>
Timed timed(S side, std::string path, Body body) {
  return [side, path = std::move(path), body](int n) {
    const char* p = path.c_str();
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) body(side, p);
    return ns_since(t0) / n;
  };
}

template <class S>
Timed timed_op(const S& side, int op, const std::string& path) {
  switch (op) {
    case 0: return timed(side, path, StatHit{});
    case 1: return timed(side, path, StatMiss{});
    case 2: return timed(side, path, OpenClose{});
    default: return timed(side, path, CreateCycle{});
  }
}

enum class Side { native, shim, forwarder };

struct Leg {
  Side side;
  std::string dir;
};

struct Sides {
  Fns native, forwarder;
};

Timed make_timed(const Sides& s, const Leg& leg, int op) {
  std::string path = leg.dir + "/" + kOps[op].file;
  switch (leg.side) {
    case Side::native: return timed_op(Via{s.native}, op, path);
    case Side::shim: return timed_op(Plain{}, op, path);
    default: return timed_op(Via{s.forwarder}, op, path);
  }
}

// ------------------------------------------------------------ statistics

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  auto lo = static_cast<std::size_t>(pos);
  double frac = pos - static_cast<double>(lo);
  return lo + 1 < v.size() ? v[lo] * (1 - frac) + v[lo + 1] * frac : v[lo];
}

double median(const std::vector<double>& v) { return quantile(v, 0.5); }

struct Result {
  double a_ns, b_ns;     // medians of the per-chunk ns per call
  double ratio, q1, q3;  // median and quartiles of the per-pair ratios B/A
};

struct Plan {
  int chunks, calls;
};

Result interleave(const Timed& a, const Timed& b, const Plan& plan) {
  a(plan.calls);  // warm-up: dentries, page cache, lazy binding
  b(plan.calls);
  std::vector<double> ta, tb, r;
  for (int i = 0; i < plan.chunks; ++i) {
    double x, y;
    if (i % 2 == 0) x = a(plan.calls), y = b(plan.calls);
    else y = b(plan.calls), x = a(plan.calls);
    ta.push_back(x), tb.push_back(y), r.push_back(y / x);
  }
  return {median(ta), median(tb), median(r), quantile(r, 0.25), quantile(r, 0.75)};
}

// ------------------------------------------------------------ comparisons

struct Comparison {
  const char* key;     // the chart's legend
  const char* a_name;  // column heads
  const char* b_name;
  Leg a, b;
  double target;             // 0: none (calibration, information)
  bool strict;               // the target is "< target", not "<= target"
  std::vector<Result> rows;  // one per operation
};

std::vector<Comparison> comparisons(const Tree& t) {
  std::string blobs = "/data/blobs";
  return {
      {"a: shim/native, outside",
       "native",
       "shim",
       {Side::native, t.outside},
       {Side::shim, t.outside},
       1.03,
       false,
       {}},
      {"a: forwarder/native, outside",
       "native",
       "forwarder",
       {Side::native, t.outside},
       {Side::forwarder, t.outside},
       0,
       false,
       {}},
      {"b: shim/native, redirected",
       "native (physical)",
       "shim",
       {Side::native, t.remote + blobs},
       {Side::shim, t.root + blobs},
       1.15,
       false,
       {}},
      {"c: symlink/native",
       "native (physical)",
       "native via symlink",
       {Side::native, t.remote + blobs},
       {Side::native, t.root2 + blobs},
       0,
       false,
       {}},
      {"c: shim/symlink",
       "native via symlink",
       "shim",
       {Side::native, t.root2 + blobs},
       {Side::shim, t.root + blobs},
       1.0,
       true,
       {}},
  };
}

// Operation by operation, so the inode churn of creating and unlinking
// comes last and cannot slow the kernel's side of the others.
void measure_calls(const Sides& s, std::vector<Comparison>& cs, const Plan& plan) {
  for (int op = 0; op < kNumOps; ++op) {
    std::fprintf(stderr, "bench_shim: %s\n", kOps[op].name);
    Plan p{plan.chunks, std::max(2, plan.calls / kOps[op].fewer)};
    for (Comparison& c : cs) c.rows.push_back(interleave(make_timed(s, c.a, op), make_timed(s, c.b, op), p));
  }
}

bool met(const Comparison& c, double ratio) { return c.strict ? ratio < c.target : ratio <= c.target; }

// ------------------------------------------------------------ process start

// Settings of our own, never passed on as inherited.
bool ours(std::string_view var) {
  return var.starts_with("LD_PRELOAD=") || var.starts_with("FRACTFS_") || var.starts_with(kTreeVar);
}

// An environment of our own: the inherited one without the variables above,
// then `extra`.
struct Env {
  std::vector<std::string> strings;

  explicit Env(const std::vector<std::string>& extra) {
    for (char** e = environ; *e; ++e)
      if (!ours(*e)) strings.push_back(*e);
    strings.insert(strings.end(), extra.begin(), extra.end());
  }
  // An envp into `strings`; made on demand, as an Env may have been copied.
  std::vector<char*> envp() const {
    std::vector<char*> p;
    for (const std::string& s : strings) p.push_back(const_cast<char*>(s.c_str()));
    p.push_back(nullptr);
    return p;
  }
};

// Through libc's own posix_spawn: the shim's would add itself to the child.
pid_t spawn(const std::vector<std::string>& args, char* const* envp, const char* cwd) {
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  if (cwd) ::posix_spawn_file_actions_addchdir_np(&fa, cwd);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = native_spawn()(&pid, argv[0], &fa, nullptr, argv.data(), envp);
  ::posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) errno = rc, die_errno("posix_spawn " + args[0]);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) die_errno("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double start_ms(const Env& env) {
  std::vector<std::string> args{"/bin/true"};
  std::vector<char*> envp = env.envp();
  auto t0 = Clock::now();
  if (wait_for(spawn(args, envp.data(), nullptr)) != 0) die("/bin/true failed");
  return ns_since(t0) / 1e6;
}

// ms added by the library: a tree's first process loads the configuration,
// a child inherits it.
constexpr double kFirstStartTarget = 0.15, kChildStartTarget = 0.12;

struct Variant {
  std::string name;
  Env env;
  double target;  // 0: none
  double median_ms = 0;
  double added_ms = 0;  // median of the per-round differences to the first variant
};

// What this process's children inherit from the shim: the first process of
// a tree leaves its state (e.g. a configuration snapshot) in the
// environment, so its children need not load it again.
std::vector<std::string> shim_state() {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).starts_with("FRACTFS_INTERNAL_")) out.push_back(*e);
  return out;
}

std::vector<Variant> variants(const Options& o, const Tree& t) {
  std::string root = "FRACTFS_ROOT=" + t.root, lib = "LD_PRELOAD=" + o.lib;
  std::vector<std::string> child = shim_state();
  child.insert(child.end(), {root, lib});
  return {{"no preload", Env({root}), 0},
          {"libfractfs.so, first process of a tree", Env({root, lib}), kFirstStartTarget},
          {"libfractfs.so, child of a process under it", Env(child), kChildStartTarget},
          {"forwarder.so (calibration)", Env({root, "LD_PRELOAD=" + o.forwarder}), 0}};
}

// Rounds of all variants, the order rotated each round; the cwd is ROOT,
// inherited from this process.
std::vector<Variant> measure_start(const Options& o, const Tree& t) {
  std::fprintf(stderr, "bench_shim: process start\n");
  std::vector<Variant> vs = variants(o, t);
  std::size_t n = vs.size();
  for (std::size_t i = 0; i < 4 * n; ++i) start_ms(vs[i % n].env);  // page cache, loader caches
  std::vector<std::vector<double>> ms(n), diff(n);
  for (int r = 0; r < o.spawns; ++r) {
    std::vector<double> m(n);
    for (std::size_t k = 0; k < n; ++k) m[(r + k) % n] = start_ms(vs[(r + k) % n].env);
    for (std::size_t k = 0; k < n; ++k) ms[k].push_back(m[k]), diff[k].push_back(m[k] - m[0]);
  }
  for (std::size_t k = 0; k < n; ++k) vs[k].median_ms = median(ms[k]), vs[k].added_ms = median(diff[k]);
  return vs;
}

// ------------------------------------------------------------ report

std::string verdict(const Comparison& c, double ratio) {
  if (c.target == 0) return "—";
  if (met(c, ratio)) return "met";
  return fmt("**not met** (+%.3f)", ratio - c.target);
}

std::string table(const Comparison& c) {
  std::string target = c.target == 0 ? "—" : fmt("%s %.2fx", c.strict ? "<" : "≤", c.target);
  std::string s = fmt("| operation | %s ns | %s ns | ratio (p25–p75) | target | result |\n", c.a_name, c.b_name);
  s += "|---|---:|---:|---:|---:|---|\n";
  for (int op = 0; op < kNumOps; ++op) {
    const Result& r = c.rows[static_cast<std::size_t>(op)];
    s += fmt("| %s | %.0f | %.0f | %.3f (%.3f–%.3f) | %s | %s |\n", kOps[op].name, r.a_ns, r.b_ns, r.ratio, r.q1, r.q3,
             target.c_str(), verdict(c, r.ratio).c_str());
  }
  return s + "\n";
}

std::string start_row(const Variant& v, bool first) {
  if (first) return fmt("| %s | %.3f | — | — | — |\n", v.name.c_str(), v.median_ms);
  std::string target = v.target == 0 ? "—" : fmt("< %.2f ms", v.target);
  std::string res = v.target == 0           ? "—"
                    : v.added_ms < v.target ? "met"
                                            : fmt("**not met** (+%.3f ms)", v.added_ms - v.target);
  return fmt("| %s | %.3f | %+.3f | %s | %s |\n", v.name.c_str(), v.median_ms, v.added_ms, target.c_str(), res.c_str());
}

std::string start_table(const std::vector<Variant>& vs) {
  std::string out = "| LD_PRELOAD | median ms | added ms (median of round differences) | target | result |\n";
  out += "|---|---:|---:|---:|---|\n";
  for (std::size_t k = 0; k < vs.size(); ++k) out += start_row(vs[k], k == 0);
  std::string inherited;
  for (const std::string& v : shim_state()) inherited += " `" + v.substr(0, v.find('=')) + "`";
  return out + "\nThe child inherits what the library left in this process's environment:" +
         (inherited.empty() ? " nothing" : inherited) + ".\n\n";
}

std::string fs_type(const std::string& path) {
  struct statfs f;
  if (::statfs(path.c_str(), &f) != 0) return "?";
  switch (f.f_type) {
    case 0xEF53: return "ext2/3/4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794C7630: return "overlayfs";
    default: return fmt("0x%lx", static_cast<unsigned long>(f.f_type));
  }
}

std::string header(const Options& o, const Tree& t, const std::string& bound) {
  std::string s = "# libfractfs.so: cost per call\n\n";
  s += "Library: `" + o.lib + "`; the plain calls are bound to `" + bound + "`.\n";
  s += "Trees under `" + t.top + "` (" + fs_type(t.top) + "; REMOTE on the same file system); ";
  s += "ROOT's `.fractfs.toml`: `remote_root = REMOTE`, `[dirs] paths = [\"data/blobs\"]`; cwd = ROOT.\n\n";
  s +=
      fmt("Method: one process under LD_PRELOAD; per comparison and operation, %d chunk pairs of %d calls, "
          "A and B alternating in ABBA order (create+unlink: %d calls a chunk). *ns* = median over chunks of "
          "the mean ns per call; *ratio* = **median over chunk pairs of (B chunk / A chunk)**, with its "
          "interquartile range.\n\n",
          o.chunks, o.calls, std::max(2, o.calls / kOps[kNumOps - 1].fewer));
  return s;
}

std::string report(const Options& o, const Tree& t, const std::string& bound, const std::vector<Comparison>& cs,
                   const std::vector<Variant>& st) {
  std::string s = header(o, t, bound);
  s += "## (a) Outside the root: shim vs native, path `OUTSIDE/x`\n\n" + table(cs[0]);
  s += "Calibration: a bare forwarding wrapper (`forwarder.so`, dlopen RTLD_LOCAL, forwarding to libc) vs "
       "native.\n\n" +
       table(cs[1]);
  s += "## (b) Redirected: shim on `ROOT/data/blobs/x` vs native on `REMOTE/data/blobs/x`\n\n" + table(cs[2]);
  s += "## (c) The Python package's way: a directory symlink `ROOT2/data/blobs -> REMOTE/data/blobs`\n\n";
  s += "Native through the symlink vs native on the physical path:\n\n" + table(cs[3]);
  s += "The shim (redirected) vs native through the symlink; the shim must be cheaper:\n\n" + table(cs[4]);
  s += fmt("## (d) Process start: posix_spawn + waitpid of /bin/true, %d rounds, cwd = ROOT\n\n", o.spawns);
  s += start_table(st);
  s += "Reading the create+write16+close+unlink rows: their cost is the file system's (allocating and freeing an "
       "inode), so the wrapper's fixed cost sits inside their noise; compare a verdict there with its p25–p75.\n";
  return s;
}

// Rows for bench/chart.gp: index 0 the ratios, index 1 the process start.
std::string chart_data(const std::vector<Comparison>& cs, const std::vector<Variant>& st) {
  std::string s =
      "# written by bench_shim for bench/chart.gp\n"
      "# op comp ratio p25 p75 target \"operation\" \"comparison\"\n";
  for (int op = 0; op < kNumOps; ++op)
    for (std::size_t c = 0; c < cs.size(); ++c) {
      const Result& r = cs[c].rows[static_cast<std::size_t>(op)];
      s += fmt("%d %zu %.4f %.4f %.4f %.2f \"%s\" \"%s\"\n", op, c, r.ratio, r.q1, r.q3, cs[c].target, kOps[op].name,
               cs[c].key);
    }
  s += "\n\n# process start: variant median_ms added_ms target_ms \"variant\"\n";
  for (std::size_t k = 0; k < st.size(); ++k)
    s += fmt("%zu %.4f %.4f %.2f \"%s\"\n", k, st[k].median_ms, st[k].added_ms, st[k].target, st[k].name.c_str());
  return s;
}

// ------------------------------------------------------------ the two halves

std::string object_of(void* fn) {
  Dl_info info{};
  return ::dladdr(fn, &info) && info.dli_fname ? info.dli_fname : "?";
}

// Refuses to measure anything but the intended pairs: the plain call must
// redirect (the file exists only in the remote half), libc's must not, and
// the forwarder must reach libc, not the shim.
std::string check_sides(const Sides& s, const Tree& t) {
  struct stat st;
  std::string v = t.root + "/data/blobs/f";
  if (::stat(v.c_str(), &st) != 0) die("the shim is not active: stat " + v + " failed (is LD_PRELOAD set?)");
  if (s.native.stat(v.c_str(), &st) == 0) die("libc's stat is redirected too: the native side is not native");
  return object_of(reinterpret_cast<void*>(&::stat));
}

void check_forwarder(void* handle, const Sides& s) {
  auto next = reinterpret_cast<void* (*)(const char*)>(sym(handle, "forwarder_next"));
  for (const char* name : {"stat", "open", "close", "unlink"})
    if (next(name) != sym(libc_handle(), name))
      die(std::string("forwarder.so forwards ") + name + " to " + object_of(next(name)) + ", not to libc");
  if (s.forwarder.stat == s.native.stat) die("forwarder.so's stat is libc's: the wrapper would not be measured");
}

Sides load_sides(const Options& o) {
  void* fwd = ::dlopen(o.forwarder.c_str(), RTLD_LOCAL | RTLD_NOW);
  if (!fwd) die(std::string("dlopen forwarder: ") + ::dlerror());
  Sides s{fns_of(libc_handle()), fns_of(fwd)};
  check_forwarder(fwd, s);
  return s;
}

int run_measure(const Options& o, const Tree& t) {
  Sides sides = load_sides(o);
  std::string bound = check_sides(sides, t);
  std::vector<Comparison> cs = comparisons(t);
  measure_calls(sides, cs, {o.chunks, o.calls});
  std::vector<Variant> st = measure_start(o, t);
  std::string md = report(o, t, bound, cs, st);
  write_file(o.out, md);
  write_file(o.data, chart_data(cs, st));
  std::fputs(md.c_str(), stdout);
  return 0;
}

std::vector<std::string> child_args(const Options& o) {
  return {self_exe(),
          "--lib",
          o.lib,
          "--forwarder",
          o.forwarder,
          "--out",
          o.out,
          "--data",
          o.data,
          "--chunks",
          std::to_string(o.chunks),
          "--calls",
          std::to_string(o.calls),
          "--spawns",
          std::to_string(o.spawns)};
}

// Builds the trees, runs the measuring half under the library, cleans up.
int run_setup(Options o) {
  o.lib = real_path(o.lib);
  o.forwarder = real_path(o.forwarder);
  o.out = absolute_out(o.out);
  o.data = absolute_out(o.data);
  Tree t = make_tree(o.tmpdir);
  Env env({"LD_PRELOAD=" + o.lib, "FRACTFS_ROOT=" + t.root, std::string(kTreeVar) + "=" + t.top});
  int rc = wait_for(spawn(child_args(o), env.envp().data(), t.root.c_str()));
  remove_tree(t.top);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const char* tree = std::getenv(kTreeVar);
  return tree && *tree ? run_measure(o, tree_at(tree)) : run_setup(o);
}
