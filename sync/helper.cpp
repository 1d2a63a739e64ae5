#include "sync/helper.hpp"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sync/adopt.hpp"
#include "sync/bundle.hpp"
#include "sync/presence.hpp"
#include "sync/skeleton.hpp"
#include "sync/sys.hpp"

namespace fractfs::helper {
namespace {

constexpr double kPollEvery = 0.05;  // seconds between looks for app processes
// Just after an app process asked for its exit checkpoint: it is about to
// leave, and if it is the last, the helper should too.
constexpr double kPollLeaving = 0.01, kGraceLeaving = 0.05, kLeavingFor = 2;

}  // namespace

void note(int fd, std::string_view kind, std::string_view text) noexcept {
  if (fd < 0) return;
  std::string msg = std::string(kind) + std::string(text);
  for (char& c : msg)
    if (c == '\n') c = ' ';
  msg += '\n';
  (void)sys::write_all(fd, msg.data(), msg.size());
}

void tell(int& fd, std::string_view line) noexcept {
  if (fd < 0) return;
  note(fd, "", line);
  ::close(fd);
  fd = -1;
}

namespace {

std::string restore_line(const StartReport& r) {
  const RestoreReport& rr = r.restore;
  if (!r.restored_now || !(rr.generation || rr.legacy)) return {};
  return fmt::format(
      "restored generation {}{}: {} file(s), {} bytes, {} newer local file(s) kept, {} bundle "
      "file(s) left out of checkpoints",
      rr.generation, rr.legacy ? " (Python package checkpoint)" : "", rr.files, rr.bytes, rr.kept_newer,
      rr.bundle.size());
}

// The layout and the restore, with messages for the starter.
void prepare(Engine& engine, Holder& holder, const Holder::Logger& log, int ready) {
  const Config& cfg = engine.cfg();
  prepare_skeleton(cfg);
  AdoptReport a = adopt_layout(cfg, engine.resolver());
  if (std::string s = summary(a); !s.empty()) log(false, s);
  for (const std::string& p : a.problems) log(false, p);
  Snapshot snap;
  StartReport r;
  try {
    r = ensure_restored(engine, &snap, nullptr);
  } catch (const std::exception& e) {
    throw StoreError(std::string("cannot restore the checkpoint (the app would run on cold state): ") + e.what());
  }
  if (r.restored_now) holder.adopt(std::move(snap));
  if (std::string line = restore_line(r); !line.empty()) {
    log(false, line);
    note(ready, kInfo, line);
  }
  if (r.restored_now && !r.restore.bundle.empty()) note(ready, kWarn, bundle_notice(r.restore.bundle));
}

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
  return set;
}

// Waits up to `seconds` for a signal; a stop signal asks for a checkpoint
// at once (the node may be going down), the helper stays for the app.
void nap(const sigset_t& set, double seconds, Holder& holder) {
  struct timespec ts {
    0, static_cast<long>(seconds * 1e9)
  };
  if (::sigtimedwait(&set, nullptr, &ts) > 0) holder.checkpoint_soon();
}

// Until no process of the app has been left for `grace` seconds. Returns
// with the presence lock held exclusively: no app process starts until
// this helper is gone.
void serve_while_app_runs(presence::Watch& watch, const Options& opt, Holder& holder) {
  sigset_t set = handled_signals();
  double alone_since = -1;
  for (;;) {
    bool leaving = sys::seconds_now() - holder.exit_requested() < kLeavingFor;
    nap(set, leaving ? kPollLeaving : kPollEvery, holder);
    if (!watch.alone()) {
      alone_since = -1;
      continue;
    }
    double now = sys::seconds_now();
    if (alone_since < 0) alone_since = now;
    if (now - alone_since >= (leaving ? kGraceLeaving : opt.grace)) return;
    watch.release();  // an exec'd program takes its lock again in a moment
  }
}

}  // namespace

int run(const Config& cfg, const Options& opt, const Holder::Logger& log) {
  int ready = opt.ready_fd;
  sigset_t set = handled_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: all inherit it
  ::signal(SIGPIPE, SIG_IGN);               // a starter that does not wait for our word
  presence::Watch watch;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Holder> holder;
  try {
    engine = std::make_unique<Engine>(cfg);
    holder = std::make_unique<Holder>(*engine, log);
    if (!engine->state().ensure() || !watch.open(engine->state().path("app.lock")))
      throw StoreError("cannot use the state directory " + engine->state().dir() + ": " + strerror(errno));
    if (!holder->try_acquire()) {
      tell(ready, kBusy);
      return 0;
    }
    holder->claim_lease(cfg.take_over, true);
    prepare(*engine, *holder, log, ready);
    if (!holder->start()) throw StoreError("cannot start the checkpoint thread");
    tell(ready, kReady);
  } catch (const std::exception& e) {
    log(true, e.what());
    tell(ready, std::string(kError) + e.what());
    return 1;
  }
  serve_while_app_runs(watch, opt, *holder);
  holder->stop(true);  // the final checkpoint
  // The holder lock goes first: an app process let in by the presence
  // lock's release must find no helper, and start a new one.
  holder.reset();
  return 0;
}

}  // namespace fractfs::helper
