// A validated Config in a compact text form. The first process of an app
// (or fractfs-run) passes it to its children in FRACTFS_INTERNAL_CONFIG, so
// a process start under the shim does not read, parse and validate the
// configuration again: one app session keeps one configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "resolver/config.hpp"

namespace fractfs {

inline constexpr const char* kSnapshotVar = "FRACTFS_INTERNAL_CONFIG";

std::string to_snapshot(const Config& cfg);

// std::nullopt if `text` is not a snapshot of this format version.
std::optional<Config> from_snapshot(std::string_view text);

}  // namespace fractfs
