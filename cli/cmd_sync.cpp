// `fractfs sync`: a checkpoint now. The holder (the running app) takes it
// when there is one; otherwise this command does, under the holder lock.
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/sync_cli.hpp"
#include "sync/control.hpp"
#include "sync/holder.hpp"
#include "sync/progress.hpp"
#include "sync/sys.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs sync [--root DIR] [--full]\n"
    "\n"
    "Takes a checkpoint now and waits for it. When the app is running, its\n"
    "holder process takes it (asked through its control socket); otherwise\n"
    "fractfs sync takes it itself, walking the whole root.\n"
    "\n"
    "  --root DIR  the app root (default: FRACTFS_ROOT, the nearest\n"
    "              .fractfs.toml upwards, then the current directory)\n"
    "  --full      walk the whole root instead of only what changed\n";

constexpr double kWaitForLock = 600;

void report(std::uint64_t generation, bool committed, double seconds, std::uint64_t dirty) {
  if (committed)
    std::printf("checkpoint: generation %llu committed in %.3f s\n", static_cast<unsigned long long>(generation),
                seconds);
  else if (generation)
    std::printf("checkpoint: nothing changed, generation %llu stays current (%.3f s)\n",
                static_cast<unsigned long long>(generation), seconds);
  else std::printf("checkpoint: nothing to checkpoint (%.3f s)\n", seconds);
  if (dirty)
    std::printf("note: %llu file(s) changed while being read; their previous version was kept\n",
                static_cast<unsigned long long>(dirty));
}

// Through the holder's socket; false when no holder answers there.
bool ask_holder(Engine& engine, bool full) {
  auto reply = control_request(engine.state().path("holder.sock"), full ? "checkpoint full" : "checkpoint", 24 * 3600);
  if (!reply) return false;
  unsigned long long gen = 0, dirty = 0;
  int committed = 0;
  double secs = 0;
  if (std::sscanf(reply->c_str(), "ok %llu %d %lf %llu", &gen, &committed, &secs, &dirty) != 4)
    throw std::runtime_error("the holder says: " + (reply->rfind("error ", 0) == 0 ? reply->substr(6) : *reply));
  report(gen, committed, secs, dirty);
  return true;
}

}  // namespace

int cmd_sync(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"full", 0, false}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("sync takes no arguments");
  auto engine = open_engine(args);
  bool full = args.has("full");
  if (ask_holder(*engine, full)) return kExitOk;
  // A checkpoint of a node that never restored would drop the state it lacks.
  if (!is_restored(engine->state()))
    throw std::runtime_error("this node has not restored " + engine->cfg().root +
                             " yet: run the app (or 'fractfs restore') first, so a checkpoint cannot drop state");
  Holder holder(*engine, [](bool error, const std::string& msg) {
    std::fprintf(stderr, "fractfs: %s%s\n", error ? "error: " : "", msg.c_str());
  });
  // A holder without a socket is between its last request and its exit
  // (taking its final checkpoint), or could not listen: wait for its lock.
  double give_up = sys::seconds_now() + kWaitForLock;
  for (bool said = false; !holder.try_acquire();) {
    if (ask_holder(*engine, full)) return kExitOk;
    long pid = holder_pid(engine->state());
    if (sys::seconds_now() > give_up)
      throw std::runtime_error(fmt::format("the app's holder (pid {}) neither answers on {} nor lets go of {}", pid,
                                           engine->state().path("holder.sock"), engine->state().path("holder.lock")));
    if (!said) std::fprintf(stderr, "fractfs: waiting for the app's holder (pid %ld) to finish its checkpoint\n", pid);
    said = true;
    ::usleep(100000);
  }
  holder.claim_lease(engine->cfg().take_over);
  Progress progress("checkpoint", true);
  CheckpointReport r = holder.checkpoint_here(true, &progress);
  progress.finish();
  report(r.generation.number, r.committed, r.seconds, r.kept_dirty);
  return kExitOk;
}

}  // namespace fractfs::cli
