#include "sync/model.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "sync/store.hpp"

namespace fractfs {
namespace {

constexpr std::string_view kIndexHeader = "fractfs-index 1";

std::pair<std::string_view, std::string_view> split(std::string_view rel) {
  std::size_t slash = rel.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

std::size_t depth(const std::string& rel) {
  return rel.empty() ? 0 : 1 + static_cast<std::size_t>(std::count(rel.begin(), rel.end(), '/'));
}

}  // namespace

Model::Model() { dirs_.emplace("", Dir{}); }

std::string Model::join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir).append(1, '/').append(name);
  return out;
}

const Model::Dir* Model::dir(std::string_view rel) const {
  auto it = dirs_.find(std::string(rel));
  return it == dirs_.end() ? nullptr : &it->second;
}

const Entry* Model::find(std::string_view rel) const {
  if (rel.empty()) return nullptr;
  auto [parent, name] = split(rel);
  const Dir* d = dir(parent);
  if (!d) return nullptr;
  auto it = d->entries.find(name);
  return it == d->entries.end() ? nullptr : &it->second;
}

void Model::ref(const ObjectId& id) {
  std::uint32_t& n = refs_[id];
  touched_.try_emplace(id, n > 0);
  ++n;
}

void Model::unref(const ObjectId& id) {
  auto it = refs_.find(id);
  if (it == refs_.end()) return;
  touched_.try_emplace(id, true);
  if (--it->second == 0) refs_.erase(it);
}

void Model::ref_entry(const Entry& e, int sign) {
  for (const ObjectId& id : e.content) sign > 0 ? ref(id) : unref(id);
}

void Model::count(const Entry& e, int sign) {
  auto add = [sign](std::uint64_t& v, std::uint64_t n) { v = sign > 0 ? v + n : v - n; };
  switch (e.kind) {
    case EntryKind::file: add(totals_.files, 1), add(totals_.bytes, e.size); break;
    case EntryKind::dir: add(totals_.dirs, 1); break;
    case EntryKind::symlink: add(totals_.symlinks, 1); break;
  }
}

void Model::mark_dirty(std::string_view dir_rel) {
  for (;;) {
    Dir& d = dirs_.at(std::string(dir_rel));
    if (d.dirty && !dir_rel.empty()) return;  // its ancestors are dirty already
    d.dirty = true;
    if (dir_rel.empty()) return;
    dir_rel = split(dir_rel).first;
  }
}

void Model::drop_subtree(const std::string& rel) {
  auto it = dirs_.find(rel);
  if (it == dirs_.end()) return;
  Entries entries = std::move(it->second.entries);
  dirs_.erase(it);
  for (const auto& [name, e] : entries) {
    if (e.is_dir()) drop_subtree(join(rel, name));
    ref_entry(e, -1);
    count(e, -1);
  }
}

void Model::set(std::string_view rel, Entry e) {
  if (rel.empty()) throw std::logic_error("the root has no entry");
  auto [parent, name] = split(rel);
  auto dit = dirs_.find(std::string(parent));
  if (dit == dirs_.end()) throw std::logic_error("no directory '" + std::string(parent) + "' in the model");
  Entries& entries = dit->second.entries;
  auto it = entries.find(name);
  if (it != entries.end()) {
    Entry& old = it->second;
    if (old.is_dir() && e.is_dir()) e.content = old.content;  // its tree stays its own
    if (old.same_snapshot(e)) {
      old.dev = e.dev, old.ino = e.ino, old.ctime_ns = e.ctime_ns;
      return;
    }
    if (old.is_dir() && !e.is_dir()) drop_subtree(std::string(rel));
    if (!(old.is_dir() && e.is_dir())) ref_entry(old, -1), ref_entry(e, +1);
    count(old, -1);
    count(e, +1);
    old = std::move(e);
  } else {
    ref_entry(e, +1);
    count(e, +1);
    it = entries.emplace(std::string(name), std::move(e)).first;
  }
  if (it->second.is_dir()) dirs_.try_emplace(std::string(rel));
  mark_dirty(parent);
}

void Model::set_local(std::string_view rel, std::uint64_t dev, std::uint64_t ino, std::int64_t ctime_ns) {
  auto [parent, name] = split(rel);
  auto dit = dirs_.find(std::string(parent));
  if (dit == dirs_.end()) return;
  auto it = dit->second.entries.find(name);
  if (it == dit->second.entries.end()) return;
  it->second.dev = dev, it->second.ino = ino, it->second.ctime_ns = ctime_ns;
}

void Model::remove(std::string_view rel) {
  if (rel.empty()) return;
  auto [parent, name] = split(rel);
  auto dit = dirs_.find(std::string(parent));
  if (dit == dirs_.end()) return;
  auto it = dit->second.entries.find(name);
  if (it == dit->second.entries.end()) return;
  Entry old = std::move(it->second);
  dit->second.entries.erase(it);
  if (old.is_dir()) drop_subtree(std::string(rel));
  ref_entry(old, -1);
  count(old, -1);
  mark_dirty(parent);
}

void Model::set_root_tree(const ObjectId& id) {
  if (id == root_tree_) return;
  if (!root_tree_.null()) unref(root_tree_);
  root_tree_ = id;
  ref(id);
}

ObjectId Model::commit(Store& store, std::uint64_t* new_objects, std::uint64_t* new_bytes) {
  return build(&store, new_objects, new_bytes);
}

void Model::rehash() { build(nullptr, nullptr, nullptr); }

ObjectId Model::build(Store* store, std::uint64_t* new_objects, std::uint64_t* new_bytes) {
  std::vector<std::string> order;
  for (const auto& [rel, d] : dirs_)
    if (d.dirty) order.push_back(rel);
  std::sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) { return depth(a) > depth(b); });
  for (const std::string& rel : order) {
    Dir& d = dirs_.at(rel);
    std::string text = serialize_tree(d.entries);
    ObjectId id = hash_bytes(text);
    if (store && !stored(id)) {
      store->put(keys::object(id), text);
      if (new_objects) ++*new_objects;
      if (new_bytes) *new_bytes += text.size();
    }
    d.tree = id;
    d.dirty = false;
    if (rel.empty()) {
      set_root_tree(id);
      continue;
    }
    auto [parent, name] = split(rel);
    Entry& e = dirs_.at(std::string(parent)).entries.find(name)->second;
    if (!e.content.empty() && e.content[0] == id) continue;
    if (!e.content.empty()) unref(e.content[0]);
    e.content.assign(1, id);
    ref(id);
  }
  return root_tree_;
}

Changes Model::changes() const {
  Changes c;
  for (const auto& [id, before] : touched_) {
    bool after = refs_.count(id) != 0;
    if (!before && after) c.added.push_back(id);
    if (before && !after) c.released.push_back(id);
  }
  std::sort(c.added.begin(), c.added.end());
  std::sort(c.released.begin(), c.released.end());
  return c;
}

void Model::accept() { touched_.clear(); }

bool Model::stored(const ObjectId& id) const {
  if (!refs_.count(id)) return false;
  auto it = touched_.find(id);
  return it == touched_.end() || it->second;
}

void Model::distrust_unaccepted() {
  if (touched_.empty()) return;
  for (auto& [rel, d] : dirs_) {
    if (!d.tree.null() && !stored(d.tree)) d.dirty = true;
    for (auto& [name, e] : d.entries) {
      if (e.is_dir()) continue;  // its tree is the directory's own, above
      for (const ObjectId& id : e.content)
        if (!stored(id)) {
          e.dev = 0, e.ino = 0, e.ctime_ns = 0;
          break;
        }
    }
  }
}

void Model::for_each_dir(const std::function<void(const std::string&, const Dir&)>& fn) const {
  std::vector<const std::string*> keys;
  keys.reserve(dirs_.size());
  for (const auto& kv : dirs_) keys.push_back(&kv.first);
  std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* k : keys) fn(*k, dirs_.at(*k));
}

void Model::for_each_below(std::string_view rel,
                           const std::function<void(const std::string&, const Entry&)>& fn) const {
  const Entry* e = find(rel);
  if (e && !e->is_dir()) return fn(std::string(rel), *e);
  const Dir* d = dir(rel);
  if (!d) return;
  for (const auto& [name, child] : d->entries) for_each_below(join(rel, name), fn);
}

Model Model::load(Store& store, const ObjectId& root) {
  Model m;
  struct Loader {
    Model& m;
    Store& store;
    void load(const std::string& rel, const ObjectId& id, std::size_t level) {
      if (level > kMaxTreeDepth)
        throw FormatError("checkpoint trees nest deeper than " + std::to_string(kMaxTreeDepth) + " at '/" + rel + "'");
      std::string key = keys::object(id);
      auto text = store.get(key);
      if (!text) throw StoreError(store.describe() + "/" + key + ": missing tree of '/" + rel + "'");
      if (hash_bytes(*text) != id)
        throw FormatError(store.describe() + "/" + key + ": corrupt (content does not match its id)");
      Dir& d = m.dirs_[rel];
      d.entries = parse_tree(*text, store.describe() + "/" + key);
      d.tree = id;
      d.dirty = false;
      std::vector<std::pair<std::string, ObjectId>> subdirs;
      for (const auto& [name, e] : d.entries) {
        m.ref_entry(e, +1);
        m.count(e, +1);
        if (e.is_dir()) subdirs.emplace_back(join(rel, name), e.content[0]);
      }
      for (const auto& [sub, sid] : subdirs) load(sub, sid, level + 1);
    }
  };
  Loader{m, store}.load("", root, 0);
  m.root_tree_ = root;
  m.ref(root);
  m.accept();
  return m;
}

std::string Model::serialize_index(std::uint64_t generation) const {
  std::string out = fmt::format("{}\ngeneration {}\nroot {}\n", kIndexHeader, generation, root_tree_.hex());
  for_each_dir([&](const std::string& rel, const Dir& d) {
    std::string body = serialize_tree(d.entries, true);
    out += fmt::format("D {} {}\n", rel.empty() ? std::string(".") : escape_name(rel), body.size());
    out += body;
  });
  return out;
}

Model Model::parse_index(std::string_view text, std::string_view what, std::uint64_t* generation) {
  auto line = [&]() {
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) throw FormatError(fmt::format("{}: truncated", what));
    std::string_view l = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    return l;
  };
  if (line() != kIndexHeader) throw FormatError(fmt::format("{}: not a fractfs index", what));
  std::string_view g = line();
  std::uint64_t gen = 0;
  if (!g.starts_with("generation ") || std::from_chars(g.data() + 11, g.data() + g.size(), gen).ec != std::errc())
    throw FormatError(fmt::format("{}: bad generation line", what));
  line();  // root: recomputed below
  Model m;
  std::set<std::string> seen;
  while (!text.empty()) {
    std::string_view d = line();
    std::size_t sp = d.rfind(' ');
    std::size_t len = 0;
    std::string rel;
    if (!d.starts_with("D ") || sp < 2 ||
        std::from_chars(d.data() + sp + 1, d.data() + d.size(), len).ec != std::errc() || len > text.size() ||
        !unescape_name(d.substr(2, sp - 2), rel))
      throw FormatError(fmt::format("{}: bad directory line '{}'", what, d));
    if (rel == ".") rel.clear();
    if (!seen.insert(rel).second) throw FormatError(fmt::format("{}: two blocks for directory '{}'", what, rel));
    m.dirs_[rel].entries = parse_tree(text.substr(0, len), what, true);
    text.remove_prefix(len);
  }
  // Every directory entry must have its directory and the other way round.
  for (auto& [rel, dir] : m.dirs_) {
    for (auto& [name, e] : dir.entries) {
      m.count(e, +1);
      if (!e.is_dir()) {
        m.ref_entry(e, +1);
      } else if (!m.dirs_.count(join(rel, name))) {
        throw FormatError(fmt::format("{}: directory '{}' has no contents block", what, join(rel, name)));
      }
      if (e.is_dir()) e.content.clear();  // recomputed by rehash
    }
    const Entry* self = rel.empty() ? nullptr : m.find(rel);
    if (!rel.empty() && (!self || !self->is_dir()))
      throw FormatError(fmt::format("{}: a block for '{}', which is in no directory of the index", what, rel));
  }
  m.rehash();
  m.accept();
  if (generation) *generation = gen;
  return m;
}

void Model::adopt_local_identities(const Model& other) {
  for (auto& [rel, d] : dirs_) {
    const Dir* od = other.dir(rel);
    if (!od) continue;
    for (auto& [name, e] : d.entries) {
      auto it = od->entries.find(name);
      if (it == od->entries.end() || !it->second.same_snapshot(e)) continue;
      e.dev = it->second.dev, e.ino = it->second.ino, e.ctime_ns = it->second.ctime_ns;
    }
  }
}

}  // namespace fractfs
