// Shared pieces for the checkpoint engine's unit tests: an in-memory store,
// a counting (and hookable) wrapper around any store, brute-force walks of
// what a generation reaches, an app root with its configuration, and
// manifests of real directory trees to compare.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"
#include "sync/bundle.hpp"
#include "sync/checkpoint.hpp"
#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/object_id.hpp"
#include "sync/pack_store.hpp"
#include "sync/store.hpp"
#include "sync/tree.hpp"
#include "tests/unit/tmpdir.hpp"

namespace fractfs::test {

using IdSet = std::set<ObjectId>;

inline bool is_tree_text(std::string_view data) { return data.starts_with("fractfs-tree 1\n"); }
inline bool is_object_key(std::string_view key) { return key.starts_with("objects/"); }

// Counters shared by the stores below.
struct StoreCounts {
  std::atomic<std::uint64_t> puts{0}, object_puts{0}, chunk_puts{0}, tree_puts{0}, removes{0}, flushes{0};
  std::atomic<std::uint64_t> chunk_bytes{0};
  void count_put(const std::string& key, std::string_view data) {
    ++puts;
    if (!is_object_key(key)) return;
    ++object_puts;
    if (is_tree_text(data)) {
      ++tree_puts;
    } else {
      ++chunk_puts;
      chunk_bytes += data.size();
    }
  }
  void reset() { puts = object_puts = chunk_puts = tree_puts = removes = flushes = chunk_bytes = 0; }
};

// The bytes of a Source, for stores that keep whole values.
inline std::string whole(const Source& src) {
  if (const std::string_view* m = src.in_memory()) return std::string(*m);
  std::string out(static_cast<std::size_t>(src.size()), '\0');
  if (!out.empty()) src.read_at(0, out.data(), out.size());
  return out;
}

// A store in memory: thread-safe (captures put from several threads).
class MemStore : public Store, public StoreCounts {
 public:
  std::string describe() const override { return "mem:"; }
  Capabilities caps() const override { return {true, true, 8, 0}; }
  bool load(const std::string& key, const Sink& sink, Range r) override {
    std::string v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = data_.find(key);
      if (it == data_.end()) return false;
      v = it->second;
    }
    if (r.offset < v.size()) sink(std::string_view(v).substr(r.offset, r.length));
    return true;
  }
  void save(const std::string& key, const Source& src) override {
    std::string data = whole(src);
    if (before_put) before_put(key, data);  // may throw: a failing store
    count_put(key, data);
    std::lock_guard<std::mutex> lock(mu_);
    data_[key] = std::move(data);
    mtime_[key] = ::time(nullptr);
  }
  std::optional<ObjectInfo> stat(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return ObjectInfo{key, it->second.size(), {}};
  }
  void remove(const std::string& key) override {
    ++removes;
    std::lock_guard<std::mutex> lock(mu_);
    data_.erase(key);
    mtime_.erase(key);
  }
  void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) override {
    std::vector<ObjectInfo> out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::string p = prefix.empty() ? "" : prefix + "/";
      for (auto it = data_.lower_bound(p); it != data_.end() && it->first.starts_with(p); ++it)
        out.push_back({it->first, it->second.size(), {}, mtime_[it->first]});
    }
    for (const ObjectInfo& o : out) each(o);
  }
  std::optional<Pointer> read_pointer(const std::string& key) override {
    auto v = get(key);
    if (!v) return std::nullopt;
    return Pointer{*v, std::to_string(std::hash<std::string>{}(*v))};
  }
  SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                          std::string_view value) override {
    std::lock_guard<std::mutex> lock(swap_mu_);
    auto now = read_pointer(key);
    if (expected ? !(now && now->version == *expected) : now.has_value()) return {false, now};
    put(key, value);
    return {true, read_pointer(key)};
  }
  void remove_pointer(const std::string& key) override { remove(key); }
  void flush() override { ++flushes; }
  std::uint64_t discard_abandoned(std::int64_t) override { return 0; }

  // As if `key` had been stored `seconds` earlier.
  void age(const std::string& key, std::int64_t seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    mtime_[key] -= seconds;
  }
  bool has(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    return data_.count(key) != 0;
  }
  std::map<std::string, std::string> contents() const {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }
  void replace_all(std::map<std::string, std::string> data) {
    std::lock_guard<std::mutex> lock(mu_);
    data_ = std::move(data);
  }

  std::function<void(const std::string&, std::string_view)> before_put;

 private:
  mutable std::mutex mu_;
  std::mutex swap_mu_;
  std::map<std::string, std::string> data_;
  std::map<std::string, std::int64_t> mtime_;  // when each key was last saved
};

// Counts and hooks around another store (the mount store).
class ProbeStore : public Store, public StoreCounts {
 public:
  explicit ProbeStore(Store& inner) : inner_(inner) {}
  std::string describe() const override { return inner_.describe(); }
  Capabilities caps() const override { return inner_.caps(); }
  bool load(const std::string& key, const Sink& sink, Range r) override { return inner_.load(key, sink, r); }
  void save(const std::string& key, const Source& src) override {
    std::string data = whole(src);
    if (before_put) before_put(key, data);
    count_put(key, data);
    inner_.put(key, data);
  }
  std::optional<ObjectInfo> stat(const std::string& key) override { return inner_.stat(key); }
  void remove(const std::string& key) override {
    ++removes;
    inner_.remove(key);
  }
  void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) override {
    inner_.walk(prefix, each);
  }
  std::optional<Pointer> read_pointer(const std::string& key) override { return inner_.read_pointer(key); }
  SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                          std::string_view value) override {
    if (before_put) before_put(key, value);  // a pointer write is a write too
    count_put(key, value);
    return inner_.swap_pointer(key, expected, value);
  }
  void remove_pointer(const std::string& key) override { inner_.remove_pointer(key); }
  std::uint64_t discard_abandoned(std::int64_t older_than_s) override { return inner_.discard_abandoned(older_than_s); }
  void flush() override {
    ++flushes;
    if (forward_flush) inner_.flush();
  }

  std::function<void(const std::string&, std::string_view)> before_put;
  // syncfs(2) costs milliseconds per call and durability is not what unit
  // tests check: flushes are counted and only passed on when asked.
  bool forward_flush = false;

 private:
  Store& inner_;
};

// ---- what generations reach -------------------------------------------------

struct Reach {
  IdSet ids;                         // trees and chunks named
  std::vector<std::string> missing;  // keys named but absent or corrupt
};

inline void reach_tree(Store& store, const ObjectId& tree, Reach& r, bool check_chunks = true) {
  if (!r.ids.insert(tree).second) return;
  std::string key = keys::object(tree);
  auto text = store.get(key);
  if (!text) return r.missing.push_back(key + " (tree)");
  if (hash_bytes(*text) != tree) return r.missing.push_back(key + " (corrupt tree)");
  for (const auto& [name, e] : parse_tree(*text, key)) {
    if (e.is_dir()) {
      reach_tree(store, e.content[0], r, check_chunks);
      continue;
    }
    for (const ObjectId& id : e.content) {
      if (!r.ids.insert(id).second || !check_chunks) continue;
      auto data = store.get(keys::object(id));
      if (!data) r.missing.push_back(keys::object(id) + " (chunk of '" + name + "')");
      else if (hash_bytes(*data) != id) r.missing.push_back(keys::object(id) + " (corrupt chunk of '" + name + "')");
    }
  }
}

// The numbers of the generation records present, ascending, once each.
inline std::vector<std::uint64_t> generation_numbers(Store& store) {
  std::vector<std::uint64_t> out;
  for (const RecordKey& k : list_generations(store))
    if (out.empty() || out.back() != k.number) out.push_back(k.number);
  return out;
}

// The record numbered n: the one in the history from CURRENT, else the only one.
inline Generation generation_at(Store& store, std::uint64_t n) {
  if (auto cur = read_current(store))
    if (auto k = in_history(store, *cur, n)) return read_generation(store, n, k->tag);
  for (const RecordKey& k : list_generations(store))
    if (k.number == n) return read_generation(store, n, k.tag);
  throw StoreError("no generation " + std::to_string(n));
}

inline Reach reach_generation(Store& store, std::uint64_t n) {
  Reach r;
  reach_tree(store, generation_at(store, n).root, r);
  return r;
}

// Every object id present in the store.
inline IdSet stored_objects(Store& store) {
  IdSet out;
  for (const std::string& key : store.list(keys::objects)) {
    std::string hex = key.substr(std::string(keys::objects).size() + 1);
    std::erase(hex, '/');
    auto id = ObjectId::parse(hex);
    if (id) out.insert(*id);
  }
  return out;
}

// The generations a collection with `keep` must keep after `current`.
inline std::vector<std::uint64_t> kept_generations(Store& store, std::uint64_t current, long keep) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t g : generation_numbers(store))
    if (g <= current && g + static_cast<std::uint64_t>(keep) > current) out.push_back(g);
  return out;
}

// Brute force: every id the model's entries name, and its root tree.
inline IdSet model_ids(const Model& m) {
  IdSet s;
  if (!m.root_tree().null()) s.insert(m.root_tree());
  m.for_each_dir([&](const std::string&, const Model::Dir& d) {
    for (const auto& [name, e] : d.entries) s.insert(e.content.begin(), e.content.end());
  });
  return s;
}

inline std::string describe_ids(const std::vector<ObjectId>& ids) {
  std::string out;
  for (const ObjectId& id : ids) out += id.hex().substr(0, 8) + " ";
  return out;
}

inline std::vector<ObjectId> minus(const IdSet& a, const IdSet& b) {
  std::vector<ObjectId> out;
  for (const ObjectId& id : a)
    if (!b.count(id)) out.push_back(id);
  return out;
}

// ---- real trees --------------------------------------------------------------

struct Node {
  char type = '?';  // f d l
  std::uint32_t mode = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;
  std::string data;  // file bytes or link target
  bool operator==(const Node&) const = default;
};
using Manifest = std::map<std::string, Node>;

inline std::int64_t mtime_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

inline std::string read_all(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// Every entry below `dir` (not `dir` itself), symlinks not followed.
// `skip(rel, is_dir)`: leave out (and do not descend).
inline void manifest_into(const std::string& dir, const std::string& rel, Manifest& out,
                          const std::function<bool(const std::string&, bool)>& skip, bool with_data = true) {
  DIR* d = ::opendir((rel.empty() ? dir : dir + "/" + rel).c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (const struct dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.emplace_back(e->d_name);
  ::closedir(d);
  for (const std::string& name : names) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    std::string full = dir + "/" + child;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) continue;
    bool is_dir = S_ISDIR(st.st_mode);
    if (skip && skip(child, is_dir)) continue;
    Node n;
    n.mode = st.st_mode & 07777;
    n.mtime_ns = mtime_of(st);
    if (S_ISREG(st.st_mode)) {
      n.type = 'f';
      n.size = static_cast<std::uint64_t>(st.st_size);
      if (with_data) n.data = read_all(full);
    } else if (S_ISLNK(st.st_mode)) {
      n.type = 'l';
      n.mode = 0;  // not restored: always 0777 on Linux
      std::string t(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t len = ::readlink(full.c_str(), t.data(), t.size());
      t.resize(len < 0 ? 0 : static_cast<std::size_t>(len));
      n.size = t.size();
      n.data = t;
    } else if (is_dir) {
      n.type = 'd';
    } else {
      n.type = 's';  // FIFO and the like
    }
    out[child] = n;
    if (is_dir) manifest_into(dir, child, out, skip, with_data);
  }
}

inline Manifest manifest(const std::string& dir, const std::function<bool(const std::string&, bool)>& skip = {},
                         bool with_data = true) {
  Manifest m;
  manifest_into(dir, "", m, skip, with_data);
  return m;
}

inline std::string show(const Node& n) {
  std::ostringstream s;
  s << n.type << " mode=" << std::oct << n.mode << std::dec << " mtime=" << n.mtime_ns << " size=" << n.size;
  if (n.type == 'l') s << " -> '" << n.data << "'";
  if (n.type == 'f') s << " data=" << hash_bytes(n.data).hex().substr(0, 8);
  return s.str();
}

// "" when equal; else one line per difference.
inline std::string diff(const Manifest& want, const Manifest& got, bool dir_mtimes = true) {
  std::string out;
  for (const auto& [rel, n] : want) {
    auto it = got.find(rel);
    if (it == got.end()) {
      out += "missing: " + rel + " (" + show(n) + ")\n";
      continue;
    }
    Node a = n, b = it->second;
    if (!dir_mtimes && a.type == 'd' && b.type == 'd') a.mtime_ns = b.mtime_ns = 0;
    if (!(a == b)) out += "differs: " + rel + ": want " + show(a) + ", got " + show(b) + "\n";
  }
  for (const auto& [rel, n] : got)
    if (!want.count(rel)) out += "extra: " + rel + " (" + show(n) + ")\n";
  return out;
}

inline void set_mtime(const std::string& path, std::int64_t ns) {
  struct timespec t[2] = {{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)},
                          {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)}};
  if (::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW) != 0)
    throw std::runtime_error("utimensat " + path + ": " + std::strerror(errno));
}

inline void write_file(const std::string& path, std::string_view data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

inline bool verbose() {
  const char* v = std::getenv("FRACTFS_UNIT_VERBOSE");
  return v && *v && std::strcmp(v, "0") != 0;
}

// ---- an app root with its configuration and store ---------------------------

inline std::vector<ConfigEntry> entries(const std::vector<std::string>& lines) {
  std::vector<ConfigEntry> out;
  for (const std::string& l : lines) out.push_back(ConfigEntry{l, "test"});
  return out;
}

// ROOT, REMOTE (holding the mount store, or a MemStore), SCRATCH; a resolver
// from the configuration; the holder's snapshot.
class Site {
 public:
  struct Options {
    bool mem = false;  // a MemStore instead of the mount store
    // With mem: the MemStore behind the pack layer, with tiny packs so
    // that a few files make several (and collection compacts them).
    bool packed = false;
    std::vector<std::string> dirs, ignore, local;
    long keep = 3;
  };

  Site() : Site(Options{}) {}
  explicit Site(Options o) {
    root = tmp.mkdir("root");
    remote = tmp.mkdir("remote");
    cfg.root = root;
    cfg.remote_root = remote;
    cfg.scratch = tmp.mkdir("scratch");
    cfg.keep_generations = o.keep;
    configure(o.dirs, o.ignore, o.local);
    if (o.mem) {
      mem = std::make_unique<MemStore>();
      if (o.packed) packed = reopen_packed();
    } else {
      mount = open_mount_store(remote + "/" + cfg.checkpoint_subdir + "/.fractfs");
      probe = std::make_unique<ProbeStore>(*mount);
    }
  }

  void configure(const std::vector<std::string>& dirs, const std::vector<std::string>& ignore,
                 const std::vector<std::string>& local) {
    cfg.dirs = entries(dirs);
    cfg.ignore = entries(ignore);
    cfg.local = entries(local);
    resolver.emplace(cfg);
  }

  Store& store() {
    if (packed) return *packed;
    return mem ? static_cast<Store&>(*mem) : static_cast<Store&>(*probe);
  }
  // A new pack layer over the same MemStore: what a restarted process sees.
  std::unique_ptr<Store> reopen_packed() {
    return pack_objects(std::make_unique<ProbeStore>(*mem), PackOptions{4096, 1024, 3});
  }
  StoreCounts& counts() { return mem ? static_cast<StoreCounts&>(*mem) : static_cast<StoreCounts&>(*probe); }
  void on_put(std::function<void(const std::string&, std::string_view)> fn) {
    if (mem) mem->before_put = std::move(fn);
    else probe->before_put = std::move(fn);
  }
  SyncEnv env() { return SyncEnv{cfg, *resolver, store(), bundle}; }

  CheckpointReport full(bool rehash = false) {
    CheckpointOptions o;
    o.full = true;
    o.rehash = rehash;
    return checkpoint(env(), snap, {}, o);
  }
  CheckpointReport incr(const std::vector<std::string>& paths) { return checkpoint(env(), snap, paths, {}); }
  // Lets the file-system clock tick past the last write: a file captured
  // within a tick of its change is read again next time (racy-clean).
  static void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }

  std::string path(const std::string& rel) const { return root + "/" + rel; }
  void write(const std::string& rel, std::string_view data, mode_t mode = 0644) const {
    std::string p = path(rel);
    std::size_t slash = p.rfind('/');
    std::filesystem::create_directories(p.substr(0, slash));
    write_file(p, data, mode);
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(path(rel)); }
  void symlink(const std::string& target, const std::string& rel) const {
    if (::symlink(target.c_str(), path(rel).c_str()) != 0)
      throw std::runtime_error("symlink " + rel + ": " + std::strerror(errno));
  }
  void remove(const std::string& rel) const { std::filesystem::remove_all(path(rel)); }
  std::string read(const std::string& rel) const { return read_all(path(rel)); }

  // Would the checkpoint take `rel` (mirrors the scanner's rule)?
  bool checkpointed(const std::string& rel, bool is_dir) const {
    switch (resolver->decide(rel, is_dir).tier) {
      case Tier::local_synced: return is_dir || !bundle.contains(rel);
      case Tier::remote: return is_dir;
      default: return false;
    }
  }
  // The part of the root a checkpoint covers.
  // (FIFOs and other special files are never checkpointed.)
  Manifest local_manifest() const {
    Manifest m = manifest(root, [this](const std::string& rel, bool is_dir) { return !checkpointed(rel, is_dir); });
    std::erase_if(m, [](const auto& kv) { return kv.second.type == 's'; });
    return m;
  }

  // The snapshot `gen` holds, as a manifest (file bytes from the store).
  Manifest stored_manifest(const ObjectId& root_tree, Store* from = nullptr) {
    Store& st = from ? *from : store();
    Manifest out;
    Model m = Model::load(st, root_tree);
    m.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
      for (const auto& [name, e] : d.entries) {
        Node n;
        n.mode = e.kind == EntryKind::symlink ? 0 : e.mode;
        n.mtime_ns = e.mtime_ns;
        n.size = e.kind == EntryKind::dir ? 0 : e.size;
        n.type = static_cast<char>(e.kind);
        if (e.kind == EntryKind::symlink) n.data = e.target;
        if (e.kind == EntryKind::file)
          for (const ObjectId& id : e.content) {
            auto data = st.get(keys::object(id));
            n.data += data ? *data : std::string("<missing>");
          }
        out[rel.empty() ? name : rel + "/" + name] = n;
      }
    });
    return out;
  }

  TempDir tmp;
  std::string root, remote;
  Config cfg;
  std::optional<Resolver> resolver;
  Bundle bundle;
  std::unique_ptr<MemStore> mem;
  std::unique_ptr<Store> mount;
  std::unique_ptr<ProbeStore> probe;
  std::unique_ptr<Store> packed;  // over mem
  Snapshot snap;
};

}  // namespace fractfs::test
