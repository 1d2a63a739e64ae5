// After a remote-tier directory was renamed as a whole, entries whose tier
// changed with their new path are moved to the half that tier names.
#pragma once

#include "shim/mapping.hpp"

namespace fractfs::shim {

// 0, or -1 with errno.
int settle_tree(const Target& dir) noexcept;

}  // namespace fractfs::shim
