#include "resolver/resolver.hpp"

#include "resolver/config.hpp"
#include "resolver/path.hpp"

namespace fractfs {

std::optional<Tier> tier_from_name(std::string_view name) noexcept {
  for (Tier t : {Tier::remote, Tier::local_synced, Tier::local_ignored, Tier::outside})
    if (tier_name(t) == name) return t;
  return std::nullopt;
}

std::size_t sidecar_owner_len(std::string_view rel) noexcept {
  static constexpr std::string_view kSuffixes[] = {"-journal", "-wal", "-shm", ".lock"};
  // The suffixes end in 'l', 'm' or 'k': most names are out at once.
  char last = rel.empty() ? '\0' : rel.back();
  if (last != 'l' && last != 'm' && last != 'k') return 0;
  std::string_view name = path::basename(rel);
  for (std::string_view s : kSuffixes) {
    if (name.size() > s.size() && name.substr(name.size() - s.size()) == s) return rel.size() - s.size();
  }
  return 0;
}

Resolver::Resolver(const Config& cfg) {
  for (const auto& d : cfg.dirs) dirs_.push_back(d.text);
  for (const auto& p : cfg.ignore) ignore_.add(p.text, p.origin);
  for (const auto& p : cfg.local) local_.add(p.text, p.origin);
}

Resolver::Resolver(std::vector<std::string> dirs, PatternList ignore, PatternList local)
    : dirs_(std::move(dirs)), ignore_(std::move(ignore)), local_(std::move(local)) {}

int Resolver::dirs_index(std::string_view rel) const noexcept {
  for (std::size_t i = 0; i < dirs_.size(); ++i) {
    const std::string& d = dirs_[i];
    if (rel.size() >= d.size() && rel.compare(0, d.size(), d) == 0 && (rel.size() == d.size() || rel[d.size()] == '/'))
      return static_cast<int>(i);
  }
  return -1;
}

bool Resolver::holds_dirs(std::string_view rel) const noexcept {
  for (const std::string& d : dirs_) {
    if (rel.empty()) return true;
    if (d.size() > rel.size() && d.compare(0, rel.size(), rel) == 0 && d[rel.size()] == '/') return true;
  }
  return false;
}

Resolver::Parents Resolver::parents_of(std::string_view dir_rel) const noexcept {
  return {ignore_.match_dirs(dir_rel), local_.match_dirs(dir_rel)};
}

Resolver::Own Resolver::decide_own(std::string_view rel, bool is_dir, const Parents& parents) const noexcept {
  PatternList::Match ig = parents.ignore.excluded ? parents.ignore : ignore_.match_leaf(rel, is_dir);
  if (ig.excluded) return {{Tier::local_ignored, Rule::ignore, ig.index, 0}, true};
  PatternList::Match lo = parents.local.excluded ? parents.local : local_.match_leaf(rel, is_dir);
  if (lo.excluded) return {{Tier::local_synced, Rule::local, lo.index, 0}, true};
  bool spoke = static_cast<bool>(ig) || static_cast<bool>(lo);
  int d = dirs_index(rel);
  if (d >= 0) return {{Tier::remote, Rule::dirs, d, 0}, spoke};
  return {{Tier::local_synced, Rule::fallback, -1, 0}, spoke};
}

Decision Resolver::decide(std::string_view rel, bool is_dir) const noexcept {
  std::size_t slash = rel.rfind('/');
  return decide(rel, is_dir, parents_of(slash == std::string_view::npos ? std::string_view{} : rel.substr(0, slash)));
}

Decision Resolver::decide(std::string_view rel, bool is_dir, const Parents& parents) const noexcept {
  if (rel.empty()) return {Tier::local_synced, Rule::fallback, -1, 0};
  if (!has_patterns()) {  // [dirs] alone decides
    int d = dirs_index(rel);
    return d >= 0 ? Decision{Tier::remote, Rule::dirs, d, 0} : Decision{Tier::local_synced, Rule::fallback, -1, 0};
  }
  Own own = decide_own(rel, is_dir, parents);
  // Directories too: SQLite's dot-file lock "<db>.lock" is one.
  if (own.pattern_spoke) return own.decision;
  std::size_t owner = sidecar_owner_len(rel);
  if (owner == 0 || owner > 0xffff) return own.decision;
  // The owner sits in the same directory: the same parents.
  Decision od = decide_own(rel.substr(0, owner), false, parents).decision;
  if (od.rule != Rule::ignore && od.rule != Rule::local) return own.decision;
  od.owner_len = static_cast<std::uint16_t>(owner);
  return od;
}

std::string Resolver::describe(const Decision& d, std::string_view rel) const {
  std::string out;
  switch (d.rule) {
    case Rule::ignore: out = "[ignore] '" + ignore_.patterns()[d.index].line + "'"; break;
    case Rule::local: out = "[local] '" + local_.patterns()[d.index].line + "'"; break;
    case Rule::dirs: out = "[dirs] '" + dirs_[d.index] + "'"; break;
    case Rule::fallback: out = "default"; break;
    case Rule::outside: out = "outside the root"; break;
  }
  if (d.owner_len) out += " (sidecar of '" + std::string(rel.substr(0, d.owner_len)) + "')";
  return out;
}

}  // namespace fractfs
