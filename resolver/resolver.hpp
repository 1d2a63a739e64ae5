// The tier resolver: decides where a root-relative path lives.
//
// Precedence: [ignore] > [local] > [dirs] > default, each pattern list
// evaluated like one .gitignore by git. A SQLite sidecar (-journal, -wal,
// -shm) or a "<name>.lock" follows the tier its owner got from a pattern,
// unless a pattern speaks about the sidecar itself.
//
// Pure and immutable after construction: safe to share between threads;
// decide() allocates nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "resolver/pattern_list.hpp"
#include "resolver/tier.hpp"

namespace fractfs {

struct Config;

class Resolver {
 public:
  Resolver() = default;
  explicit Resolver(const Config& cfg);
  Resolver(std::vector<std::string> dirs, PatternList ignore, PatternList local);

  // `rel`: normalized, root-relative ("" is the root itself).
  Decision decide(std::string_view rel, bool is_dir) const noexcept;

  // What a directory's ancestors and itself say about everything in it:
  // computed once, it serves every entry of the directory (the shim keeps
  // the last one per thread).
  struct Parents {
    PatternList::Match ignore, local;  // a pattern excluding the directory or one above
  };
  Parents parents_of(std::string_view dir_rel) const noexcept;
  // decide() for a path whose parent directory's verdict is known.
  Decision decide(std::string_view rel, bool is_dir, const Parents& parents) const noexcept;

  // Could a directory-only pattern decide a path ending in `last`? If not,
  // whether the path is a directory cannot change its tier.
  bool dir_only_may_match(char last) const noexcept {
    return ignore_.dir_only_may_match(last) || local_.dir_only_may_match(last);
  }

  // True when some pattern only matches directories, so a path whose type is
  // unknown may need a look at the disk before its tier is known.
  bool has_patterns() const noexcept { return !ignore_.empty() || !local_.empty(); }

  bool dir_only_patterns() const noexcept { return ignore_.has_dir_only() || local_.has_dir_only(); }

  // Index of the [dirs] entry that is `rel` or contains it; -1 if none.
  int dirs_index(std::string_view rel) const noexcept;
  // True when `rel` is a strict ancestor of some [dirs] entry ("" included).
  bool holds_dirs(std::string_view rel) const noexcept;

  // The deciding source in words: "[ignore] '*.tmp'", "[dirs] 'data/blobs'",
  // "default", with " (sidecar of 'x')" when the sidecar rule applied.
  std::string describe(const Decision& d, std::string_view rel) const;

  const std::vector<std::string>& dirs() const noexcept { return dirs_; }
  const PatternList& ignore() const noexcept { return ignore_; }
  const PatternList& local() const noexcept { return local_; }

 private:
  struct Own {
    Decision decision;
    bool pattern_spoke;  // some pattern (even a '!' one) matched the path
  };
  Own decide_own(std::string_view rel, bool is_dir, const Parents& parents) const noexcept;

  std::vector<std::string> dirs_;
  PatternList ignore_;
  PatternList local_;
};

// Length of the owner name if `rel` ends in a sidecar suffix, else 0.
std::size_t sidecar_owner_len(std::string_view rel) noexcept;

}  // namespace fractfs
