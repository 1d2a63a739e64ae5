// Tiers and the decision record the resolver returns for a path.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fractfs {

enum class Tier : std::uint8_t {
  remote,         // under a [dirs] path: lives in the remote store
  local_synced,   // node-local and checkpointed (the default)
  local_ignored,  // node-local, never checkpointed
  outside,        // not under the app root: fractfs leaves it alone
};

constexpr std::string_view tier_name(Tier t) noexcept {
  switch (t) {
    case Tier::remote: return "remote";
    case Tier::local_synced: return "local_synced";
    case Tier::local_ignored: return "local_ignored";
    case Tier::outside: return "outside";
  }
  return "?";
}

std::optional<Tier> tier_from_name(std::string_view name) noexcept;

// Which rule decided a path's tier.
enum class Rule : std::uint8_t { ignore, local, dirs, fallback, outside };

struct Decision {
  Tier tier = Tier::local_synced;
  Rule rule = Rule::fallback;
  int index = -1;               // pattern index ([ignore]/[local]) or [dirs] index
  std::uint16_t owner_len = 0;  // >0: decided as a sidecar of path[0, owner_len)
  bool operator==(const Decision&) const = default;
};

}  // namespace fractfs
