// restore(): a generation into an empty root gives the same tree; local
// files newer, older or the same; dry runs; entries whose tier changed;
// symlinks in the way (nothing written outside the root); corrupt and
// missing objects (a clear error, no temporary files left); the deploy
// bundle; restoring an older generation and carrying on from it.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "sync/checkpoint.hpp"
#include "sync/gc.hpp"
#include "sync/restore.hpp"
#include "sync/restore_util.hpp"
#include "tests/unit/sync_fixture.hpp"

using namespace fractfs;
using namespace fractfs::test;
using Catch::Matchers::Contains;

namespace {

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// Another root restored from the same store and configuration.
struct Target {
  TempDir dir;
  Config cfg;
  Site& site;
  explicit Target(Site& s) : cfg(s.cfg), site(s) { cfg.root = dir.path(); }
  SyncEnv env(const Resolver* r = nullptr, const Bundle* b = nullptr) {
    return SyncEnv{cfg, r ? *r : *site.resolver, site.store(), b ? *b : site.bundle};
  }
  RestoreReport run(RestoreOptions opt = {}, Snapshot* out = nullptr) { return restore(env(), opt, out); }
  std::string path(const std::string& rel) const { return dir.path() + "/" + rel; }
  void write(const std::string& rel, const std::string& data) const { dir.write(rel, data); }
  Manifest all() const { return manifest(dir.path()); }
};

// Temporary files a restore builds beside their place.
std::vector<std::string> leftovers(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& [rel, n] : manifest(root, {}, false))
    if (rel.find(".fractfs-restore-") != std::string::npos) out.push_back(rel);
  return out;
}

Site::Options sample_options() {
  Site::Options o;
  o.dirs = {"data/blobs"};
  o.ignore = {"*.tmp", "cache/"};
  o.local = {"manifest.json"};
  return o;
}

void populate(Site& s, bool big = false) {
  s.write("hello.txt", "hello");
  s.write("empty", "");
  s.write("big.bin", big ? pattern(9000000, 1) : pattern(kChunkSize + 1, 1));
  s.write("secret", "mode 600", 0600);
  s.write("tool", "#!/bin/sh\n", 0755);
  // Modes the umask takes from a new file (0666), or that open() does not
  // set (set-user-ID): restored all the same.
  s.write("shared", "mode 666", 0666);
  s.write("readonly", "mode 444", 0444);
  s.write("suid", "mode 4755", 04755);
  for (auto [rel, mode] : {std::pair{"shared", 0666}, {"suid", 04755}})
    REQUIRE(::chmod(s.path(rel).c_str(), mode) == 0);
  s.mkdir("emptydir");
  s.mkdir("a/b/c");
  s.write("a/b/c/deep.txt", "deep");
  s.write("a/b/we ird %name\t\x01\xff", "awkward");
  s.symlink("hello.txt", "link");
  s.symlink("no/such target %", "dangling");
  s.symlink("a", "dirlink");
  s.write("x.tmp", "ignored");
  s.write("cache/stuff", "ignored dir");
  s.write("data/blobs/part.bin", "remote tier");
  s.write("data/blobs/manifest.json", "{}");
  s.write("data/other.txt", "synced");
  REQUIRE(::chmod(s.path("a/b").c_str(), 0750) == 0);
  set_mtime(s.path("hello.txt"), 1500000000123456789);
  set_mtime(s.path("link"), 1400000000987654321);
  set_mtime(s.path("a/b/c"), 1300000000000000001);
  set_mtime(s.path("emptydir"), 1300000000000000002);
}

}  // namespace

TEST_CASE("restore: into an empty root gives the same tree", "[restore]") {
  Site s(sample_options());
  populate(s);
  REQUIRE(s.full().committed);
  Target t(s);
  Snapshot snap;
  RestoreReport r = t.run({}, &snap);
  CHECK(r.generation == 1);
  CHECK_FALSE(r.legacy);
  std::string d = diff(s.local_manifest(), t.all());
  INFO(d);
  CHECK(d.empty());
  CHECK(leftovers(t.dir.path()).empty());
  Manifest want = s.local_manifest();
  std::uint64_t files = 0, bytes = 0, dirs = 0, links = 0;
  for (const auto& [rel, n] : want) {
    files += n.type == 'f', bytes += n.type == 'f' ? n.size : 0;
    dirs += n.type == 'd', links += n.type == 'l';
  }
  CHECK(r.files == files);
  CHECK(r.bytes == bytes);
  CHECK(r.dirs == dirs);
  CHECK(r.symlinks == links);
  CHECK(r.unchanged == 0);
  CHECK(r.kept_newer == 0);
  CHECK(r.conflicts == 0);
  CHECK(r.skipped == 0);

  // The snapshot it hands over knows the restored files: the next
  // checkpoint there reads nothing and commits nothing.
  CHECK(snap.current.number == 1);
  SyncEnv env = t.env();
  CheckpointOptions full;
  full.full = true;
  CheckpointReport c = checkpoint(env, snap, {}, full);
  CHECK_FALSE(c.committed);
  CHECK(c.read == 0);
  // A second restore over it changes nothing.
  RestoreReport again = t.run();
  CHECK(again.files == 0);
  CHECK(again.symlinks == 0);
  CHECK(again.dirs == 0);
  CHECK(again.unchanged == files + links);
  CHECK(diff(s.local_manifest(), t.all()).empty());
}

TEST_CASE("restore: without a checkpoint there is nothing to restore", "[restore]") {
  Site s;
  Target t(s);
  t.write("local", "x");
  RestoreReport r = t.run();
  CHECK(r.generation == 0);
  CHECK(r.files == 0);
  CHECK(t.all().size() == 1);
}

TEST_CASE("restore: local files newer, older or the same as the checkpoint's", "[restore]") {
  Site s;
  const std::int64_t t0 = 1600000000000000000;
  for (const char* f : {"newer", "older", "same", "same size other mtime"}) {
    s.write(f, std::string("checkpoint ") + f);
    set_mtime(s.path(f), t0);
  }
  s.write("only in checkpoint", "c");
  REQUIRE(s.full().committed);
  Target t(s);
  t.write("newer", "local, newer");
  set_mtime(t.path("newer"), t0 + 1);
  t.write("older", "local, older");
  set_mtime(t.path("older"), t0 - 1);
  t.write("same", "checkpoint XXXX");  // same size and mtime, other bytes
  set_mtime(t.path("same"), t0);
  t.write("same size other mtime", std::string("checkpoint same size other mtimX"));
  set_mtime(t.path("same size other mtime"), t0 - 5);
  t.write("local only", "mine");

  RestoreReport r = t.run();
  CHECK(r.kept_newer == 1);
  CHECK(r.unchanged == 1);
  CHECK(r.files == 3);  // older, same size other mtime, only in checkpoint
  CHECK(read_all(t.path("newer")) == "local, newer");
  CHECK(read_all(t.path("older")) == "checkpoint older");
  CHECK(read_all(t.path("same")) == "checkpoint XXXX");  // the quick check trusts size and mtime
  CHECK(read_all(t.path("same size other mtime")) == "checkpoint same size other mtime");
  CHECK(read_all(t.path("only in checkpoint")) == "c");
  CHECK(read_all(t.path("local only")) == "mine");  // restore never deletes
  bool noted = false;
  for (const std::string& n : r.notes) noted |= n.find("newer") != std::string::npos;
  CHECK(noted);

  RestoreOptions o;
  o.overwrite = true;
  r = t.run(o);
  CHECK(r.kept_newer == 0);
  CHECK(read_all(t.path("newer")) == "checkpoint newer");
  CHECK(read_all(t.path("local only")) == "mine");
  CHECK(leftovers(t.dir.path()).empty());
}

TEST_CASE("restore: a dry run changes nothing and counts what a real run does", "[restore]") {
  Site s(sample_options());
  populate(s, false);
  REQUIRE(s.full().committed);
  Target t(s);
  t.write("hello.txt", "local newer");
  set_mtime(t.path("hello.txt"), 1900000000000000000);
  t.write("a/b/c/deep.txt", "local older");
  set_mtime(t.path("a/b/c/deep.txt"), 1000);
  t.write("data/other.txt", "synced");  // the same file: unchanged
  set_mtime(t.path("data/other.txt"), s.snap.model.find("data/other.txt")->mtime_ns);
  Manifest before = t.all();
  RestoreOptions o;
  o.dry_run = true;
  Snapshot snap;
  snap.current.number = 77;
  RestoreReport dry = t.run(o, &snap);
  CHECK(diff(before, t.all()).empty());
  CHECK(snap.current.number == 77);  // not handed over
  RestoreReport real = t.run();
  CHECK(dry.files == real.files);
  CHECK(dry.bytes == real.bytes);
  CHECK(dry.dirs == real.dirs);
  CHECK(dry.symlinks == real.symlinks);
  CHECK(dry.kept_newer == real.kept_newer);
  CHECK(dry.unchanged == real.unchanged);
  CHECK(real.kept_newer == 1);
  CHECK(real.unchanged == 1);
  CHECK(real.files > 0);
}

TEST_CASE("restore: entries whose tier is no longer local_synced are skipped", "[restore]") {
  Site s;
  s.write("logs/app.log", "log");
  s.write("logs/keep.txt", "kept");
  s.write("db/state.sqlite", "state");
  s.write("top.txt", "top");
  REQUIRE(s.full().committed);
  SECTION("a file pattern") {
    Config cfg = s.cfg;
    cfg.ignore = entries({"*.log"});
    cfg.dirs = entries({"db"});
    Resolver res(cfg);
    Target t(s);
    RestoreReport r = restore(t.env(&res), {}, nullptr);
    CHECK(r.skipped == 2);  // logs/app.log (ignored), db/state.sqlite (remote now)
    struct stat st;
    CHECK(::lstat(t.path("logs/app.log").c_str(), &st) != 0);
    CHECK(::lstat(t.path("db/state.sqlite").c_str(), &st) != 0);
    CHECK(read_all(t.path("logs/keep.txt")) == "kept");
    CHECK(read_all(t.path("top.txt")) == "top");
    bool noted = false;
    for (const std::string& n : r.notes) noted |= n.find("logs/app.log") != std::string::npos;
    CHECK(noted);
  }
  SECTION("a directory pattern") {
    Config cfg = s.cfg;
    cfg.ignore = entries({"logs/"});
    Resolver res(cfg);
    Target t(s);
    RestoreReport r = restore(t.env(&res), {}, nullptr);
    CHECK(r.skipped == 1);
    struct stat st;
    CHECK(::lstat(t.path("logs").c_str(), &st) != 0);
    CHECK(read_all(t.path("db/state.sqlite")) == "state");
  }
}

TEST_CASE("restore: nothing is written outside the root through a local symlink", "[restore]") {
  Site s;
  s.write("d/f", "file in d");
  s.write("d/sub/g", "deeper");
  s.write("a/b/c/file", "nested");
  s.write("f", "a file");
  s.write("l", "a file where the root has a symlink to a directory");
  REQUIRE(s.full().committed);
  TempDir outside;
  outside.mkdir("dir");
  outside.write("target", "outside, untouched");
  Target t(s);
  REQUIRE(::symlink((outside.path() + "/dir").c_str(), t.path("d").c_str()) == 0);
  REQUIRE(::symlink(outside.path().c_str(), t.path("a").c_str()) == 0);
  REQUIRE(::symlink((outside.path() + "/target").c_str(), t.path("f").c_str()) == 0);
  REQUIRE(::symlink((outside.path() + "/dir").c_str(), t.path("l").c_str()) == 0);
  // Symlinks older than the checkpoint: they are replaced, not kept as newer.
  for (const char* p : {"f", "l"}) set_mtime(t.path(p), 1000);
  RestoreOptions o;
  o.overwrite = true;
  RestoreReport r = t.run(o);
  CHECK(r.conflicts == 2);  // d and a: a symlink where the checkpoint has a directory
  Manifest out = manifest(outside.path());
  CHECK(out.size() == 2);
  CHECK(out.count("dir"));
  CHECK(out.at("target").data == "outside, untouched");
  // The symlinks where the checkpoint has files are replaced (not followed).
  struct stat st;
  REQUIRE(::lstat(t.path("f").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(read_all(t.path("f")) == "a file");
  REQUIRE(::lstat(t.path("l").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  REQUIRE(::lstat(t.path("d").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(leftovers(t.dir.path()).empty());
  CHECK(leftovers(outside.path()).empty());
}

TEST_CASE("restore: local directories and files in the way of the checkpoint's", "[restore]") {
  Site s;
  s.write("was file", "checkpoint file");
  s.write("was dir/x", "checkpoint dir");
  REQUIRE(s.full().committed);
  Target t(s);
  t.write("was file/local", "a local dir where the checkpoint has a file");
  t.write("was dir", "a local file where the checkpoint has a dir");
  RestoreOptions o;
  o.overwrite = true;
  RestoreReport r = t.run(o);
  CHECK(r.conflicts == 2);
  CHECK(read_all(t.path("was file/local")) == "a local dir where the checkpoint has a file");
  CHECK(read_all(t.path("was dir")) == "a local file where the checkpoint has a dir");
}

TEST_CASE("restore: a corrupt or missing object is an error naming it, with no temporary files left", "[restore]") {
  Site s;
  for (int i = 0; i < 40; ++i) s.write("d" + std::to_string(i % 3) + "/f" + std::to_string(i), pattern(1000 + i, i));
  s.write("victim", pattern(5000, 99));
  REQUIRE(s.full().committed);
  ObjectId id = s.snap.model.find("victim")->content.at(0);
  std::string key = keys::object(id);
  std::string file = s.remote + "/_checkpoint/.fractfs/" + key;
  REQUIRE(read_all(file).size() == 5000);

  SECTION("a flipped byte") {
    std::string data = read_all(file);
    data[1234] = static_cast<char>(data[1234] ^ 0x20);
    write_file(file, data);
    Target t(s);
    CHECK_THROWS_AS(t.run(), FormatError);
    CHECK_THROWS_WITH(t.run(), Contains(key) && Contains("corrupt") && Contains("victim"));
    CHECK(leftovers(t.dir.path()).empty());
    struct stat st;
    CHECK(::lstat(t.path("victim").c_str(), &st) != 0);
  }
  SECTION("a missing object") {
    REQUIRE(::unlink(file.c_str()) == 0);
    Target t(s);
    CHECK_THROWS_AS(t.run(), StoreError);
    CHECK_THROWS_WITH(t.run(), Contains(key) && Contains("missing") && Contains("victim"));
    CHECK(leftovers(t.dir.path()).empty());
  }
  SECTION("a corrupt tree: nothing is written") {
    std::string tkey = keys::object(s.snap.model.dir("d1")->tree);
    std::string tfile = s.remote + "/_checkpoint/.fractfs/" + tkey;
    std::string data = read_all(tfile);
    data.back() = 'X';
    write_file(tfile, data);
    Target t(s);
    CHECK_THROWS_WITH(t.run(), Contains(tkey));
    CHECK(t.all().empty());
  }
}

TEST_CASE("restore: detect_bundle finds exactly the local files the checkpoint does not know", "[restore]") {
  Site s(sample_options());
  s.write("known.txt", "checkpointed");
  s.write("lib/known.js", "checkpointed");
  REQUIRE(s.full().committed);
  Target t(s);
  // A fresh deploy on a new node: the app's files are there before the restore.
  t.write("app.py", "code");
  t.write("lib/util.js", "code");
  t.write("lib/known.js", "the deploy's copy");
  t.write("manifest.json", "named by [local]: never bundle");
  t.write("sub/manifest.json", "named by [local] too");
  t.write("x.tmp", "ignored");
  t.write("cache/c", "ignored dir");
  t.write("data/blobs/part.bin", "remote tier");
  REQUIRE(::symlink("app.py", t.path("applink").c_str()) == 0);
  REQUIRE(::mkfifo(t.path("fifo").c_str(), 0600) == 0);
  RestoreOptions o;
  o.detect_bundle = true;
  RestoreReport r = t.run(o);
  std::set<std::string> got;
  for (const std::string& line : [&] {
         std::vector<std::string> v;
         std::string text = r.bundle.serialize();
         std::size_t start = 0;
         while (start < text.size()) {
           std::size_t nl = text.find('\n', start);
           v.push_back(text.substr(start, nl - start));
           start = nl + 1;
         }
         return v;
       }())
    got.insert(line);
  CHECK(got == std::set<std::string>{"app.py", "applink", "lib/util.js"});
  // Known files are not bundle files even when the local copy differs.
  CHECK_FALSE(r.bundle.contains("lib/known.js"));

  SECTION("auto_ignore_bundle off: no bundle") {
    Target u(s);
    u.cfg.auto_ignore_bundle = false;
    u.write("app.py", "code");
    CHECK(restore(u.env(), o, nullptr).bundle.empty());
  }
  SECTION("no checkpoint yet: every checkpointable local file") {
    Site e(sample_options());
    Target u(e);
    u.write("app.py", "code");
    u.write("manifest.json", "local");
    u.write("y.tmp", "ignored");
    RestoreReport rr = u.run(o);
    CHECK(rr.generation == 0);
    CHECK(rr.bundle.size() == 1);
    CHECK(rr.bundle.contains("app.py"));
  }
}

// `fractfs restore --generation N` restores an older generation, then makes
// it current again with a checkpoint of the restored tree.
TEST_CASE("restore: an older generation becomes current again after the next checkpoint", "[restore]") {
  Site s;
  s.write("a", "version A");
  s.write("b", "unchanged");
  REQUIRE(s.full().committed);  // 1
  ObjectId root1 = s.snap.current.root;
  s.write("a", "version B");
  REQUIRE(s.incr({"a"}).committed);  // 2
  RestoreOptions o;
  o.generation = 1;
  o.overwrite = true;
  Snapshot snap;
  RestoreReport r = restore(s.env(), o, &snap);
  CHECK(r.generation == 1);
  CHECK(s.read("a") == "version A");
  CHECK(snap.current.number == 2);
  s.snap = std::move(snap);
  CheckpointReport c = s.full();
  CHECK(c.committed);
  auto cur = read_current(s.store());
  REQUIRE(cur);
  CHECK(cur->generation == 3);
  CHECK(cur->root == root1);
  CHECK(s.stored_manifest(cur->root).at("a").data == "version A");
}

// After a restore of an older generation, the model's last accept() is that
// generation while CURRENT is a later one: a change list written against it
// does not say what the next generation adds to its parent, and the
// collector deletes objects the new generation uses.
TEST_CASE("restore: carrying on from an older generation loses no object to the collector", "[restore][gc]") {
  Site::Options opts;
  opts.keep = 2;
  Site s(opts);
  s.write("a", "version A");
  REQUIRE(s.full().committed);  // 1
  s.write("a", "version B");
  REQUIRE(s.incr({"a"}).committed);  // 2: A released
  RestoreOptions o;
  o.generation = 1;
  o.overwrite = true;
  Snapshot snap;
  restore(s.env(), o, &snap);
  s.snap = std::move(snap);
  REQUIRE(s.read("a") == "version A");
  s.write("c", "something new");
  CheckpointReport c = s.incr({"c"});  // 3: a = A again; collects generation 1
  REQUIRE(c.committed);
  auto cur = read_current(s.store());
  REQUIRE(cur);
  Reach reach;
  reach_tree(s.store(), cur->root, reach);
  std::string missing;
  for (const std::string& m : reach.missing) missing += m + "\n";
  CHECK(missing == "");
  // What matters in the end: the current generation restores.
  Target t(s);
  CHECK_NOTHROW(t.run());
  CHECK(diff(s.local_manifest(), t.all()).empty());
}

TEST_CASE("restore: the bundle list round trips awkward paths and refuses bad lines", "[restore]") {
  Bundle b;
  for (std::string p : {"app.py", "dir/with space/x", "new\nline", "100%", "\x01\xff", "a/b/c"}) b.add(p);
  Bundle back = Bundle::parse(b.serialize(), "bundle");
  CHECK(back.size() == b.size());
  for (std::string p : {"app.py", "dir/with space/x", "new\nline", "100%", "\x01\xff", "a/b/c"})
    CHECK(back.contains(p));
  CHECK_FALSE(back.contains("dir"));
  CHECK(Bundle::parse("", "bundle").empty());
  CHECK_THROWS_AS(Bundle::parse("ok\n\nx\n", "bundle"), FormatError);
  CHECK_THROWS_WITH(Bundle::parse("ok\nbad%zz\n", "bundle"), Contains("bundle:2"));
}
