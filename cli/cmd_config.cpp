// `fractfs config`: the effective configuration as TOML.
#include <cstdio>

#include "cli/commands.hpp"

namespace fractfs::cli {

int cmd_config(int argc, char** argv) {
  static constexpr const char* kHelp =
      "usage: fractfs config [--root DIR]\n"
      "\n"
      "Prints the effective configuration (.fractfs.toml after FRACTFS_*\n"
      "overrides) as TOML, with comments naming where each value came from.\n"
      "Exits 2 with the error on stderr if the configuration is invalid.\n"
      "\n"
      "  --root DIR  the app root (default: FRACTFS_ROOT, the nearest\n"
      "              .fractfs.toml upwards, then the current directory)\n";
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("config takes no arguments");
  Config cfg = load_for_cli(args);
  std::fputs(to_toml(cfg).c_str(), stdout);
  return kExitOk;
}

}  // namespace fractfs::cli
