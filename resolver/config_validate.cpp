// Validation of a loaded configuration. Every error names the place the bad
// value came from: FILE:LINE:COL, a variable, or "default".
#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>

#include <cmath>

#include "resolver/config_internal.hpp"
#include "resolver/path.hpp"
#include "resolver/resolver.hpp"

namespace fractfs {
namespace {

// A clean relative directory path ("a/b"), or an explanation of what is wrong.
std::string clean_relative(std::string_view s, std::string& why) {
  if (s.empty()) {
    why = "is empty";
    return {};
  }
  if (s[0] == '/') {
    why = "must be relative to the app root, not absolute";
    return {};
  }
  if (path::has_dotdot(s)) {
    why = "must not contain '..'";
    return {};
  }
  std::string out = path::normalized("/", s).substr(1);
  if (out.empty()) why = "names the app root itself; name a sub-directory";
  return out;
}

// realpath() of p, or of its deepest existing ancestor with the rest
// appended: a path that does not exist yet may still lead, through a
// symlink above it, into the app root.
std::string real_or_same(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf)) return buf;
  std::string_view parent = path::dirname(p);
  if (parent.empty() || parent == p) return p;
  std::string base = real_or_same(std::string(parent));
  std::string_view name = path::basename(p);
  return base == "/" ? "/" + std::string(name) : base + "/" + std::string(name);
}

class Validator {
 public:
  Validator(Config& c, bool thorough) : cfg_(c), thorough_(thorough) {}

  void run() {
    numbers();
    cfg_.checkpoint_subdir = relative_key("checkpoint_subdir", cfg_.checkpoint_subdir);
    cfg_.scratch = absolute_key("scratch", cfg_.scratch);
    // Without a remote store nothing is tracked: a root of / or /tmp with no
    // configuration at all must not fail on the default scratch.
    if (!cfg_.remote_root.empty()) not_inside_root("scratch", cfg_.scratch, "fractfs would track its own state");
    remote();
    dirs();
    overridden_dirs();
  }

 private:
  std::string origin(std::string_view key) const {
    auto it = cfg_.origins.find(std::string(key));
    return it == cfg_.origins.end() ? "default" : it->second;
  }
  [[noreturn]] void fail(std::string_view key, std::string_view msg) const {
    throw ConfigError(fmt::format("{}: {}", origin(key), msg));
  }

  void numbers() const {
    if (!std::isfinite(cfg_.sync_interval) || cfg_.sync_interval < 0)
      fail("sync_interval", fmt::format("sync_interval must be >= 0 seconds, got {}", cfg_.sync_interval));
    if (!std::isfinite(cfg_.exit_timeout) || cfg_.exit_timeout < 0)
      fail("exit_timeout", fmt::format("exit_timeout must be >= 0 seconds, got {}", cfg_.exit_timeout));
    if (!std::isfinite(cfg_.lease_seconds) || cfg_.lease_seconds < 0 ||
        (cfg_.lease_seconds > 0 && cfg_.lease_seconds < 3))
      fail("lease_seconds",
           fmt::format("lease_seconds must be 0 (no lease) or >= 3 seconds, got {}", cfg_.lease_seconds));
    for (char c : cfg_.node_id)
      if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
        fail("node_id", "a node id has no spaces or control characters: '" + cfg_.node_id + "'");
    if (cfg_.keep_generations < 1)
      fail("keep_generations", fmt::format("keep_generations must be >= 1, got {}", cfg_.keep_generations));
    if (cfg_.reconcile_every < 0)
      fail("reconcile_every", fmt::format("reconcile_every must be >= 0, got {}", cfg_.reconcile_every));
    if (cfg_.max_parallel < 1 || cfg_.max_parallel > 64)
      fail("max_parallel", fmt::format("max_parallel must be between 1 and 64, got {}", cfg_.max_parallel));
  }

  // A path with a NUL byte would be cut short at it by every system call.
  void no_nul(std::string_view key, const std::string& value) const {
    if (value.find('\0') != std::string::npos)
      fail(key, fmt::format("{} '{}' contains a NUL byte", key, std::string_view(value.c_str())));
  }

  std::string relative_key(std::string_view key, const std::string& value) const {
    no_nul(key, value);
    std::string why;
    std::string out = clean_relative(value, why);
    if (!why.empty()) fail(key, fmt::format("{} '{}' {}", key, value, why));
    return out;
  }

  std::string absolute_key(std::string_view key, const std::string& value) const {
    no_nul(key, value);
    if (value.empty() || value[0] != '/') fail(key, fmt::format("{} '{}' must be an absolute path", key, value));
    return path::normalized("/", value);
  }

  std::string real(const std::string& p) const { return thorough_ ? real_or_same(p) : p; }

  void not_inside_root(std::string_view key, const std::string& p, std::string_view why) const {
    std::string real = this->real(p);
    const std::string& root_real = cfg_.root_real.empty() ? cfg_.root : cfg_.root_real;
    if (path::contains(cfg_.root, p) || path::contains(root_real, real))
      fail(key, fmt::format("{} '{}' is inside the app root '{}': {}", key, p, cfg_.root, why));
  }

  void remote() {
    if (cfg_.remote_root.empty()) {
      cfg_.warnings.push_back("no remote_root is configured: passthrough mode, nothing is redirected or checkpointed");
      return;
    }
    no_nul("remote_root", cfg_.remote_root);
    if (cfg_.backend == Backend::s3) return s3();
    if (cfg_.backend == Backend::webdav) return webdav();
    if (cfg_.remote_root.find("://") != std::string::npos)
      fail("remote_root", fmt::format("remote_root '{}' is a URL, but backend is \"mount\": set backend = \"{}\"",
                                      cfg_.remote_root, cfg_.remote_root.starts_with("s3://") ? "s3" : "webdav"));
    cfg_.remote_root = absolute_key("remote_root", cfg_.remote_root);
    not_inside_root("remote_root", cfg_.remote_root, "it would redirect into itself");
    std::string real = this->real(cfg_.remote_root);
    if (path::contains(cfg_.remote_root, cfg_.root) || path::contains(real, cfg_.root))
      fail("remote_root", fmt::format("the app root '{}' is inside remote_root '{}': they must not overlap", cfg_.root,
                                      cfg_.remote_root));
  }

  void s3() const {
    std::string_view r = cfg_.remote_root;
    if (!r.starts_with("s3://"))
      fail("remote_root", fmt::format("remote_root '{}' must be s3://BUCKET[/PREFIX] for backend 's3'", r));
    std::string_view bucket = r.substr(5, r.find('/', 5) == std::string_view::npos ? r.npos : r.find('/', 5) - 5);
    bool ok = bucket.size() >= 3 && bucket.size() <= 63 &&
              bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") == std::string_view::npos;
    if (!ok)
      fail("remote_root", fmt::format("remote_root '{}': '{}' is not a bucket name (3 to 63 lower-case letters, "
                                      "digits, '.', '-')",
                                      r, bucket));
    if (r.find("//", 5) != std::string_view::npos || r.find("/../") != std::string_view::npos || r.ends_with("/.."))
      fail("remote_root", fmt::format("remote_root '{}': the prefix must not contain '//' or '..'", r));
    const std::string& e = cfg_.s3_endpoint;
    if (!e.empty() && !(e.starts_with("http://") || e.starts_with("https://")))
      fail("s3_endpoint", fmt::format("s3_endpoint '{}' must be an http:// or https:// URL", e));
    const std::string& a = cfg_.s3_addressing;
    if (!a.empty() && a != "path" && a != "virtual")
      fail("s3_addressing", fmt::format("s3_addressing must be \"path\" or \"virtual\", got '{}'", a));
    no_dirs();
  }

  void webdav() const {
    const std::string& r = cfg_.remote_root;
    bool http = r.starts_with("http://") || r.starts_with("https://");
    if (!http || r.size() <= r.find("://") + 3 || r[r.find("://") + 3] == '/')
      fail("remote_root", fmt::format("remote_root '{}' must be an http:// or https:// URL for backend 'webdav'", r));
    no_dirs();
  }

  // Remote-tier directories on an object store are a later issue.
  void no_dirs() const {
    if (cfg_.dirs.empty()) return;
    const ConfigEntry& d = cfg_.dirs.front();
    throw ConfigError(
        fmt::format("{}: [dirs] path '{}': backend '{}' cannot hold remote-tier directories yet; "
                    "remove [dirs] (checkpoints still work) or use backend = \"mount\"",
                    d.origin, d.text, backend_name(cfg_.backend)));
  }

  void dirs() {
    for (ConfigEntry& d : cfg_.dirs) {
      std::string why;
      std::string clean =
          d.text.find('\0') != std::string::npos ? (why = "contains a NUL byte", "") : clean_relative(d.text, why);
      if (!why.empty())
        throw ConfigError(fmt::format("{}: [dirs] path '{}' {}", d.origin, std::string_view(d.text.c_str()), why));
      if (clean == ".fractfs.toml")
        throw ConfigError(
            fmt::format("{}: [dirs] path '{}' names the configuration file; list directories", d.origin, d.text));
      d.text = clean;
    }
    for (std::size_t i = 0; i < cfg_.dirs.size(); ++i) {
      for (std::size_t j = 0; j < cfg_.dirs.size(); ++j) {
        if (i == j) continue;
        const ConfigEntry &a = cfg_.dirs[i], &b = cfg_.dirs[j];
        if (a.text == b.text && i < j)
          throw ConfigError(
              fmt::format("{}: [dirs] path '{}' is listed twice (also at {})", b.origin, b.text, a.origin));
        if (path::is_ancestor("/" + a.text, "/" + b.text))
          throw ConfigError(fmt::format("{}: [dirs] path '{}' is nested inside '{}' ({}); list only the outer one",
                                        b.origin, b.text, a.text, a.origin));
      }
      const ConfigEntry& d = cfg_.dirs[i];
      if (path::contains("/" + d.text, "/" + cfg_.checkpoint_subdir) ||
          path::contains("/" + cfg_.checkpoint_subdir, "/" + d.text))
        throw ConfigError(fmt::format("{}: [dirs] path '{}' overlaps checkpoint_subdir '{}' in the remote store",
                                      d.origin, d.text, cfg_.checkpoint_subdir));
    }
  }

  // A [dirs] path that a [local] or [ignore] pattern keeps local as a
  // whole sends nothing to the remote store: almost surely a mistake.
  void overridden_dirs() {
    if (cfg_.remote_root.empty() || cfg_.dirs.empty()) return;
    Resolver r(cfg_);
    for (const ConfigEntry& d : cfg_.dirs) {
      Decision dec = r.decide(d.text, true);
      if (dec.tier == Tier::remote) continue;
      cfg_.warnings.push_back(
          fmt::format("{}: [dirs] path '{}' is kept local as a whole by {}: nothing of it goes "
                      "to the remote store",
                      d.origin, d.text, r.describe(dec, d.text)));
    }
  }

  Config& cfg_;
  bool thorough_;
};

}  // namespace

void validate(Config& cfg, bool thorough) { Validator(cfg, thorough).run(); }

}  // namespace fractfs
