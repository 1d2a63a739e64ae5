#include "sync/bundle.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "sync/tree.hpp"

namespace fractfs {

std::string Bundle::serialize() const {
  std::vector<std::string> sorted(paths_.begin(), paths_.end());
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const std::string& p : sorted) out += escape_name(p) + '\n';
  return out;
}

Bundle Bundle::parse(std::string_view text, std::string_view what) {
  Bundle b;
  std::size_t lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineno;
    std::string rel;
    if (!unescape_name(line, rel) || rel.empty()) throw FormatError(fmt::format("{}:{}: bad path", what, lineno));
    b.add(std::move(rel));
  }
  return b;
}

std::string bundle_notice(const Bundle& b) {
  if (b.empty()) return {};
  return std::to_string(b.size()) +
         " file(s) present before the first start on this node are the deploy bundle: they are left out of "
         "checkpoints (auto_ignore_bundle; 'fractfs status' counts them)";
}

}  // namespace fractfs
