// The store tests' runner: the network backends are installed first, as the
// fractfs programs do.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "sync/net/net.hpp"

namespace fractfs::test {
[[noreturn]] void abandoning_child(const std::string& name);
}

int main(int argc, char** argv) {
  fractfs::net::install();
  if (const char* child = std::getenv("STORE_TEST_CHILD")) fractfs::test::abandoning_child(child);
  return Catch::Session().run(argc, argv);
}
