// Tree objects: the text format of one directory's entries. Round trips
// with awkward names and targets, canonical output, and everything the
// parser must refuse (naming the line).
#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sync/tree.hpp"

using namespace fractfs;
using Catch::Matchers::Contains;

namespace {

ObjectId id_of(const std::string& s) { return hash_bytes(s); }

Entry file(std::uint64_t size, std::int64_t mtime = 1700000000123456789, std::uint32_t mode = 0644) {
  Entry e;
  e.kind = EntryKind::file;
  e.mode = mode;
  e.mtime_ns = mtime;
  e.size = size;
  for (std::uint64_t i = 0; i < (size + kChunkSize - 1) / kChunkSize; ++i)
    e.content.push_back(id_of("chunk " + std::to_string(size) + "/" + std::to_string(i)));
  return e;
}

Entry dir(const std::string& seed, std::uint32_t mode = 0755) {
  Entry e;
  e.kind = EntryKind::dir;
  e.mode = mode;
  e.mtime_ns = 1600000000000000001;
  e.content.push_back(id_of("tree " + seed));
  return e;
}

Entry link(const std::string& target) {
  Entry e;
  e.kind = EntryKind::symlink;
  e.mode = 0777;
  e.mtime_ns = 1500000000999999999;
  e.size = target.size();
  e.target = target;
  return e;
}

std::string hex(const std::string& s) { return id_of(s).hex(); }

// One line, with a valid header in front.
std::string tree1(const std::string& line) { return "fractfs-tree 1\n" + line + "\n"; }

void require_same(const Entries& a, const Entries& b, bool local) {
  REQUIRE(a.size() == b.size());
  auto it = b.begin();
  for (const auto& [name, e] : a) {
    CAPTURE(escape_name(name));
    CHECK(it->first == name);
    CHECK(it->second.same_snapshot(e));
    if (local) {
      CHECK(it->second.dev == e.dev);
      CHECK(it->second.ino == e.ino);
      CHECK(it->second.ctime_ns == e.ctime_ns);
    }
    ++it;
  }
}

}  // namespace

TEST_CASE("tree: files with chunks of their own size (databases)", "[tree]") {
  Entries in;
  Entry db = file(0);
  db.size = (1u << 20) + 1;  // 5 chunks of 256 KiB
  db.chunk_shift = 18;
  for (int i = 0; i < 5; ++i) db.content.push_back(id_of("page run " + std::to_string(i)));
  in.emplace("app.sqlite", db);
  Entry small = file(100);
  small.chunk_shift = 18;
  in.emplace("small.sqlite", small);
  in.emplace("plain", file(kChunkSize + 1));
  std::string text = serialize_tree(in);
  CHECK(text.find(" c18:") != std::string::npos);
  CHECK(text.find(" c22:") == std::string::npos);  // the default is never written
  Entries out = parse_tree(text, "t");
  require_same(in, out, false);
  CHECK(out.at("app.sqlite").chunk_shift == 18);
  CHECK(out.at("plain").chunk_shift == kChunkShift);
  CHECK(serialize_tree(out) == text);

  // An id may begin with 'c': it is not a chunk size.
  std::string cid;
  for (int i = 0; cid.empty() || cid[0] != 'c'; ++i) cid = id_of("c" + std::to_string(i)).hex();
  CHECK(parse_tree(tree1("f 644 0 5 " + cid + " a"), "t").at("a").content.at(0).hex() == cid);

  std::string id = hex("one");
  for (const std::string& bad : {"c22:" + id, "c11:" + id, "c27:" + id, "cx:" + id, "c:" + id, "d18:" + id, "c18" + id})
    CHECK_THROWS_WITH(parse_tree(tree1("f 644 0 5 " + bad + " a"), "t"), Contains("t:2:"));
  CHECK_THROWS_WITH(parse_tree(tree1("d 755 0 0 c18:" + id + " a"), "t"), Contains("bad object id"));
  CHECK_THROWS_WITH(parse_tree(tree1("f 644 0 262145 c18:" + id + " a"), "t"), Contains("chunk count"));
}

TEST_CASE("tree: serialize and parse round trip with awkward names and targets", "[tree]") {
  Entries in;
  std::vector<std::string> names = {
      "plain",
      "with space",
      "  leading and trailing  ",
      "100%",
      "%41",
      "%",
      "%%",
      "new\nline",
      "tab\there",
      "cr\r",
      "\x01",
      "del\x7f",
      "\xff\xfe\x80",
      "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93",
      "-",
      "a,b",
      "#not a comment",
      "trailing.",
      "...",
      ".hidden",
      "\\back",
      "quote\"'`",
      "x=1&y=2",
      std::string(255, 'n'),
      "ends with newline\n",
      "\x20",
      "\x21",
      "~",
  };
  std::uint64_t sizes[] = {0, 1, kChunkSize - 1, kChunkSize, kChunkSize + 1, 9000000, 3 * kChunkSize};
  std::size_t i = 0;
  for (const std::string& n : names) {
    switch (i % 3) {
      case 0:
        in.emplace(n, file(sizes[i % std::size(sizes)], -1234567890 + static_cast<std::int64_t>(i), 07777));
        break;
      case 1: in.emplace(n, dir(n, static_cast<std::uint32_t>(i))); break;
      case 2: in.emplace(n, link(i % 2 ? "../a b/%c d/\t%%/\xff" : "/abs/path with spaces/100%/\n")); break;
    }
    ++i;
  }
  in.emplace("zero mode", file(0, 0, 0));
  in.emplace("max mtime", file(5, std::numeric_limits<std::int64_t>::max()));
  in.emplace("min mtime", file(5, std::numeric_limits<std::int64_t>::min()));
  in.emplace("link to dot", link("."));
  in.emplace("link with %zz", link("%zz and %"));
  REQUIRE(in.size() == names.size() + 5);

  for (bool local : {false, true}) {
    CAPTURE(local);
    std::uint64_t k = 1;
    for (auto& [name, e] : in) {
      e.dev = local ? k * 1000003 : 0;
      e.ino = local ? std::numeric_limits<std::uint64_t>::max() - k : 0;
      e.ctime_ns = local ? -static_cast<std::int64_t>(k) : 0;
      ++k;
    }
    std::string text = serialize_tree(in, local);
    // One line per entry: every awkward byte was escaped.
    CHECK(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) == in.size() + 1);
    for (char c : text) {
      auto u = static_cast<unsigned char>(c);
      CHECK((c == '\n' || c == ' ' || (u >= 0x21 && u != 0x7f)));
    }
    Entries out = parse_tree(text, "t", local);
    require_same(in, out, local);
    // Canonical: what was parsed serializes to the same bytes (same id).
    CHECK(serialize_tree(out, local) == text);
  }
}

TEST_CASE("tree: entries are ordered bytewise (bytes >= 0x80 after ASCII)", "[tree]") {
  Entries in;
  for (std::string n : {"\xff", "B", "a", "\x01", "\xc3\xa9", "A", "~"}) in.emplace(n, file(1));
  std::string text = serialize_tree(in);
  std::vector<std::string> order;
  for (const auto& [name, e] : parse_tree(text, "t")) order.push_back(name);
  CHECK(order == std::vector<std::string>{"\x01", "A", "B", "a", "~", "\xc3\xa9", "\xff"});
}

TEST_CASE("tree: escape and unescape are inverse for every byte", "[tree]") {
  for (int b = 0; b < 256; ++b) {
    std::string s = "x" + std::string(1, static_cast<char>(b)) + "y";
    std::string esc = escape_name(s), back;
    CAPTURE(b, esc);
    for (char c : esc) {
      auto u = static_cast<unsigned char>(c);
      CHECK((u >= 0x21 && u != 0x7f));
    }
    CHECK((esc.find('%') != std::string::npos) == (b < 0x21 || b == '%' || b == 0x7f));
    REQUIRE(unescape_name(esc, back));
    CHECK(back == s);
  }
  std::mt19937 rng(7);
  for (int n = 0; n < 500; ++n) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    std::string back;
    REQUIRE(unescape_name(escape_name(s), back));
    CHECK(back == s);
  }
  std::string out;
  CHECK(unescape_name("%41%2f%25", out));
  CHECK(out == "A/%");
  CHECK(unescape_name("%4A%4a", out));
  CHECK(out == "JJ");
  for (const char* bad : {"%", "%4", "a%", "%g0", "%0g", "%%", "ab%4"}) {
    CAPTURE(bad);
    CHECK_FALSE(unescape_name(bad, out));
  }
}

TEST_CASE("tree: valid names", "[tree]") {
  CHECK(valid_name("a"));
  CHECK(valid_name("..."));
  CHECK(valid_name(".a"));
  CHECK(valid_name(" "));
  CHECK_FALSE(valid_name(""));
  CHECK_FALSE(valid_name("."));
  CHECK_FALSE(valid_name(".."));
  CHECK_FALSE(valid_name("a/b"));
  CHECK_FALSE(valid_name("/"));
  CHECK_FALSE(valid_name(std::string("a\0b", 3)));
}

TEST_CASE("tree: an empty tree and a tree without its final newline", "[tree]") {
  CHECK(serialize_tree({}) == "fractfs-tree 1\n");
  CHECK(parse_tree("fractfs-tree 1\n", "t").empty());
  CHECK(parse_tree("fractfs-tree 1", "t").empty());
  Entries e = parse_tree("fractfs-tree 1\nf 644 5 0 - a", "t");
  REQUIRE(e.size() == 1);
  CHECK(e.begin()->first == "a");
}

TEST_CASE("tree: parse rejects malformed input, naming the line", "[tree]") {
  const std::string id = hex("x"), id2 = hex("y");
  struct Case {
    std::string text, message;
  };
  std::vector<Case> cases = {
      // header
      {"", "not a fractfs tree"},
      {"fractfs-tree 2\n", "not a fractfs tree"},
      {"fractfs-tree 1 \n", "not a fractfs tree"},
      {"fractfs-tree 1\r\n", "not a fractfs tree"},
      {"\nfractfs-tree 1\n", "not a fractfs tree"},
      {"f 644 0 0 - a\n", "not a fractfs tree"},
      // field count
      {tree1("f 644 0 0 -"), "t:2: expected 6 fields"},
      {tree1(""), "t:2: expected 6 fields"},
      {tree1("f"), "t:2:"},
      {tree1("f 644 0 0 - a") + "\n", "t:3:"},  // an empty line
      // kind
      {tree1("x 644 0 0 - a"), "t:2: unknown entry kind 'x'"},
      {tree1("F 644 0 0 - a"), "t:2: unknown entry kind"},
      {tree1("ff 644 0 0 - a"), "t:2:"},
      {tree1(" 644 0 0 - a"), "t:2:"},
      // mode
      {tree1("f 10000 0 0 - a"), "t:2: bad mode"},
      {tree1("f 77777 0 0 - a"), "t:2: bad mode"},
      {tree1("f 8 0 0 - a"), "t:2: bad mode"},
      {tree1("f -1 0 0 - a"), "t:2: bad mode"},
      {tree1("f +1 0 0 - a"), "t:2: bad mode"},
      {tree1("f  0 0 - a"), "t:2: bad mode"},
      {tree1("f 0x1 0 0 - a"), "t:2: bad mode"},
      {tree1("f 99999999999999999999 0 0 - a"), "t:2: bad mode"},
      // mtime, size
      {tree1("f 644 x 0 - a"), "t:2: bad mtime"},
      {tree1("f 644 1.5 0 - a"), "t:2: bad mtime"},
      {tree1("f 644 99999999999999999999 0 - a"), "t:2: bad mtime"},
      {tree1("f 644 0 -1 - a"), "t:2: bad size"},
      {tree1("f 644 0 1e3 - a"), "t:2: bad size"},
      // chunk count against the size (kChunkSize = 4 MiB)
      {tree1("f 644 0 1 - a"), "t:2: chunk count does not match the size"},
      {tree1("f 644 0 0 " + id + " a"), "t:2: chunk count"},
      {tree1("f 644 0 4194304 " + id + "," + id2 + " a"), "t:2: chunk count"},
      {tree1("f 644 0 4194305 " + id + " a"), "t:2: chunk count"},
      {tree1("f 644 0 12582913 " + id + "," + id + "," + id + " a"), "t:2: chunk count"},
      // object ids
      {tree1("f 644 0 5 zz a"), "t:2: bad object id"},
      {tree1("f 644 0 5 " + id.substr(1) + " a"), "t:2: bad object id"},
      {tree1("f 644 0 5 " + id + "0 a"), "t:2: bad object id"},
      {tree1("f 644 0 5 " + std::string(32, 'A') + " a"), "t:2: bad object id"},
      {tree1("f 644 0 5 ," + id + " a"), "t:2: bad object id"},
      {tree1("f 644 0 4194305 " + id + ",," + id + " a"), "t:2: bad object id"},
      {tree1("d 755 0 0 - a"), "t:2: bad object id"},
      {tree1("d 755 0 0 " + id + "," + id2 + " a"), "t:2: bad object id"},
      // symlink targets
      {tree1("l 777 0 0  a"), "t:2: bad symlink target"},
      {tree1("l 777 0 1 %zz a"), "t:2: bad symlink target"},
      {tree1("l 777 0 1 %4 a"), "t:2: bad symlink target"},
      // names
      {tree1("f 644 0 0 - "), "t:2: bad name"},
      {tree1("f 644 0 0 - ."), "t:2: bad name"},
      {tree1("f 644 0 0 - .."), "t:2: bad name"},
      {tree1("f 644 0 0 - %2e%2E"), "t:2: bad name"},
      {tree1("f 644 0 0 - a/b"), "t:2: bad name"},
      {tree1("f 644 0 0 - a%2fb"), "t:2: bad name"},
      {tree1("f 644 0 0 - /"), "t:2: bad name"},
      {tree1("f 644 0 0 - a%00b"), "t:2: bad name"},
      {tree1("f 644 0 0 - a%"), "t:2: bad name"},
      {tree1("f 644 0 0 - a%4"), "t:2: bad name"},
      {tree1("f 644 0 0 - a%x1"), "t:2: bad name"},
      // order
      {tree1("f 644 0 0 - b\nf 644 0 0 - a"), "t:3: entries out of order or repeated"},
      {tree1("f 644 0 0 - a\nf 644 0 0 - a"), "t:3: entries out of order or repeated"},
      {tree1("f 644 0 0 - a\nd 755 0 0 " + id + " a"), "t:3: entries out of order"},
      {tree1("f 644 0 0 - B\nf 644 0 0 - %41"), "t:3: entries out of order"},  // %41 is "A"
      {tree1("f 644 0 0 - %ff\nf 644 0 0 - a"), "t:3: entries out of order"},
      // the line is named further down too
      {tree1("f 644 0 0 - a\nf 644 0 0 - b\nf 644 0 0 - c\nf 644 0 0 - c"), "t:5:"},
      {tree1("f 644 0 0 - a\nf 644 0 0 - b\nq 644 0 0 - c"), "t:4: unknown entry kind"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK_THROWS_AS(parse_tree(c.text, "t"), FormatError);
    CHECK_THROWS_WITH(parse_tree(c.text, "t"), Contains(c.message));
  }
}

TEST_CASE("tree: the local index form refuses a bad local identity", "[tree]") {
  CHECK(parse_tree(tree1("f 644 0 0 - 1 2 -3 a"), "t", true).size() == 1);
  for (const char* line :
       {"f 644 0 0 - x 2 3 a", "f 644 0 0 - 1 -2 3 a", "f 644 0 0 - 1 2 x a", "f 644 0 0 - 1 2 a", "f 644 0 0 - a"}) {
    CAPTURE(line);
    CHECK_THROWS_AS(parse_tree(tree1(line), "t", true), FormatError);
    CHECK_THROWS_WITH(parse_tree(tree1(line), "t", true), Contains("t:2:"));
  }
  // A plain tree is not an index and the other way round.
  CHECK_THROWS_AS(parse_tree(tree1("f 644 0 0 - a"), "t", true), FormatError);
}

// The chunk count check computes (size + kChunkSize - 1) / kChunkSize in 64
// bits: a huge size wraps around to a count of 0.
TEST_CASE("tree: a file whose size overflows the chunk count is refused", "[tree]") {
  const std::string max = std::to_string(std::numeric_limits<std::uint64_t>::max());
  const std::string near = std::to_string(std::numeric_limits<std::uint64_t>::max() - kChunkSize + 2);
  for (const std::string& size : {max, near}) {
    std::string text = tree1("f 644 0 " + size + " - a");
    CAPTURE(text);
    CHECK_THROWS_AS(parse_tree(text, "t"), FormatError);
  }
}

// The writer escapes every byte below 0x21 and 0x7f: a raw space, tab or
// control byte in a line means a damaged or foreign tree (for a name: an
// extra field), never something serialize_tree wrote.
TEST_CASE("tree: parse refuses raw bytes that the writer always escapes", "[tree]") {
  for (const char* line : {"f 644 0 0 - a b", "f 644 0 0 - a\tb", "f 644 0 0 - a\r", "f 644 0 0 - \x01",
                           "f 644 0 0 - del\x7f", "l 777 0 3 a\tb c"}) {
    CAPTURE(line);
    CHECK_THROWS_AS(parse_tree(tree1(line), "t"), FormatError);
  }
}

TEST_CASE("tree: a symlink target holding a NUL byte is refused", "[tree]") {
  // symlink(2) takes a C string: "a%00b" would be restored as "a".
  CHECK_THROWS_AS(parse_tree(tree1("l 777 0 3 a%00b c"), "t"), FormatError);
}

TEST_CASE("tree: an object id list with a trailing comma is refused", "[tree]") {
  CHECK_THROWS_AS(parse_tree(tree1("f 644 0 5 " + hex("x") + ", a"), "t"), FormatError);
}
