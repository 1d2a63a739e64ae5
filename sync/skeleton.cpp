#include "sync/skeleton.hpp"

#include "sync/fileops.hpp"

namespace fractfs {

void prepare_skeleton(const Config& cfg) noexcept {
  if (cfg.passthrough() || cfg.backend != Backend::mount) return;
  try {
    for (const ConfigEntry& d : cfg.dirs) {
      fileops::make_dirs(cfg.root + "/" + d.text, 0755);
      fileops::make_dirs(cfg.remote_root + "/" + d.text, 0755);
    }
  } catch (...) {
    // Best effort: the shim creates missing halves on demand.
  }
}

}  // namespace fractfs
