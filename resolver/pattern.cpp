#include "resolver/pattern.hpp"

#include <algorithm>

#include "resolver/wildmatch.hpp"

namespace fractfs {
namespace {

// Drops trailing spaces that are not escaped, as git does (tabs are kept).
std::string_view trim_trailing_spaces(std::string_view s) {
  std::size_t keep = s.size();
  std::size_t last_space = std::string_view::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') {
      if (last_space == std::string_view::npos) last_space = i;
    } else if (s[i] == '\\') {
      if (++i == s.size()) return s;  // a trailing lone backslash: keep all
      last_space = std::string_view::npos;
    } else {
      last_space = std::string_view::npos;
    }
  }
  if (last_space != std::string_view::npos) keep = last_space;
  return s.substr(0, keep);
}

std::size_t literal_prefix(std::string_view s) {
  auto it = std::find_if(s.begin(), s.end(), is_glob_special);
  return static_cast<std::size_t>(it - s.begin());
}

// Length of the suffix every match must end with: plain characters only,
// stopping at ']' (a bracket's members are not literal) and at '/' (after
// "**" the slash may be part of an empty match).
std::size_t literal_suffix(std::string_view s) {
  auto plain = [](char c) { return !is_glob_special(c) && c != ']' && c != '/'; };
  std::size_t n = 0;
  while (n < s.size() && plain(s[s.size() - 1 - n])) ++n;
  return n;
}

// How many components an anchored pattern matches: '*', '?' and brackets
// never match '/' under git's pathname rules, so only "**" varies the count.
// A '/' after a '[' might sit inside a bracket: counted as "any" to be safe.
int component_count(std::string_view s) {
  if (s.find("**") != std::string_view::npos) return -1;
  std::size_t bracket = s.find('[');
  if (bracket != std::string_view::npos && s.find('/', bracket) != std::string_view::npos) return -1;
  return static_cast<int>(std::count(s.begin(), s.end(), '/')) + 1;
}

void set_matching_text(Pattern& pat, std::string_view p) {
  pat.flags &= static_cast<std::uint8_t>(~(Pattern::no_dir | Pattern::ends_with));
  if (p.find('/') == std::string_view::npos) pat.flags |= Pattern::no_dir;
  if (p[0] == '*' && literal_prefix(p.substr(1)) == p.size() - 1) pat.flags |= Pattern::ends_with;
  pat.text = std::string(p);
  pat.literal_len = static_cast<std::uint16_t>(std::min<std::size_t>(literal_prefix(p), 0xffff));
  std::string_view anchored = p[0] == '/' ? p.substr(1) : p;  // the '/' itself is not matched
  pat.tail_len = static_cast<std::uint16_t>(std::min<std::size_t>(literal_suffix(anchored), 0xffff));
  pat.components = pat.has(Pattern::no_dir) ? -1 : static_cast<std::int16_t>(component_count(anchored));
}

}  // namespace

std::optional<Pattern> parse_pattern(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line[0] == '#') return std::nullopt;
  std::string_view p = trim_trailing_spaces(line);
  Pattern pat;
  pat.line = std::string(line);
  if (!p.empty() && p[0] == '!') {
    pat.flags |= Pattern::negative;
    p.remove_prefix(1);
  }
  if (!p.empty() && p.back() == '/') {
    pat.flags |= Pattern::must_be_dir;
    p.remove_suffix(1);
  }
  if (p.empty()) return std::nullopt;  // matches nothing in git either
  // "**/name" matches exactly the paths whose last component matches "name".
  std::string_view rest = p.substr(p.starts_with("/**/") ? 4 : p.starts_with("**/") ? 3 : 0);
  if (rest.size() < p.size() && !rest.empty() && rest.find('/') == std::string_view::npos) p = rest;
  set_matching_text(pat, p);
  return pat;
}

namespace {

// Does `s` end with the last `n` characters of `pat`? Compared from the end,
// inline: these strings are a few bytes and most differ in the last two.
inline bool ends_with_tail(std::string_view s, std::string_view pat, std::size_t n) noexcept {
  if (s.size() < n) return false;
  const char* a = s.data() + s.size();
  const char* b = pat.data() + pat.size();
  for (std::size_t i = 1; i <= n; ++i)
    if (a[-static_cast<std::ptrdiff_t>(i)] != b[-static_cast<std::ptrdiff_t>(i)]) return false;
  return true;
}

}  // namespace

bool Pattern::matches(std::string_view path, std::size_t base, bool is_dir) const noexcept {
  if (has(must_be_dir) && !is_dir) return false;
  std::string_view pat = text;
  if (tail_len && !ends_with_tail(path, pat, tail_len)) return false;
  if (has(no_dir)) {
    std::string_view name = path.substr(base);
    // The tail never holds a '/', so it was checked within the last component.
    if (tail_len == pat.size()) return name.size() == pat.size();    // a plain literal
    if (has(ends_with) && tail_len + 1u == pat.size()) return true;  // "*literal"
    if (literal_len == pat.size()) return name == pat;
    if (has(ends_with)) return name.ends_with(pat.substr(1));
    return wildmatch(pat, name, false);
  }
  std::size_t prefix = literal_len;
  if (pat[0] == '/') {  // anchored to the root: the slash itself is not matched
    pat.remove_prefix(1);
    --prefix;
  }
  if (path.empty()) return false;
  if (prefix) {
    if (prefix > path.size() || path.compare(0, prefix, pat, 0, prefix) != 0) return false;
    if (prefix == pat.size()) return path.size() == prefix;
    pat.remove_prefix(prefix);
    path.remove_prefix(prefix);
  }
  return wildmatch(pat, path, true);
}

}  // namespace fractfs
