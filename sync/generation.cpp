#include "sync/generation.hpp"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "sync/kv.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"
#include "sync/tree.hpp"

namespace fractfs {
namespace {

constexpr std::string_view kGenHeader = "fractfs-generation 1";
// 3: small objects in packs (sync/pack_store.hpp); 2: tagged records, every
// object loose; 1: untagged records. Builds that know only 2 then stop on
// the header rather than on objects they cannot find.
constexpr std::string_view kCurrentHeader = "fractfs-current 3";
constexpr std::string_view kCurrentHeaderV2 = "fractfs-current 2";
constexpr std::string_view kCurrentHeaderV1 = "fractfs-current 1";
constexpr std::size_t kTagLength = 16;

}  // namespace

namespace keys {
std::string object(const ObjectId& id) {
  std::string h = id.hex();
  return fmt::format("objects/{}/{}", h.substr(0, 2), h.substr(2));
}
std::string generation(std::uint64_t n, std::string_view tag) {
  return tag.empty() ? fmt::format("generations/{:012}", n) : fmt::format("generations/{:012}-{}", n, tag);
}
std::string changes(std::uint64_t n, std::string_view tag) { return generation(n, tag) + ".changes"; }
}  // namespace keys

std::string serialize(const Generation& g) {
  return fmt::format(
      "{}\ngeneration {}\ntag {}\nparent {}\nparent_tag {}\nroot {}\ntime_ns {}\ntime {}\nduration {:.6f}\nfiles "
      "{}\ndirs {}\n"
      "symlinks {}\nbytes {}\nnew_objects {}\nnew_bytes {}\ndirty {}\nfull {}\nchanges {}\nhost {}\n",
      kGenHeader, g.number, g.tag.empty() ? "-" : g.tag, g.parent, g.parent_tag.empty() ? "-" : g.parent_tag,
      g.root.hex(), g.time_ns, sys::utc_time(g.time_ns), g.duration, g.files, g.dirs, g.symlinks, g.bytes,
      g.new_objects, g.new_bytes, g.dirty, g.full ? 1 : 0, g.changes.null() ? std::string("-") : g.changes.hex(),
      g.host);
}

Generation parse_generation(std::string_view text, std::string_view what) {
  kv::Fields f(text, kGenHeader, std::string(what));
  Generation g;
  g.number = f.num<std::uint64_t>("generation");
  g.parent = f.num<std::uint64_t>("parent");
  g.tag = f.str("tag");
  g.parent_tag = f.str("parent_tag");
  if (g.tag == "-") g.tag.clear();
  if (g.parent_tag == "-") g.parent_tag.clear();
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
  return fmt::format("{}\ngeneration {}\nroot {}\ntag {}\n", kCurrentHeader, c.generation, c.root.hex(),
                     c.tag.empty() ? "-" : c.tag);
}

Current parse_current(std::string_view text, std::string_view what) {
  std::string_view header = text.substr(0, text.find('\n'));
  bool v1 = header == kCurrentHeaderV1;
  kv::Fields f(text, v1 || header == kCurrentHeaderV2 ? header : kCurrentHeader, std::string(what));
  Current c{f.num<std::uint64_t>("generation"), f.id("root"), v1 ? std::string() : f.str("tag"), std::nullopt};
  if (c.tag == "-") c.tag.clear();
  return c;
}

std::string new_tag() {
  unsigned char raw[kTagLength / 2];
  std::size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
    else if (errno != EINTR) throw StoreError(std::string("getrandom: ") + strerror(errno));
  }
  std::string tag;
  for (unsigned char b : raw) tag += fmt::format("{:02x}", b);
  return tag;
}

std::optional<Current> read_current(Store& store) {
  std::string what = store.describe() + "/" + keys::current;
  if (auto p = store.read_pointer(keys::current)) {
    Current c = parse_current(p->value, what);
    c.version = std::move(p->version);
    return c;
  }
  // Format 1 on WebDAV wrote CURRENT as a plain file; the first swap makes the pointer.
  auto text = store.get(keys::current);
  if (!text) return std::nullopt;
  return parse_current(*text, what);
}

Generation read_generation(Store& store, std::uint64_t n, std::string_view tag) {
  std::string key = keys::generation(n, tag);
  auto text = store.get(key);
  if (!text) throw StoreError(store.describe() + "/" + key + ": generation " + std::to_string(n) + " is missing");
  return parse_generation(*text, store.describe() + "/" + key);
}

std::optional<Changes> read_changes(Store& store, const RecordKey& r, const RecordKey& parent) {
  std::string key = keys::generation(r.number, r.tag);
  auto record = store.get(key);
  if (!record) return std::nullopt;
  Generation g = parse_generation(*record, store.describe() + "/" + key);
  if (g.parent != parent.number || g.parent_tag != parent.tag || g.changes.null()) return std::nullopt;
  auto text = store.get(keys::changes(r.number, r.tag));
  if (!text || hash_bytes(*text) != g.changes) return std::nullopt;
  return parse_changes(*text, store.describe() + "/" + keys::changes(r.number, r.tag));
}

std::vector<RecordKey> list_generations(Store& store) {
  std::vector<RecordKey> out;
  std::string prefix = std::string(keys::generations) + "/";
  for (const std::string& key : store.list(keys::generations)) {
    std::string_view name = std::string_view(key).substr(prefix.size());
    std::uint64_t n;
    if (name.size() < 12 || !kv::number(name.substr(0, 12), n)) continue;
    std::string_view tag = name.substr(12);
    if (tag.empty()) out.push_back({n, {}});
    else if (tag.size() == kTagLength + 1 && tag[0] == '-') out.push_back({n, std::string(tag.substr(1))});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<RecordKey> chain(Store& store, const Current& current, const std::vector<RecordKey>& present,
                             std::uint64_t down_to) {
  std::map<std::uint64_t, std::vector<std::string>> tags;
  for (const RecordKey& r : present) tags[r.number].push_back(r.tag);
  std::vector<RecordKey> out;
  RecordKey at{current.generation, current.tag};
  while (at.number > 0 && at.number >= down_to) {
    out.push_back(at);
    auto it = tags.find(at.number - 1);
    if (it == tags.end()) break;
    if (it->second.size() == 1) {
      at = {at.number - 1, it->second[0]};
      continue;
    }
    Generation g = read_generation(store, at.number, at.tag);
    at = {g.parent, g.parent_tag};
  }
  return out;
}

std::optional<RecordKey> in_history(Store& store, const Current& current, std::uint64_t n) {
  if (n == 0 || n > current.generation) return std::nullopt;
  std::vector<RecordKey> back = chain(store, current, list_generations(store), n);
  if (back.empty() || back.back().number != n) return std::nullopt;
  return back.back();
}

}  // namespace fractfs
