#include "shim/holder_role.hpp"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "shim/internal_fd.hpp"
#include "shim/log.hpp"
#include "shim/state.hpp"
#include "sync/engine.hpp"
#include "sync/holder.hpp"
#include "sync/parallel.hpp"

namespace fractfs::shim::holder_role {
namespace {

constexpr const char* kRestoredVar = "FRACTFS_INTERNAL_RESTORED";
constexpr const char* kHolderVar = "FRACTFS_INTERNAL_HOLDER";
constexpr std::int64_t kTakeOverEvery = 2;  // seconds between attempts

// Leaked on purpose: a process may exit (or fork) at any time.
Engine* g_engine = nullptr;
std::atomic<Holder*> g_holder{nullptr};
std::atomic<pid_t> g_holder_pid{0};  // the process g_holder belongs to (a vfork child shares g_holder)
bool g_recording = false;
std::string* g_journal = nullptr;
std::atomic<std::int64_t> g_next_try{0};
std::atomic<bool> g_trying{false};

void bypass_thread() noexcept { t_bypass = true; }

void say(bool error, const std::string& msg) {
  log::write(error ? log::Level::error : log::Level::warn, "%s", msg.c_str());
}

std::int64_t coarse_seconds() noexcept {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec;
}

Engine& engine() {
  if (!g_engine) g_engine = new Engine(g_state->cfg);
  return *g_engine;
}

std::string summary(const RestoreReport& r) {
  return "restored generation " + std::to_string(r.generation) + (r.legacy ? " (Python package checkpoint)" : "") +
         ": " + std::to_string(r.files) + " file(s), " + std::to_string(r.bytes) + " bytes, " +
         std::to_string(r.kept_newer) + " newer local file(s) kept, " + std::to_string(r.bundle.size()) +
         " bundle file(s) left out of checkpoints";
}

// This process becomes the holder if nobody is.
bool hold(Snapshot* restored) {
  auto* h = new Holder(engine(), say);
  if (!h->try_acquire()) {
    delete h;
    return false;
  }
  if (restored) h->adopt(std::move(*restored));
  if (!h->start()) {
    delete h;
    return false;
  }
  for (int fd : h->descriptors()) internal_fd::add(fd);
  g_holder_pid = ::getpid();
  g_holder = h;
  ::setenv(kHolderVar, std::to_string(::getpid()).c_str(), 1);
  return true;
}

// Restores unless this process tree has; false when the app must do
// without checkpoints.
bool restored_first(const std::string& dir, Snapshot& snap, bool& restored_now) {
  const char* mark = ::getenv(kRestoredVar);
  if (mark && dir == mark) return true;  // a parent saw to it
  try {
    StartReport r = ensure_restored(engine(), &snap, nullptr);
    restored_now = r.restored_now;
    if (r.restored_now && (r.restore.generation || r.restore.legacy))
      log::write(log::Level::info, "%s", summary(r.restore).c_str());
    if (r.restored_now && !r.restore.bundle.empty())
      log::write(log::Level::warn, "%s", bundle_notice(r.restore.bundle).c_str());
  } catch (const std::exception& e) {
    log::write(log::Level::error,
               "restore failed, the app runs on what is on this node and nothing is checkpointed: %s", e.what());
    ::setenv(kRestoredVar, "failed", 1);
    return false;
  }
  ::setenv(kRestoredVar, dir.c_str(), 1);
  return true;
}

}  // namespace

void at_start() noexcept {
  const Config& cfg = g_state->cfg;
  if (cfg.passthrough() || cfg.backend != Backend::mount) return;
  const char* mark = ::getenv(kRestoredVar);
  if (mark && std::string_view(mark) == "failed") return;
  Bypass off;
  try {
    g_worker_start = bypass_thread;
    Snapshot snap;
    bool restored_now = false;
    StateDir state(cfg);
    if (!restored_first(state.dir(), snap, restored_now)) return;
    g_journal = new std::string(state.path("journal"));
    g_recording = true;
    const char* h = ::getenv(kHolderVar);
    if ((!h || ::atol(h) == ::getpid()) && !hold(restored_now ? &snap : nullptr)) ::setenv(kHolderVar, "0", 1);
  } catch (const std::exception& e) {
    log::write(log::Level::error, "checkpointing is off in this process: %s", e.what());
  }
}

void at_exit() noexcept {
  Holder* h = g_holder.load();
  if (!h) return;
  Bypass off;
  h->stop(true);
}

void before_exit() noexcept {
  if (g_holder.load() && g_holder_pid.load() == ::getpid()) at_exit();
}

void after_fork_child() noexcept {
  Holder* h = g_holder.exchange(nullptr);
  if (!h) return;
  internal_fd::clear();  // first: the close() below must really close
  h->abandon_after_fork();
}

void maybe_take_over() noexcept {
  if (!g_recording || g_holder.load(std::memory_order_relaxed)) return;
  std::int64_t now = coarse_seconds();
  if (now < g_next_try.load(std::memory_order_relaxed) || g_trying.exchange(true)) return;
  g_next_try = now + kTakeOverEvery;
  Bypass off;
  try {
    if (!lock_is_held(engine().state().path("holder.lock")) && hold(nullptr))
      log::write(log::Level::info, "took over checkpointing (the previous holder is gone)");
  } catch (const std::exception& e) {
    log::fault("take over", e.what());
  }
  g_trying = false;
}

void disown(const char* why) noexcept {
  Holder* h = g_holder.load();
  if (!h) return;
  log::write(log::Level::error, "checkpointing stops in this process: %s", why);
  h->disown();
}

bool recording() noexcept { return g_recording; }
const char* journal_path() noexcept { return g_journal ? g_journal->c_str() : nullptr; }

}  // namespace fractfs::shim::holder_role
