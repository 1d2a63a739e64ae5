#include <catch2/catch.hpp>

#include "resolver/path.hpp"

using namespace fractfs;

TEST_CASE("normalize collapses //, . and ..", "[path]") {
  CHECK(path::normalized("/", "/a//b/./c/") == "/a/b/c");
  CHECK(path::normalized("/", "/a/b/../c") == "/a/c");
  CHECK(path::normalized("/", "/..") == "/");
  CHECK(path::normalized("/", "/a/../../..") == "/");
  CHECK(path::normalized("/", "/") == "/");
  CHECK(path::normalized("/", "//") == "/");
  CHECK(path::normalized("/", "/a/.") == "/a");
  CHECK(path::normalized("/", "/a/..b/c") == "/a/..b/c");
  CHECK(path::normalized("/", "/a/.../c") == "/a/.../c");
}

TEST_CASE("normalize joins relative paths to the base", "[path]") {
  CHECK(path::normalized("/root/app", "x/y") == "/root/app/x/y");
  CHECK(path::normalized("/root/app", "../other") == "/root/other");
  CHECK(path::normalized("/root/app", ".") == "/root/app");
  CHECK(path::normalized("/root/app", "") == "/root/app");
  CHECK(path::normalized("/", "a") == "/a");
}

TEST_CASE("normalize refuses what does not fit", "[path]") {
  char small[8];
  CHECK(path::normalize("/", "/abcdefgh", small, sizeof small) == -1);
  CHECK(path::normalize("/", "/abcdef", small, sizeof small) == 7);
  CHECK(path::normalize("", "relative", small, sizeof small) == -1);
}

TEST_CASE("relative_to and is_ancestor", "[path]") {
  CHECK(*path::relative_to("/app", "/app/a/b") == "a/b");
  CHECK(path::relative_to("/app", "/app")->empty());
  CHECK_FALSE(path::relative_to("/app", "/apple"));
  CHECK_FALSE(path::relative_to("/app", "/ap"));
  CHECK(*path::relative_to("/", "/x") == "x");
  CHECK(path::is_ancestor("/a", "/a/b"));
  CHECK_FALSE(path::is_ancestor("/a", "/a"));
  CHECK_FALSE(path::is_ancestor("/a", "/ab"));
}

TEST_CASE("has_dotdot, basename, dirname", "[path]") {
  CHECK(path::has_dotdot(".."));
  CHECK(path::has_dotdot("a/../b"));
  CHECK(path::has_dotdot("a/.."));
  CHECK_FALSE(path::has_dotdot("a/..b/c.."));
  CHECK(path::basename("a/b/c") == "c");
  CHECK(path::basename("c") == "c");
  CHECK(path::dirname("a/b/c") == "a/b");
  CHECK(path::dirname("/c") == "/");
  CHECK(path::dirname("c").empty());
}

TEST_CASE("join into a buffer", "[path]") {
  char buf[16];
  REQUIRE(path::join("/r", "a/b", buf, sizeof buf));
  CHECK(std::string(buf) == "/r/a/b");
  REQUIRE(path::join("/r", "", buf, sizeof buf));
  CHECK(std::string(buf) == "/r");
  CHECK(path::join("/root", "0123456789", buf, sizeof buf) == false);  // 17 bytes
  CHECK(path::join("/root", "012345678", buf, sizeof buf));            // 16 bytes
}
