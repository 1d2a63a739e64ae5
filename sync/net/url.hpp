// URL pieces for the network stores: percent-encoding as SigV4 signs it
// (RFC 3986 unreserved characters kept, everything else %XX) and a split
// of "scheme://host:port/path".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fractfs::net {

// Every byte but A-Z a-z 0-9 - . _ ~ as %XX; '/' kept when keep_slash.
std::string percent_encode(std::string_view s, bool keep_slash);
// %XX decoded; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

struct Url {
  std::string scheme;     // "http" or "https"
  std::string authority;  // "host" or "host:port"
  std::string path;       // from the first '/', "" if none
  std::string origin() const { return scheme + "://" + authority; }
};

// nullopt unless the URL is http(s)://authority[/path].
std::optional<Url> parse_url(std::string_view url);

}  // namespace fractfs::net
