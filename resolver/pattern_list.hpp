// An ordered list of gitignore patterns, evaluated the way git evaluates one
// .gitignore at the top of a work tree: the last matching pattern decides,
// and a path below an excluded directory is excluded by that directory's
// pattern, whatever later patterns say about the path itself.
#pragma once

#include <bitset>
#include <string_view>
#include <vector>

#include "resolver/pattern.hpp"

namespace fractfs {

class PatternList {
 public:
  // Appends the patterns of one line (or of several, if it holds newlines).
  // `origin` is kept with each pattern for diagnostics.
  void add(std::string_view lines, std::string_view origin = {});

  struct Match {
    int index = -1;         // into patterns(), -1: nothing matched
    bool excluded = false;  // the match is a positive (not '!') pattern
    explicit operator bool() const noexcept { return index >= 0; }
  };

  // The deciding pattern for a normalized root-relative path. Allocation-free.
  Match match(std::string_view path, bool is_dir) const noexcept;

  // The same in two halves, so the first can be computed once per
  // directory: the pattern excluding directory `dir` or one above it (all
  // of them directories), then the path itself when no parent excluded it.
  Match match_dirs(std::string_view dir) const noexcept;
  Match match_leaf(std::string_view path, bool is_dir) const noexcept;

  // Could a directory-only pattern match a name ending in `last`?
  bool dir_only_may_match(char last) const noexcept {
    return dir_only_wild_end_ || dir_only_last_chars_.test(static_cast<unsigned char>(last));
  }

  // The last pattern matching `path` itself, ignoring its parent directories.
  // `components` is the number of components in `path`.
  Match last_match(std::string_view path, std::size_t base, int components, bool is_dir) const noexcept;

  bool has_dir_only() const noexcept { return dir_only_; }
  bool empty() const noexcept { return patterns_.empty(); }
  const std::vector<Pattern>& patterns() const noexcept { return patterns_; }
  const std::vector<std::string>& origins() const noexcept { return origins_; }

 private:
  int scan(const std::vector<int>& candidates, int best, std::string_view path, std::size_t base,
           bool is_dir) const noexcept;

  std::vector<Pattern> patterns_;
  std::vector<std::string> origins_;
  bool dir_only_ = false;

  // Candidates by shape, each in ascending index order (scanned backwards so
  // the last matching pattern is found first).
  std::vector<int> basename_;               // matched against the last component
  std::vector<std::vector<int>> anchored_;  // [n]: anchored patterns of n components
  std::vector<int> any_depth_;              // anchored patterns with "**"
  std::bitset<256> last_chars_;             // characters a matched path can end with
  bool wild_end_ = false;                   // some pattern ends in a wildcard
  std::bitset<256> dir_only_last_chars_;    // the same for directory-only patterns
  bool dir_only_wild_end_ = false;
};

}  // namespace fractfs
