#include "sync/generation.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sync/kv.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"
#include "sync/tree.hpp"

namespace fractfs {
namespace {

constexpr std::string_view kGenHeader = "fractfs-generation 1";
constexpr std::string_view kCurrentHeader = "fractfs-current 1";

}  // namespace

namespace keys {
std::string object(const ObjectId& id) {
  std::string h = id.hex();
  return fmt::format("objects/{}/{}", h.substr(0, 2), h.substr(2));
}
std::string generation(std::uint64_t n) { return fmt::format("generations/{:012}", n); }
std::string changes(std::uint64_t n) { return generation(n) + ".changes"; }
}  // namespace keys

std::string serialize(const Generation& g) {
  return fmt::format(
      "{}\ngeneration {}\nparent {}\nroot {}\ntime_ns {}\ntime {}\nduration {:.6f}\nfiles {}\ndirs {}\n"
      "symlinks {}\nbytes {}\nnew_objects {}\nnew_bytes {}\ndirty {}\nfull {}\nchanges {}\nhost {}\n",
      kGenHeader, g.number, g.parent, g.root.hex(), g.time_ns, sys::utc_time(g.time_ns), g.duration, g.files, g.dirs,
      g.symlinks, g.bytes, g.new_objects, g.new_bytes, g.dirty, g.full ? 1 : 0,
      g.changes.null() ? std::string("-") : g.changes.hex(), g.host);
}

Generation parse_generation(std::string_view text, std::string_view what) {
  kv::Fields f(text, kGenHeader, std::string(what));
  Generation g;
  g.number = f.num<std::uint64_t>("generation");
  g.parent = f.num<std::uint64_t>("parent");
  g.root = f.id("root");
  g.time_ns = f.num<std::int64_t>("time_ns");
  g.duration = f.num<double>("duration", false);
  g.files = f.num<std::uint64_t>("files");
  g.dirs = f.num<std::uint64_t>("dirs");
  g.symlinks = f.num<std::uint64_t>("symlinks");
  g.bytes = f.num<std::uint64_t>("bytes");
  g.new_objects = f.num<std::uint64_t>("new_objects", false);
  g.new_bytes = f.num<std::uint64_t>("new_bytes", false);
  g.dirty = f.num<std::uint64_t>("dirty", false);
  g.full = f.num<int>("full", false) != 0;
  g.host = f.str("host");
  std::string changes = f.str("changes");
  if (!changes.empty() && changes != "-") {
    auto id = ObjectId::parse(changes);
    if (!id) throw FormatError(std::string(what) + ": bad 'changes': '" + changes + "'");
    g.changes = *id;
  }
  return g;
}

std::string serialize(const Changes& c) {
  std::string out;
  out.reserve((c.added.size() + c.released.size()) * 34);
  for (const ObjectId& id : c.added) out += '+' + id.hex() + '\n';
  for (const ObjectId& id : c.released) out += '-' + id.hex() + '\n';
  return out;
}

Changes parse_changes(std::string_view text, std::string_view what) {
  Changes c;
  std::size_t lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineno;
    auto id = line.size() == 33 ? ObjectId::parse(line.substr(1)) : std::nullopt;
    if (!id || (line[0] != '+' && line[0] != '-')) throw FormatError(fmt::format("{}:{}: bad line", what, lineno));
    (line[0] == '+' ? c.added : c.released).push_back(*id);
  }
  return c;
}

std::string serialize(const Current& c) {
  return fmt::format("{}\ngeneration {}\nroot {}\n", kCurrentHeader, c.generation, c.root.hex());
}

Current parse_current(std::string_view text, std::string_view what) {
  kv::Fields f(text, kCurrentHeader, std::string(what));
  return Current{f.num<std::uint64_t>("generation"), f.id("root")};
}

std::optional<Current> read_current(Store& store) {
  auto text = store.get(keys::current);
  if (!text) return std::nullopt;
  return parse_current(*text, store.describe() + "/" + keys::current);
}

Generation read_generation(Store& store, std::uint64_t n) {
  std::string key = keys::generation(n);
  auto text = store.get(key);
  if (!text) throw StoreError(store.describe() + "/" + key + ": generation " + std::to_string(n) + " is missing");
  return parse_generation(*text, store.describe() + "/" + key);
}

std::optional<Changes> read_changes(Store& store, std::uint64_t n) {
  auto record = store.get(keys::generation(n));
  if (!record) return std::nullopt;
  Generation g = parse_generation(*record, store.describe() + "/" + keys::generation(n));
  if (g.parent + 1 != n || g.changes.null()) return std::nullopt;
  auto text = store.get(keys::changes(n));
  if (!text || hash_bytes(*text) != g.changes) return std::nullopt;
  return parse_changes(*text, store.describe() + "/" + keys::changes(n));
}

std::vector<std::uint64_t> list_generations(Store& store) {
  std::vector<std::uint64_t> out;
  std::string prefix = std::string(keys::generations) + "/";
  for (const std::string& key : store.list(keys::generations)) {
    std::string_view name = std::string_view(key).substr(prefix.size());
    std::uint64_t n;
    if (name.size() == 12 && kv::number(name, n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fractfs
