#include "sync/tree.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

namespace fractfs {
namespace {

constexpr std::string_view kHeader = "fractfs-tree 1";

bool needs_escape(unsigned char c) noexcept { return c < 0x21 || c == '%' || c == 0x7f; }

int hexval(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits `line` at single spaces into at most `n` fields; the last field
// takes the rest.
std::vector<std::string_view> fields(std::string_view line, std::size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) break;
    out.push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  out.push_back(line);
  return out;
}

template <typename T>
bool number(std::string_view s, T& out, int base = 10) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

std::string join_ids(const Entry& e) {
  if (e.content.empty()) return "-";
  std::string out = e.kind == EntryKind::file && e.chunk_shift != kChunkShift ? fmt::format("c{}:", e.chunk_shift) : "";
  for (const ObjectId& id : e.content) {
    if (!out.empty() && out.back() != ':') out += ',';
    out += id.hex();
  }
  return out;
}

bool parse_ids(std::string_view s, Entry& e) {
  if (s == "-") return true;
  std::size_t colon = s.find(':');  // "cN:" (an id is hex: no colon)
  if (colon != std::string_view::npos) {
    unsigned shift = 0;
    if (e.kind != EntryKind::file || s[0] != 'c' || !number(s.substr(1, colon - 1), shift) || shift < kMinChunkShift ||
        shift > kMaxChunkShift || shift == kChunkShift)
      return false;
    e.chunk_shift = static_cast<std::uint8_t>(shift);
    s.remove_prefix(colon + 1);
  }
  for (;;) {
    std::size_t comma = s.find(',');
    auto id = ObjectId::parse(s.substr(0, comma));
    if (!id) return false;  // also an empty id: ",," or a trailing comma
    e.content.push_back(*id);
    if (comma == std::string_view::npos) return true;
    s.remove_prefix(comma + 1);
  }
}

std::uint64_t chunks_for(std::uint64_t size, unsigned shift) noexcept {
  std::uint64_t chunk = std::uint64_t{1} << shift;
  return size / chunk + (size % chunk != 0);
}

// One line into (name, entry); an error message, or "" on success.
std::string parse_line(std::string_view line, bool local, std::string& name, Entry& e) {
  auto f = fields(line, local ? 9 : 6);
  if (f.size() != (local ? 9u : 6u) || f[0].size() != 1) return "expected " + std::to_string(local ? 9 : 6) + " fields";
  char k = f[0][0];
  if (k != 'f' && k != 'd' && k != 'l') return "unknown entry kind '" + std::string(f[0]) + "'";
  e.kind = static_cast<EntryKind>(k);
  if (!number(f[1], e.mode, 8) || e.mode > 07777) return "bad mode";
  if (!number(f[2], e.mtime_ns)) return "bad mtime";
  if (!number(f[3], e.size)) return "bad size";
  if (e.kind == EntryKind::symlink) {
    if (!unescape_name(f[4], e.target) || e.target.empty() || e.target.find('\0') != std::string::npos ||
        e.size != e.target.size())
      return "bad symlink target";
  } else if (!parse_ids(f[4], e) || (e.kind == EntryKind::dir && e.content.size() != 1)) {
    return "bad object id";
  }
  if (e.kind == EntryKind::file && e.content.size() != chunks_for(e.size, e.chunk_shift))
    return "chunk count does not match the size";
  std::size_t at = 5;
  if (local && !(number(f[5], e.dev) && number(f[6], e.ino) && number(f[7], e.ctime_ns))) return "bad local identity";
  if (local) at = 8;
  if (!unescape_name(f[at], name) || !valid_name(name)) return "bad name";
  return {};
}

}  // namespace

bool valid_name(std::string_view name) noexcept {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string escape_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (needs_escape(u)) out += fmt::format("%{:02x}", u);
    else out += c;
  }
  return out;
}

bool unescape_name(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      if (needs_escape(static_cast<unsigned char>(s[i]))) return false;  // the writer never leaves it raw
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string serialize_tree(const Entries& entries, bool local) {
  std::string out(kHeader);
  out += '\n';
  for (const auto& [name, e] : entries) {
    std::string ids = e.kind == EntryKind::symlink ? escape_name(e.target) : join_ids(e);
    out += fmt::format("{} {:o} {} {} {}", static_cast<char>(e.kind), e.mode, e.mtime_ns, e.size, ids);
    if (local) out += fmt::format(" {} {} {}", e.dev, e.ino, e.ctime_ns);
    out += ' ';
    out += escape_name(name);
    out += '\n';
  }
  return out;
}

Entries parse_tree(std::string_view text, std::string_view what, bool local) {
  std::size_t nl = text.find('\n');
  if (text.substr(0, nl) != kHeader) throw FormatError(fmt::format("{}: not a fractfs tree", what));
  std::vector<std::pair<std::string, Entry>> items;
  std::size_t lineno = 1;
  while (nl != std::string_view::npos && nl + 1 < text.size()) {
    text.remove_prefix(nl + 1);
    nl = text.find('\n');
    ++lineno;
    std::pair<std::string, Entry> item;
    std::string err = parse_line(text.substr(0, nl), local, item.first, item.second);
    if (!err.empty()) throw FormatError(fmt::format("{}:{}: {}", what, lineno, err));
    if (!items.empty() && !(items.back().first < item.first))
      throw FormatError(fmt::format("{}:{}: entries out of order or repeated", what, lineno));
    items.push_back(std::move(item));
  }
  Entries out;
  out.reserve(items.size());
  out.insert(boost::container::ordered_unique_range, std::make_move_iterator(items.begin()),
             std::make_move_iterator(items.end()));
  return out;
}

}  // namespace fractfs
