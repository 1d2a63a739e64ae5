// Where the remote tier's half of a root-relative path physically lives
// while that tier is a mounted directory: REMOTE_ROOT/rel ("" is the remote
// root itself). The one place that spells it: the shim's mount half, the
// adoption of an existing layout, the skeleton and the tier counts all ask
// here, so a remote tier that is not a directory changes one function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fractfs {

// Into buf (NUL-terminated); false when it does not fit. Never allocates.
bool remote_place(std::string_view remote_root, std::string_view rel, char* buf, std::size_t cap) noexcept;

std::string remote_place(std::string_view remote_root, std::string_view rel);

}  // namespace fractfs
