// The model: entries by path, totals, commit (only dirty trees, only
// unknown objects), deterministic ids, exact change sets against brute
// force, loading from the store, and the local index.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include "sync/model.hpp"
#include "tests/unit/sync_fixture.hpp"

using namespace fractfs;
using namespace fractfs::test;
using Catch::Matchers::Contains;

namespace {

// A file entry whose chunks are `content` cut at kChunkSize boundaries
// (the test keeps contents small, so one chunk unless told otherwise).
Entry file_entry(const std::string& content, std::int64_t mtime = 1000, std::uint32_t mode = 0644) {
  Entry e;
  e.kind = EntryKind::file;
  e.mode = mode;
  e.mtime_ns = mtime;
  e.size = content.size();
  if (!content.empty()) e.content.push_back(hash_bytes(content));
  return e;
}

// A file of `chunks` distinct chunk ids (not stored anywhere).
Entry big_entry(std::size_t chunks, const std::string& seed) {
  Entry e;
  e.kind = EntryKind::file;
  e.mode = 0600;
  e.mtime_ns = 5;
  e.size = chunks * kChunkSize;
  for (std::size_t i = 0; i < chunks; ++i) e.content.push_back(hash_bytes(seed + std::to_string(i)));
  return e;
}

Entry dir_entry(std::int64_t mtime = 2000, std::uint32_t mode = 0755) {
  Entry e;
  e.kind = EntryKind::dir;
  e.mode = mode;
  e.mtime_ns = mtime;
  return e;
}

Entry link_entry(const std::string& target, std::int64_t mtime = 3000) {
  Entry e;
  e.kind = EntryKind::symlink;
  e.mode = 0777;
  e.mtime_ns = mtime;
  e.size = target.size();
  e.target = target;
  return e;
}

// Totals recomputed from scratch.
Model::Totals brute_totals(const Model& m) {
  Model::Totals t;
  m.for_each_dir([&](const std::string&, const Model::Dir& d) {
    for (const auto& [name, e] : d.entries) {
      switch (e.kind) {
        case EntryKind::file: ++t.files, t.bytes += e.size; break;
        case EntryKind::dir: ++t.dirs; break;
        case EntryKind::symlink: ++t.symlinks; break;
      }
    }
  });
  return t;
}

void check_totals(const Model& m) {
  Model::Totals want = brute_totals(m), got = m.totals();
  CHECK(got.files == want.files);
  CHECK(got.dirs == want.dirs);
  CHECK(got.symlinks == want.symlinks);
  CHECK(got.bytes == want.bytes);
}

// Every directory entry has its directory and the other way round.
void check_shape(const Model& m) {
  std::set<std::string> dirs, dir_entries{""};
  m.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
    dirs.insert(rel);
    for (const auto& [name, e] : d.entries)
      if (e.is_dir()) dir_entries.insert(rel.empty() ? name : rel + "/" + name);
  });
  CHECK(dirs == dir_entries);
}

// Puts the content of a file entry into the store, as a capture would.
void put_content(MemStore& store, const std::string& content) {
  if (!content.empty()) store.put(keys::object(hash_bytes(content)), content);
}

// Snapshot of everything: path -> serialized entry (with local identity).
std::map<std::string, std::string> dump(const Model& m, bool local) {
  std::map<std::string, std::string> out;
  m.for_each_dir([&](const std::string& rel, const Model::Dir& d) { out[rel] = serialize_tree(d.entries, local); });
  return out;
}

}  // namespace

TEST_CASE("model: set, find, remove", "[model]") {
  Model m;
  CHECK(m.find("") == nullptr);
  REQUIRE(m.dir("") != nullptr);
  CHECK(m.dirty());
  m.set("a", file_entry("hello"));
  m.set("d", dir_entry());
  m.set("d/e", dir_entry());
  m.set("d/e/f", file_entry("deep"));
  m.set("l", link_entry("d/e/f"));
  REQUIRE(m.find("a"));
  CHECK(m.find("a")->size == 5);
  CHECK(m.find("d")->is_dir());
  CHECK(m.dir("d/e"));
  CHECK(m.find("d/e/f")->content.at(0) == hash_bytes("deep"));
  CHECK(m.find("l")->target == "d/e/f");
  CHECK(m.find("nope") == nullptr);
  CHECK(m.find("nope/x") == nullptr);
  CHECK(m.find("a/x") == nullptr);  // below a file
  CHECK(m.dir("a") == nullptr);
  CHECK(m.known(hash_bytes("hello")));
  CHECK(m.known(hash_bytes("deep")));
  CHECK_FALSE(m.known(hash_bytes("other")));

  // The parent must be a directory of the model.
  CHECK_THROWS_AS(m.set("missing/x", file_entry("x")), std::logic_error);
  CHECK_THROWS_AS(m.set("a/x", file_entry("x")), std::logic_error);
  CHECK_THROWS_AS(m.set("", dir_entry()), std::logic_error);

  m.remove("d");
  CHECK(m.find("d") == nullptr);
  CHECK(m.dir("d") == nullptr);
  CHECK(m.dir("d/e") == nullptr);
  CHECK(m.find("d/e/f") == nullptr);
  CHECK_FALSE(m.known(hash_bytes("deep")));
  m.remove("d");          // absent: no-op
  m.remove("nope/deep");  // parent absent: no-op
  m.remove("");           // the root: no-op
  CHECK(m.find("a"));
  check_totals(m);
  check_shape(m);

  // for_each_below: files and symlinks at or below a path.
  m.set("x", dir_entry());
  m.set("x/y", dir_entry());
  m.set("x/y/1", file_entry("1"));
  m.set("x/2", link_entry("t"));
  m.set("xx", file_entry("not below x"));
  std::vector<std::string> below;
  m.for_each_below("x", [&](const std::string& rel, const Entry&) { below.push_back(rel); });
  std::sort(below.begin(), below.end());
  CHECK(below == std::vector<std::string>{"x/2", "x/y/1"});
  below.clear();
  m.for_each_below("a", [&](const std::string& rel, const Entry&) { below.push_back(rel); });
  CHECK(below == std::vector<std::string>{"a"});
  below.clear();
  m.for_each_below("", [&](const std::string& rel, const Entry&) { below.push_back(rel); });
  CHECK(below.size() == 5);
}

TEST_CASE("model: totals stay right through replacements and removals", "[model]") {
  Model m;
  auto step = [&](const char* what) {
    INFO(what);
    check_totals(m);
    check_shape(m);
  };
  m.set("f", file_entry("12345"));
  m.set("big", big_entry(3, "b"));
  m.set("d", dir_entry());
  m.set("d/s", dir_entry());
  m.set("d/s/t", dir_entry());
  m.set("d/s/t/x", file_entry("xx"));
  m.set("d/s/l", link_entry("../f"));
  m.set("d/y", file_entry("yyy"));
  step("built");
  CHECK(m.totals().files == 4);
  CHECK(m.totals().dirs == 3);
  CHECK(m.totals().symlinks == 1);
  CHECK(m.totals().bytes == 5 + 3 * kChunkSize + 2 + 3);

  m.set("f", file_entry("1234567"));  // file -> bigger file
  step("file resized");
  CHECK(m.totals().bytes == 7 + 3 * kChunkSize + 2 + 3);
  m.set("f", file_entry("1234567"));  // the same again
  step("same again");
  m.set("f", dir_entry());  // file -> dir
  step("file -> dir");
  CHECK(m.dir("f"));
  CHECK_FALSE(m.known(hash_bytes("1234567")));
  m.set("f/inner", file_entry("inner"));
  m.set("d", file_entry("was a dir"));  // dir with a subtree -> file
  step("dir -> file");
  CHECK(m.dir("d") == nullptr);
  CHECK(m.dir("d/s") == nullptr);
  CHECK(m.dir("d/s/t") == nullptr);
  CHECK(m.find("d/y") == nullptr);
  CHECK_FALSE(m.known(hash_bytes("xx")));
  CHECK_FALSE(m.known(hash_bytes("yyy")));
  CHECK(m.totals().files == 3);
  CHECK(m.totals().dirs == 1);
  CHECK(m.totals().symlinks == 0);
  m.set("f", link_entry("elsewhere"));  // dir with a file -> symlink
  step("dir -> symlink");
  CHECK(m.dir("f") == nullptr);
  CHECK_FALSE(m.known(hash_bytes("inner")));
  m.set("f", dir_entry(7));  // symlink -> dir
  m.set("f", dir_entry(8));  // dir -> dir (metadata only): keeps its contents
  m.set("f/k", file_entry("k"));
  m.set("f", dir_entry(9));
  step("dir -> dir");
  CHECK(m.find("f/k"));
  m.set("big", big_entry(1, "c"));  // fewer chunks
  step("big shrunk");
  m.remove("f");
  step("removed a subtree");
  m.remove("big");
  m.remove("d");
  step("removed all");
  CHECK(m.totals().files == 0);
  CHECK(m.totals().dirs == 0);
  CHECK(m.totals().symlinks == 0);
  CHECK(m.totals().bytes == 0);
}

TEST_CASE("model: commit stores only dirty trees, and only unknown ones", "[model]") {
  MemStore store;
  Model m;
  m.set("a", dir_entry());
  m.set("a/b", dir_entry());
  m.set("a/b/c", dir_entry());
  m.set("a/b/c/f", file_entry("f1"));
  m.set("x", dir_entry());
  m.set("x/g", file_entry("g"));
  m.set("y", dir_entry());
  std::uint64_t objs = 0, bytes = 0;
  ObjectId r1 = m.commit(store, &objs, &bytes);
  m.accept();
  CHECK_FALSE(m.dirty());
  CHECK(r1 == m.root_tree());
  // root, a, a/b, a/b/c, x, y: six trees, all distinct.
  CHECK(store.tree_puts == 6);
  CHECK(store.chunk_puts == 0);  // content is the capture's business
  CHECK(objs == 6);
  std::uint64_t tree_bytes = 0;
  for (const auto& [k, v] : store.contents()) tree_bytes += v.size();
  CHECK(bytes == tree_bytes);
  // Every dir's tree is stored under its id.
  m.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
    INFO(rel);
    CHECK_FALSE(d.dirty);
    auto text = store.get(keys::object(d.tree));
    REQUIRE(text);
    CHECK(*text == serialize_tree(d.entries));
  });

  SECTION("nothing changed: nothing stored") {
    store.reset();
    objs = bytes = 0;
    CHECK(m.commit(store, &objs, &bytes) == r1);
    CHECK(store.puts == 0);
    CHECK(objs == 0);
    CHECK(bytes == 0);
    CHECK(m.changes().added.empty());
    CHECK(m.changes().released.empty());
  }
  SECTION("a deep change stores the trees on its way to the root only") {
    store.reset();
    m.set("a/b/c/f", file_entry("f2"));
    CHECK(m.dirty());
    CHECK(m.dir("a/b/c")->dirty);
    CHECK(m.dir("a/b")->dirty);
    CHECK(m.dir("a")->dirty);
    CHECK_FALSE(m.dir("x")->dirty);
    CHECK_FALSE(m.dir("y")->dirty);
    ObjectId x_tree = m.dir("x")->tree;
    ObjectId r2 = m.commit(store, &objs, &bytes);
    CHECK(r2 != r1);
    CHECK(store.tree_puts == 4);  // a/b/c, a/b, a, root
    std::set<std::string> put_keys;
    for (const auto& rel : {"a/b/c", "a/b", "a", ""}) put_keys.insert(keys::object(m.dir(rel)->tree));
    for (const auto& k : put_keys) CHECK(store.has(k));
    CHECK(m.dir("x")->tree == x_tree);
  }
  SECTION("a metadata change of a directory re-stores its parent, not itself") {
    store.reset();
    ObjectId c_tree = m.dir("a/b/c")->tree;
    m.set("a/b/c", dir_entry(99999));
    CHECK_FALSE(m.dir("a/b/c")->dirty);
    m.commit(store);
    CHECK(store.tree_puts == 3);  // a/b, a, root
    CHECK(m.dir("a/b/c")->tree == c_tree);
  }
  SECTION("a tree equal to one already referenced is not stored again") {
    store.reset();
    // y becomes the same as x: its tree id is known.
    m.set("y/g", file_entry("g"));
    m.commit(store);
    CHECK(m.dir("y")->tree == m.dir("x")->tree);
    CHECK(store.tree_puts == 1);  // the root only
    // Two empty directories share one tree.
    store.reset();
    m.set("e1", dir_entry());
    m.set("e2", dir_entry());
    m.commit(store);
    CHECK(m.dir("e1")->tree == m.dir("e2")->tree);
    CHECK(store.tree_puts == 2);  // the empty tree, the root
    // Removing one keeps the other's tree known.
    m.remove("e1");
    CHECK(m.known(m.dir("e2")->tree));
  }
  SECTION("a tree no longer referenced is stored again when it comes back") {
    // (the collector may have deleted it meanwhile)
    m.set("a/b/c/f", file_entry("f2"));
    m.commit(store);
    store.reset();
    m.set("a/b/c/f", file_entry("f1"));
    CHECK(m.commit(store) == r1);
    CHECK(store.tree_puts == 4);
  }
}

TEST_CASE("model: tree ids are deterministic, whatever the order and history", "[model]") {
  struct Item {
    std::string rel;
    Entry e;
  };
  std::vector<Item> items;
  items.push_back({"d", dir_entry(10)});
  items.push_back({"d/e", dir_entry(11)});
  items.push_back({"d/e/f", dir_entry(12)});
  items.push_back({"z", dir_entry(13)});
  for (int i = 0; i < 30; ++i) {
    std::string parent = i % 4 == 0 ? "" : i % 4 == 1 ? "d/" : i % 4 == 2 ? "d/e/f/" : "z/";
    items.push_back({parent + "n" + std::to_string(i),
                     i % 5 == 0 ? link_entry("t" + std::to_string(i)) : file_entry("c" + std::to_string(i % 7), i)});
  }
  MemStore s1, s2, s3;
  Model a;
  for (const Item& it : items) a.set(it.rel, it.e);
  ObjectId ra = a.commit(s1);

  std::mt19937 rng(42);
  for (int round = 0; round < 5; ++round) {
    // Directories first (parents must exist), files shuffled; with noise that is undone.
    std::vector<Item> dirs, rest;
    for (const Item& it : items) (it.e.is_dir() ? dirs : rest).push_back(it);
    std::shuffle(rest.begin(), rest.end(), rng);
    Model b;
    b.set("noise", dir_entry());
    b.set("noise/x", file_entry("noise"));
    for (const Item& it : dirs) b.set(it.rel, it.e);
    b.commit(s2);  // an intermediate commit
    for (const Item& it : rest) {
      b.set(it.rel, file_entry("something else first", 1));
      b.set(it.rel, it.e);
    }
    b.remove("noise");
    CHECK(b.commit(s2) == ra);
    CHECK(dump(b, false) == dump(a, false));
  }
  // Loading it gives the same ids.
  Model c = Model::load(s1, ra);
  CHECK(c.root_tree() == ra);
  CHECK(c.commit(s3) == ra);
  CHECK(s3.puts == 0);
  // Any difference in metadata changes the root.
  Model d = Model::load(s1, ra);
  Entry e = *d.find("d/e/f");
  e.mtime_ns += 1;
  d.set("d/e/f", e);
  CHECK(d.commit(s3) != ra);
}

namespace {

// Random edits of a model, content from a small pool (so ids repeat).
struct Mutator {
  std::mt19937 rng;
  MemStore& store;
  std::vector<std::string> pool;

  Mutator(unsigned seed, MemStore& s) : rng(seed), store(s) {
    for (int i = 0; i < 12; ++i) pool.push_back("content #" + std::to_string(i));
  }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }

  void mutate(Model& m, std::set<std::string>* touched = nullptr) {
    std::vector<std::string> dirs, all;
    m.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
      dirs.push_back(rel);
      for (const auto& [name, e] : d.entries) all.push_back(rel.empty() ? name : rel + "/" + name);
    });
    auto fresh_path = [&]() {
      std::string parent = dirs[pick(dirs.size())];
      std::string name = "n" + std::to_string(pick(10));
      return parent.empty() ? name : parent + "/" + name;
    };
    int op = static_cast<int>(pick(10));
    std::string rel = (op < 4 || all.empty()) ? fresh_path() : all[pick(all.size())];
    if (touched && !touched->insert(rel).second) return;  // one change per path
    if (op == 9 && !all.empty()) return m.remove(rel);
    if (op == 8) return m.set(rel, dir_entry(static_cast<std::int64_t>(pick(3))));
    if (op == 7) return m.set(rel, link_entry("t" + std::to_string(pick(4))));
    const std::string& c = pool[pick(pool.size())];
    if (!m.known(hash_bytes(c))) put_content(store, c);
    m.set(rel, file_entry(c, static_cast<std::int64_t>(pick(3))));
  }
};

}  // namespace

TEST_CASE("model: changes() are exactly the ids added and released since accept()", "[model]") {
  MemStore store;
  Model m;
  Mutator mut(1234, store);
  IdSet accepted;  // ids referenced at the last accept()
  for (int step = 0; step < 300; ++step) {
    CAPTURE(step);
    int edits = 1 + static_cast<int>(mut.pick(6));
    for (int i = 0; i < edits; ++i) mut.mutate(m);
    if (step % 7 == 3) {
      // An edit undone before the commit leaves no trace.
      std::string p = "undo-me";
      bool had = m.find(p);
      if (!had) {
        put_content(store, "transient");
        m.set(p, file_entry("transient"));
        m.remove(p);
      }
    }
    m.commit(store);
    check_totals(m);
    check_shape(m);
    IdSet now = model_ids(m);
    // Every id the model names is known, and ids it dropped are not.
    for (const ObjectId& id : now) REQUIRE(m.known(id));
    for (const ObjectId& id : accepted)
      if (!now.count(id)) REQUIRE_FALSE(m.known(id));
    // What the store holds for this snapshot is complete.
    Reach r;
    reach_tree(store, m.root_tree(), r);
    CHECK(r.missing.empty());
    CHECK(r.ids == now);

    Changes c = m.changes();
    std::vector<ObjectId> want_added = minus(now, accepted), want_released = minus(accepted, now);
    CHECK(describe_ids(c.added) == describe_ids(want_added));
    CHECK(describe_ids(c.released) == describe_ids(want_released));
    REQUIRE(c.added == want_added);
    REQUIRE(c.released == want_released);
    // Sometimes several commits accumulate before an accept().
    if (step % 5 != 4) {
      m.accept();
      accepted = now;
      CHECK(m.changes().added.empty());
      CHECK(m.changes().released.empty());
    }
  }
}

TEST_CASE("model: load from the store equals the model that was committed", "[model]") {
  MemStore store;
  Model m;
  Mutator mut(99, store);
  for (int step = 0; step < 40; ++step) {
    for (int i = 0; i < 8; ++i) mut.mutate(m);
    ObjectId root = m.commit(store);
    m.accept();
    Model l = Model::load(store, root);
    CHECK(l.root_tree() == root);
    CHECK_FALSE(l.dirty());
    CHECK(dump(l, false) == dump(m, false));
    CHECK(l.totals().files == m.totals().files);
    CHECK(l.totals().dirs == m.totals().dirs);
    CHECK(l.totals().symlinks == m.totals().symlinks);
    CHECK(l.totals().bytes == m.totals().bytes);
    CHECK(l.changes().added.empty());
    CHECK(l.changes().released.empty());
    for (const ObjectId& id : model_ids(m)) CHECK(l.known(id));
    l.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
      CHECK(d.tree == m.dir(rel)->tree);
      CHECK_FALSE(d.dirty);
    });
  }
}

TEST_CASE("model: load reports a missing or corrupt tree", "[model]") {
  MemStore store;
  Model m;
  m.set("d", dir_entry());
  m.set("d/f", file_entry("f"));
  ObjectId root = m.commit(store);
  std::string key = keys::object(m.dir("d")->tree);
  std::string text = *store.get(key);

  store.remove(key);
  CHECK_THROWS_AS(Model::load(store, root), StoreError);
  CHECK_THROWS_WITH(Model::load(store, root), Contains(key) && Contains("'/d'"));

  store.put(key, text + "f 644 0 0 - zzz\n");
  CHECK_THROWS_AS(Model::load(store, root), FormatError);
  CHECK_THROWS_WITH(Model::load(store, root), Contains(key) && Contains("corrupt"));

  // A well-formed tree stored under the wrong id is corrupt too.
  store.put(key, serialize_tree({}));
  CHECK_THROWS_WITH(Model::load(store, root), Contains("corrupt"));

  CHECK_THROWS_AS(Model::load(store, hash_bytes("no such tree")), StoreError);
}

TEST_CASE("model: the local index round trip keeps local identities and the root id", "[model]") {
  MemStore store;
  Model m;
  Mutator mut(5, store);
  for (int i = 0; i < 60; ++i) mut.mutate(m);
  m.set("we ird\n%name\xff", dir_entry());
  m.set("we ird\n%name\xff/x y", file_entry("x"));
  // Local identities on every entry.
  std::uint64_t k = 1;
  std::vector<std::string> paths;
  m.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
    for (const auto& [name, e] : d.entries) paths.push_back(rel.empty() ? name : rel + "/" + name);
  });
  for (const std::string& p : paths)
    m.set_local(p, 2049 + k, 1000000 + k, 1700000000000000000 + static_cast<std::int64_t>(k)), ++k;
  m.set_local("no/such", 1, 2, 3);  // ignored
  ObjectId root = m.commit(store);
  m.accept();

  std::string text = m.serialize_index(42);
  std::uint64_t gen = 0;
  Model p = Model::parse_index(text, "idx", &gen);
  CHECK(gen == 42);
  CHECK(p.root_tree() == root);
  CHECK_FALSE(p.dirty());
  CHECK(dump(p, true) == dump(m, true));
  CHECK(p.totals().files == m.totals().files);
  CHECK(p.totals().bytes == m.totals().bytes);
  CHECK(p.changes().added.empty());
  CHECK(p.changes().released.empty());
  for (const ObjectId& id : model_ids(m)) CHECK(p.known(id));
  CHECK(p.serialize_index(42) == text);
  // Nothing to store for it, and it goes on like the original.
  store.reset();
  CHECK(p.commit(store) == root);
  CHECK(store.puts == 0);
  m.set("we ird\n%name\xff/x y", file_entry("changed"));
  p.set("we ird\n%name\xff/x y", file_entry("changed"));
  CHECK(p.commit(store) == m.commit(store));
  CHECK(p.changes().added == m.changes().added);
  CHECK(p.changes().released == m.changes().released);

  // adopt_local_identities: copied where the entry is the same.
  Model l = Model::load(store, m.root_tree());
  l.adopt_local_identities(m);
  CHECK(dump(l, true) == dump(m, true));
  // An empty model's index.
  Model empty;
  empty.commit(store);
  Model e2 = Model::parse_index(empty.serialize_index(0), "idx", nullptr);
  CHECK(e2.root_tree() == empty.root_tree());
}

TEST_CASE("model: parse_index rejects damaged input", "[model]") {
  MemStore store;
  Model m;
  m.set("a", dir_entry());
  m.set("a/b", dir_entry());
  m.set("a/b/f", file_entry("f"));
  m.set("g", file_entry("g"));
  m.set("l", link_entry("a"));
  m.commit(store);
  const std::string text = m.serialize_index(7);
  const std::string header = "fractfs-index 1\ngeneration 7\nroot " + m.root_tree().hex() + "\n";
  REQUIRE(text.starts_with(header));
  auto body = [&](const std::string& rel) {
    std::string t = serialize_tree(m.dir(rel)->entries, true);
    return "D " + (rel.empty() ? std::string(".") : escape_name(rel)) + " " + std::to_string(t.size()) + "\n" + t;
  };
  REQUIRE(text == header + body("") + body("a") + body("a/b"));

  auto rejects = [](const std::string& t, const std::string& msg) {
    CAPTURE(t);
    CHECK_THROWS_AS(Model::parse_index(t, "idx", nullptr), FormatError);
    CHECK_THROWS_WITH(Model::parse_index(t, "idx", nullptr), Contains("idx") && Contains(msg));
  };
  rejects("", "truncated");
  rejects("fractfs-index 2\ngeneration 7\nroot x\n", "not a fractfs index");
  rejects("fractfs-tree 1\n", "not a fractfs index");
  rejects("fractfs-index 1\ngeneration x\nroot x\n", "bad generation line");
  rejects("fractfs-index 1\ngen 7\nroot x\n", "bad generation line");
  rejects("fractfs-index 1\ngeneration 7\n", "truncated");
  rejects(header + "D . 99999\n" + body("").substr(body("").find('\n') + 1), "bad directory line");
  rejects(header + "X . 5\nabcde", "bad directory line");
  rejects(header + "D . x\n", "bad directory line");
  rejects(header + "D %zz 1\n\n", "bad directory line");
  rejects(header + body("") + body("a"), "'a/b' has no contents block");  // a directory without its block
  rejects(header + body("") + body("a/b"), "idx");  // 'a' lost: 'a' has no block, 'a/b' is in no directory
  rejects(header + body("") + body("a") + body("a/b") + body("a/b").replace(2, 3, "zz"), "is in no directory");
  // A block whose length runs into the next one.
  {
    std::string b = body("a");
    std::size_t sp = b.find(' ', 2);
    std::size_t nl = b.find('\n');
    std::string bad =
        b.substr(0, sp + 1) + std::to_string(std::stoul(b.substr(sp + 1, nl - sp - 1)) + 3) + b.substr(nl);
    CHECK_THROWS_AS(Model::parse_index(header + body("") + bad + body("a/b"), "idx", nullptr), FormatError);
  }
  // A tree line that does not parse names the index.
  rejects(header + "D . 16\nfractfs-tree 1\nx", "idx");

  // Every strict prefix is refused (the last block names a directory),
  // except the header alone: an empty model, whose root differs from the
  // recorded one (what load_snapshot compares with CURRENT).
  for (std::size_t n = 0; n < text.size(); ++n) {
    CAPTURE(n);
    if (n == header.size()) {
      CHECK(Model::parse_index(std::string_view(text).substr(0, n), "idx", nullptr).root_tree() != m.root_tree());
      continue;
    }
    CHECK_THROWS_AS(Model::parse_index(std::string_view(text).substr(0, n), "idx", nullptr), FormatError);
  }
  // Any one damaged byte: either a model or a FormatError, never anything else.
  std::mt19937 rng(3);
  const char replacements[] = {'\n', ' ', '0', '9', 'f', 'D', '.', '/', '%', '\0', '\xff', 'a'};
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    for (char r : replacements) {
      std::string t = text;
      if (t[pos] == r) continue;
      t[pos] = r;
      try {
        Model::parse_index(t, "idx", nullptr);
      } catch (const FormatError&) {
      } catch (const std::exception& e) {
        FAIL("byte " << pos << " -> " << int(r) << ": " << typeid(e).name() << ": " << e.what());
      }
    }
  }
}

// A contents block for a path whose entry is a file (not a directory) is
// damaged input; accepting it puts the file's chunk list in the hands of
// the tree builder, which replaces it by a tree id.
TEST_CASE("model: parse_index refuses a contents block for a file", "[model]") {
  MemStore store;
  Model m;
  m.set("a", dir_entry());
  m.set("f", file_entry("file content"));
  m.commit(store);
  std::string text = m.serialize_index(1);
  std::string block = serialize_tree({}, true);
  std::string bad = text + "D f " + std::to_string(block.size()) + "\n" + block;
  bool threw = false;
  try {
    Model p = Model::parse_index(bad, "idx", nullptr);
    // If it is accepted, the file must at least still be the file.
    const Entry* f = p.find("f");
    REQUIRE(f);
    CHECK(f->kind == EntryKind::file);
    CHECK(f->content.size() == 1);
    if (!f->content.empty()) CHECK(f->content[0] == hash_bytes("file content"));
  } catch (const FormatError&) {
    threw = true;
  }
  CHECK(threw);
}

TEST_CASE("model: parse_index refuses two contents blocks for one directory", "[model]") {
  MemStore store;
  Model m;
  m.set("a", dir_entry());
  m.set("a/f", file_entry("f"));
  m.commit(store);
  std::string text = m.serialize_index(1);
  std::string empty = serialize_tree({}, true);
  // A second, different block for 'a': the first one's entries would vanish.
  CHECK_THROWS_AS(Model::parse_index(text + "D a " + std::to_string(empty.size()) + "\n" + empty, "idx", nullptr),
                  FormatError);
}
