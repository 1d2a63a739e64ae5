// Not a test: figures. `bash tests/store/run.sh throughput` prints the
// put/get throughput of the backends against their real servers.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "tests/store/store_env.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

double seconds(const std::function<void()>& fn) {
  auto t = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void measure(Store& s, const char* what, std::size_t count, std::size_t size) {
  std::string data(size, 'x');
  double up =
      seconds([&] { for_each_parallel(s, count, [&](std::size_t i) { s.put(fmt::format("{}/{}", what, i), data); }); });
  std::atomic<std::uint64_t> got{0};
  double down = seconds([&] {
    for_each_parallel(s, count, [&](std::size_t i) {
      s.load(fmt::format("{}/{}", what, i), [&](std::string_view b) { got += b.size(); });
    });
  });
  REQUIRE(got == count * size);
  double mb = static_cast<double>(count * size) / 1e6;
  std::printf("%-8s %-28s put %8.1f MB/s %7.0f obj/s   get %8.1f MB/s %7.0f obj/s\n", backend().c_str(),
              fmt::format("{} x {} KiB", count, size / 1024).c_str(), mb / up, count / up, mb / down, count / down);
}

}  // namespace

TEST_CASE("throughput", "[.throughput]") {
  auto s = open_test_store(unique_name("tp"));
  measure(*s, "small", 2000, 4 * 1024);
  measure(*s, "chunks", 64, 4 * 1024 * 1024);
  measure(*s, "large", 4, 64 * 1024 * 1024);
}
