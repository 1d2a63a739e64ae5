// What the sync commands (status, sync, restore, log) share: the engine of
// a configured root, the holder's pid, and wording of times and sizes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cli/args.hpp"
#include "sync/engine.hpp"

namespace fractfs::cli {

// The engine for --root; a passthrough configuration is an error here.
std::unique_ptr<Engine> open_engine(const Args& args);

// The holder's pid from holder.lock, or 0 when nobody holds it.
long holder_pid(const StateDir& state);

// "2026-11-21T20:14:03Z (3 min ago)".
std::string when(std::int64_t ns);

}  // namespace fractfs::cli
