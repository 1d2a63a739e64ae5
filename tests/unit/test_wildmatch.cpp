#include <catch2/catch.hpp>

#include "resolver/wildmatch.hpp"

using fractfs::wildmatch;

TEST_CASE("literals, ? and *", "[wildmatch]") {
  CHECK(wildmatch("foo", "foo", true));
  CHECK_FALSE(wildmatch("foo", "bar", true));
  CHECK(wildmatch("", "", true));
  CHECK(wildmatch("???", "foo", true));
  CHECK_FALSE(wildmatch("??", "foo", true));
  CHECK(wildmatch("*", "foo", true));
  CHECK(wildmatch("f*", "foo", true));
  CHECK_FALSE(wildmatch("*f", "foo", true));
  CHECK(wildmatch("*foo*", "foo", true));
  CHECK(wildmatch("*ob*a*r*", "foobar", true));
  CHECK(wildmatch("*ab", "aaaaaaabababab", true));
}

TEST_CASE("with pathname, * and ? stop at /", "[wildmatch]") {
  CHECK_FALSE(wildmatch("*", "a/b", true));
  CHECK(wildmatch("*", "a/b", false));
  CHECK_FALSE(wildmatch("a?b", "a/b", true));
  CHECK(wildmatch("a?b", "a/b", false));
  CHECK(wildmatch("*/b", "a/b", true));
  CHECK_FALSE(wildmatch("*/b", "a/x/b", true));
}

TEST_CASE("** in its positions", "[wildmatch]") {
  CHECK(wildmatch("**/foo", "foo", true));
  CHECK(wildmatch("**/foo", "a/b/foo", true));
  CHECK(wildmatch("a/**/b", "a/b", true));
  CHECK(wildmatch("a/**/b", "a/x/y/b", true));
  CHECK(wildmatch("a/**", "a/x/y", true));
  CHECK_FALSE(wildmatch("a/**", "a", true));
  CHECK(wildmatch("**", "a/b/c", true));
  // Not delimited by slashes: behaves as a single '*'.
  CHECK_FALSE(wildmatch("a**b", "a/x/b", true));
  CHECK(wildmatch("a**b", "axxb", true));
  CHECK_FALSE(wildmatch("**a", "x/a", true));
}

TEST_CASE("bracket expressions", "[wildmatch]") {
  CHECK(wildmatch("[a-c]", "b", true));
  CHECK_FALSE(wildmatch("[a-c]", "d", true));
  CHECK(wildmatch("[!a-c]", "d", true));
  CHECK(wildmatch("[^a-c]", "d", true));
  CHECK_FALSE(wildmatch("[!a-c]", "a", true));
  CHECK(wildmatch("[]]", "]", true));
  CHECK(wildmatch("[!]]", "a", true));
  CHECK(wildmatch("[a-]", "-", true));
  CHECK(wildmatch("[\\]]", "]", true));
  CHECK(wildmatch("[[:alpha:]][[:digit:]]", "a1", true));
  CHECK_FALSE(wildmatch("[[:alpha:]]", "1", true));
  CHECK(wildmatch("[[:space:]]", "\t", true));
  CHECK(wildmatch("[[:upper:][:digit:]]", "7", true));
  CHECK_FALSE(wildmatch("[[:nope:]]", "a", true));  // unknown class: no match at all
  CHECK_FALSE(wildmatch("[ab", "a", true));         // unterminated: no match
  CHECK_FALSE(wildmatch("[/]", "/", true));         // never matches '/' with pathname
}

TEST_CASE("backslash escapes", "[wildmatch]") {
  CHECK(wildmatch("\\*", "*", true));
  CHECK_FALSE(wildmatch("\\*", "a", true));
  CHECK(wildmatch("a\\?", "a?", true));
  CHECK_FALSE(wildmatch("a\\", "a", true));  // trailing backslash never matches
  CHECK(wildmatch("\\[ab]", "[ab]", true));
}
