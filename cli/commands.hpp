// The `fractfs` sub-commands. Each one parses its own arguments (after the
// command name) and returns the process exit status.
#pragma once

#include <string>

#include "cli/args.hpp"
#include "resolver/config.hpp"

namespace fractfs::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);  // argv[0] is the command name
};

int cmd_init(int argc, char** argv);
int cmd_check(int argc, char** argv);
int cmd_config(int argc, char** argv);
int cmd_status(int argc, char** argv);
int cmd_sync(int argc, char** argv);
int cmd_restore(int argc, char** argv);
int cmd_log(int argc, char** argv);
int cmd_helper(int argc, char** argv);
int cmd_doctor(int argc, char** argv);

// Loads the configuration for --root (or FRACTFS_ROOT / the cwd) and prints
// its warnings to stderr. Throws ConfigError.
Config load_for_cli(const Args& args);

// Prints "PROGRAM: error: MSG" to stderr ("fractfs" unless set otherwise).
void print_error(const std::string& msg);
void set_program_name(const char* name);

// The --root option every command takes, and --help.
inline const Option kRootOption{"root", 0, true};
inline const Option kHelpOption{"help", 'h', false};

}  // namespace fractfs::cli
