// The node lease on a store in memory, with short terms (0.3 s).
#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "resolver/config.hpp"
#include "sync/generation.hpp"
#include "sync/lease.hpp"
#include "sync_fixture.hpp"

using namespace fractfs;
using fractfs::test::MemStore;
using fractfs::test::ProbeStore;

namespace {

constexpr double kTerm = 0.3;

Config node(const std::string& id) {
  Config c;
  c.root = "/srv/" + id;
  c.node_id = id;
  c.lease_seconds = kTerm;
  return c;
}

LeaseValue holder_of(Store& s) { return parse_lease(s.read_pointer(keys::lease)->value, "LEASE"); }

// Renews `lease` every third of a term until `stop` (a live holder).
std::thread renewing(Lease& lease, std::atomic<bool>& stop) {
  return std::thread([&] {
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!lease.renew()) return;
    }
  });
}

double seconds_of(const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("lease: taken when free, refused while renewed, taken once nobody renews it", "[lease]") {
  MemStore store;
  Config ca = node("a"), cb = node("b");
  Lease a(store, ca), b(store, cb);
  a.acquire(false);
  REQUIRE(a.held());
  CHECK(holder_of(store).node == "a");
  CHECK(holder_of(store).root == "/srv/a");
  {
    std::atomic<bool> stop{false};
    std::thread t = renewing(a, stop);
    try {
      b.acquire(false);
      FAIL("b took a lease that a renews");
    } catch (const LeaseHeld& e) {
      CHECK_THAT(e.what(), Catch::Contains("node 'a'") && Catch::Contains("--take-over"));
    }
    stop = true;
    t.join();
  }
  CHECK_FALSE(b.held());
  // a is gone (no renewal): b waits out a term, then holds it; a finds out.
  double took = seconds_of([&] { b.acquire(false); });
  CHECK(b.held());
  CHECK(took >= kTerm);
  CHECK(holder_of(store).node == "b");
  CHECK_FALSE(a.renew());
}

TEST_CASE("lease: the same node takes it back at once; take-over and release", "[lease]") {
  MemStore store;
  Config ca = node("a"), cb = node("b");
  Lease a(store, ca);
  a.acquire(false);
  Lease a_again(store, ca);  // the node restarted
  CHECK(seconds_of([&] { a_again.acquire(false); }) < kTerm);
  CHECK(a_again.held());
  Lease b(store, cb);
  CHECK(seconds_of([&] { b.acquire(true); }) < kTerm);
  CHECK(holder_of(store).node == "b");
  CHECK_FALSE(a_again.renew());  // taken over
  b.release();
  CHECK(holder_of(store).expires_ns == 0);
  Lease c(store, node("c"));
  CHECK(seconds_of([&] { c.acquire(false); }) < kTerm);
  CHECK(c.held());
  // lease_seconds = 0: no lease at all.
  Config off = node("d");
  off.lease_seconds = 0;
  Lease d(store, off);
  d.acquire(false);
  CHECK_FALSE(d.held());
  CHECK(holder_of(store).node == "c");
}

// Two nodes waiting for a dead holder's lease: exactly one takes it; the
// other then watches the winner, who renews, and is refused.
TEST_CASE("lease: two nodes waiting out a dead holder: one wins", "[lease]") {
  MemStore store;
  Config cd = node("dead");
  Lease dead(store, cd);
  dead.acquire(false);
  Config cx = node("x"), cy = node("y");
  Lease x(store, cx), y(store, cy);
  std::atomic<int> won{0}, refused{0};
  std::atomic<bool> stop{false};
  auto wait_for_it = [&](Lease& l) {
    try {
      l.acquire(false);
      ++won;
      while (!stop) {  // a live holder renews
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        l.renew();
      }
    } catch (const LeaseHeld&) {
      ++refused;
    }
  };
  std::thread tx(wait_for_it, std::ref(x)), ty(wait_for_it, std::ref(y));
  for (int i = 0; i < 100 && won + refused < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  tx.join();
  ty.join();
  CHECK(won == 1);
  CHECK(refused == 1);
  CHECK(x.held() != y.held());
}

// The moment the waiter's swap goes out, another node takes the lease (and
// renews it): the waiter's swap loses, and it must watch the new holder
// for a term, not take it on the strength of the old one's silence.
TEST_CASE("lease: a waiter whose swap loses to another node watches that node", "[lease]") {
  MemStore mem;
  ProbeStore store(mem);
  Config cd = node("dead"), cx = node("x"), cy = node("y");
  Lease dead(store, cd), x(store, cx), y(store, cy);
  dead.acquire(false);
  std::atomic<bool> stop{false};
  std::thread renewer;
  bool fired = false;
  store.before_put = [&](const std::string& key, std::string_view value) {
    if (fired || key != keys::lease || value.find("\nnode y\n") == std::string_view::npos) return;
    fired = true;
    x.acquire(true);
    renewer = renewing(x, stop);
  };
  CHECK_THROWS_AS(y.acquire(false), LeaseHeld);
  stop = true;
  if (renewer.joinable()) renewer.join();
  CHECK(fired);
  CHECK_FALSE(y.held());
  CHECK(holder_of(mem).node == "x");
}
