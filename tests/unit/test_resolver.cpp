#include <catch2/catch.hpp>

#include "resolver/resolver.hpp"

using namespace fractfs;

namespace {
PatternList list(std::initializer_list<const char*> lines) {
  PatternList l;
  for (const char* s : lines) l.add(s);
  return l;
}
Resolver sample() {
  return Resolver({"data/blobs", "exports"}, list({"*.tmp", "__pycache__/", ".locks/"}),
                  list({"manifest.json", "*.sqlite", "*.lock"}));
}
Tier tier(const Resolver& r, const char* p, bool dir = false) { return r.decide(p, dir).tier; }
}  // namespace

TEST_CASE("precedence is ignore > local > dirs > default", "[resolver]") {
  Resolver r = sample();
  CHECK(tier(r, "data/blobs/part-0.parquet") == Tier::remote);
  CHECK(tier(r, "data/blobs") == Tier::remote);
  CHECK(tier(r, "data/blobs/manifest.json") == Tier::local_synced);
  CHECK(tier(r, "data/blobs/x.tmp") == Tier::local_ignored);
  CHECK(tier(r, "data/blobs/.locks/a", false) == Tier::local_ignored);
  CHECK(tier(r, "data/other.parquet") == Tier::local_synced);
  CHECK(tier(r, "data") == Tier::local_synced);
  CHECK(tier(r, "exports/a/b/c") == Tier::remote);
  CHECK(tier(r, "exportsx/a") == Tier::local_synced);
  CHECK(tier(r, "") == Tier::local_synced);
}

TEST_CASE("a pattern that names a directory decides everything below it", "[resolver]") {
  Resolver r({"data"}, list({"cache/"}), list({"state/"}));
  CHECK(tier(r, "data/cache", true) == Tier::local_ignored);
  CHECK(tier(r, "data/cache/x/y.bin") == Tier::local_ignored);
  CHECK(tier(r, "data/state/db") == Tier::local_synced);
  CHECK(tier(r, "data/cache", false) == Tier::remote);  // a file named cache
  CHECK(r.dir_only_patterns());
}

TEST_CASE("sqlite and lock sidecars follow their owner", "[resolver]") {
  Resolver r = sample();
  for (const char* p : {"data/blobs/db.sqlite-wal", "data/blobs/db.sqlite-shm", "data/blobs/db.sqlite-journal"}) {
    Decision d = r.decide(p, false);
    CHECK(d.tier == Tier::local_synced);
    CHECK(d.owner_len == std::string_view("data/blobs/db.sqlite").size());
    CHECK(r.describe(d, p) == "[local] '*.sqlite' (sidecar of 'data/blobs/db.sqlite')");
  }
  // The owner is remote by [dirs]: the sidecar is too, by its own rule.
  CHECK(tier(r, "data/blobs/db.duckdb-wal") == Tier::remote);
  CHECK(r.decide("data/blobs/db.duckdb-wal", false).owner_len == 0);
  // A pattern about the sidecar itself wins over its owner.
  Resolver own({"d"}, list({"*-wal"}), list({"*.sqlite"}));
  CHECK(tier(own, "d/x.sqlite-wal") == Tier::local_ignored);
  // "<name>.lock" follows "<name>".
  Resolver lk({"d"}, list({}), list({"poetry"}));
  CHECK(tier(lk, "d/poetry.lock") == Tier::local_synced);
  CHECK(tier(lk, "d/other.lock") == Tier::remote);
}

TEST_CASE("describe names the deciding source", "[resolver]") {
  Resolver r = sample();
  CHECK(r.describe(r.decide("a/x.tmp", false), "a/x.tmp") == "[ignore] '*.tmp'");
  CHECK(r.describe(r.decide("data/blobs/x", false), "data/blobs/x") == "[dirs] 'data/blobs'");
  CHECK(r.describe(r.decide("src/m.py", false), "src/m.py") == "default");
}

TEST_CASE("dirs_index and holds_dirs", "[resolver]") {
  Resolver r = sample();
  CHECK(r.dirs_index("data/blobs/x") == 0);
  CHECK(r.dirs_index("exports") == 1);
  CHECK(r.dirs_index("data/blobsx") == -1);
  CHECK(r.holds_dirs(""));
  CHECK(r.holds_dirs("data"));
  CHECK_FALSE(r.holds_dirs("data/blobs"));
  CHECK_FALSE(r.holds_dirs("dat"));
}
