#include "cli/sync_cli.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "sync/state_dir.hpp"
#include "sync/sys.hpp"

namespace fractfs::cli {

std::unique_ptr<Engine> open_engine(const Args& args) {
  Config cfg = load_for_cli(args);
  if (cfg.passthrough())
    throw ConfigError("no remote_root is configured for " + cfg.root + ": passthrough mode, nothing is checkpointed");
  return std::make_unique<Engine>(std::move(cfg));
}

long holder_pid(const StateDir& state) {
  std::string path = state.path("holder.lock");
  if (!lock_is_held(path)) return 0;
  std::string text;
  if (sys::read_file(path, text) != 0) return 0;
  return std::strtol(text.c_str(), nullptr, 10);
}

std::string when(std::int64_t ns) {
  if (ns <= 0) return "never";
  double ago = static_cast<double>(sys::now_ns() - ns) / 1e9;
  std::string rel = ago < 90       ? fmt::format("{:.0f} s ago", ago)
                    : ago < 5400   ? fmt::format("{:.0f} min ago", ago / 60)
                    : ago < 172800 ? fmt::format("{:.1f} h ago", ago / 3600)
                                   : fmt::format("{:.1f} days ago", ago / 86400);
  return sys::utc_time(ns) + " (" + rel + ")";
}

}  // namespace fractfs::cli
