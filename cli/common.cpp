#include <cstdio>

#include "cli/commands.hpp"

namespace fractfs::cli {

void print_error(const std::string& msg) { std::fprintf(stderr, "fractfs: error: %s\n", msg.c_str()); }

Config load_for_cli(const Args& args) {
  LoadOptions opts;
  opts.root = args.get("root");
  Config cfg = load_config(opts);
  for (const std::string& w : cfg.warnings) std::fprintf(stderr, "fractfs: warning: %s\n", w.c_str());
  return cfg;
}

}  // namespace fractfs::cli
