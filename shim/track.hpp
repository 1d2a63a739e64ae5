// Change tracking: the operations report every change to a path inside the
// root here, for the checkpoint journal. Calls are cheap and never fail.
#pragma once

#include <string_view>

#include "shim/mapping.hpp"

namespace fractfs::shim::track {

// `t` was created, opened for writing, truncated, or had its metadata changed.
void changed(const Target& t) noexcept;
// `t` was removed.
void removed(const Target& t) noexcept;
// A descriptor opened for writing on `vpath` was closed.
void closed(std::string_view vpath) noexcept;

}  // namespace fractfs::shim::track
