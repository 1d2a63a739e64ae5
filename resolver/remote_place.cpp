#include "resolver/remote_place.hpp"

#include "resolver/path.hpp"

namespace fractfs {

bool remote_place(std::string_view remote_root, std::string_view rel, char* buf, std::size_t cap) noexcept {
  return path::join(remote_root, rel, buf, cap);
}

std::string remote_place(std::string_view remote_root, std::string_view rel) {
  std::string out(remote_root);
  if (!rel.empty()) out.append("/").append(rel);
  return out;
}

}  // namespace fractfs
