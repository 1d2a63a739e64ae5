#include "sync/kv.hpp"

#include <fmt/format.h>

#include "sync/tree.hpp"

namespace fractfs::kv {

Fields::Fields(std::string_view text, std::string_view header, std::string what) : what_(std::move(what)) {
  std::size_t nl = text.find('\n');
  if (text.substr(0, nl) != header) throw FormatError(fmt::format("{}: expected '{}' on line 1", what_, header));
  while (nl != std::string_view::npos && nl + 1 < text.size()) {
    text.remove_prefix(nl + 1);
    nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    std::size_t sp = line.find(' ');
    kv_.emplace(std::string(line.substr(0, sp)),
                sp == std::string_view::npos ? std::string() : std::string(line.substr(sp + 1)));
  }
}

const std::string* Fields::raw(std::string_view key, bool required) const {
  auto it = kv_.find(key);
  if (it != kv_.end()) return &it->second;
  if (required) throw FormatError(fmt::format("{}: no '{}'", what_, key));
  return nullptr;
}

void Fields::bad(std::string_view key, const std::string& value) const {
  throw FormatError(fmt::format("{}: bad '{}': '{}'", what_, key, value));
}

ObjectId Fields::id(std::string_view key) const {
  const std::string* s = raw(key, true);
  auto id = ObjectId::parse(*s);
  if (!id) bad(key, *s);
  return *id;
}

std::string Fields::str(std::string_view key) const {
  const std::string* s = raw(key, false);
  return s ? *s : std::string();
}

}  // namespace fractfs::kv
