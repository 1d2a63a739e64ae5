#include "resolver/pattern_list.hpp"

namespace fractfs {

void PatternList::add(std::string_view lines, std::string_view origin) {
  while (true) {
    std::size_t nl = lines.find('\n');
    if (auto pat = parse_pattern(lines.substr(0, nl))) {
      int index = static_cast<int>(patterns_.size());
      dir_only_ |= pat->has(Pattern::must_be_dir);
      if (pat->tail_len) last_chars_.set(static_cast<unsigned char>(pat->text.back()));
      else wild_end_ = true;
      if (pat->has(Pattern::must_be_dir)) {
        if (pat->tail_len) dir_only_last_chars_.set(static_cast<unsigned char>(pat->text.back()));
        else dir_only_wild_end_ = true;
      }
      if (pat->has(Pattern::no_dir)) {
        basename_.push_back(index);
      } else if (pat->components < 0) {
        any_depth_.push_back(index);
      } else {
        auto n = static_cast<std::size_t>(pat->components);
        if (anchored_.size() <= n) anchored_.resize(n + 1);
        anchored_[n].push_back(index);
      }
      patterns_.push_back(std::move(*pat));
      origins_.emplace_back(origin);
    }
    if (nl == std::string_view::npos) break;
    lines.remove_prefix(nl + 1);
  }
}

int PatternList::scan(const std::vector<int>& candidates, int best, std::string_view path, std::size_t base,
                      bool is_dir) const noexcept {
  for (auto it = candidates.rbegin(); it != candidates.rend() && *it > best; ++it)
    if (patterns_[static_cast<std::size_t>(*it)].matches(path, base, is_dir)) return *it;
  return best;
}

PatternList::Match PatternList::last_match(std::string_view path, std::size_t base, int components,
                                           bool is_dir) const noexcept {
  // Most components end in a character no pattern can end with.
  if (path.empty() || (!wild_end_ && !last_chars_.test(static_cast<unsigned char>(path.back())))) return {};
  int best = scan(basename_, -1, path, base, is_dir);
  if (static_cast<std::size_t>(components) < anchored_.size())
    best = scan(anchored_[static_cast<std::size_t>(components)], best, path, base, is_dir);
  best = scan(any_depth_, best, path, base, is_dir);
  if (best < 0) return {};
  return Match{best, !patterns_[static_cast<std::size_t>(best)].has(Pattern::negative)};
}

PatternList::Match PatternList::match_dirs(std::string_view dir) const noexcept {
  if (patterns_.empty() || dir.empty()) return {};
  // Outermost first: the first excluded directory decides.
  std::size_t base = 0;
  int components = 1;
  for (std::size_t i = 0; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    Match m = last_match(dir.substr(0, i), base, components, true);
    if (m.excluded) return m;
    base = i + 1;
    ++components;
  }
  return {};
}

PatternList::Match PatternList::match_leaf(std::string_view path, bool is_dir) const noexcept {
  if (patterns_.empty()) return {};
  std::size_t base = 0;
  int components = 1;
  for (std::size_t i = 0; i < path.size(); ++i)
    if (path[i] == '/') base = i + 1, ++components;
  return last_match(path, base, components, is_dir);
}

PatternList::Match PatternList::match(std::string_view path, bool is_dir) const noexcept {
  std::size_t slash = path.rfind('/');
  if (slash != std::string_view::npos) {
    Match m = match_dirs(path.substr(0, slash));
    if (m.excluded) return m;
  }
  return match_leaf(path, is_dir);
}

}  // namespace fractfs
