#include "resolver/config_env.hpp"

#include <cctype>

extern char** environ;

namespace fractfs {
namespace {

constexpr std::string_view kUpper = "FRACTFS_";
constexpr std::string_view kLower = "fractfs_";

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

const std::vector<std::string_view>& known_env_suffixes() {
  static const std::vector<std::string_view> kKnown = {
      "BACKEND",
      "REMOTE_ROOT",
      "VOLUME_ROOT",
      "SCRATCH",
      "SYNC_INTERVAL",
      "EXIT_TIMEOUT",
      "CHECKPOINT_SUBDIR",
      "CONTENT_HASH",
      "AUTO_IGNORE_BUNDLE",
      "KEEP_GENERATIONS",
      "RECONCILE_EVERY",
      "ROOT",
      "CONFIG",
      "LOG",
      "LOG_FILE",
      "HALF_TRACE",
      "HALF_FAULT",
      "LIB",
      "ON_ERROR",
      "MAX_PARALLEL",
      "S3_ENDPOINT",
      "S3_ADDRESSING",
      "LEASE_SECONDS",
      "NODE_ID",
      "TAKE_OVER",
      "HTTP_USER",
      "HTTP_PASSWORD",
      "HTTP_BEARER",
  };
  return kKnown;
}

// Only FRACTFS_* / fractfs_* entries are kept: every lookup scans them.
Env::Env(char** env) {
  for (char** e = env ? env : environ; e && *e; ++e) {
    std::string_view v(*e);
    if (v.size() > kUpper.size() && (v.starts_with(kUpper) || v.starts_with(kLower))) vars_.push_back(v);
  }
}

std::optional<EnvValue> Env::get(std::string_view name) {
  std::optional<EnvValue> upper, lower;
  for (std::string_view v : vars_) {
    std::size_t eq = v.find('=');
    if (eq == std::string_view::npos || eq + 1 == v.size()) continue;
    std::string_view key = v.substr(0, eq);
    if (key.size() != kUpper.size() + name.size()) continue;
    bool is_upper = key.starts_with(kUpper) && key.substr(kUpper.size()) == name;
    bool is_lower = key.starts_with(kLower) && iequal(key.substr(kLower.size()), name) && !is_upper;
    if (is_upper) upper = EnvValue{std::string(key), std::string(v.substr(eq + 1))};
    if (is_lower) lower = EnvValue{std::string(key), std::string(v.substr(eq + 1))};
  }
  if (upper && lower && upper->value != lower->value)
    warnings.push_back(upper->name + " and " + lower->name + " differ; using " + upper->name);
  return upper ? upper : lower;
}

std::vector<std::string> Env::unknown(const std::vector<std::string_view>& known) const {
  std::vector<std::string> out;
  for (std::string_view v : vars_) {
    std::string_view key = v.substr(0, v.find('='));
    bool ours = key.starts_with(kUpper) || key.starts_with(kLower);
    if (!ours || key.size() == kUpper.size()) continue;
    std::string_view suffix = key.substr(kUpper.size());
    if (suffix.starts_with("INTERNAL_")) continue;  // set by fractfs itself
    bool found = false;
    for (std::string_view k : known) found |= iequal(suffix, k);
    if (!found) out.emplace_back(key);
  }
  return out;
}

}  // namespace fractfs
