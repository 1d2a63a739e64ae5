// `fractfs init`: creates a new remote store, once. Starting an app never
// creates remote_root (a missing one most often means the durable mount
// did not come up); this command is how a user says "this is a new store".
#include <cstdio>

#include "cli/commands.hpp"
#include "sync/skeleton.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs init [--root DIR]\n"
    "\n"
    "Creates remote_root (with its parents) and both halves of every [dirs]\n"
    "path, after checking the configuration. Run it once, when you start a\n"
    "new remote store: fractfs-run, the preloaded library and the other\n"
    "commands refuse to start when remote_root does not exist, rather than\n"
    "run the app on an empty state written to this node's disk. When\n"
    "remote_root exists already, it only says so.\n"
    "\n"
    "  --root DIR  the app root (default: FRACTFS_ROOT, the nearest\n"
    "              .fractfs.toml upwards, then the current directory)\n";

}  // namespace

int cmd_init(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("init takes no arguments");
  Config cfg = load_for_cli(args);
  if (cfg.passthrough()) throw ConfigError("no remote_root is configured: there is no remote store to create");
  if (cfg.backend != Backend::mount)
    throw ConfigError("backend '" + std::string(backend_name(cfg.backend)) + "' is not available in this build");
  bool created = create_remote_root(cfg);
  prepare_skeleton(cfg);
  std::printf(created ? "created remote store %s\n" : "remote store %s exists already\n", cfg.remote_root.c_str());
  return kExitOk;
}

}  // namespace fractfs::cli
