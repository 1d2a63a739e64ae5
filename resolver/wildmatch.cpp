#include "resolver/wildmatch.hpp"

#include <cstring>

namespace fractfs {
namespace {

using uchar = unsigned char;

// Outcomes of one matching attempt. The two abort values let a failed '*'
// stop retrying positions that cannot succeed either (same pruning as git).
enum class R { match, nomatch, abort_all, abort_to_doublestar };

// Character classes as git's own ctype table defines them (ASCII only).
bool in_class(std::string_view name, uchar c, bool& known) noexcept {
  known = true;
  const bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
  const bool digit = c >= '0' && c <= '9', alpha = upper || lower;
  const bool graph = c > 0x20 && c < 0x7f;
  if (name == "alnum") return alpha || digit;
  if (name == "alpha") return alpha;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return c < 0x20 || c == 0x7f;
  if (name == "digit") return digit;
  if (name == "graph") return graph;
  if (name == "lower") return lower;
  if (name == "print") return c >= 0x20 && c < 0x7f;
  if (name == "punct") return graph && !alpha && !digit;
  if (name == "space") return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  if (name == "upper") return upper;
  if (name == "xdigit") return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  known = false;
  return false;
}

// Matches one text character `tc` against the bracket expression whose '['
// is at p[-1]. On return p points at the closing ']'.
R bracket(const uchar*& p, const uchar* pe, uchar tc, bool pathname) noexcept {
  bool negated = p < pe && (*p == '!' || *p == '^');
  if (negated) ++p;
  bool matched = false;
  uchar prev = 0;
  do {
    if (p == pe) return R::abort_all;
    uchar c = *p;
    if (c == '\\') {
      if (++p == pe) return R::abort_all;
      c = *p;
      matched |= tc == c;
    } else if (c == '-' && prev && p + 1 < pe && p[1] != ']') {
      c = *++p;
      if (c == '\\' && ++p == pe) return R::abort_all;
      c = *p;
      matched |= tc >= prev && tc <= c;
      c = 0;  // a range cannot start another range
    } else if (c == '[' && p + 1 < pe && p[1] == ':') {
      const uchar* name = p + 2;
      const uchar* q = name;
      while (q < pe && *q != ']') ++q;
      if (q == pe) return R::abort_all;
      if (q - name < 1 || q[-1] != ':') {
        matched |= tc == '[';  // no ":]": an ordinary '[' member
      } else {
        bool known = false;
        auto cls = std::string_view(reinterpret_cast<const char*>(name), static_cast<std::size_t>(q - name - 1));
        matched |= in_class(cls, tc, known);
        if (!known) return R::abort_all;
        p = q;
        c = 0;
      }
    } else {
      matched |= tc == c;
    }
    prev = c;
    ++p;
  } while (p == pe || *p != ']');
  if (matched == negated || (pathname && tc == '/')) return R::nomatch;
  return R::match;
}

R dowild(const uchar* p, const uchar* pe, const uchar* t, const uchar* te, bool pathname) noexcept;

// Handles a run of '*' starting at p. `start` is where this sub-pattern began,
// which is what "'**' at the start of the pattern" refers to.
R star(const uchar* start, const uchar* p, const uchar* pe, const uchar*& t, const uchar* te, bool pathname,
       bool& resume) noexcept {
  resume = false;
  const uchar* first = p++;
  bool match_slash = !pathname;
  if (p < pe && *p == '*') {
    while (p < pe && *p == '*') ++p;
    bool before = first == start || first[-1] == '/';
    bool after = p == pe || *p == '/' || (*p == '\\' && p + 1 < pe && p[1] == '/');
    if (pathname && before && after) {
      // "**/" may match no directory at all: try the rest right here.
      if (p < pe && *p == '/' && dowild(p + 1, pe, t, te, pathname) == R::match) return R::match;
      match_slash = true;
    }
  }
  const auto rest = static_cast<std::size_t>(te - t);
  if (p == pe) {
    if (!match_slash && std::memchr(t, '/', rest)) return R::nomatch;
    return R::match;
  }
  if (!match_slash && *p == '/') {
    // One '*' then '/': it must end at the next slash of the text.
    const void* slash = std::memchr(t, '/', rest);
    if (!slash) return R::nomatch;
    t = static_cast<const uchar*>(slash);
    resume = true;
    return R::match;
  }
  for (; t < te; ++t) {
    if (!is_glob_special(static_cast<char>(*p))) {
      // Skip ahead to the next occurrence of the literal that follows.
      while (t < te && (match_slash || *t != '/') && *t != *p) ++t;
      if (t == te || *t != *p) return R::nomatch;
    }
    R r = dowild(p, pe, t, te, pathname);
    if (r != R::nomatch) {
      if (!match_slash || r != R::abort_to_doublestar) return r;
    } else if (!match_slash && *t == '/') {
      return R::abort_to_doublestar;
    }
  }
  return R::abort_all;
}

R dowild(const uchar* p, const uchar* pe, const uchar* t, const uchar* te, bool pathname) noexcept {
  const uchar* const start = p;
  for (; p < pe; ++p, ++t) {
    if (t == te && *p != '*') return R::abort_all;
    const uchar tc = t < te ? *t : 0;
    switch (*p) {
      case '\\':
        if (++p == pe || *p != tc) return R::nomatch;
        break;
      case '?':
        if (pathname && tc == '/') return R::nomatch;
        break;
      case '[': {
        ++p;
        R r = bracket(p, pe, tc, pathname);
        if (r != R::match) return r;
        break;
      }
      case '*': {
        bool resume = false;
        R r = star(start, p, pe, t, te, pathname, resume);
        if (!resume) return r;
        // `t` now sits on a '/', and so does the pattern after the star run.
        while (*p == '*') ++p;
        break;
      }
      default:
        if (tc != *p) return R::nomatch;
    }
  }
  return t == te ? R::match : R::nomatch;
}

}  // namespace

bool wildmatch(std::string_view pattern, std::string_view text, bool pathname) noexcept {
  auto p = reinterpret_cast<const uchar*>(pattern.data());
  auto t = reinterpret_cast<const uchar*>(text.data());
  return dowild(p, p + pattern.size(), t, t + text.size(), pathname) == R::match;
}

}  // namespace fractfs
