// load_config(): root discovery, file, environment, validation.
#include "resolver/config.hpp"

#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "resolver/config_env.hpp"
#include "resolver/config_internal.hpp"
#include "resolver/path.hpp"

namespace fractfs {

std::string_view backend_name(Backend b) noexcept {
  switch (b) {
    case Backend::mount: return "mount";
    case Backend::s3: return "s3";
    case Backend::webdav: return "webdav";
  }
  return "?";
}

Backend parse_backend(std::string_view v, std::string_view where) {
  if (v == "mount") return Backend::mount;
  if (v == "s3" || v == "fsspec") return Backend::s3;
  if (v == "webdav") return Backend::webdav;
  throw ConfigError(fmt::format("{}: unknown backend '{}' (expected mount, s3, fsspec or webdav)", where, v));
}

std::string_view closest(std::string_view word, std::span<const std::string_view> known) {
  std::string_view best;
  std::size_t best_d = 3;
  for (std::string_view k : known) {
    // Levenshtein distance, one row at a time.
    std::vector<std::size_t> row(k.size() + 1);
    for (std::size_t j = 0; j <= k.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= k.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (word[i - 1] == k[j - 1] ? 0u : 1u)});
        diag = up;
      }
    }
    if (row[k.size()] < best_d) best_d = row[k.size()], best = k;
  }
  return best;
}

namespace {

std::string current_dir() {
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) throw ConfigError("cannot determine the current directory");
  return buf;
}

// The nearest directory from the cwd upwards holding .fractfs.toml, like git
// finds its work tree; the cwd itself when there is none.
std::string discover_root(const std::string& cwd, std::string& origin) {
  for (std::string dir = cwd;; dir = std::string(path::dirname(dir))) {
    if (::access((dir == "/" ? "/.fractfs.toml" : dir + "/.fractfs.toml").c_str(), F_OK) == 0) {
      origin = dir == cwd ? "the current directory" : "the nearest .fractfs.toml";
      return dir;
    }
    if (dir == "/") break;
  }
  origin = "the current directory";
  return cwd;
}

void find_root(const LoadOptions& opts, Env& env, Config& cfg) {
  std::string given = opts.root;
  std::string origin = "--root";
  if (given.empty()) {
    if (auto v = env.get("ROOT")) given = v->value, origin = v->name;
  }
  bool discovered = given.empty();
  std::string cwd = current_dir();
  if (discovered) given = discover_root(cwd, origin);
  cfg.root = path::normalized(cwd, given);
  cfg.origins["root"] = origin;
  // The kernel's getcwd names a directory, canonically: an app started in
  // its root (the usual case) costs no more system calls.
  if (cfg.root == cwd) return;
  struct stat st;
  if (::stat(cfg.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw ConfigError(fmt::format("{}: app root '{}' is not a directory", origin, cfg.root));
  // A root found above the cwd is canonical already (a prefix of getcwd's).
  char buf[PATH_MAX];
  if (!discovered && ::realpath(cfg.root.c_str(), buf) && cfg.root != buf) cfg.root_real = buf;
}

void find_file(Env& env, Config& cfg) {
  if (auto v = env.get("CONFIG")) {
    cfg.file = path::normalized(current_dir(), v->value);
    if (::access(cfg.file.c_str(), R_OK) != 0)
      throw ConfigError(fmt::format("{}: cannot read config file '{}'", v->name, cfg.file));
    return;
  }
  std::string candidate = cfg.root + "/.fractfs.toml";
  if (::access(candidate.c_str(), F_OK) == 0) cfg.file = candidate;
}

}  // namespace

Config load_config(const LoadOptions& opts) {
  Config cfg;
  Env env(opts.env);
  find_root(opts, env, cfg);
  find_file(env, cfg);
  if (!cfg.file.empty()) read_config_file(cfg.file, cfg);
  apply_env(env, cfg);
  validate(cfg, opts.thorough);
  return cfg;
}

}  // namespace fractfs
