// The store tests' runner: the network backends are installed first, as the
// fractfs programs do.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sync/net/net.hpp"

int main(int argc, char** argv) {
  fractfs::net::install();
  return Catch::Session().run(argc, argv);
}
