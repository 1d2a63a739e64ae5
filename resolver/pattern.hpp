// One gitignore pattern, parsed the way git parses a line of a .gitignore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fractfs {

struct Pattern {
  enum Flag : std::uint8_t {
    negative = 1,     // "!pat": re-includes
    must_be_dir = 2,  // "pat/": directories only
    no_dir = 4,       // no '/' inside: matched against the basename
    ends_with = 8,    // "*literal": a suffix compare is enough
  };
  std::string text;               // what is matched: no '!', no trailing '/', leading '/' kept
  std::string line;               // the line as written, for diagnostics
  std::uint16_t literal_len = 0;  // length of the wildcard-free prefix of `text`
  std::uint16_t tail_len = 0;     // length of the literal suffix every match must end with
  std::int16_t components = -1;   // anchored: how many path components it matches (-1: any)
  std::uint8_t flags = 0;

  bool has(Flag f) const noexcept { return (flags & f) != 0; }

  // Does this pattern match `path` (root-relative, normalized) whose last
  // component starts at `base`? `is_dir` says whether the path is a directory.
  bool matches(std::string_view path, std::size_t base, bool is_dir) const noexcept;
};

// Parses one line. "**/name" (name without '/') is stored as the equivalent
// basename pattern "name", which is cheaper to match. Comments, blank lines and lines that trim to nothing
// yield std::nullopt. Trailing spaces are dropped unless escaped with '\'.
std::optional<Pattern> parse_pattern(std::string_view line);

}  // namespace fractfs
