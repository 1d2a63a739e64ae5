#include "shim/track.hpp"

namespace fractfs::shim::track {

// The checkpoint journal is not part of this build yet: nothing records.
void changed(const Target&) noexcept {}
void removed(const Target&) noexcept {}
void closed(std::string_view) noexcept {}

}  // namespace fractfs::shim::track
