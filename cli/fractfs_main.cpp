// `fractfs`: the command-line front end.
#include <cstdio>
#include <cstring>

#include "cli/commands.hpp"
#include "cli/version.hpp"
#include "sync/net/net.hpp"

namespace fractfs::cli {
namespace {

const Command kCommands[] = {
    {"init", "create the remote store (once, for a new store)", cmd_init},
    {"check", "print the tier of each PATH", cmd_check},
    {"config", "print the effective configuration as TOML", cmd_config},
    {"status", "the checkpoint state: generation, last checkpoint, holder, tiers", cmd_status},
    {"sync", "take a checkpoint now", cmd_sync},
    {"restore", "restore a generation into the root", cmd_restore},
    {"log", "list the generations kept", cmd_log},
    {"helper", "the checkpointing helper libfractfs.so starts (internal)", cmd_helper},
    {"doctor", "check the configuration and the store end to end", cmd_doctor},
};

void usage(std::FILE* out) {
  std::fputs("usage: fractfs COMMAND [--root DIR] [ARGS...]\n\ncommands:\n", out);
  for (const Command& c : kCommands) std::fprintf(out, "  %-8s %s\n", c.name, c.summary);
  std::fputs("\nRun 'fractfs COMMAND --help' for a command's options; 'fractfs --version' for the version.\n", out);
}

}  // namespace
}  // namespace fractfs::cli

int main(int argc, char** argv) {
  using namespace fractfs::cli;
  if (argc < 2) return usage(stderr), kExitUsage;
  fractfs::net::install();
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help"))
    return usage(stdout), kExitOk;
  if (!std::strcmp(argv[1], "--version")) return std::printf("fractfs %s\n", kVersion), kExitOk;
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const UsageError& e) {
      print_error(std::string(e.what()) + " (see 'fractfs " + c.name + " --help')");
      return kExitUsage;
    } catch (const fractfs::ConfigError& e) {
      print_error(e.what());
      return kExitConfig;
    } catch (const std::exception& e) {
      print_error(e.what());
      return kExitFailure;
    }
  }
  print_error(std::string("unknown command '") + argv[1] + "'");
  usage(stderr);
  return kExitUsage;
}
