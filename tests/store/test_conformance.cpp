// The store conformance cases: the same for every backend (mount, S3 on
// Ceph RGW, WebDAV on nginx), chosen by STORE_TEST_BACKEND.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <barrier>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "sync/object_id.hpp"
#include "tests/store/store_env.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < n; i += 8) {
    std::uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<std::size_t>(8, n - i));
  }
  return s;
}

std::string ranged(Store& s, const std::string& key, std::uint64_t off, std::uint64_t len) {
  std::string out;
  REQUIRE(s.load(
      key, [&](std::string_view b) { out.append(b); }, Range{off, len}));
  return out;
}

}  // namespace

namespace fractfs::test {

// The killed writer of "what a killed writer left is cleaned up".
[[noreturn]] void abandoning_child(const std::string& name) {
  struct Stalling final : Source {
    std::uint64_t size() const override { return 12 << 20; }
    std::size_t read_at(std::uint64_t off, char* buf, std::size_t n) const override {
      if (off >= (6 << 20) || (backend() != "s3" && off >= (1 << 20))) ::pause();
      std::memset(buf, 'y', n);
      return std::min<std::uint64_t>(n, size() - off);
    }
  };
  try {
    open_test_store(name)->save("obj", Stalling());
  } catch (...) {
  }
  ::_exit(0);
}

}  // namespace fractfs::test

TEST_CASE("put, get, stat, delete", "[conformance]") {
  auto s = open_test_store(unique_name("basic"));
  CHECK_FALSE(s->get("absent"));
  CHECK_FALSE(s->stat("absent"));
  s->remove("absent");  // fine
  std::string data = random_bytes(100000, 1);
  s->put("a/b/c", data);
  CHECK(*s->get("a/b/c") == data);
  auto info = s->stat("a/b/c");
  REQUIRE(info);
  CHECK(info->size == data.size());
  s->put("a/b/c", "replaced");  // a replace is whole
  CHECK(*s->get("a/b/c") == "replaced");
  s->put("empty", "");
  REQUIRE(s->get("empty"));
  CHECK(s->get("empty")->empty());
  s->put("odd name +%&=:~", "x");  // keys are encoded, and signed, as written
  CHECK(*s->get("odd name +%&=:~") == "x");
  s->remove("a/b/c");
  CHECK_FALSE(s->get("a/b/c"));
  CHECK_FALSE(s->stat("a/b/c"));
}

TEST_CASE("ranged reads", "[conformance]") {
  auto s = open_test_store(unique_name("range"));
  std::string data = random_bytes(300000, 2);
  s->put("obj", data);
  CHECK(ranged(*s, "obj", 0, 10) == data.substr(0, 10));
  CHECK(ranged(*s, "obj", 123456, 7890) == data.substr(123456, 7890));
  CHECK(ranged(*s, "obj", 299990, 100) == data.substr(299990));  // past the end: what there is
  CHECK(ranged(*s, "obj", 250000, Range::kToEnd) == data.substr(250000));
  CHECK(ranged(*s, "obj", 400000, 10).empty());  // beyond the end: nothing
  CHECK(ranged(*s, "obj", 5, 0).empty());
  std::string none;
  CHECK_FALSE(s->load(
      "nope", [&](std::string_view b) { none.append(b); }, Range{0, 10}));
}

TEST_CASE("list with a prefix, over more than 1000 keys (pages)", "[conformance]") {
  auto s = open_test_store(unique_name("list"));
  const std::size_t n = 1100;
  for_each_parallel(*s, n,
                    [&](std::size_t i) { s->put(fmt::format("objects/{:02x}/{:05}", i % 7, i), std::to_string(i)); });
  s->put("other/x", "1");
  s->put("objectsX", "not below objects/");
  std::set<std::string> keys;
  std::uint64_t bytes = 0;
  std::size_t dated = 0;  // a time of storing, within minutes of now (the sweep's age test needs it)
  std::int64_t now = ::time(nullptr);
  s->walk("objects", [&](const ObjectInfo& o) {
    keys.insert(o.key);
    bytes += o.size;
    dated += o.mtime > now - 600 && o.mtime < now + 600;
  });
  CHECK(keys.size() == n);
  CHECK(dated == n);
  CHECK(keys.count("objects/00/00000") == 1);
  CHECK(keys.count("objects/04/01096") == 1);
  std::uint64_t want = 0;
  for (std::size_t i = 0; i < n; ++i) want += std::to_string(i).size();
  CHECK(bytes == want);
  CHECK(s->list("other") == std::vector<std::string>{"other/x"});
  CHECK(s->list("nothing-here").empty());
  std::vector<std::string> all = s->list("");
  CHECK(all.size() == n + 2);
  std::vector<std::string> doomed(keys.begin(), keys.end());
  for_each_parallel(*s, doomed.size(), [&](std::size_t i) { s->remove(doomed[i]); });
  CHECK(s->list("objects").empty());
}

TEST_CASE("objects larger than the multipart threshold stream both ways", "[conformance]") {
  auto s = open_test_store(unique_name("large"));
  std::string path = env_or("STORE_TEST_DIR", "/tmp") + "/" + unique_name("large.bin");
  const std::size_t size = 13 * 1024 * 1024 + 12345;  // 3 parts of 5 MiB on S3
  {
    std::string data = random_bytes(size, 3);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fd);
  }
  ObjectId want = hash_bytes(random_bytes(size, 3));
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  s->save("big", FileSource(fd, 0, size));
  ::close(fd);
  ::unlink(path.c_str());
  auto info = s->stat("big");
  REQUIRE(info);
  CHECK(info->size == size);
  if (backend() == "s3") CHECK(info->etag.ends_with("-3"));  // went up in 3 parts
  // Read back in pieces as they come: the sink never holds the whole.
  std::string whole;
  std::size_t biggest = 0;
  REQUIRE(s->load("big", [&](std::string_view b) {
    biggest = std::max(biggest, b.size());
    whole.append(b);
  }));
  CHECK(whole.size() == size);
  CHECK(hash_bytes(whole) == want);
  CHECK(biggest < size / 4);
  CHECK(ranged(*s, "big", 5 * 1024 * 1024 - 10, 20) == whole.substr(5 * 1024 * 1024 - 10, 20));
}

TEST_CASE("a source that fails stops the save and stores nothing", "[conformance]") {
  struct Failing final : Source {
    std::uint64_t size() const override { return 7 << 20; }
    std::size_t read_at(std::uint64_t off, char* buf, std::size_t n) const override {
      if (off > (1 << 20)) throw StoreError("the disk went away");
      std::memset(buf, 'x', n);
      return std::min<std::uint64_t>(n, size() - off);
    }
  };
  auto s = open_test_store(unique_name("failsrc"));
  CHECK_THROWS_WITH(s->save("k", Failing()), Catch::Contains("the disk went away"));
  CHECK_FALSE(s->stat("k"));
  CHECK(s->discard_abandoned(0) == 0);  // the failed upload cleaned up after itself
}

TEST_CASE("conditional create and compare-and-swap", "[conformance]") {
  auto s = open_test_store(unique_name("cas"));
  CHECK(s->caps().conditional_write);
  CHECK_FALSE(s->read_pointer("CURRENT"));
  SwapResult a = s->swap_pointer("CURRENT", std::nullopt, "gen 1 by A");
  REQUIRE(a.won);
  REQUIRE(a.current);
  SwapResult b = s->swap_pointer("CURRENT", std::nullopt, "gen 1 by B");
  CHECK_FALSE(b.won);
  REQUIRE(b.current);
  CHECK(b.current->value == "gen 1 by A");  // who won
  auto now = s->read_pointer("CURRENT");
  REQUIRE(now);
  CHECK(now->value == "gen 1 by A");
  CHECK(now->version == a.current->version);
  SwapResult c = s->swap_pointer("CURRENT", now->version, "gen 2 by A");
  REQUIRE(c.won);
  SwapResult stale = s->swap_pointer("CURRENT", now->version, "gen 2 by B");
  CHECK_FALSE(stale.won);
  CHECK(stale.current->value == "gen 2 by A");
  for (int i = 3; i < 8; ++i) {  // old versions are cleaned up as it goes
    auto cur = s->read_pointer("CURRENT");
    REQUIRE(s->swap_pointer("CURRENT", cur->version, fmt::format("gen {} by A", i)).won);
  }
  CHECK(s->read_pointer("CURRENT")->value == "gen 7 by A");
  CHECK_FALSE(s->swap_pointer("CURRENT", now->version, "ancient").won);  // a long-stale writer still loses
  s->remove_pointer("CURRENT");
  CHECK_FALSE(s->read_pointer("CURRENT"));
}

TEST_CASE("two racing writers: exactly one wins each round", "[conformance]") {
  std::string name = unique_name("race");
  auto s1 = open_test_store(name), s2 = open_test_store(name);  // two "nodes"
  const int rounds = 12;
  std::atomic<int> wins[2] = {0, 0};
  std::vector<std::string> winner(rounds);
  std::barrier sync(2);
  auto writer = [&](int w, Store& s) {
    for (int r = 0; r < rounds; ++r) {
      auto cur = s.read_pointer("LEASE");
      sync.arrive_and_wait();  // both have read the same version
      std::string mine = fmt::format("round {} writer {}", r, w);
      SwapResult res = r == 0 ? s.swap_pointer("LEASE", std::nullopt, mine)
                              : s.swap_pointer("LEASE", cur ? std::optional(cur->version) : std::nullopt, mine);
      if (res.won) {
        ++wins[w];
        winner[r] = mine;
      }
      sync.arrive_and_wait();  // both have tried
    }
  };
  std::thread t([&] { writer(1, *s2); });
  writer(0, *s1);
  t.join();
  CHECK(wins[0] + wins[1] == rounds);
  for (int r = 0; r < rounds; ++r) CHECK_FALSE(winner[r].empty());
  CHECK(s1->read_pointer("LEASE")->value == winner[rounds - 1]);
}

TEST_CASE("what a killed writer left is cleaned up", "[conformance]") {
  std::string name = unique_name("abandon");
  auto s = open_test_store(name);
  // A child process saves a large object whose source stalls, and is killed
  // mid-upload. (It execs itself first: no threads after a fork.)
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setenv("STORE_TEST_CHILD", name.c_str(), 1);
    ::execl("/proc/self/exe", "store_tests", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (backend() == "webdav") {
    // A PUT cut off leaves nothing on the server; what a killed writer can
    // leave is a staged pointer value: make one as a dying writer would.
    auto h = dav_test_options(name);
    net::HttpClient client(h.http);
    for (std::string col : {"", "LEASE.pointer/", "LEASE.pointer/stage-dead/"}) {
      net::Request req;
      req.method = "MKCOL";
      req.url = h.base_url + col;
      CHECK(client.perform(req).status == 201);
    }
  }
  // Wait until the child has started its upload, then kill it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK_FALSE(s->stat("obj"));
  std::uint64_t n = s->discard_abandoned(backend() == "mount" ? 3600 : 0);  // mount: the pid is dead
  CHECK(n >= 1);
  CHECK(s->discard_abandoned(0) == 0);
  CHECK(s->list("").empty());
}
