#include "sync/skeleton.hpp"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <stdexcept>

#include <fmt/format.h>

#include "resolver/remote_place.hpp"
#include "sync/fileops.hpp"

namespace fractfs {
namespace {

bool mounted_store(const Config& cfg) { return !cfg.passthrough() && cfg.backend == Backend::mount; }

std::string origin_of(const Config& cfg) {
  auto it = cfg.origins.find("remote_root");
  return it == cfg.origins.end() ? "remote_root" : it->second;
}

}  // namespace

void require_remote_root(const Config& cfg) {
  if (!mounted_store(cfg)) return;
  struct stat st;
  if (::stat(cfg.remote_root.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return;
    throw ConfigError(fmt::format("{}: remote_root '{}' is not a directory", origin_of(cfg), cfg.remote_root));
  }
  int err = errno;
  if (err != ENOENT && err != ENOTDIR)
    throw ConfigError(fmt::format("{}: remote_root '{}': {}", origin_of(cfg), cfg.remote_root, strerror(err)));
  throw ConfigError(fmt::format(
      "{}: remote_root '{}' does not exist. Is the durable store mounted? fractfs does not create it when an app "
      "starts (the app would run on an empty state, written to this node's disk); to start a new store, run "
      "'fractfs init' once",
      origin_of(cfg), cfg.remote_root));
}

void prepare_skeleton(const Config& cfg) noexcept {
  if (!mounted_store(cfg)) return;
  try {
    struct stat st;
    bool remote = ::stat(cfg.remote_root.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    for (const ConfigEntry& d : cfg.dirs) {
      fileops::make_dirs(cfg.root + "/" + d.text, 0755);
      if (remote) fileops::make_dirs(remote_place(cfg.remote_root, d.text), 0755);
    }
  } catch (...) {
    // Best effort: the shim creates missing halves on demand.
  }
}

bool create_remote_root(const Config& cfg) {
  if (!mounted_store(cfg)) return false;
  struct stat st;
  if (::stat(cfg.remote_root.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return false;
  if (fileops::make_dirs(cfg.remote_root, 0755) != 0)
    throw std::runtime_error(fmt::format("cannot create remote_root '{}': {}", cfg.remote_root, strerror(errno)));
  return true;
}

}  // namespace fractfs
