#include <catch2/catch.hpp>

#include "resolver/pattern_list.hpp"

using fractfs::parse_pattern;
using fractfs::Pattern;
using fractfs::PatternList;

namespace {
// The deciding pattern's line as written, or "" when nothing matched.
std::string decide(const PatternList& l, const std::string& path, bool is_dir = false) {
  auto m = l.match(path, is_dir);
  return m ? l.patterns()[m.index].line : "";
}
bool excluded(const PatternList& l, const std::string& path, bool is_dir = false) {
  return l.match(path, is_dir).excluded;
}
PatternList make(std::initializer_list<const char*> lines) {
  PatternList l;
  for (const char* s : lines) l.add(s);
  return l;
}
}  // namespace

TEST_CASE("parse: comments, negation, trailing slash and spaces", "[pattern]") {
  CHECK_FALSE(parse_pattern("# comment"));
  CHECK_FALSE(parse_pattern(""));
  CHECK_FALSE(parse_pattern("   "));
  CHECK(parse_pattern("\\#x")->text == "\\#x");
  auto neg = parse_pattern("!keep.tmp");
  CHECK(neg->has(Pattern::negative));
  CHECK(neg->text == "keep.tmp");
  auto dir = parse_pattern("build/");
  CHECK(dir->has(Pattern::must_be_dir));
  CHECK(dir->has(Pattern::no_dir));
  CHECK(dir->text == "build");
  CHECK(parse_pattern("a/b")->has(Pattern::no_dir) == false);
  CHECK(parse_pattern("foo  ")->text == "foo");
  CHECK(parse_pattern("foo\\ ")->text == "foo\\ ");
  CHECK(parse_pattern("foo\t")->text == "foo\t");
  CHECK(parse_pattern("*.tmp")->has(Pattern::ends_with));
}

TEST_CASE("basename patterns match at any depth", "[pattern]") {
  auto l = make({"*.tmp", "__pycache__/"});
  CHECK(excluded(l, "a.tmp"));
  CHECK(excluded(l, "x/y/a.tmp"));
  CHECK_FALSE(excluded(l, "a.tmpx"));
  CHECK(excluded(l, "src/__pycache__", true));
  CHECK_FALSE(excluded(l, "src/__pycache__", false));  // a file of that name
  CHECK(excluded(l, "src/__pycache__/m.pyc"));         // under an excluded dir
}

TEST_CASE("a slash anchors the pattern to the root", "[pattern]") {
  auto l = make({"/build", "doc/*.txt"});
  CHECK(excluded(l, "build"));
  CHECK_FALSE(excluded(l, "sub/build"));
  CHECK(excluded(l, "doc/a.txt"));
  CHECK_FALSE(excluded(l, "doc/x/a.txt"));
  CHECK_FALSE(excluded(l, "x/doc/a.txt"));
}

TEST_CASE("negation re-includes, except under an excluded directory", "[pattern]") {
  auto l = make({"*.log", "!keep.log"});
  CHECK(excluded(l, "a.log"));
  CHECK_FALSE(excluded(l, "keep.log"));
  CHECK(decide(l, "keep.log") == "!keep.log");
  auto d = make({"logs/", "!logs/keep.log"});
  CHECK(excluded(d, "logs/keep.log"));
  CHECK(decide(d, "logs/keep.log") == "logs/");
  auto g = make({"logs/*", "!logs/keep.log"});
  CHECK_FALSE(excluded(g, "logs/keep.log"));
}

TEST_CASE("last matching pattern wins", "[pattern]") {
  auto l = make({"!a", "a"});
  CHECK(decide(l, "a") == "a");
  auto r = make({"a", "!a"});
  CHECK(decide(r, "a") == "!a");
  CHECK_FALSE(excluded(r, "a"));
}

TEST_CASE("several lines in one entry", "[pattern]") {
  PatternList l;
  l.add("*.a\n# note\n*.b\r\n");
  CHECK(l.patterns().size() == 2);
  CHECK(excluded(l, "x.b"));
}
