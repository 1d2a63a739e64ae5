// The namespace skeleton: both halves of every [dirs] root exist, so
// listings of their parents and files created right below them need no
// special case. Done by whoever starts an app (fractfs-run, or the first
// process under a bare LD_PRELOAD); the shim also recreates them on demand.
#pragma once

#include "resolver/config.hpp"

namespace fractfs {

void prepare_skeleton(const Config& cfg) noexcept;

}  // namespace fractfs
