// FRACTFS_* environment overrides for every scalar setting.
#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "resolver/config_env.hpp"
#include "resolver/config_internal.hpp"

namespace fractfs {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parse_bool(const EnvValue& v) {
  std::string s = lower(v.value);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw ConfigError(fmt::format("{}: expected true/false (or 1/0, yes/no, on/off), got '{}'", v.name, v.value));
}

double parse_number(const EnvValue& v) {
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(v.value.c_str(), &end);
  if (errno || end == v.value.c_str() || *end != '\0' || !std::isfinite(d))
    throw ConfigError(fmt::format("{}: expected a number, got '{}'", v.name, v.value));
  return d;
}

long parse_integer(const EnvValue& v) {
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(v.value.c_str(), &end, 10);
  if (errno || end == v.value.c_str() || *end != '\0')
    throw ConfigError(fmt::format("{}: expected an integer, got '{}'", v.name, v.value));
  return n;
}

}  // namespace

void apply_env(Env& env, Config& cfg) {
  auto take = [&](std::string_view suffix, std::string_view key, auto apply) {
    if (auto v = env.get(suffix)) {
      apply(*v);
      cfg.origins[std::string(key)] = v->name;
    }
  };
  take("BACKEND", "backend", [&](const EnvValue& v) { cfg.backend = parse_backend(v.value, v.name); });
  take("VOLUME_ROOT", "remote_root", [&](const EnvValue& v) { cfg.remote_root = v.value; });
  take("REMOTE_ROOT", "remote_root", [&](const EnvValue& v) { cfg.remote_root = v.value; });
  take("SCRATCH", "scratch", [&](const EnvValue& v) { cfg.scratch = v.value; });
  take("SYNC_INTERVAL", "sync_interval", [&](const EnvValue& v) { cfg.sync_interval = parse_number(v); });
  take("EXIT_TIMEOUT", "exit_timeout", [&](const EnvValue& v) { cfg.exit_timeout = parse_number(v); });
  take("LEASE_SECONDS", "lease_seconds", [&](const EnvValue& v) { cfg.lease_seconds = parse_number(v); });
  take("NODE_ID", "node_id", [&](const EnvValue& v) { cfg.node_id = v.value; });
  take("TAKE_OVER", "take_over", [&](const EnvValue& v) { cfg.take_over = parse_bool(v); });
  take("CHECKPOINT_SUBDIR", "checkpoint_subdir", [&](const EnvValue& v) { cfg.checkpoint_subdir = v.value; });
  take("CONTENT_HASH", "content_hash", [&](const EnvValue& v) { cfg.content_hash = parse_bool(v); });
  take("AUTO_IGNORE_BUNDLE", "auto_ignore_bundle", [&](const EnvValue& v) { cfg.auto_ignore_bundle = parse_bool(v); });
  take("KEEP_GENERATIONS", "keep_generations", [&](const EnvValue& v) { cfg.keep_generations = parse_integer(v); });
  take("RECONCILE_EVERY", "reconcile_every", [&](const EnvValue& v) { cfg.reconcile_every = parse_integer(v); });
  // Read by the preloaded library itself; checked here so a mistake is
  // said where every other one is, instead of logging at the wrong level
  // or nowhere.
  if (auto v = env.get("LOG")) {
    std::string l = lower(v->value);
    if (l != "error" && l != "warn" && l != "warning" && l != "info" && l != "debug")
      throw ConfigError(
          fmt::format("{}: unknown log level '{}' (expected error, warn, info or debug)", v->name, v->value));
  }
  if (auto v = env.get("LOG_FILE")) {
    int fd = ::open(v->value.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      throw ConfigError(fmt::format("{}: cannot write the log file '{}': {}", v->name, v->value, std::strerror(errno)));
    ::close(fd);
  }
  take("MAX_PARALLEL", "max_parallel", [&](const EnvValue& v) { cfg.max_parallel = parse_integer(v); });
  take("S3_ENDPOINT", "s3_endpoint", [&](const EnvValue& v) { cfg.s3_endpoint = v.value; });
  take("S3_ADDRESSING", "s3_addressing", [&](const EnvValue& v) { cfg.s3_addressing = v.value; });
  for (const std::string& name : env.unknown(known_env_suffixes())) {
    std::string msg = fmt::format("{}: unknown fractfs variable is ignored", name);
    std::string_view suffix = std::string_view(name).substr(8);
    std::string upper(suffix);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (auto near = closest(upper, known_env_suffixes()); !near.empty())
      msg += fmt::format(" (did you mean FRACTFS_{}?)", near);
    cfg.warnings.push_back(msg);
  }
  for (auto& w : env.warnings) cfg.warnings.push_back(std::move(w));
}

}  // namespace fractfs
