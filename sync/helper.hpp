// The helper process: one per app root and node, for apps started with a
// bare LD_PRELOAD (fractfs-run plays this part itself). The shim in the
// app's first process starts it (`fractfs helper`) and nothing slow or
// risky runs inside the app: the helper prepares the layout, restores the
// last checkpoint, reads the app's files for checkpoints (so no descriptor
// of ours in an app process can release the app's POSIX locks), talks to
// the store, and answers `fractfs sync`. It checkpoints for as long as any
// process of the app runs (sync/presence), once more when the last one is
// gone, and then exits.
#pragma once

#include <string_view>

#include "sync/holder.hpp"

namespace fractfs::helper {

// What the helper tells its starter on the ready descriptor, a line each:
// messages for the app's log ("info TEXT", "warn TEXT"), then "ready",
// "busy" (another helper serves this root) or "error MESSAGE" (nothing may
// run: the layout or the restore failed); then it closes the descriptor.
inline constexpr std::string_view kReady = "ready";
inline constexpr std::string_view kBusy = "busy";
inline constexpr std::string_view kError = "error ";
inline constexpr std::string_view kInfo = "info ";
inline constexpr std::string_view kWarn = "warn ";

// Writes `line` on `fd` and closes it (fd becomes -1); nothing when fd < 0.
void tell(int& fd, std::string_view line) noexcept;
// Writes a message line (kInfo or kWarn, then the text) and keeps `fd` open.
void note(int fd, std::string_view kind, std::string_view text) noexcept;

struct Options {
  int ready_fd = -1;  // closed once the app may run; -1: none
  // Seconds with no app process before the final checkpoint: a program
  // being exec'd holds no presence lock until its constructor runs.
  double grace = 0.25;
};

// Runs the helper for `cfg`'s root until the app is gone. Returns the exit
// status.
int run(const Config& cfg, const Options& opt, const Holder::Logger& log);

}  // namespace fractfs::helper
