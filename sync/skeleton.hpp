// The namespace skeleton: both halves of every [dirs] root exist, so
// listings of their parents and files created right below them need no
// special case. Done by whoever starts an app (fractfs-run, or the first
// process under a bare LD_PRELOAD); the shim also recreates them on demand.
//
// The remote store itself is never created by starting an app: a missing
// remote_root most often means the durable mount did not come up, and
// starting on an empty store would write the app's state onto the node's
// disk. `fractfs init` creates it, once, when the user asks.
#pragma once

#include "resolver/config.hpp"

namespace fractfs {

// Throws ConfigError naming remote_root (mount backend) when it is not an
// existing directory. Nothing to check in passthrough.
void require_remote_root(const Config& cfg);

// Both halves of every [dirs] root; never remote_root itself.
void prepare_skeleton(const Config& cfg) noexcept;

// Creates remote_root (and parents) if missing. True if it created it.
// Throws std::runtime_error when it cannot.
bool create_remote_root(const Config& cfg);

}  // namespace fractfs
