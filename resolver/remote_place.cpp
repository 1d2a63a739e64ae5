#include "resolver/remote_place.hpp"

#include <string.h>

namespace fractfs {

bool remote_place(std::string_view remote_root, std::string_view rel, char* buf, std::size_t cap) noexcept {
  if (remote_root.size() + 1 + rel.size() + 1 > cap) return false;
  memcpy(buf, remote_root.data(), remote_root.size());
  std::size_t n = remote_root.size();
  if (!rel.empty()) {
    buf[n++] = '/';
    memcpy(buf + n, rel.data(), rel.size());
    n += rel.size();
  }
  buf[n] = '\0';
  return true;
}

std::string remote_place(std::string_view remote_root, std::string_view rel) {
  std::string out(remote_root);
  if (!rel.empty()) out.append("/").append(rel);
  return out;
}

}  // namespace fractfs
