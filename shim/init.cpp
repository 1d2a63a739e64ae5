// The library constructor: take the configuration (from the parent's
// snapshot when there is one, else from .fractfs.toml and FRACTFS_*), then
// switch redirection on. Process start must stay cheap: libc functions are
// looked up on first use, the cwd on first relative path.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <string>

#include "resolver/config_snapshot.hpp"
#include "shim/cwd.hpp"
#include "shim/fd_table.hpp"
#include "shim/guard.hpp"
#include "shim/half_calls.hpp"
#include "shim/helper_client.hpp"
#include "shim/log.hpp"
#include "shim/refuse.hpp"
#include "shim/state.hpp"
#include "shim/track.hpp"
#include "sync/journal.hpp"
#include "sync/skeleton.hpp"

namespace fractfs::shim {

bool g_active = false;
State* g_state = nullptr;

namespace {

// Said once per process tree: the first process marks the environment.
constexpr const char* kSaidVar = "FRACTFS_INTERNAL_SAID";

void say_once(log::Level level, const std::string& msg) {
  if (!::getenv(kSaidVar)) log::write(level, "%s", msg.c_str());
}

// setenv rebuilds the environment (an allocation, pages touched): a child
// inherits these already set.
void set_env(const char* name, const char* value) {
  const char* now = ::getenv(name);
  if (!now || strcmp(now, value) != 0) ::setenv(name, value, 1);
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

// First process of a tree: read, validate, report, and leave a snapshot.
bool load_fresh(Config& cfg) {
  try {
    LoadOptions opts;
    opts.thorough = false;
    cfg = load_config(opts);
    require_remote_root(cfg);
  } catch (const ConfigError& e) {
    refuse(e.what(), 2);
    return false;
  }
  // Only an app configured for fractfs hears that it is in passthrough.
  bool configured = !cfg.file.empty() || cfg.origins.size() > 1;
  for (const std::string& w : cfg.warnings) say_once(configured ? log::Level::warn : log::Level::info, w);
  ::setenv("FRACTFS_ROOT", cfg.root.c_str(), 1);
  ::setenv(kSnapshotVar, to_snapshot(cfg).c_str(), 1);
  return true;
}

// Every backend: with an object store the app's processes only record
// changes (there is no [dirs] tier then); the helper talks to the store.
bool usable(const Config& cfg) { return !cfg.passthrough(); }

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
  track::after_fork_child();
  helper_client::after_fork_child();
}

void start(Config cfg) {
  auto* s = new State();
  s->cfg = std::move(cfg);
  s->root = s->cfg.root;
  s->root_real = s->cfg.root_real;
  s->half = make_remote_half(s->cfg.remote_root);
  s->resolver = Resolver(s->cfg);
  s->lib_path = own_path();
  if (const char* snap = ::getenv(kSnapshotVar)) s->snapshot = snap;
  g_state = s;  // read by what follows; redirection stays off until g_active
  // libuv (Node.js) would do file I/O through io_uring, which no preloaded
  // library sees; it reads this when its first loop starts, after us.
  set_env("UV_USE_IO_URING", "0");
  // The layout and the restore (by the helper), before the app's main.
  helper_client::at_start();
  cwd::invalidate();
  ::pthread_atfork(before_fork, after_fork, after_fork_child);
  __atomic_store_n(&g_active, true, __ATOMIC_RELEASE);
}

}  // namespace

void init() noexcept {
  int saved = errno;
  log::init();
  init_fault_injection();
  try {
    Config cfg;
    bool fresh = !inherit(cfg);
    if ((fresh ? load_fresh(cfg) : true) && usable(cfg)) start(std::move(cfg));
    set_env(kSaidVar, "1");
  } catch (const std::exception& e) {
    log::fault("init", e.what());
  }
  errno = saved;
}

}  // namespace fractfs::shim

// Runs before the app's own constructors and main.
__attribute__((constructor(101))) static void fractfs_shim_constructor() { fractfs::shim::init(); }
// Runs at a normal exit, after the app's own destructors: files still open
// for writing are the remote half's to store, and the first process waits
// for the exit checkpoint.
__attribute__((destructor(101))) static void fractfs_shim_destructor() {
  fractfs::shim::half::at_exit(true);
  fractfs::shim::helper_client::at_exit();
}
