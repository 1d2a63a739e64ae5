#include <cstdio>

#include "cli/commands.hpp"

namespace fractfs::cli {

namespace {
const char* g_program = "fractfs";
}  // namespace

void set_program_name(const char* name) { g_program = name; }

void print_error(const std::string& msg) { std::fprintf(stderr, "%s: error: %s\n", g_program, msg.c_str()); }

Config load_for_cli(const Args& args) {
  LoadOptions opts;
  opts.root = args.get("root");
  Config cfg = load_config(opts);
  for (const std::string& w : cfg.warnings) std::fprintf(stderr, "%s: warning: %s\n", g_program, w.c_str());
  return cfg;
}

}  // namespace fractfs::cli
