// `fractfs-run`: runs a command with libfractfs.so preloaded.
//
//   fractfs-run [--root DIR] [-v] -- COMMAND [ARGS...]
//
// Validates the configuration first (a bad one: exit 2, nothing started),
// forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to the command, and exits
// with its status (128+N if signal N killed it).
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/elf_probe.hpp"
#include "cli/launch.hpp"
#include "sync/adopt.hpp"
#include "sync/skeleton.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs-run [--root DIR] [-v] -- COMMAND [ARGS...]\n"
    "\n"
    "Runs COMMAND with libfractfs.so preloaded, so its files are placed by\n"
    "tier. The configuration is checked first: if it is invalid, the error\n"
    "is printed and COMMAND is not started (exit status 2). SIGINT, SIGTERM,\n"
    "SIGHUP and SIGQUIT are forwarded to COMMAND; the exit status is\n"
    "COMMAND's, or 128+N if signal N ended it.\n"
    "\n"
    "  --root DIR     the app root (default: FRACTFS_ROOT, the nearest\n"
    "                 .fractfs.toml upwards, then the current directory)\n"
    "  -v, --verbose  say what is being started\n";

volatile sig_atomic_t g_child = 0;

// A signal someone sent us goes on to the app. One the terminal sent to the
// whole foreground group (si_code SI_KERNEL) has reached the app already.
void forward(int sig, siginfo_t* info, void*) {
  if (g_child > 0 && info->si_code != SI_KERNEL) ::kill(g_child, sig);
}

void install_forwarding() {
  struct sigaction sa{};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &sa, nullptr);
}

void warn_about(const std::string& command) {
  std::string file;
  switch (probe_program(command, &file)) {
    case ProgramKind::static_:
      std::fprintf(stderr, "fractfs-run: warning: %s is statically linked: LD_PRELOAD cannot see its file "
                   "calls, so nothing it does is redirected or tracked\n", file.c_str());
      break;
    case ProgramKind::go:
      std::fprintf(stderr, "fractfs-run: warning: %s is a Go program: it makes its file calls without libc, "
                   "so fractfs cannot redirect or track them\n", file.c_str());
      break;
    default:
      break;
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

int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitFailure;
}

int run(const Args& args) {
  Config cfg = load_for_cli(args);
  if (!cfg.passthrough() && cfg.backend != Backend::mount)
    throw ConfigError("backend '" + std::string(backend_name(cfg.backend)) +
                      "' is not available in this build; use backend = \"mount\"");
  std::string lib = find_library();
  prepare_start(cfg);
  std::vector<std::string> env = child_environment(cfg, lib);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> cmd = args.positional;
  for (auto& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);
  warn_about(cmd[0]);
  if (args.has("verbose"))
    std::fprintf(stderr, "fractfs-run: root %s, remote %s, preloading %s\n", cfg.root.c_str(),
                 cfg.passthrough() ? "(none: passthrough)" : cfg.remote_root.c_str(), lib.c_str());
  install_forwarding();
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (err != 0) {
    print_error("cannot run " + cmd[0] + ": " + std::strerror(err));
    return err == ENOENT ? 127 : 126;
  }
  g_child = pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return kExitFailure;
  }
  return exit_status(status);
}

}  // namespace
}  // namespace fractfs::cli

int main(int argc, char** argv) {
  using namespace fractfs::cli;
  set_program_name("fractfs-run");
  try {
    Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"verbose", 'v'}}, true);
    if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
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
