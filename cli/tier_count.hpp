// Files and bytes per tier, counted by walking the root and the remote
// halves of the [dirs] trees (for `fractfs status`).
#pragma once

#include <cstdint>

namespace fractfs {
class Engine;
}

namespace fractfs::cli {

struct TierCounts {
  struct Tally {
    std::uint64_t files = 0, bytes = 0;
  };
  Tally local_synced, local_ignored, remote, bundle;
};

TierCounts count_tiers(const Engine& engine);

}  // namespace fractfs::cli
