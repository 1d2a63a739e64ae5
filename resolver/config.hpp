// fractfs configuration: `.fractfs.toml` at the app root, then FRACTFS_*
// environment overrides, validated. Compatible with the Python fractfs 0.2.1
// package's file and variables.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fractfs {

enum class Backend { mount, s3, webdav };
std::string_view backend_name(Backend b) noexcept;

// A configuration problem. what() names the file:line:column or variable.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConfigEntry {
  std::string text;    // a [dirs] path (normalized) or one pattern line
  std::string origin;  // "FILE:LINE:COL" or a variable name
};

struct Config {
  std::string root;       // absolute, lexically normalized app root
  std::string root_real;  // realpath(root) when it differs, else empty
  std::string file;       // the config file read ("" if there was none)

  Backend backend = Backend::mount;
  std::string remote_root;  // "" means passthrough: nothing redirected or checkpointed
  std::string scratch = "/tmp/fractfs";
  double sync_interval = 300;  // seconds; 0 disables the timer
  // Seconds an app's exit waits at most for its final checkpoint (the
  // store may be slow or gone); what is not saved then is said (exit 75).
  double exit_timeout = 60;
  // The node lease's term in seconds (0: no lease); renewed every third.
  double lease_seconds = 30;
  std::string node_id;     // FRACTFS_NODE_ID ("": the host name)
  bool take_over = false;  // FRACTFS_TAKE_OVER / fractfs-run --take-over: take the lease whoever holds it
  std::string checkpoint_subdir = "_checkpoint";
  bool content_hash = false;
  bool auto_ignore_bundle = true;
  long keep_generations = 3;
  long reconcile_every = 12;
  // Object stores (backend s3 / webdav).
  long max_parallel = 8;      // transfers in flight
  std::string s3_endpoint;    // "" means AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then AWS by region
  std::string s3_addressing;  // "path", "virtual", or "" (path for a custom endpoint, else virtual)

  std::vector<ConfigEntry> dirs;
  std::vector<ConfigEntry> ignore;
  std::vector<ConfigEntry> local;

  std::map<std::string, std::string> origins;  // key -> where its value came from
  std::vector<std::string> warnings;           // unknown keys and the like

  bool passthrough() const noexcept { return remote_root.empty(); }
};

struct LoadOptions {
  std::string root;      // --root; "" means FRACTFS_ROOT, then the nearest
                         // directory from the cwd up holding .fractfs.toml, then the cwd
  char** env = nullptr;  // nullptr means the process environment
  // Also catch overlaps hidden by symlinks (resolving paths costs system
  // calls: the preloaded library skips it, fractfs-run has checked).
  bool thorough = true;
};

// Reads, overrides and validates. Throws ConfigError.
Config load_config(const LoadOptions& opts = {});

// The effective configuration as TOML, with a comment header naming where
// each non-default value came from.
std::string to_toml(const Config& cfg);

}  // namespace fractfs
