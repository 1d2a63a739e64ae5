#include "shim/helper_client.hpp"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "shim/internal_fd.hpp"
#include "shim/log.hpp"
#include "shim/real.hpp"
#include "shim/refuse.hpp"
#include "shim/state.hpp"
#include "shim/track.hpp"
#include "sync/control.hpp"
#include "sync/helper.hpp"
#include "sync/presence.hpp"
#include "sync/state_dir.hpp"
#include "sync/sys.hpp"

extern char** environ;

namespace fractfs::shim::helper_client {
namespace {

constexpr const char* kRestoredVar = "FRACTFS_INTERNAL_RESTORED";  // STATE dir, or "failed"
constexpr const char* kLeaderVar = "FRACTFS_INTERNAL_LEADER";      // pid of the app's first process
constexpr const char* kHelperVar = "FRACTFS_HELPER";               // the helper program, if not beside us
constexpr std::int64_t kTakeOverEvery = 2;                         // seconds between looks for a missing helper

// Leaked on purpose: a process may exit (or fork) at any time.
struct Paths {
  explicit Paths(const StateDir& s)
      : dir(s.dir()),
        journal(s.path("journal")),
        presence(s.path("app.lock")),
        lock(s.path("holder.lock")),
        socket(s.path("holder.sock")),
        restored(s.path("restored")) {}
  std::string dir, journal, presence, lock, socket, restored;
};
Paths* g_paths = nullptr;
bool g_recording = false;
std::atomic<pid_t> g_leader{0};
pid_t g_self = 0;  // this process; a vfork child (which shares our memory) has another pid
std::atomic<std::int64_t> g_next_try{0};
std::atomic<bool> g_trying{false};

bool exists(const std::string& path) noexcept {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool helper_running() noexcept { return lock_is_held(g_paths->lock); }

std::int64_t coarse_seconds() noexcept {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec;
}

void pause_ms(long ms) noexcept {
  struct timespec ts {
    ms / 1000, (ms % 1000) * 1000000L
  };
  ::nanosleep(&ts, nullptr);
}

// `fractfs` beside the library, as `make` and `make install` place them
// (build/lib and build/bin; LIBDIR/fractfs and BINDIR), or FRACTFS_HELPER.
std::string helper_program() {
  if (const char* e = ::getenv(kHelperVar); e && *e) return e;
  const std::string& lib = g_state->lib_path;
  std::string dir = lib.substr(0, lib.rfind('/'));
  for (const char* rel : {"/../bin/fractfs", "/../../bin/fractfs", "/../../../bin/fractfs", "/fractfs"}) {
    std::string p = dir + rel;
    if (!lib.empty() && ::access(p.c_str(), X_OK) == 0) return p;
  }
  throw std::runtime_error("cannot find the fractfs program next to " + (lib.empty() ? "libfractfs.so" : lib) +
                           " (looked in ../bin, ../../bin, ../../../bin and the same directory); set " + kHelperVar);
}

bool is_our_library(std::string_view entry) {
  return entry == g_state->lib_path || entry.ends_with("/libfractfs.so") || entry == "libfractfs.so";
}

// The app's environment without this library in LD_PRELOAD: the helper
// must not run under the shim.
std::vector<std::string> helper_environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (!v.starts_with("LD_PRELOAD=")) {
      env.emplace_back(v);
      continue;
    }
    std::string kept;
    for (std::string_view rest = v.substr(11); !rest.empty();) {
      std::size_t end = rest.find_first_of(": ");
      std::string_view item = rest.substr(0, end);
      if (!item.empty() && !is_our_library(item)) kept += (kept.empty() ? "" : ":") + std::string(item);
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    if (!kept.empty()) env.push_back("LD_PRELOAD=" + kept);
  }
  return env;
}

// Starts `fractfs helper` in a session of its own; it detaches at once
// (the process we wait for here is its short-lived starter). Returns the
// read end of its ready pipe. Throws when it cannot be started.
int spawn_helper() {
  std::string program = helper_program();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  if (p[1] == 3) {  // a dup2 onto itself would keep close-on-exec
    int moved = ::fcntl(p[1], F_DUPFD_CLOEXEC, 10);
    ::close(p[1]);
    p[1] = moved;
  }
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, p[1], 3);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(&fa, 1, 2);
  ::posix_spawn_file_actions_addclosefrom_np(&fa, 4);  // none of the app's descriptors
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> env = helper_environment();
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string arg0 = program, cmd = "helper", opt = "--ready-fd", fd = "3";
  char* argv[] = {arg0.data(), cmd.data(), opt.data(), fd.data(), nullptr};
  pid_t pid = 0;
  int rc = REAL(posix_spawn)(&pid, program.c_str(), &fa, &attr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&fa);
  ::posix_spawnattr_destroy(&attr);
  ::close(p[1]);
  if (rc != 0) {
    ::close(p[0]);
    throw std::system_error(rc, std::generic_category(), "cannot start " + program);
  }
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return p[0];
}

// The helper's messages, logged, and its last line; "" when it ended
// without one.
std::string read_reply(int fd) {
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::string last;
  for (std::size_t at = 0, nl; at < text.size(); at = nl + 1) {
    nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    if (line.starts_with(helper::kInfo)) log::write(log::Level::info, "%s", line.c_str() + helper::kInfo.size());
    else if (line.starts_with(helper::kWarn)) log::write(log::Level::warn, "%s", line.c_str() + helper::kWarn.size());
    else last = line;
  }
  return last;
}

// Another helper is restoring: wait for its marker, or for it to give up.
void wait_for_other_helper() {
  while (!exists(g_paths->restored)) {
    if (!helper_running() && !exists(g_paths->restored))
      throw std::runtime_error("the helper that was restoring this root ended without finishing; see " + g_paths->dir +
                               "/helper.log");
    pause_ms(20);
  }
}

// Starts a helper and waits until the app may run.
void start_helper() {
  std::string reply = read_reply(spawn_helper());
  std::string_view r(reply);
  if (r == helper::kReady) {
    return;
  } else if (r == helper::kBusy) {
    wait_for_other_helper();
  } else if (r.starts_with(helper::kError)) {
    throw std::runtime_error(reply.substr(helper::kError.size()));
  } else {
    throw std::runtime_error("the fractfs helper ended without a word; see " + g_paths->dir + "/helper.log");
  }
}

// The presence lock, for as long as this process runs.
void join_presence(const StateDir& state) {
  int fd = presence::join(g_paths->presence.c_str());
  if (fd < 0 && errno == ENOENT && state.ensure()) fd = presence::join(g_paths->presence.c_str());
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot lock " + g_paths->presence);
  internal_fd::add(fd);
}

}  // namespace

void at_start() noexcept {
  const Config& cfg = g_state->cfg;
  if (cfg.passthrough()) return;
  const char* mark = ::getenv(kRestoredVar);
  if (mark && std::string_view(mark) == "failed") return;
  g_self = ::getpid();
  try {
    StateDir state(cfg);
    g_paths = new Paths(state);
    join_presence(state);
    if (mark && state.dir() == mark) {  // a parent, or fractfs-run, saw to the helper and the restore
      if (const char* l = ::getenv(kLeaderVar); l && ::atol(l) == ::getpid()) g_leader = ::getpid();  // exec'd
      g_recording = true;
      return;
    }
    bool restored = exists(g_paths->restored), running = helper_running();
    if (!running) start_helper();
    else if (!restored) wait_for_other_helper();
    ::setenv(kRestoredVar, state.dir().c_str(), 1);
    ::setenv(kLeaderVar, std::to_string(::getpid()).c_str(), 1);
    g_leader = ::getpid();
    g_recording = true;
  } catch (const std::exception& e) {
    ::setenv(kRestoredVar, "failed", 1);  // children run as their parent does
    // The helper's reason names what failed (the restore, or the lease).
    refuse(std::string("the app is not started: ") + e.what(), 1);
  }
}

// A process that recorded changes and finds no helper at its exit starts
// one: a helper killed while the app runs is otherwise replaced only on
// the next change.
void replace_missing_helper() noexcept {
  if (!track::recorded_here() || !track::helper_quiet(coarse_seconds())) return;
  try {
    if (!helper_running()) ::close(spawn_helper());
  } catch (const std::exception& e) {
    log::fault("exit", e.what());
  }
}

void at_exit() noexcept {
  pid_t me = ::getpid();
  if (!g_recording || me != g_self) return;  // not in a vfork child: it must not allocate
  if (g_leader.load() != me || !g_leader.compare_exchange_strong(me, 0)) return replace_missing_helper();
  try {
    if (!track::unsaved()) return;
    double wait = g_state->cfg.exit_timeout;
    double deadline = sys::seconds_now() + wait;
    for (bool started = false;;) {
      double left = deadline - sys::seconds_now();
      if (left <= 0) {
        log::write(log::Level::warn,
                   "the exit checkpoint takes longer than exit_timeout (%g s): the helper goes on alone", wait);
        return;
      }
      if (auto reply = control_request(g_paths->socket, "checkpoint exit", left)) {
        if (!reply->starts_with("ok")) log::write(log::Level::error, "exit checkpoint: %s", reply->c_str());
        return;
      }
      if (!helper_running()) {
        if (started) return;
        started = true;
        start_helper();
        continue;
      }
      pause_ms(10);  // starting, not listening yet
    }
  } catch (const std::exception& e) {
    log::write(log::Level::error, "exit checkpoint: %s", e.what());
  }
}

void maybe_take_over() noexcept {
  if (!g_recording) return;
  std::int64_t now = coarse_seconds();
  if (!track::helper_quiet(now)) return;  // a helper drained the journal lately: no system call
  if (now < g_next_try.load(std::memory_order_relaxed) || g_trying.exchange(true)) return;
  g_next_try = now + kTakeOverEvery;
  try {
    if (!helper_running()) {
      ::close(spawn_helper());  // not waited for: the restore is done, the app runs
      log::write(log::Level::info, "started a new checkpoint helper (the previous one is gone)");
    }
  } catch (const std::exception& e) {
    log::fault("take over", e.what());
  }
  g_trying = false;
}

void after_fork_child() noexcept { g_self = ::getpid(); }

bool own_process() noexcept { return ::getpid() == g_self; }

bool recording() noexcept { return g_recording; }
const char* journal_path() noexcept { return g_paths ? g_paths->journal.c_str() : nullptr; }

}  // namespace fractfs::shim::helper_client
