#include "resolver/path.hpp"

#include <cstring>
#include <stdexcept>

namespace fractfs::path {
namespace {

// Appends the components of `in` to the normalized absolute path held in
// out[0..len). Returns the new length or -1 on overflow.
std::ptrdiff_t append_components(std::string_view in, char* out, std::size_t len, std::size_t cap) noexcept {
  std::size_t i = 0;
  while (i < in.size()) {
    while (i < in.size() && in[i] == '/') ++i;
    std::size_t start = i;
    while (i < in.size() && in[i] != '/') ++i;
    std::string_view comp = in.substr(start, i - start);
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      while (len > 1 && out[len - 1] != '/') --len;
      if (len > 1) --len;  // drop the separator too, but keep the root "/"
      continue;
    }
    std::size_t need = len + (len > 1 ? 1 : 0) + comp.size();
    if (need + 1 > cap) return -1;
    if (len > 1) out[len++] = '/';
    std::memcpy(out + len, comp.data(), comp.size());
    len += comp.size();
  }
  out[len] = '\0';
  return static_cast<std::ptrdiff_t>(len);
}

}  // namespace

std::ptrdiff_t normalize(std::string_view base, std::string_view in, char* out, std::size_t cap) noexcept {
  if (cap < 2) return -1;
  std::size_t len = 1;
  out[0] = '/';
  if (in.empty() || in[0] != '/') {
    if (base.empty() || base[0] != '/') return -1;
    std::ptrdiff_t n = append_components(base, out, len, cap);
    if (n < 0) return -1;
    len = static_cast<std::size_t>(n);
  }
  return append_components(in, out, len, cap);
}

std::string normalized(std::string_view base, std::string_view in) {
  std::string out(base.size() + in.size() + 2, '\0');
  std::ptrdiff_t n = normalize(base, in, out.data(), out.size());
  if (n < 0) throw std::length_error("cannot normalize path '" + std::string(in) + "'");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string_view> relative_to(std::string_view root, std::string_view abs) noexcept {
  if (root == "/") {
    if (abs.empty() || abs[0] != '/') return std::nullopt;
    return abs.substr(1);
  }
  if (abs.size() < root.size() || abs.compare(0, root.size(), root) != 0) return std::nullopt;
  if (abs.size() == root.size()) return std::string_view{};
  if (abs[root.size()] != '/') return std::nullopt;
  return abs.substr(root.size() + 1);
}

bool is_ancestor(std::string_view dir, std::string_view abs) noexcept {
  auto rel = relative_to(dir, abs);
  return rel && !rel->empty();
}

bool has_dotdot(std::string_view rel) noexcept {
  std::size_t i = 0;
  while (i < rel.size()) {
    std::size_t end = rel.find('/', i);
    if (end == std::string_view::npos) end = rel.size();
    if (end - i == 2 && rel[i] == '.' && rel[i + 1] == '.') return true;
    i = end + 1;
  }
  return false;
}

std::string_view basename(std::string_view p) noexcept {
  std::size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view dirname(std::string_view p) noexcept {
  std::size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return p.substr(0, 1);
  return p.substr(0, slash);
}

bool join(std::string_view dir, std::string_view rel, char* buf, std::size_t cap) noexcept {
  if (dir.size() + 1 + rel.size() + 1 > cap) return false;
  memcpy(buf, dir.data(), dir.size());
  std::size_t n = dir.size();
  if (!rel.empty()) {
    buf[n++] = '/';
    memcpy(buf + n, rel.data(), rel.size());
    n += rel.size();
  }
  buf[n] = '\0';
  return true;
}

}  // namespace fractfs::path
