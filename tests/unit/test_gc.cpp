// Garbage collection of old generations: randomized property tests (the
// model alone, committed the way checkpoint.cpp commits, with crashes and
// broken chains; and the real checkpoint() on a real tree), then the broken
// chains one by one, and writers whose snapshot is not the current one.
//
// After every step: every object a kept generation reaches is in the store
// (never delete a live object); after a sweep, nothing else is; after the
// change-list path alone, leaks come only from interrupted commits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "sync/checkpoint.hpp"
#include "sync/gc.hpp"
#include "sync/restore.hpp"
#include "tests/unit/sync_fixture.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

Entry file_entry(const std::string& content, std::int64_t mtime) {
  Entry e;
  e.kind = EntryKind::file;
  e.mode = 0644;
  e.mtime_ns = mtime;
  e.size = content.size();
  if (!content.empty()) e.content.push_back(hash_bytes(content));
  return e;
}

Entry dir_entry(std::int64_t mtime) {
  Entry e;
  e.kind = EntryKind::dir;
  e.mode = 0755;
  e.mtime_ns = mtime;
  return e;
}

enum class Stop { none, after_objects, after_record };

// checkpoint.cpp's commit(), with a crash after a stage. True when a
// generation became current.
bool commit_like_checkpoint(Store& store, Snapshot& snap, Stop stop = Stop::none) {
  bool changed = snap.model.dirty() || snap.current.number == 0;
  Generation gen;
  snap.model.commit(store, &gen.new_objects, &gen.new_bytes);
  if (!changed || (snap.current.number != 0 && snap.model.root_tree() == snap.current.root)) {
    snap.model.accept();
    return false;
  }
  if (stop == Stop::after_objects) return false;
  gen.root = snap.model.root_tree();
  store.flush();
  auto cur = read_current(store);
  std::uint64_t now = cur ? cur->generation : 0;
  gen.number = std::max(now, snap.current.number) + 1;
  gen.parent = now;
  if (now == snap.current.number) {
    std::string text = serialize(snap.model.changes());
    gen.changes = hash_bytes(text);  // the record names its change list
    store.put(keys::changes(gen.number, {}), text);
  }
  const Model::Totals& t = snap.model.totals();
  gen.files = t.files, gen.dirs = t.dirs, gen.symlinks = t.symlinks, gen.bytes = t.bytes;
  store.put(keys::generation(gen.number, {}), serialize(gen));
  if (stop == Stop::after_record) return false;
  store.flush();
  store.put(keys::current, serialize(Current{gen.number, gen.root, {}, {}}));
  store.flush();
  snap.model.accept();
  snap.current = gen;
  return true;
}

// A holder starting afresh: the snapshot of CURRENT, read from the store.
Snapshot reload(Store& store) {
  Snapshot s;
  if (auto cur = read_current(store)) {
    s.current = read_generation(store, cur->generation, cur->tag);
    s.model = Model::load(store, cur->root);
  }
  return s;
}

std::uint64_t current_number(Store& store) {
  auto cur = read_current(store);
  return cur ? cur->generation : 0;
}

struct Verdict {
  IdSet live;
  std::vector<std::string> missing;
  std::size_t leaked = 0;
};

// The invariants after a collection that kept the newest `keep` up to CURRENT.
Verdict verify(Store& store, long keep) {
  Verdict v;
  std::uint64_t current = current_number(store);
  if (current == 0) return v;
  for (std::uint64_t g : kept_generations(store, current, keep)) {
    Reach r = reach_generation(store, g);
    for (auto& m : r.missing) v.missing.push_back("generation " + std::to_string(g) + ": " + m);
    v.live.insert(r.ids.begin(), r.ids.end());
  }
  IdSet stored = stored_objects(store);
  v.leaked = minus(stored, v.live).size();
  return v;
}

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < 10; ++i) out += v[i] + "\n";
  if (v.size() > 10) out += "... " + std::to_string(v.size() - 10) + " more\n";
  return out;
}

// Generation records and change lists left: only those of kept generations.
void check_records(MemStore& store, std::uint64_t current, long keep) {
  std::vector<std::uint64_t> want = kept_generations(store, current, keep);
  CHECK(generation_numbers(store) == want);
  for (const std::string& key : store.list(keys::generations)) {
    if (!key.ends_with(".changes")) continue;
    std::uint64_t n = std::stoull(key.substr(std::string(keys::generations).size() + 1, 12));
    INFO(key);
    CHECK(std::find(want.begin(), want.end(), n) != want.end());
  }
}

// Random edits of the model, content from a small pool; each path changes
// at most once per step (as in one checkpoint); new content is stored the
// way capture stores it (unless the model knows it).
struct Edits {
  std::mt19937 rng;
  std::vector<std::string> pool;
  std::int64_t clock = 1;

  explicit Edits(unsigned seed) : rng(seed) {
    for (int i = 0; i < 15; ++i) pool.push_back("pool content " + std::to_string(i) + std::string(i * 3, 'x'));
  }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }

  void step(Store& store, Model& m, int edits) {
    std::set<std::string> touched;
    for (int i = 0; i < edits; ++i) {
      std::vector<std::string> dirs, all;
      m.for_each_dir([&](const std::string& rel, const Model::Dir& d) {
        dirs.push_back(rel);
        for (const auto& [name, e] : d.entries) all.push_back(rel.empty() ? name : rel + "/" + name);
      });
      int op = static_cast<int>(pick(12));
      std::string rel;
      if (op < 5 || all.empty()) {
        std::string parent = dirs[pick(dirs.size())];
        rel = (parent.empty() ? "" : parent + "/") + "p" + std::to_string(pick(8));
      } else {
        rel = all[pick(all.size())];
      }
      // One change per path, and none below a path changed in this step.
      bool clash = false;
      for (const std::string& t : touched)
        if (rel == t || rel.starts_with(t + "/") || t.starts_with(rel + "/")) clash = true;
      if (clash) continue;
      touched.insert(rel);
      ++clock;
      if (op == 11 && !all.empty()) {
        m.remove(rel);
      } else if (op == 10 && m.find(rel) == nullptr) {
        m.set(rel, dir_entry(clock));
      } else {
        const std::string& c = pool[pick(pool.size())];
        ObjectId id = hash_bytes(c);
        if (!m.known(id)) store.put(keys::object(id), c);
        m.set(rel, file_entry(c, clock));
      }
    }
  }
};

}  // namespace

TEST_CASE("gc: randomized commits, crashes and broken chains never lose a live object", "[gc]") {
  std::size_t max_leak_after_delta = 0, sweeps = 0, deltas = 0, crashes = 0, broken = 0;
  for (long keep : {1L, 2L, 4L}) {
    CAPTURE(keep);
    MemStore store;
    Snapshot snap;
    Edits ed(static_cast<unsigned>(1000 + keep));
    bool clean_since_sweep = true;  // no crash nor broken chain since the last sweep
    for (int step = 0; step < 200; ++step) {
      CAPTURE(step);
      ed.step(store, snap.model, 1 + static_cast<int>(ed.pick(5)));
      std::size_t fault = ed.pick(100);
      if (fault < 5) {
        // Crash after the objects were stored: a new holder starts from CURRENT.
        commit_like_checkpoint(store, snap, Stop::after_objects);
        snap = reload(store);
        ++crashes, clean_since_sweep = false;
      } else if (fault < 10) {
        // Crash after the record (and its change list): a record newer than CURRENT.
        commit_like_checkpoint(store, snap, Stop::after_record);
        snap = reload(store);
        ++crashes, clean_since_sweep = false;
      } else if (fault < 13 && snap.current.number > 1) {
        // A change list lost.
        std::uint64_t g = 1 + ed.pick(snap.current.number);
        store.remove(keys::changes(g, {}));
        commit_like_checkpoint(store, snap);
        ++broken, clean_since_sweep = false;
      } else if (fault < 16 && snap.current.number > 2) {
        // CURRENT read back older than it is (a stale read): the next
        // generation's parent is not the previous one, and it has no change list.
        auto gens = generation_numbers(store);
        std::uint64_t older = gens[ed.pick(gens.size())];
        if (older < snap.current.number)
          store.put(keys::current, serialize(Current{older, generation_at(store, older).root, {}, {}}));
        // Something new, so that a generation is made at once.
        std::string c = "stale marker " + std::to_string(step);
        store.put(keys::object(hash_bytes(c)), c);
        snap.model.set("marker", file_entry(c, ++ed.clock));
        REQUIRE(commit_like_checkpoint(store, snap));
        ++broken, clean_since_sweep = false;
      } else {
        commit_like_checkpoint(store, snap);
      }
      std::uint64_t current = current_number(store);
      if (current == 0) continue;
      bool sweep = step % 23 == 22 || ed.pick(100) < 4;
      GcReport r = collect_garbage(store, current, keep, snap.model, sweep);
      if (sweep) CHECK(r.swept);
      Verdict v = verify(store, keep);
      INFO(join_lines(v.missing));
      REQUIRE(v.missing.empty());
      // The holder's model (what `known` trusts) is all in the store.
      for (const ObjectId& id : model_ids(snap.model)) {
        INFO(id.hex());
        REQUIRE(store.has(keys::object(id)));
      }
      check_records(store, current, keep);
      if (r.swept) {
        ++sweeps;
        CHECK(v.leaked == 0);  // exactly the live set
        clean_since_sweep = true;
      } else {
        ++deltas;
        max_leak_after_delta = std::max(max_leak_after_delta, v.leaked);
        if (clean_since_sweep) CHECK(v.leaked == 0);
      }
    }
    // A final sweep leaves exactly the live set.
    std::uint64_t current = current_number(store);
    collect_garbage(store, current, keep, snap.model, true);
    Verdict v = verify(store, keep);
    CHECK(v.missing.empty());
    CHECK(v.leaked == 0);
  }
  if (verbose())
    std::printf(
        "gc (model): %zu delta collections, %zu sweeps, %zu crashes, %zu broken chains; "
        "at most %zu objects leaked after a delta collection\n",
        deltas, sweeps, crashes, broken, max_leak_after_delta);
  CHECK(sweeps > 0);
  CHECK(deltas > sweeps);
}

namespace {

// Random changes to a real tree: files from a small pool of contents (so
// dedup and re-adding happen), renames of files and directories, deletions,
// modes, symlinks, files replaced by directories and back. Returns the
// paths touched (what the journal would report).
struct TreeEdits {
  std::mt19937 rng;
  Site& site;
  std::vector<std::string> pool;
  int serial = 0;

  TreeEdits(unsigned seed, Site& s) : rng(seed), site(s) {
    for (int i = 0; i < 10; ++i) pool.push_back("file content " + std::to_string(i) + std::string(i * 37, 'z'));
  }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }

  std::vector<std::string> list(bool dirs) {
    std::vector<std::string> out;
    for (const auto& [rel, n] : manifest(site.root, {}, false))
      if ((n.type == 'd') == dirs) out.push_back(rel);
    return out;
  }
  std::string new_path() {
    std::vector<std::string> dirs = list(true);
    dirs.push_back("");
    std::string parent = dirs[pick(dirs.size())];
    return (parent.empty() ? "" : parent + "/") + "n" + std::to_string(serial++ % 40);
  }

  std::vector<std::string> step() {
    std::vector<std::string> touched;
    std::vector<std::string> files = list(false), dirs = list(true);
    int op = static_cast<int>(pick(14));
    struct stat st;
    if (op <= 3 || files.empty()) {  // new file, or a new version of one
      std::string rel = op <= 1 || files.empty() ? new_path() : files[pick(files.size())];
      if (::lstat(site.path(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return touched;
      site.remove(rel);
      site.write(rel, pool[pick(pool.size())]);
      touched.push_back(rel);
    } else if (op == 4) {  // append
      std::string rel = files[pick(files.size())];
      if (::lstat(site.path(rel).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        std::string c = site.read(rel) + "+";
        site.write(rel, c);
      }
      touched.push_back(rel);
    } else if (op == 5) {  // delete a file or symlink
      std::string rel = files[pick(files.size())];
      site.remove(rel);
      touched.push_back(rel);
    } else if (op == 6) {  // new directory, with a file
      std::string rel = new_path();
      if (::lstat(site.path(rel).c_str(), &st) == 0) return touched;
      site.mkdir(rel);
      site.write(rel + "/inside", pool[pick(pool.size())]);
      touched.push_back(rel);
      touched.push_back(rel + "/inside");
    } else if (op == 7 && !dirs.empty()) {  // delete a directory
      std::string rel = dirs[pick(dirs.size())];
      site.remove(rel);
      touched.push_back(rel);
    } else if (op == 8) {  // rename a file
      std::string from = files[pick(files.size())], to = new_path();
      if (::lstat(site.path(to).c_str(), &st) == 0 || to.starts_with(from + "/")) return touched;
      std::rename(site.path(from).c_str(), site.path(to).c_str());
      touched = {from, to};
    } else if (op == 9 && !dirs.empty()) {  // rename a directory
      std::string from = dirs[pick(dirs.size())], to = new_path();
      if (::lstat(site.path(to).c_str(), &st) == 0 || to.starts_with(from + "/")) return touched;
      std::rename(site.path(from).c_str(), site.path(to).c_str());
      touched = {from, to};
    } else if (op == 10) {  // chmod
      std::string rel = files[pick(files.size())];
      if (::lstat(site.path(rel).c_str(), &st) == 0 && S_ISREG(st.st_mode))
        ::chmod(site.path(rel).c_str(), (st.st_mode & 0777) ^ 0100);
      touched.push_back(rel);
    } else if (op == 11) {  // symlink, new or retargeted
      std::string rel = pick(2) ? new_path() : files[pick(files.size())];
      if (::lstat(site.path(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return touched;
      site.remove(rel);
      site.symlink("target " + std::to_string(pick(3)), rel);
      touched.push_back(rel);
    } else if (op == 12) {  // a file replaced by a directory
      std::string rel = files[pick(files.size())];
      site.remove(rel);
      site.mkdir(rel);
      site.write(rel + "/was a file", pool[pick(pool.size())]);
      touched = {rel, rel + "/was a file"};
    } else if (op == 13 && !dirs.empty()) {  // a directory replaced by a file
      std::string rel = dirs[pick(dirs.size())];
      site.remove(rel);
      site.write(rel, pool[pick(pool.size())]);
      touched.push_back(rel);
    }
    return touched;
  }
};

}  // namespace

TEST_CASE("gc: randomized real checkpoints keep every kept generation whole", "[gc][checkpoint]") {
  Site::Options o;
  o.mem = true;
  o.keep = 2;
  o.packed = GENERATE(false, true);
  CAPTURE(o.packed);
  Site site(o);
  TreeEdits ed(77, site);
  site.write("seed/file", "seed");
  REQUIRE(site.full().committed);
  std::size_t max_leak = 0, commits = 0, restores = 0;
  for (int step = 0; step < 150; ++step) {
    CAPTURE(step);
    std::vector<std::string> paths;
    int n = 1 + static_cast<int>(ed.pick(4));
    for (int i = 0; i < n; ++i)
      for (std::string& p : ed.step()) paths.push_back(std::move(p));
    bool full = step % 10 == 9;
    CheckpointReport r = full ? site.full() : site.incr(paths);
    INFO(join_lines(r.problems));
    CHECK(r.problems.empty());
    commits += r.committed;
    std::uint64_t current = current_number(site.store());
    REQUIRE(current == site.snap.current.number);
    Verdict v = verify(site.store(), site.cfg.keep_generations);
    INFO(join_lines(v.missing));
    REQUIRE(v.missing.empty());
    if (full) CHECK(v.leaked == 0);
    else max_leak = std::max(max_leak, v.leaked);
    CHECK(v.leaked == 0);  // no interrupted checkpoint here: nothing may leak
    // The current generation is the tree on disk, byte for byte.
    std::string d = diff(site.local_manifest(), site.stored_manifest(site.snap.current.root));
    INFO(d);
    REQUIRE(d.empty());
    if (o.packed && step % 25 == 24) {
      // What a restarted process reads: the same, from the indexes alone.
      auto fresh = site.reopen_packed();
      Verdict f = verify(*fresh, site.cfg.keep_generations);
      INFO(join_lines(f.missing));
      REQUIRE(f.missing.empty());
    }
    if (step % 50 == 49) {
      // And a restore of it (and of the kept older one) into an empty root gives the same.
      for (std::uint64_t g : kept_generations(site.store(), current, site.cfg.keep_generations)) {
        TempDir other;
        Config cfg = site.cfg;
        cfg.root = other.path();
        SyncEnv env{cfg, *site.resolver, site.store(), site.bundle};
        RestoreOptions ro;
        ro.generation = g;
        restore(env, ro, nullptr);
        if (g == current) CHECK(diff(site.local_manifest(), manifest(other.path())) == "");
        else CHECK(diff(site.stored_manifest(generation_at(site.store(), g).root), manifest(other.path())) == "");
        ++restores;
      }
    }
  }
  if (verbose())
    std::printf("gc (checkpoint): %zu commits, %zu restores; at most %zu objects leaked after a delta collection\n",
                commits, restores, max_leak);
  CHECK(commits > 100);
}

// ---- broken chains, one by one --------------------------------------------

namespace {

struct Chain {
  MemStore store;
  Snapshot snap;
  std::int64_t clock = 1;

  // One generation: path -> content (empty: removed).
  void gen(const std::vector<std::pair<std::string, std::string>>& files, Stop stop = Stop::none) {
    for (const auto& [rel, c] : files) {
      if (c.empty()) {
        snap.model.remove(rel);
        continue;
      }
      ObjectId id = hash_bytes(c);
      if (!snap.model.known(id)) store.put(keys::object(id), c);
      snap.model.set(rel, file_entry(c, ++clock));
    }
    commit_like_checkpoint(store, snap, stop);
  }
  std::uint64_t current() { return current_number(store); }
};

void require_whole(Store& store, long keep) {
  Verdict v = verify(store, keep);
  INFO(join_lines(v.missing));
  REQUIRE(v.missing.empty());
}

void require_exact(Store& store, long keep) {
  Verdict v = verify(store, keep);
  INFO(join_lines(v.missing));
  REQUIRE(v.missing.empty());
  CHECK(v.leaked == 0);
}

}  // namespace

TEST_CASE("gc: the change-list path deletes what the dropped generations alone used", "[gc]") {
  Chain c;
  c.gen({{"a", "A"}, {"b", "B"}});
  c.gen({{"a", "A2"}});
  c.gen({{"b", "B2"}, {"c", "A"}});  // A comes back under another name
  c.gen({{"c", ""}});
  GcReport r = collect_garbage(c.store, c.current(), 1, c.snap.model, false);
  CHECK_FALSE(r.swept);
  CHECK(r.generations_dropped == 3);
  require_exact(c.store, 1);
  CHECK_FALSE(c.store.has(keys::object(hash_bytes("A"))));
  CHECK_FALSE(c.store.has(keys::object(hash_bytes("B"))));
  CHECK(c.store.has(keys::object(hash_bytes("A2"))));
  // Nothing more to do.
  r = collect_garbage(c.store, c.current(), 1, c.snap.model, false);
  CHECK(r.generations_dropped == 0);
  CHECK(r.objects_deleted == 0);
}

TEST_CASE("gc: a missing change list makes the collector sweep", "[gc]") {
  Chain c;
  c.gen({{"a", "A"}});
  c.gen({{"a", "B"}});
  c.gen({{"b", "C"}});
  c.gen({{"a", "D"}});
  c.store.remove(keys::changes(3, {}));
  GcReport r = collect_garbage(c.store, c.current(), 1, c.snap.model, false);
  CHECK(r.swept);
  require_exact(c.store, 1);
  CHECK(generation_numbers(c.store) == std::vector<std::uint64_t>{4});
}

TEST_CASE("gc: records newer than CURRENT (a crash) are dropped, their objects swept", "[gc]") {
  Chain c;
  c.gen({{"a", "A"}});
  c.gen({{"a", "B"}});
  c.gen({{"a", "leftover"}, {"x", "leftover 2"}}, Stop::after_record);  // generation 3, never current
  REQUIRE(c.current() == 2);
  REQUIRE(generation_numbers(c.store) == std::vector<std::uint64_t>{1, 2, 3});
  c.snap = reload(c.store);
  GcReport r = collect_garbage(c.store, c.current(), 3, c.snap.model, false);
  CHECK(generation_numbers(c.store) == std::vector<std::uint64_t>{1, 2});
  CHECK_FALSE(c.store.has(keys::changes(3, {})));
  require_whole(c.store, 3);
  r = collect_garbage(c.store, c.current(), 3, c.snap.model, true);
  CHECK(r.swept);
  require_exact(c.store, 3);
  CHECK_FALSE(c.store.has(keys::object(hash_bytes("leftover"))));
  // The next commit takes number 3 again, cleanly.
  c.gen({{"a", "C"}});
  CHECK(c.current() == 3);
  collect_garbage(c.store, c.current(), 1, c.snap.model, false);
  require_exact(c.store, 1);
}

TEST_CASE("gc: a generation whose parent is not the previous one makes the collector sweep", "[gc]") {
  Chain c;
  c.gen({{"a", "A"}});
  c.gen({{"a", "B"}});
  c.gen({{"a", "C"}});
  // CURRENT read back as 1 (stale): generation 4 has parent 1 and no change list.
  c.store.put(keys::current, serialize(Current{1, generation_at(c.store, 1).root, {}, {}}));
  c.gen({{"b", "D"}});
  REQUIRE(c.current() == 4);
  CHECK(generation_at(c.store, 4).parent == 1);
  CHECK_FALSE(c.store.has(keys::changes(4, {})));
  GcReport r = collect_garbage(c.store, 4, 2, c.snap.model, false);
  CHECK(r.swept);
  require_exact(c.store, 2);
}

// A change list is "against its parent". One against a parent that is not
// the previous generation does not compose with the others: only
// generation D+1's parent is checked before trusting D+2..current's lists.
TEST_CASE("gc: a change list against a parent other than the previous generation is not trusted", "[gc]") {
  Chain c;
  c.gen({{"a", "A"}});  // 1
  Snapshot at1 = reload(c.store);
  c.gen({{"a", "B"}});  // 2: A released
  // Generation 3 made from generation 1's snapshot: A is back, but its
  // change list (against 1) does not say so.
  at1.model.set("b", file_entry("C", 99));
  c.store.put(keys::object(hash_bytes("C")), "C");
  at1.model.commit(c.store);
  Generation g3;
  g3.number = 3, g3.parent = 1, g3.root = at1.model.root_tree();
  c.store.put(keys::changes(3, {}), serialize(at1.model.changes()));
  c.store.put(keys::generation(3, {}), serialize(g3));
  c.store.put(keys::current, serialize(Current{3, g3.root, {}, {}}));
  collect_garbage(c.store, 3, 1, at1.model, false);
  require_whole(c.store, 1);
}

// ---- writers whose snapshot is not CURRENT's ------------------------------

// A node shut down mid-checkpoint (record and change list written, CURRENT
// not) while another node, whose snapshot is older, goes on: its next
// generation gets the same number, no change list of its own, and the
// leftover one (about another snapshot) is taken for its.
TEST_CASE("gc: a leftover change list of a crashed writer is not taken for a later generation's", "[gc]") {
  Chain x;                                  // writer X
  x.gen({{"a", "A"}});                      // 1
  Snapshot y = reload(x.store);             // writer Y starts from generation 1
  x.gen({{"a", "B"}});                      // 2 (A released)
  x.gen({{"a", "D"}}, Stop::after_record);  // 3: record + change list, then X dies
  REQUIRE(x.current() == 2);
  // Y: its tree still has a = A, and a new file.
  y.model.set("c", file_entry("C", 500));
  x.store.put(keys::object(hash_bytes("C")), "C");
  REQUIRE(commit_like_checkpoint(x.store, y));
  REQUIRE(y.current.number == 3);
  collect_garbage(x.store, 3, 3, y.model, false);
  require_whole(x.store, 3);
  // Y goes on; its generations have change lists again.
  y.model.set("e", file_entry("E", 501));
  x.store.put(keys::object(hash_bytes("E")), "E");
  REQUIRE(commit_like_checkpoint(x.store, y));
  REQUIRE(y.current.number == 4);
  collect_garbage(x.store, 4, 3, y.model, false);  // drops generation 1
  require_whole(x.store, 3);
  CHECK(x.store.has(keys::object(hash_bytes("A"))));
}

// The same through checkpoint(): a store that fails on CURRENT plays the
// node that dies between its generation record and CURRENT.
TEST_CASE("gc: through checkpoint(), a writer dying before CURRENT and another writer lose nothing",
          "[gc][checkpoint]") {
  Site::Options o;
  o.mem = true;
  o.keep = 3;
  Site x(o);
  x.write("a", "version A");
  REQUIRE(x.full().committed);  // 1
  // Writer Y: another node with its own root, the same store, restored from 1.
  Site::Options oy;
  oy.mem = true;
  Site y(oy);
  y.cfg.keep_generations = 3;
  SyncEnv yenv{y.cfg, *y.resolver, x.store(), y.bundle};
  restore(yenv, {}, &y.snap);
  REQUIRE(y.snap.current.number == 1);
  x.write("a", "version B");
  REQUIRE(x.incr({"a"}).committed);  // 2
  x.write("a", "version D");
  x.on_put([](const std::string& key, std::string_view) {
    if (key == keys::current) throw StoreError("CURRENT: node going down");
  });
  CHECK_THROWS_AS(x.incr({"a"}), StoreError);  // 3: record and change list only
  x.on_put(nullptr);
  REQUIRE(current_number(x.store()) == 2);
  // Y checkpoints twice: refused on its stale snapshot, then over X's
  // current generation after reloading it (what the holder does).
  y.write("c", "new on Y");
  CheckpointOptions full;
  full.full = true;
  CHECK_THROWS_AS(checkpoint(yenv, y.snap, {}, full), StaleSnapshot);
  REQUIRE(current_number(x.store()) == 2);
  y.snap = load_current(x.store(), &y.snap.model);
  CheckpointReport r1 = checkpoint(yenv, y.snap, {}, full);
  REQUIRE(r1.committed);
  CHECK(r1.generation.number == 3);
  y.write("e", "more on Y");
  CheckpointReport r2 = checkpoint(yenv, y.snap, {"e"}, {});
  REQUIRE(r2.committed);
  CHECK(r2.generation.number == 4);
  Verdict v = verify(x.store(), 3);
  INFO(join_lines(v.missing));
  CHECK(v.missing.empty());
  // Y's tree, as the store has it now.
  CHECK(diff(y.local_manifest(), y.stored_manifest(r2.generation.root, &x.store())) == "");
}

// Two writers commit from the same parent at the same moment: X has written
// its record when Y commits. Exactly one wins the CURRENT swap; the loser's
// record cannot overwrite the winner's (its key has its own tag), the loser
// reloads, and the collector drops the orphan record.
TEST_CASE("gc: two writers racing from one parent: one wins, the other's record is an orphan", "[gc][checkpoint]") {
  Site::Options o;
  o.mem = true;
  o.keep = 3;
  Site x(o);
  x.write("a", "version A");
  REQUIRE(x.full().committed);  // 1
  Site y(o);
  SyncEnv yenv{y.cfg, *y.resolver, x.store(), y.bundle};
  restore(yenv, {}, &y.snap);
  y.write("y", "only on Y");
  x.write("a", "version X");
  bool fired = false;
  CheckpointReport ry;
  x.on_put([&](const std::string& key, std::string_view) {
    if (fired || !key.starts_with(keys::generation(2, {}) + "-") || key.ends_with(".changes")) return;
    fired = true;  // X's record is about to land: Y commits first
    CheckpointOptions full;
    full.full = true;
    ry = checkpoint(yenv, y.snap, {}, full);
  });
  CHECK_THROWS_AS(x.incr({"a"}), StaleSnapshot);
  x.on_put(nullptr);
  REQUIRE(fired);
  REQUIRE(ry.committed);
  auto cur = read_current(x.store());
  REQUIRE(cur);
  CHECK(cur->generation == 2);
  CHECK(cur->tag == ry.generation.tag);
  // Both records are there; the current one is Y's, unharmed.
  std::vector<RecordKey> present = list_generations(x.store());
  CHECK(std::count_if(present.begin(), present.end(), [](const RecordKey& k) { return k.number == 2; }) == 2);
  Generation g2 = read_generation(x.store(), 2, cur->tag);
  CHECK(g2.root == ry.generation.root);
  CHECK(y.stored_manifest(g2.root, &x.store()).count("y") == 1);
  CHECK(generation_at(x.store(), 2).tag == cur->tag);  // the history names Y's
  // X reloads and commits over Y (what the holder does): the orphan goes.
  x.snap = load_current(x.store(), &x.snap.model);
  CheckpointOptions full;
  full.full = true;
  CheckpointReport rx = checkpoint(x.env(), x.snap, {}, full);
  REQUIRE(rx.committed);
  CHECK(rx.generation.number == 3);
  CHECK(rx.generation.parent_tag == cur->tag);
  present = list_generations(x.store());
  CHECK(std::count_if(present.begin(), present.end(), [](const RecordKey& k) { return k.number == 2; }) == 1);
  Verdict v = verify(x.store(), 3);
  INFO(join_lines(v.missing));
  CHECK(v.missing.empty());
}

// Writer Y's model says which objects exist ("known": not uploaded again).
// Once writer X's generations have released and collected some of them,
// that is no longer true; a generation of Y must not name deleted objects.
TEST_CASE("gc: a writer with a stale snapshot never commits a generation naming deleted objects", "[gc][checkpoint]") {
  Site::Options o;
  o.mem = true;
  o.keep = 2;
  Site x(o);
  x.write("a", "version A");
  REQUIRE(x.full().committed);  // 1
  Site::Options oy;
  oy.mem = true;
  Site y(oy);
  y.cfg.keep_generations = 2;
  SyncEnv yenv{y.cfg, *y.resolver, x.store(), y.bundle};
  restore(yenv, {}, &y.snap);  // Y: a = version A
  REQUIRE(y.read("a") == "version A");
  for (const char* v : {"version B", "version C", "version D"}) {
    x.write("a", v);
    REQUIRE(x.incr({"a"}).committed);
  }
  REQUIRE_FALSE(x.store().get(keys::object(hash_bytes("version A"))));  // collected
  y.write("c", "new on Y");
  CHECK_THROWS_AS(checkpoint(yenv, y.snap, {"c"}, {}), StaleSnapshot);
  y.snap = load_current(x.store(), &y.snap.model);
  CheckpointOptions full;
  full.full = true;
  CheckpointReport r = checkpoint(yenv, y.snap, {}, full);
  REQUIRE(r.committed);
  Verdict v = verify(x.store(), 2);
  INFO(join_lines(v.missing));
  CHECK(v.missing.empty());
  CHECK(diff(y.local_manifest(), y.stored_manifest(r.generation.root, &x.store())) == "");
}

TEST_CASE("gc: generation records, change lists and CURRENT round trip; damaged ones are refused", "[gc]") {
  Generation g;
  g.number = 12, g.parent = 11, g.root = hash_bytes("root");
  g.time_ns = 1700000000123456789, g.duration = 1.5;
  g.files = 1, g.dirs = 2, g.symlinks = 3, g.bytes = 4, g.new_objects = 5, g.new_bytes = 6, g.dirty = 7;
  g.full = true, g.host = "node-1.example";
  Generation p = parse_generation(serialize(g), "g");
  CHECK(p.number == 12);
  CHECK(p.parent == 11);
  CHECK(p.root == g.root);
  CHECK(p.time_ns == g.time_ns);
  CHECK(p.duration == Approx(1.5));
  CHECK((p.files == 1 && p.dirs == 2 && p.symlinks == 3 && p.bytes == 4));
  CHECK((p.new_objects == 5 && p.new_bytes == 6 && p.dirty == 7));
  CHECK(p.full);
  CHECK(p.host == "node-1.example");
  CHECK_THROWS_AS(parse_generation("fractfs-generation 2\n", "g"), FormatError);
  CHECK_THROWS_AS(parse_generation("fractfs-generation 1\ngeneration 1\n", "g"), FormatError);
  std::string bad_root = serialize(g);
  bad_root.replace(bad_root.find("root ") + 5, 3, "xyz");
  CHECK_THROWS_AS(parse_generation(bad_root, "g"), FormatError);

  Changes c;
  c.added = {hash_bytes("a"), hash_bytes("b")};
  c.released = {hash_bytes("c")};
  Changes pc = parse_changes(serialize(c), "c");
  CHECK(pc.added == c.added);
  CHECK(pc.released == c.released);
  CHECK(parse_changes("", "c").added.empty());
  for (std::string bad :
       {std::string("\n"), "+" + hash_bytes("a").hex().substr(1) + "\n", "*" + hash_bytes("a").hex() + "\n",
        "+" + hash_bytes("a").hex() + " \n", "+" + hash_bytes("a").hex() + "\n\n"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_changes(bad, "c"), FormatError);
  }
  Current cur{9, hash_bytes("r"), "0123456789abcdef", {}};
  Current pcur = parse_current(serialize(cur), "C");
  CHECK(pcur.generation == 9);
  CHECK(pcur.root == cur.root);
  CHECK(pcur.tag == cur.tag);
  // Format 1 (no tag): untagged records.
  Current v1 = parse_current("fractfs-current 1\ngeneration 9\nroot " + cur.root.hex() + "\n", "C");
  CHECK(v1.generation == 9);
  CHECK(v1.tag.empty());
  CHECK_THROWS_AS(parse_current("fractfs-current 1\ngeneration 9\n", "C"), FormatError);
  // Format 2 (tags, no packs) is read the same as 3.
  CHECK(serialize(cur).starts_with("fractfs-current 3\n"));
  Current v2 =
      parse_current("fractfs-current 2\ngeneration 9\nroot " + cur.root.hex() + "\ntag " + cur.tag + "\n", "C");
  CHECK(v2.tag == cur.tag);
  CHECK_THROWS_AS(parse_current("fractfs-current 4\ngeneration 9\nroot " + cur.root.hex() + "\ntag -\n", "C"),
                  FormatError);
  // Keys: twelve digits, change lists beside their record.
  CHECK(keys::generation(12, {}) == "generations/000000000012");
  CHECK(keys::changes(12, {}) == "generations/000000000012.changes");
  CHECK(keys::generation(12, "0123456789abcdef") == "generations/000000000012-0123456789abcdef");
  CHECK(keys::changes(12, "0123456789abcdef") == "generations/000000000012-0123456789abcdef.changes");
  CHECK(keys::object(hash_bytes("x")) ==
        "objects/" + hash_bytes("x").hex().substr(0, 2) + "/" + hash_bytes("x").hex().substr(2));
  MemStore store;
  store.put(keys::generation(3, {}), serialize(g));
  store.put(keys::changes(3, {}), "");
  store.put(keys::generation(10, {}), serialize(g));
  store.put(keys::generation(10, "0123456789abcdef"), serialize(g));
  store.put(keys::changes(10, "0123456789abcdef"), "");
  store.put("generations/junk", "");
  store.put("generations/0000000000001", "");  // 13 digits
  store.put("generations/000000000001-short", "");
  CHECK(list_generations(store) == std::vector<RecordKey>{{3, ""}, {10, ""}, {10, "0123456789abcdef"}});
  CHECK_THROWS_AS(read_generation(store, 4, {}), StoreError);
  CHECK_FALSE(read_current(store));
}
