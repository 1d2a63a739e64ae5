// The library constructor: take the configuration (from the parent's
// snapshot when there is one, else from .fractfs.toml and FRACTFS_*), then
// switch redirection on. Process start must stay cheap: libc functions are
// looked up on first use, the cwd on first relative path.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include <string>

#include "resolver/config_snapshot.hpp"
#include "shim/cwd.hpp"
#include "shim/fd_table.hpp"
#include "shim/guard.hpp"
#include "shim/holder_role.hpp"
#include "shim/log.hpp"
#include "shim/state.hpp"
#include "sync/adopt.hpp"
#include "sync/journal.hpp"
#include "sync/skeleton.hpp"

namespace fractfs::shim {

bool g_active = false;
State* g_state = nullptr;
bool g_inject_faults = false;
__thread bool t_bypass __attribute__((tls_model("initial-exec"))) = false;

namespace {

// Said once per process tree: the first process marks the environment.
constexpr const char* kSaidVar = "FRACTFS_INTERNAL_SAID";

void say_once(log::Level level, const std::string& msg) {
  if (!::getenv(kSaidVar)) log::write(level, "%s", msg.c_str());
}

std::string own_path() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&init), &info) && info.dli_fname && info.dli_fname[0] == '/')
    return info.dli_fname;
  return {};
}

// The parent's snapshot, if it is for the same root.
bool inherit(Config& cfg) {
  const char* snap = ::getenv(kSnapshotVar);
  const char* root = ::getenv("FRACTFS_ROOT");
  if (!snap || !root) return false;
  auto c = from_snapshot(snap);
  if (!c || c->root != root) return false;
  cfg = std::move(*c);
  return true;
}

// A configuration fractfs cannot run with (invalid, or a remote_root that
// is not there): the app is not started, since unshimmed its files would
// land on the node's disk and be lost at the next wipe. Unless the user
// prefers availability: FRACTFS_ON_ERROR=passthrough runs it without us.
void refuse(const std::string& why) {
  const char* v = ::getenv("FRACTFS_ON_ERROR");
  if (!v || !*v) v = ::getenv("fractfs_on_error");
  bool run_anyway = v && !strcasecmp(v, "passthrough");
  if (run_anyway) return say_once(log::Level::error, why + " (FRACTFS_ON_ERROR=passthrough: running without fractfs)");
  std::string msg = "fractfs: error: " + why +
                    "\nfractfs: the app is not started (FRACTFS_ON_ERROR=passthrough runs it without fractfs)\n";
  if (v && *v && strcasecmp(v, "exit") != 0)
    msg += "fractfs: FRACTFS_ON_ERROR: expected exit or passthrough, got '" + std::string(v) + "'\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(2);
}

// First process of a tree: read, validate, report, and leave a snapshot.
bool load_fresh(Config& cfg) {
  try {
    LoadOptions opts;
    opts.thorough = false;
    cfg = load_config(opts);
    require_remote_root(cfg);
  } catch (const ConfigError& e) {
    refuse(e.what());
    return false;
  }
  // Only an app configured for fractfs hears that it is in passthrough.
  bool configured = !cfg.file.empty() || cfg.origins.size() > 1;
  for (const std::string& w : cfg.warnings)
    say_once(configured ? log::Level::warn : log::Level::info, w);
  ::setenv("FRACTFS_ROOT", cfg.root.c_str(), 1);
  ::setenv(kSnapshotVar, to_snapshot(cfg).c_str(), 1);
  return true;
}

bool usable(const Config& cfg) {
  if (cfg.passthrough()) return false;
  if (cfg.backend == Backend::mount) return true;
  say_once(log::Level::error, "backend '" + std::string(backend_name(cfg.backend)) +
                                  "' is not available in this build; fractfs is off (passthrough)");
  return false;
}

void before_fork() noexcept {
  fd_table::lock_all();
  cwd::lock();
  journal::before_fork();
}
void after_fork() noexcept {
  journal::after_fork();
  cwd::unlock();
  fd_table::unlock_all();
}
void after_fork_child() noexcept {
  after_fork();
  holder_role::after_fork_child();
}

void start(Config cfg, bool fresh) {
  auto* s = new State();
  s->cfg = std::move(cfg);
  s->root = s->cfg.root;
  s->root_real = s->cfg.root_real;
  s->remote_root = s->cfg.remote_root;
  s->resolver = Resolver(s->cfg);
  s->lib_path = own_path();
  if (const char* snap = ::getenv(kSnapshotVar)) s->snapshot = snap;
  g_state = s;  // read by what follows; redirection stays off until g_active
  if (fresh) {
    // The first process of a tree started without fractfs-run does its job.
    Bypass off;
    prepare_skeleton(s->cfg);
    AdoptReport r = adopt_layout(s->cfg, s->resolver);
    if (std::string line = summary(r); !line.empty()) say_once(log::Level::info, line);
    for (const std::string& p : r.problems) say_once(log::Level::warn, p);
  }
  // libuv (Node.js) would do file I/O through io_uring, which no preloaded
  // library sees; it reads this when its first loop starts, after us.
  ::setenv("UV_USE_IO_URING", "0", 1);
  holder_role::at_start();  // the restore, before the app's main
  cwd::invalidate();
  ::pthread_atfork(before_fork, after_fork, after_fork_child);
  __atomic_store_n(&g_active, true, __ATOMIC_RELEASE);
}

}  // namespace

void init() noexcept {
  int saved = errno;
  log::init();
  g_inject_faults = ::getenv("FRACTFS_INTERNAL_FAULT") != nullptr;
  try {
    Config cfg;
    bool fresh = !inherit(cfg);
    if ((fresh ? load_fresh(cfg) : true) && usable(cfg)) start(std::move(cfg), fresh);
    ::setenv(kSaidVar, "1", 1);
  } catch (const std::exception& e) {
    log::fault("init", e.what());
  }
  errno = saved;
}

}  // namespace fractfs::shim

// Runs before the app's own constructors and main.
__attribute__((constructor(101))) static void fractfs_shim_constructor() { fractfs::shim::init(); }
// Runs at a normal exit, after the app's own destructors: the holder's
// final checkpoint.
__attribute__((destructor(101))) static void fractfs_shim_destructor() { fractfs::shim::holder_role::at_exit(); }
