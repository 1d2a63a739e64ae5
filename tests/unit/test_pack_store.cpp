// The pack layer (sync/pack_store.hpp) over an in-memory store: what lands
// where, what a new process reads back, deletion, compaction, another
// writer's packs, and a failing store.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "sync/generation.hpp"
#include "sync/pack_store.hpp"
#include "sync_fixture.hpp"

namespace fractfs::test {
namespace {

constexpr PackOptions kSmall{4096, 1024, 2};

std::unique_ptr<Store> packed_over(MemStore& mem, PackOptions opt = kSmall) {
  return pack_objects(std::make_unique<ProbeStore>(mem), opt);
}

std::size_t count_keys(MemStore& mem, const std::string& prefix) { return mem.list(prefix).size(); }

// `n` distinct objects of `size` bytes; their keys.
std::vector<std::string> put_objects(Store& s, int n, std::size_t size, char salt = 'a') {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    std::string data = fmt::format("{}{:06}", salt, i);
    data.resize(size, static_cast<char>('A' + i % 26));
    std::string key = keys::object(hash_bytes(data));
    s.put(key, data);
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

TEST_CASE("packs: small objects go into packs with an index, large ones stay loose", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem);
  auto small = put_objects(*s, 40, 500);
  auto large = put_objects(*s, 2, 2000, 'L');
  // Readable before the flush (from the pack being filled or sealed).
  CHECK(s->get(small[39]).has_value());
  s->flush();
  std::size_t packs = count_keys(mem, "packs");
  CHECK(packs >= 4);  // 40 × 500 bytes in packs of ~4 KiB
  CHECK(packs <= 6);
  CHECK(count_keys(mem, "index") == packs);
  CHECK(mem.has(large[0]));
  CHECK_FALSE(mem.has(small[0]));
  auto text = mem.get("index/" + mem.list("index")[0].substr(6));
  REQUIRE(text);
  CHECK(text->starts_with("fractfs-index 1\n"));

  // A new process reads every object from the indexes.
  auto again = packed_over(mem);
  for (const auto& key : small) {
    auto data = again->get(key);
    REQUIRE(data);
    CHECK(keys::object(hash_bytes(*data)) == key);
    CHECK(again->stat(key)->size == 500);
  }
  CHECK(again->get(large[1]).has_value());
  std::size_t listed = 0;
  again->walk("objects", [&](const ObjectInfo&) { ++listed; });
  CHECK(listed == 42);
  // A range inside a packed object.
  std::string part;
  REQUIRE(again->load(
      small[3], [&](std::string_view b) { part.append(b); }, Range{2, 5}));
  CHECK(part == again->get(small[3])->substr(2, 5));
}

TEST_CASE("packs: an object already stored is not stored again", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem);
  put_objects(*s, 5, 100);
  s->flush();
  mem.reset();
  put_objects(*s, 5, 100);
  s->flush();
  CHECK(mem.puts == 0);
}

TEST_CASE("packs: a pack whose objects are all removed goes, index first", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem, PackOptions{1000, 1000, 2});
  auto keys = put_objects(*s, 4, 500);  // two packs of two objects
  s->flush();
  REQUIRE(count_keys(mem, "packs") == 2);
  s->remove(keys[0]);
  CHECK(count_keys(mem, "packs") == 2);  // one live object left in it
  s->remove(keys[1]);
  CHECK(count_keys(mem, "packs") == 1);
  CHECK(count_keys(mem, "index") == 1);
  CHECK_FALSE(s->get(keys[0]));
  CHECK(s->get(keys[2]));
  // Another process agrees.
  auto again = packed_over(mem);
  CHECK_FALSE(again->get(keys[1]));
  CHECK(again->get(keys[3]));
}

TEST_CASE("packs: compaction rewrites packs under half live and keeps every live object", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem, PackOptions{4000, 1000, 2});
  auto keys = put_objects(*s, 16, 500);  // two packs of eight
  s->flush();
  REQUIRE(count_keys(mem, "packs") == 2);
  for (int i = 0; i < 5; ++i) s->remove(keys[i]);  // first pack: 3 of 8 live
  s->remove(keys[8]);                              // second: 7 of 8 live
  std::uint64_t freed = s->compact();
  CHECK(freed == 4000);
  auto again = packed_over(mem);
  for (int i = 0; i < 16; ++i) {
    CAPTURE(i);
    bool live = i >= 5 && i != 8;
    CHECK(s->get(keys[i]).has_value() == live);
    // A new process knows removals only from the packs that went: a dead
    // object in a pack that stayed is found again (until a sweep).
    CHECK(again->get(keys[i]).has_value() == (i >= 5));
  }
  std::uint64_t stored = 0;
  for (const auto& key : mem.list("packs")) stored += mem.stat(key)->size;
  CHECK(stored == 4000 + 3 * 500);  // the second pack as it was, the first's 3 live objects moved
}

TEST_CASE("packs: a compaction whose new pack cannot be stored keeps every object readable", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem, PackOptions{4000, 1000, 2});
  auto keys = put_objects(*s, 8, 500);
  s->flush();
  for (int i = 0; i < 5; ++i) s->remove(keys[i]);
  mem.before_put = [](const std::string& key, std::string_view) {
    if (key.starts_with("packs/")) throw StoreError("mem: down");
  };
  CHECK_THROWS_AS(s->compact(), StoreError);
  mem.before_put = nullptr;
  for (int i = 5; i < 8; ++i) CHECK(s->get(keys[i]).has_value());
  CHECK(count_keys(mem, "packs") == 1);
  s->compact();  // and it succeeds once the store is back
  for (int i = 5; i < 8; ++i) CHECK(packed_over(mem)->get(keys[i]).has_value());
  std::uint64_t stored = 0;
  for (const auto& key : mem.list("packs")) stored += mem.stat(key)->size;
  CHECK(stored == 3 * 500);
}

TEST_CASE("packs: many small packs (one per small checkpoint) are merged", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem, PackOptions{64 * 1024, 4096, 2});
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    for (auto& k : put_objects(*s, 2, 100, static_cast<char>('a' + i))) keys.push_back(k);
    s->flush();
  }
  REQUIRE(count_keys(mem, "packs") == 20);
  s->compact();
  CHECK(count_keys(mem, "packs") == 1);
  CHECK(count_keys(mem, "index") == 1);
  auto again = packed_over(mem);
  for (const auto& key : keys) CHECK(again->get(key).has_value());
}

TEST_CASE("packs: another writer's pack is found after a miss", "[packs]") {
  MemStore mem;
  auto reader = packed_over(mem);
  put_objects(*reader, 1, 100);
  reader->flush();
  CHECK_FALSE(reader->get(keys::object(hash_bytes("x"))));  // the reader has read the indexes
  auto writer = packed_over(mem);
  auto keys = put_objects(*writer, 3, 100, 'w');
  writer->flush();
  CHECK(reader->get(keys[2]).has_value());
  std::size_t listed = 0;
  reader->walk("objects", [&](const ObjectInfo&) { ++listed; });
  CHECK(listed == 4);
}

TEST_CASE("packs: a pack that cannot be stored fails the flush and is stored again next time", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem);
  bool fail = true;
  mem.before_put = [&](const std::string& key, std::string_view) {
    if (fail && key.starts_with("packs/")) throw StoreError("mem: down");
  };
  auto keys = put_objects(*s, 3, 100);
  CHECK_THROWS_AS(s->flush(), StoreError);
  CHECK(count_keys(mem, "index") == 0);
  fail = false;
  put_objects(*s, 3, 100);  // the checkpoint's retry
  s->flush();
  auto again = packed_over(mem);
  for (const auto& key : keys) CHECK(again->get(key).has_value());
}

TEST_CASE("packs: a pack without an index (its writer died) is discarded by the sweep, once old", "[packs]") {
  MemStore mem;
  auto s = packed_over(mem);
  auto keys = put_objects(*s, 3, 100);
  s->flush();
  std::string orphan = "packs/" + hash_bytes("orphan").hex();
  mem.put(orphan, "orphan");
  // Young, it may be another writer's whose index is on its way (a node
  // that has not yet seen it lost the lease).
  CHECK(s->discard_abandoned(3600) == 0);
  CHECK(count_keys(mem, "packs") == 2);
  mem.age(orphan, 3601);
  CHECK(s->discard_abandoned(3600) == 1);
  CHECK(count_keys(mem, "packs") == 1);
  CHECK(s->get(keys[0]).has_value());
}

TEST_CASE("packs: a damaged index names itself and the line", "[packs]") {
  MemStore mem;
  mem.put("index/" + hash_bytes("p").hex(), "fractfs-index 1\nnot an entry\n");
  auto s = packed_over(mem);
  try {
    s->get(keys::object(hash_bytes("x")));
    FAIL("no error");
  } catch (const FormatError& e) {
    CHECK(std::string(e.what()).find("index/" + hash_bytes("p").hex() + ": line 2") != std::string::npos);
  }
}

}  // namespace fractfs::test
