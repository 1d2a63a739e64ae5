// `fractfs-run`: runs a command with libfractfs.so preloaded.
//
//   fractfs-run [--root DIR] [-v] -- COMMAND [ARGS...]
//
// Validates the configuration first (a bad one: exit 2, nothing started),
// restores the root's checkpoint unless this node has (a failed restore:
// exit 1, nothing started), checkpoints every sync_interval while the
// command runs, forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to it, takes
// a final checkpoint when it has ended, and exits with its status (128+N
// if signal N killed it; kExitNotSaved when it succeeded but that final
// checkpoint failed).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/elf_probe.hpp"
#include "cli/launch.hpp"
#include "cli/version.hpp"
#include "sync/adopt.hpp"
#include "sync/engine.hpp"
#include "sync/holder.hpp"
#include "sync/net/net.hpp"
#include "sync/progress.hpp"
#include "sync/skeleton.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs-run [--root DIR] [--take-over] [-v] -- COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND with libfractfs.so preloaded, so its files are placed by\n"
    "tier. The configuration is checked first: if it is invalid, the error\n"
    "is printed and COMMAND is not started (exit status 2). Unless this node\n"
    "has done so, the last checkpoint is restored before COMMAND starts; if\n"
    "that fails, COMMAND is not started (exit status 1). While COMMAND runs,\n"
    "fractfs-run checkpoints every sync_interval seconds, and once more when\n"
    "COMMAND has ended. SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to\n"
    "COMMAND; the exit status is COMMAND's, or 128+N if signal N ended it.\n"
    "If COMMAND succeeded but the final checkpoint failed (its last changes\n"
    "are not saved in the remote store), the exit status is 75.\n"
    "\n"
    "remote_root must exist: if it does not (the durable store is not\n"
    "mounted?), COMMAND is not started (exit status 2); 'fractfs init'\n"
    "creates a new store. COMMAND may be stored in the remote tier\n"
    "(./data/tool.sh, a PATH entry under a [dirs] path): it is found there.\n"
    "\n"
    "One node at a time checkpoints a remote root: it holds the store's lease\n"
    "(lease_seconds, renewed while COMMAND runs). If another node holds it and\n"
    "renews it, COMMAND is not started (exit status 1) and the holder is\n"
    "named; a lease nobody renews for its term is taken.\n"
    "\n"
    "  --root DIR     the app root (default: FRACTFS_ROOT, the nearest\n"
    "                 .fractfs.toml upwards, then the current directory)\n"
    "  --take-over    take the lease whoever holds it (FRACTFS_TAKE_OVER=1);\n"
    "                 that node stops checkpointing at its next renewal\n"
    "  -v, --verbose  say what is being started\n"
    "  --version      print the version and exit\n";

// The app succeeded, but its state was not saved (EX_TEMPFAIL: try again,
// e.g. with `fractfs sync`, once the store is reachable).
constexpr int kExitNotSaved = 75;

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// The signals fractfs-run waits for synchronously (no handlers: a handler
// would race with the wait, and sanitizer runtimes defer them).
sigset_t waited_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  sigaddset(&set, SIGCHLD);
  return set;
}

// Waits for the child, passing on every forwarded signal someone sent us.
// One the terminal sent to the whole foreground group (si_code SI_KERNEL)
// has reached the app already.
int wait_forwarding(pid_t child, const sigset_t& set) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) return status;
    if (r < 0 && errno != EINTR) return -1;
    siginfo_t info{};
    int sig = ::sigwaitinfo(&set, &info);
    if (sig > 0 && sig != SIGCHLD && info.si_code != SI_KERNEL) ::kill(child, sig);
  }
}

void warn_about(const std::string& command) {
  std::string file;
  switch (probe_program(command, &file)) {
    case ProgramKind::static_:
      std::fprintf(stderr,
                   "fractfs-run: warning: %s is statically linked: LD_PRELOAD cannot see its file "
                   "calls, so nothing it does is redirected or tracked\n",
                   file.c_str());
      break;
    case ProgramKind::go:
      std::fprintf(stderr,
                   "fractfs-run: warning: %s is a Go program: it makes its file calls without libc, "
                   "so fractfs cannot redirect or track them\n",
                   file.c_str());
      break;
    default: break;
  }
}

// The layout the app will find: the [dirs] skeleton, and anything left in a
// local half that belongs to the remote store moved there.
void prepare_start(const Config& cfg) {
  prepare_skeleton(cfg);
  AdoptReport r = adopt_layout(cfg, Resolver(cfg));
  if (std::string s = summary(r); !s.empty()) std::fprintf(stderr, "fractfs-run: %s\n", s.c_str());
  for (const std::string& p : r.problems) std::fprintf(stderr, "fractfs-run: warning: %s\n", p.c_str());
}

// The command starts with the signal mask fractfs-run was given.
int spawn(const std::string& file, std::vector<char*>& argv, std::vector<char*>& envp, const sigset_t& mask,
          pid_t* pid) {
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  ::posix_spawnattr_setsigmask(&attr, &mask);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int err = ::posix_spawnp(pid, file.c_str(), nullptr, &attr, argv.data(), envp.data());
  ::posix_spawnattr_destroy(&attr);
  return err;
}

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitFailure;
}

void say(bool error, const std::string& msg) {
  std::fprintf(stderr, "fractfs-run: %s%s\n", error ? "error: " : "", msg.c_str());
}

std::string restore_summary(const RestoreReport& r) {
  return fmt::format("restored generation {}{}: {} file(s), {}, {} director(ies), {} symlink(s) in {:.2f} s{}",
                     r.generation, r.legacy ? " (from the Python package's checkpoint)" : "", r.files,
                     human_bytes(static_cast<double>(r.bytes)), r.dirs, r.symlinks, r.seconds,
                     r.kept_newer ? fmt::format("; kept {} newer local file(s)", r.kept_newer) : "");
}

// The holder of the app: restores the root unless this node has, then
// checkpoints in a helper thread while the app runs. The variables tell
// the app's processes that both are taken care of.
std::unique_ptr<Holder> take_charge(Engine& engine, bool verbose, std::vector<std::string>& env) {
  auto holder = std::make_unique<Holder>(engine, say);
  // The lease before the restore: a node that may not checkpoint does not start the app.
  bool holding = holder->try_acquire();
  if (holding) holder->claim_lease(engine.cfg().take_over, true);
  Progress progress("restore", true);
  Snapshot snap;
  StartReport r;
  try {
    r = ensure_restored(engine, &snap, &progress);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot restore the checkpoint, so the app is not started "
                                         "(it would run on cold state): ") +
                             e.what());
  }
  progress.finish();
  const RestoreReport& rr = r.restore;
  if (r.restored_now && (rr.files || rr.symlinks || rr.dirs || rr.kept_newer || verbose))
    say(false, rr.generation || rr.legacy ? restore_summary(rr) : "nothing to restore: no checkpoint yet");
  if (r.restored_now && !rr.bundle.empty()) say(false, bundle_notice(rr.bundle));
  env.push_back("FRACTFS_INTERNAL_RESTORED=" + engine.state().dir());
  if (!holding) {
    if (verbose) say(false, "another process of this app is the holder: it checkpoints");
    return nullptr;
  }
  if (r.restored_now) holder->adopt(std::move(snap));
  if (!holder->start()) return nullptr;
  return holder;
}

int run(const Args& args) {
  Config cfg = load_for_cli(args);
  if (args.has("take-over")) cfg.take_over = true;
  std::string lib = find_library();
  require_remote_root(cfg);
  prepare_start(cfg);
  bool verbose = args.has("verbose");
  std::vector<std::string> env = child_environment(cfg, lib);
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Holder> holder;
  if (!cfg.passthrough()) {
    engine = std::make_unique<Engine>(cfg);
    holder = take_charge(*engine, verbose, env);
  }
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> cmd = args.positional;
  for (auto& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string program = physical_program(cfg, cmd[0]);
  warn_about(program);
  if (verbose)
    std::fprintf(stderr, "fractfs-run: root %s, remote %s, preloading %s\n", cfg.root.c_str(),
                 cfg.passthrough() ? "(none: passthrough)" : cfg.remote_root.c_str(), lib.c_str());
  sigset_t set = waited_signals(), old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  pid_t pid = 0;
  int err = spawn(program, argv, envp, old, &pid);
  if (err != 0) {
    print_error("cannot run " + cmd[0] + ": " + std::strerror(err));
    return err == ENOENT ? 127 : 126;
  }
  int status = wait_forwarding(pid, set);
  // The final checkpoint, once the app is gone; for exit_timeout at most.
  bool saved = !holder || holder->stop(true, cfg.exit_timeout);
  int rc = status < 0 ? kExitFailure : exit_status(status);
  if (holder && holder->timed_out()) {
    say(true, fmt::format("the final checkpoint did not finish within exit_timeout ({} s): the app's last changes "
                          "may not be in the remote store ('fractfs sync' takes them when the store answers)",
                          cfg.exit_timeout));
    std::fflush(nullptr);
    ::_exit(rc == kExitOk ? kExitNotSaved : rc);  // the checkpoint thread is still running: no destructors
  }
  if (rc == kExitOk && !saved) {
    say(true,
        "the app ended, but its final checkpoint failed: its last changes are not in the remote store "
        "(see above; 'fractfs sync' retries)");
    return kExitNotSaved;
  }
  return rc;
}

}  // namespace
}  // namespace fractfs::cli

int main(int argc, char** argv) {
  using namespace fractfs::cli;
  set_program_name("fractfs-run");
  fractfs::net::install();
  try {
    Args args =
        parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"verbose", 'v'}, {"version", 0}, {"take-over", 0}}, true);
    if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
    if (args.has("version")) return std::printf("fractfs-run %s\n", kVersion), kExitOk;
    if (args.positional.empty()) throw UsageError("no COMMAND given");
    return run(args);
  } catch (const UsageError& e) {
    print_error(std::string(e.what()) + " (see 'fractfs-run --help')");
    return kExitUsage;
  } catch (const fractfs::ConfigError& e) {
    print_error(e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitFailure;
  }
}
