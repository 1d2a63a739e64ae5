// Pieces shared by the config loader's translation units.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

#include "resolver/config.hpp"

namespace fractfs {

// Top-level scalar keys of .fractfs.toml ("volume_root" is the old name of
// "remote_root", still accepted). An array: nothing to build at load time,
// in every process the library is loaded into.
inline constexpr std::array<std::string_view, 15> kScalarKeys = {
    "backend",          "remote_root",     "volume_root",       "scratch",      "sync_interval",
    "exit_timeout",     "lease_seconds",   "checkpoint_subdir", "content_hash", "auto_ignore_bundle",
    "keep_generations", "reconcile_every", "max_parallel",      "s3_endpoint",  "s3_addressing",
};

// "mount", "s3" (alias "fsspec") or "webdav"; `where` prefixes the error.
Backend parse_backend(std::string_view v, std::string_view where);

// The entry of `known` nearest to `word` (edit distance <= 2), or "".
std::string_view closest(std::string_view word, std::span<const std::string_view> known);

void read_config_file(const std::string& file, Config& cfg);
void apply_env(class Env& env, Config& cfg);
void validate(Config& cfg, bool thorough);

}  // namespace fractfs
