// Network faults from tests/store/fault_proxy.py between the store and a
// real server: retries succeed; what keeps failing fails in bounded time
// with a message that says what happened.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>

#include "tests/store/store_env.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

std::string payload(std::size_t n) {
  std::string s(n, '\0');
  std::mt19937 rng(7);
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("transient faults are retried until they pass", "[faults]") {
  auto s = open_test_store(unique_name("faults"), true);
  std::string data = payload(2 << 20);
  local_get("http://127.0.0.1:" + env_or("STORE_TEST_PROXY").substr(env_or("STORE_TEST_PROXY").find(' ') + 1) +
            "/clear");
  SECTION("503 and SlowDown") {
    inject("kind=503&count=2&method=PUT");
    inject("kind=slowdown&count=1&method=PUT");
    s->put("k", data);
    CHECK(*s->get("k") == data);
  }
  SECTION("500 on reads") {
    s->put("k", data);
    inject("kind=500&count=2&method=GET");
    CHECK(*s->get("k") == data);
  }
  SECTION("connections dropped before an answer") {
    inject("kind=drop&count=2");
    s->put("k", data);
    inject("kind=drop&count=1&method=GET");
    CHECK(*s->get("k") == data);
  }
  SECTION("a body cut in half is resumed where it stopped") {
    s->put("k", data);
    inject("kind=cut&count=2&method=GET");
    std::string got;
    std::size_t calls = 0;
    REQUIRE(s->load("k", [&](std::string_view b) {
      ++calls;
      got.append(b);
    }));
    CHECK(got == data);
  }
  SECTION("a ranged read cut in half") {
    s->put("k", data);
    inject("kind=cut&count=1&method=GET");
    std::string got;
    REQUIRE(s->load(
        "k", [&](std::string_view b) { got.append(b); }, Range{1000, 1 << 20}));
    CHECK(got == data.substr(1000, 1 << 20));
  }
  SECTION("slow answers") {
    inject("kind=delay&ms=300&count=3");
    s->put("k", data);
    CHECK(*s->get("k") == data);
  }
  SECTION("a pointer switch whose answer is lost is decided by reading back") {
    REQUIRE(s->swap_pointer("P", std::nullopt, "one").won);
    auto cur = s->read_pointer("P");
    inject("kind=500&count=1&method=PUT");
    SwapResult r = s->swap_pointer("P", cur->version, "two");
    CHECK(r.won);
    CHECK(s->read_pointer("P")->value == "two");
  }
}

TEST_CASE("faults that do not pass fail in bounded time, saying why", "[faults]") {
  net::HttpOptions quick;
  quick.max_attempts = 3;
  quick.backoff_base_ms = 50;
  quick.backoff_max_ms = 100;
  quick.connect_timeout_ms = 1000;
  quick.request_timeout_ms = 1500;
  quick.low_speed_s = 2;
  quick.retry_deadline_ms = 10000;
  auto s = open_test_store(unique_name("hard"), true, &quick);
  std::string ctl = "http://127.0.0.1:" + env_or("STORE_TEST_PROXY").substr(env_or("STORE_TEST_PROXY").find(' ') + 1);
  local_get(ctl + "/clear");
  auto start = std::chrono::steady_clock::now();
  SECTION("the server keeps failing") {
    inject("kind=503&count=100");
    CHECK_THROWS_WITH(s->put("k", "v"), Catch::Contains("HTTP 503"));
    CHECK(seconds_since(start) < 5);
  }
  SECTION("the server never answers") {
    inject("kind=hang&count=100");
    CHECK_THROWS_WITH(s->get("k"), Catch::Contains("did not answer in time") && Catch::Contains("3 attempts"));
    CHECK(seconds_since(start) < 10);
  }
  local_get(ctl + "/clear");
}
