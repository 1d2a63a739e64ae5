#include "sync/net/url.hpp"

namespace fractfs::net {

std::string percent_encode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                 c == '_' || c == '~' || (keep_slash && c == '/');
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<Url> parse_url(std::string_view url) {
  Url u;
  if (url.starts_with("http://")) u.scheme = "http";
  else if (url.starts_with("https://")) u.scheme = "https";
  else return std::nullopt;
  url.remove_prefix(u.scheme.size() + 3);
  std::size_t slash = url.find('/');
  u.authority = std::string(url.substr(0, slash));
  if (slash != std::string_view::npos) u.path = std::string(url.substr(slash));
  if (u.authority.empty() || u.authority.find_first_of("?#@ ") != std::string::npos) return std::nullopt;
  return u;
}

}  // namespace fractfs::net
