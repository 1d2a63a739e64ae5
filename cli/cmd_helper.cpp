// `fractfs helper`: the checkpointing helper process of an app started with
// a bare LD_PRELOAD. libfractfs.so starts it (with --ready-fd) for the
// first process of an app; it is not meant to be run by hand, though that
// works: it then serves the root until no process of the app is left.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "resolver/config_snapshot.hpp"
#include "sync/helper.hpp"
#include "sync/sys.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs helper [--root DIR] [--ready-fd N] [--foreground]\n"
    "\n"
    "The checkpointing helper of an app run with a bare LD_PRELOAD: it\n"
    "prepares the layout, restores the last checkpoint, checkpoints every\n"
    "sync_interval while any process of the app runs, once more when the last\n"
    "one has ended, and exits. libfractfs.so starts it for the first process\n"
    "of an app; fractfs-run does this work itself. Messages go to\n"
    "FRACTFS_LOG_FILE, else to helper.log in the root's state directory.\n"
    "\n"
    "  --root DIR      the app root (default: FRACTFS_ROOT, the nearest\n"
    "                  .fractfs.toml upwards, then the current directory)\n"
    "  --ready-fd N    write one line on descriptor N once the app may run\n"
    "                  (\"ready\", \"busy\" or \"error MESSAGE\"), then close it\n"
    "  --foreground    do not detach from the caller\n";

constexpr off_t kLogRotateAt = 1 << 20;

// The configuration the app's process validated, when it passed one.
Config helper_config(const Args& args) {
  const char* snap = ::getenv(kSnapshotVar);
  const char* root = ::getenv("FRACTFS_ROOT");
  if (snap && root && !args.has("root"))
    if (auto c = from_snapshot(snap); c && c->root == root) return std::move(*c);
  return load_for_cli(args);
}

// Appends to FRACTFS_LOG_FILE, else STATE/helper.log (kept under 1 MiB:
// the previous one is helper.log.1).
class LogFile {
 public:
  explicit LogFile(const StateDir& state) {
    state.ensure();
    const char* env = ::getenv("FRACTFS_LOG_FILE");
    std::string path = env && *env ? env : state.path("helper.log");
    struct stat st;
    if (!(env && *env) && ::stat(path.c_str(), &st) == 0 && st.st_size > kLogRotateAt)
      ::rename(path.c_str(), (path + ".1").c_str());
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  }
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  void operator()(bool error, const std::string& msg) const {
    std::string line = fmt::format("{} fractfs helper[{}]: {}{}\n", sys::utc_time(sys::now_ns()), ::getpid(),
                                   error ? "error: " : "", msg);
    if (fd_ >= 0) (void)sys::write_all(fd_, line.data(), line.size());
  }

 private:
  int fd_ = -1;
};

// The starter waits only for the process it started: the helper goes on in
// a child, outside the app's session and process group.
void detach() {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
  if (pid > 0) ::_exit(0);
  ::setsid();
}

}  // namespace

int cmd_helper(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"ready-fd", 0, true}, {"foreground", 0, false}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  helper::Options opt;
  if (args.has("ready-fd")) opt.ready_fd = std::stoi(args.get("ready-fd"));
  Config cfg;
  try {
    cfg = helper_config(args);
    if (cfg.passthrough()) throw ConfigError("no remote_root is configured for " + cfg.root + ": nothing to do");
  } catch (const std::exception& e) {
    helper::tell(opt.ready_fd, std::string(helper::kError) + e.what());
    throw;
  }
  if (!args.has("foreground")) detach();
  LogFile log{StateDir(cfg)};
  return helper::run(cfg, opt, [&](bool error, const std::string& msg) { log(error, msg); });
}

}  // namespace fractfs::cli
