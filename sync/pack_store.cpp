#include "sync/pack_store.hpp"

#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <future>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sync/crash.hpp"
#include "sync/object_id.hpp"
#include "sync/tree.hpp"

namespace fractfs {
namespace {

constexpr std::string_view kIndexHeader = "fractfs-index 1";
constexpr std::string_view kObjects = "objects/";
constexpr std::size_t kMergeSmallPacks = 16;

std::string pack_key(const std::string& name) { return "packs/" + name; }
std::string index_key(const std::string& name) { return "index/" + name; }

// "objects/ab/cdef…" → the id; nullopt for any other key.
std::optional<ObjectId> object_of(const std::string& key) {
  if (!key.starts_with(kObjects) || key.size() != kObjects.size() + 33 || key[kObjects.size() + 2] != '/')
    return std::nullopt;
  return ObjectId::parse(key.substr(kObjects.size(), 2) + key.substr(kObjects.size() + 3));
}

std::string object_key(const ObjectId& id) {
  std::string h = id.hex();
  return fmt::format("{}{}/{}", kObjects, h.substr(0, 2), h.substr(2));
}

struct Slice {
  ObjectId id;
  std::uint32_t offset = 0, length = 0;
};

std::string serialize_index(const std::vector<Slice>& slices) {
  std::string out(kIndexHeader);
  out += '\n';
  for (const Slice& s : slices) out += fmt::format("{} {} {}\n", s.id.hex(), s.offset, s.length);
  return out;
}

std::vector<Slice> parse_index(std::string_view text, const std::string& what) {
  std::vector<Slice> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (++line_no == 1) {
      if (line != kIndexHeader)
        throw FormatError(
            fmt::format("{}: not a pack index (expected '{}'): written by a newer fractfs?", what, kIndexHeader));
      continue;
    }
    if (line.empty()) continue;
    Slice s;
    unsigned long long off = 0, len = 0;
    char hex[33] = {};
    if (std::sscanf(std::string(line).c_str(), "%32s %llu %llu", hex, &off, &len) != 3 || !ObjectId::parse(hex) ||
        off > UINT32_MAX || len > UINT32_MAX)
      throw FormatError(fmt::format("{}: line {}: malformed entry", what, line_no));
    s.id = *ObjectId::parse(hex);
    s.offset = static_cast<std::uint32_t>(off), s.length = static_cast<std::uint32_t>(len);
    out.push_back(s);
  }
  return out;
}

using PackBytes = std::shared_ptr<const std::string>;

class PackStore final : public Store {
 public:
  // An open pack left at the end is dropped: only a commit names objects,
  // and it flushes first.
  PackStore(std::unique_ptr<Store> inner, PackOptions opt) : inner_(std::move(inner)), opt_(opt) {}

  std::string describe() const override { return inner_->describe(); }
  Capabilities caps() const override { return inner_->caps(); }

  bool load(const std::string& key, const Sink& sink, Range range) override {
    auto id = object_of(key);
    if (!id) return inner_->load(key, sink, range);
    ensure_index();
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto found = packed(*id)) return serve(found->first, found->second, sink, range);
      if (inner_->load(key, sink, range)) return true;
      if (attempt == 0) refresh();  // another writer's pack, made since the index was read
    }
    return false;
  }

  void save(const std::string& key, const Source& data) override {
    auto id = object_of(key);
    if (!id || data.size() >= opt_.max_object) return inner_->save(key, data);
    std::string bytes(static_cast<std::size_t>(data.size()), '\0');
    if (data.read_at(0, bytes.data(), bytes.size()) != bytes.size())
      throw StoreError(describe() + "/" + key + ": the object shrank while it was stored");
    std::unique_lock<std::mutex> lock(mu_);
    if (live_.count(*id)) return;  // stored already (a pack being sealed counts: flush() waits for it)
    add_to_open(*id, bytes);
    if (open_bytes_.size() >= opt_.target) seal(lock);
  }

  std::optional<ObjectInfo> stat(const std::string& key) override {
    auto id = object_of(key);
    if (!id) return inner_->stat(key);
    ensure_index();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = live_.find(*id);
      if (it != live_.end()) return ObjectInfo{key, it->second.length, {}};
    }
    return inner_->stat(key);
  }

  void remove(const std::string& key) override {
    auto id = object_of(key);
    if (!id) return inner_->remove(key);
    ensure_index();
    std::unique_lock<std::mutex> lock(mu_);
    auto it = live_.find(*id);
    if (it == live_.end()) {
      lock.unlock();
      return inner_->remove(key);
    }
    std::uint32_t slot = it->second.pack;
    release(it);
    if (packs_[slot].live == 0 && !packs_[slot].name.empty()) drop_pack(slot, lock);
  }

  void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) override {
    inner_->walk(prefix, each);
    bool objects = prefix.empty() || prefix == "objects" || prefix.starts_with(kObjects);
    if (!objects) return;
    ensure_index();
    std::vector<ObjectInfo> found;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, at] : live_) {
        std::string key = object_key(id);
        if (prefix.empty() || prefix == "objects" || key.starts_with(prefix + "/"))
          found.push_back(ObjectInfo{std::move(key), at.length, {}});
      }
    }
    for (const ObjectInfo& o : found) each(o);
  }

  std::optional<Pointer> read_pointer(const std::string& key) override { return inner_->read_pointer(key); }
  SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                          std::string_view value) override {
    return inner_->swap_pointer(key, expected, value);
  }
  void remove_pointer(const std::string& key) override { inner_->remove_pointer(key); }

  void flush() override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (open_ >= 0) seal(lock);
      sealed_.wait(lock, [&] { return sealing_ == 0; });
      if (seal_error_) std::rethrow_exception(std::exchange(seal_error_, nullptr));
    }
    inner_->flush();
  }

  // Packs nothing names (their writer died before the index) go with the
  // leftovers of interrupted uploads.
  std::uint64_t discard_abandoned(std::int64_t older_than_s) override {
    std::uint64_t n = inner_->discard_abandoned(older_than_s);
    refresh();
    // A pack without an index is a dead writer's, or one whose index is on
    // its way (another node's, in a take-over): only an old one goes.
    std::int64_t cutoff = ::time(nullptr) - older_than_s;
    std::vector<std::string> strays;
    inner_->walk("packs", [&](const ObjectInfo& o) {
      if (older_than_s <= 0 || o.mtime <= cutoff) strays.push_back(o.key);
    });
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (sealing_ > 0 || open_ >= 0) return n;  // this process is writing one
      std::erase_if(strays, [&](const std::string& key) { return by_name_.count(key.substr(6)) > 0; });
    }
    for (const std::string& key : strays) inner_->remove(key);
    return n + strays.size();
  }

  std::uint64_t compact() override;

 private:
  struct At {
    std::uint32_t pack, offset, length;
  };
  struct Pack {
    std::string name;  // empty until sealed
    std::vector<Slice> slices;
    std::uint64_t size = 0, live_bytes = 0;
    std::uint32_t live = 0;
    bool gone = false;
    PackBytes pending;  // the bytes, until the pack is saved
  };

  void add_to_open(const ObjectId& id, std::string_view bytes);
  void seal(std::unique_lock<std::mutex>& lock);
  void release(std::unordered_map<ObjectId, At, ObjectIdHash>::iterator it);
  void relocate(std::unordered_set<ObjectId, ObjectIdHash>& lost);
  void drop_pack(std::uint32_t slot, std::unique_lock<std::mutex>& lock);
  void adopt_index(const std::string& name, std::vector<Slice> slices);
  void ensure_index();
  void refresh();
  std::optional<std::pair<At, PackBytes>> packed(const ObjectId& id);
  bool serve(const At& at, PackBytes bytes, const Sink& sink, const Range& range);
  PackBytes fetch(std::uint32_t slot, const std::string& name);
  void forget(std::uint32_t slot);
  void move_live(std::uint32_t slot);

  std::unique_ptr<Store> inner_;
  PackOptions opt_;

  std::mutex mu_;
  std::vector<Pack> packs_;
  std::unordered_map<std::string, std::uint32_t> by_name_;
  std::unordered_map<ObjectId, At, ObjectIdHash> live_;  // each packed object, not removed, where it is
  int open_ = -1;                                        // the pack being filled
  std::string open_bytes_;
  int sealing_ = 0;
  std::condition_variable sealed_;
  std::exception_ptr seal_error_;
  std::list<std::pair<std::uint32_t, std::shared_future<PackBytes>>> cache_;  // most recent first

  std::mutex index_mu_;  // one reader of the index at a time
  bool index_loaded_ = false;
};

void PackStore::add_to_open(const ObjectId& id, std::string_view bytes) {
  if (open_ < 0) {
    open_ = static_cast<int>(packs_.size());
    packs_.emplace_back();
    open_bytes_.reserve(opt_.target + opt_.max_object);
  }
  Pack& p = packs_[static_cast<std::size_t>(open_)];
  Slice s{id, static_cast<std::uint32_t>(open_bytes_.size()), static_cast<std::uint32_t>(bytes.size())};
  open_bytes_.append(bytes);
  p.slices.push_back(s);
  p.size = open_bytes_.size();
  p.live++, p.live_bytes += s.length;
  live_[id] = At{static_cast<std::uint32_t>(open_), s.offset, s.length};
}

// Saves the open pack, then its index; `lock` is released meanwhile so
// other threads go on filling the next pack. A failure is kept for flush()
// to throw: that is where a checkpoint learns whether its objects are
// stored, whichever thread sealed their pack.
void PackStore::seal(std::unique_lock<std::mutex>& lock) {
  auto slot = static_cast<std::uint32_t>(open_);
  open_ = -1;
  Pack& p = packs_[slot];
  p.pending = std::make_shared<const std::string>(std::exchange(open_bytes_, {}));
  PackBytes bytes = p.pending;
  std::string index = serialize_index(p.slices);
  ++sealing_;
  lock.unlock();
  std::string name = hash_bytes(*bytes).hex();
  try {
    inner_->save(pack_key(name), BytesSource(*bytes));
    crash_point("pack");
    inner_->flush();  // no index may name a pack that is not durable
    inner_->put(index_key(name), index);
  } catch (...) {
    lock.lock();
    std::unordered_set<ObjectId, ObjectIdHash> lost;
    for (const Slice& s : packs_[slot].slices) {
      auto it = live_.find(s.id);
      if (it != live_.end() && it->second.pack == slot) release(it), lost.insert(s.id);
    }
    packs_[slot].gone = true, packs_[slot].pending.reset();
    relocate(lost);
    if (!seal_error_) seal_error_ = std::current_exception();
    --sealing_;
    sealed_.notify_all();
    return;
  }
  lock.lock();
  packs_[slot].name = name;
  packs_[slot].pending.reset();
  by_name_[name] = slot;
  --sealing_;
  sealed_.notify_all();
}

// Objects a failed pack held that another pack holds too (a compaction was
// moving them) live there again: they must not look missing.
void PackStore::relocate(std::unordered_set<ObjectId, ObjectIdHash>& lost) {
  for (std::uint32_t slot = 0; slot < packs_.size() && !lost.empty(); ++slot) {
    Pack& p = packs_[slot];
    if (p.gone || p.name.empty()) continue;
    for (const Slice& s : p.slices)
      if (lost.erase(s.id)) live_[s.id] = At{slot, s.offset, s.length}, p.live++, p.live_bytes += s.length;
  }
}

void PackStore::release(std::unordered_map<ObjectId, At, ObjectIdHash>::iterator it) {
  Pack& p = packs_[it->second.pack];
  p.live--, p.live_bytes -= it->second.length;
  live_.erase(it);
}

// Index first: a crash between the two leaves a pack nothing names, which
// the sweep discards, never an index naming a missing pack.
void PackStore::drop_pack(std::uint32_t slot, std::unique_lock<std::mutex>& lock) {
  Pack& p = packs_[slot];
  for (const Slice& s : p.slices) {
    auto it = live_.find(s.id);
    if (it != live_.end() && it->second.pack == slot) release(it);
  }
  p.gone = true;
  std::string name = p.name;
  by_name_.erase(name);
  cache_.remove_if([&](const auto& c) { return c.first == slot; });
  lock.unlock();
  inner_->remove(index_key(name));
  crash_point("gc");
  inner_->remove(pack_key(name));
  lock.lock();
}

void PackStore::adopt_index(const std::string& name, std::vector<Slice> slices) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by_name_.count(name)) return;
  auto slot = static_cast<std::uint32_t>(packs_.size());
  Pack& p = packs_.emplace_back();
  p.name = name;
  for (const Slice& s : slices) {
    p.size = std::max<std::uint64_t>(p.size, std::uint64_t{s.offset} + s.length);
    // An object in two packs (two writers stored it) lives in the one read first.
    if (live_.try_emplace(s.id, At{slot, s.offset, s.length}).second) p.live++, p.live_bytes += s.length;
  }
  p.slices = std::move(slices);
  by_name_[name] = slot;
}

void PackStore::ensure_index() {
  {
    std::lock_guard<std::mutex> lock(index_mu_);
    if (index_loaded_) return;
  }
  refresh();
}

// Reads the indexes not read yet.
void PackStore::refresh() {
  std::lock_guard<std::mutex> guard(index_mu_);
  std::vector<std::string> names;
  inner_->walk("index", [&](const ObjectInfo& o) {
    std::string name = o.key.substr(6);
    if (ObjectId::parse(name)) names.push_back(std::move(name));
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(names, [&](const std::string& n) { return by_name_.count(n) > 0; });
  }
  std::vector<std::optional<std::string>> texts(names.size());
  for_each_parallel(*inner_, names.size(), [&](std::size_t i) { texts[i] = inner_->get(index_key(names[i])); });
  for (std::size_t i = 0; i < names.size(); ++i)
    if (texts[i]) adopt_index(names[i], parse_index(*texts[i], describe() + "/" + index_key(names[i])));
  index_loaded_ = true;
}

std::optional<std::pair<PackStore::At, PackBytes>> PackStore::packed(const ObjectId& id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = live_.find(id);
  if (it == live_.end()) return std::nullopt;
  At at = it->second;
  const Pack& p = packs_[at.pack];
  if (p.pending) return std::make_pair(at, p.pending);
  if (open_ == static_cast<int>(at.pack))
    return std::make_pair(At{at.pack, 0, at.length},
                          std::make_shared<const std::string>(open_bytes_, at.offset, at.length));
  std::string name = p.name;
  lock.unlock();
  return std::make_pair(at, fetch(at.pack, name));
}

bool PackStore::serve(const At& at, PackBytes bytes, const Sink& sink, const Range& range) {
  if (!bytes) return false;
  std::uint64_t end = std::min<std::uint64_t>(std::uint64_t{at.offset} + at.length, bytes->size());
  std::uint64_t from = std::min<std::uint64_t>(std::uint64_t{at.offset} + range.offset, end);
  std::uint64_t to = range.length == Range::kToEnd ? end : std::min(end, from + range.length);
  if (to > from) sink(std::string_view(*bytes).substr(from, to - from));
  return true;
}

// A whole pack, from the cache or the store: one download however many of
// its objects are wanted at once, by however many threads. nullptr if the
// pack is missing.
PackBytes PackStore::fetch(std::uint32_t slot, const std::string& name) {
  std::promise<PackBytes> promise;
  std::shared_future<PackBytes> future;
  bool mine = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(cache_.begin(), cache_.end(), [&](const auto& c) { return c.first == slot; });
    if (it != cache_.end()) {
      cache_.splice(cache_.begin(), cache_, it);
      future = it->second;
    } else {
      future = promise.get_future().share();
      cache_.emplace_front(slot, future);
      if (cache_.size() > opt_.cached_packs) cache_.pop_back();
      mine = true;
    }
  }
  if (!mine) return future.get();
  try {
    auto data = inner_->get(pack_key(name));
    if (!data) forget(slot);
    promise.set_value(data ? std::make_shared<const std::string>(std::move(*data)) : nullptr);
  } catch (...) {
    forget(slot);
    promise.set_exception(std::current_exception());
  }
  return future.get();
}

void PackStore::forget(std::uint32_t slot) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.remove_if([&](const auto& c) { return c.first == slot; });
}

// Packs under half live (and small packs, once there are many): their
// live objects go to new packs, made durable, then the old packs go.
std::uint64_t PackStore::compact() {
  flush();
  ensure_index();
  std::vector<std::uint32_t> sparse, small;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::uint32_t slot = 0; slot < packs_.size(); ++slot) {
      const Pack& p = packs_[slot];
      if (p.gone || p.name.empty()) continue;
      if (p.live_bytes * 2 < p.size) sparse.push_back(slot);
      else if (p.size * 4 < opt_.target) small.push_back(slot);
    }
  }
  // Each small checkpoint adds a small pack: once there are many, they
  // are merged (fewer indexes to read at start, fewer downloads to restore).
  if (small.size() >= kMergeSmallPacks) sparse.insert(sparse.end(), small.begin(), small.end());
  for (std::uint32_t slot : sparse) move_live(slot);
  flush();  // the copies are durable before the originals go
  std::uint64_t reclaimed = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (std::uint32_t slot : sparse) {
    if (packs_[slot].gone || packs_[slot].live > 0) continue;
    reclaimed += packs_[slot].size;
    drop_pack(slot, lock);
  }
  return reclaimed;
}

void PackStore::move_live(std::uint32_t slot) {
  std::unique_lock<std::mutex> lock(mu_);
  if (packs_[slot].live == 0) return;
  std::string name = packs_[slot].name;
  lock.unlock();
  PackBytes bytes = fetch(slot, name);
  if (!bytes) return;  // missing: there is nothing to save from it
  lock.lock();
  std::vector<Slice> slices = packs_[slot].slices;
  for (const Slice& s : slices) {
    auto it = live_.find(s.id);
    if (it == live_.end() || it->second.pack != slot || std::uint64_t{s.offset} + s.length > bytes->size()) continue;
    release(it);
    add_to_open(s.id, std::string_view(*bytes).substr(s.offset, s.length));
    if (open_bytes_.size() >= opt_.target) seal(lock);
  }
}

}  // namespace

std::unique_ptr<Store> pack_objects(std::unique_ptr<Store> inner, PackOptions opt) {
  return std::make_unique<PackStore>(std::move(inner), opt);
}

}  // namespace fractfs
