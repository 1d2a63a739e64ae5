// The deploy bundle: the files present at the first start on a node that
// no checkpoint knows (the app's code and assets, shipped with every
// deploy). With auto_ignore_bundle they are never checkpointed, so a new
// deploy's files are not overwritten by an old checkpoint's copies.
// Same rule as the Python package, with its caveat: a bundle file the app
// changes later is not checkpointed either, unless a [local] pattern names
// it explicitly.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

namespace fractfs {

class Bundle {
 public:
  bool contains(std::string_view rel) const { return !paths_.empty() && paths_.count(std::string(rel)) != 0; }
  void add(std::string rel) { paths_.insert(std::move(rel)); }
  std::size_t size() const noexcept { return paths_.size(); }
  bool empty() const noexcept { return paths_.empty(); }

  // One escaped path per line. Throws FormatError on a malformed line.
  std::string serialize() const;
  static Bundle parse(std::string_view text, std::string_view what);

 private:
  std::unordered_set<std::string> paths_;
};

// What a first start says about the bundle it found ("" when empty): how
// many files, and where to see them.
std::string bundle_notice(const Bundle& b);

}  // namespace fractfs
