// "key value" line files (generation records, CURRENT, the status file):
// a header line, then one key, a space and the rest of the line as value.
#pragma once

#include <charconv>
#include <map>
#include <string>
#include <string_view>

#include "sync/object_id.hpp"

namespace fractfs::kv {

template <typename T>
bool number(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

// Parsed lines; accessors throw FormatError naming `what` and the key.
class Fields {
 public:
  // Throws FormatError unless line 1 is `header`.
  Fields(std::string_view text, std::string_view header, std::string what);

  template <typename T>
  T num(std::string_view key, bool required = true) const {
    T v{};
    const std::string* s = raw(key, required);
    if (s && !number(*s, v)) bad(key, *s);
    return v;
  }
  ObjectId id(std::string_view key) const;
  std::string str(std::string_view key) const;

 private:
  const std::string* raw(std::string_view key, bool required) const;
  [[noreturn]] void bad(std::string_view key, const std::string& value) const;

  std::map<std::string, std::string, std::less<>> kv_;
  std::string what_;
};

}  // namespace fractfs::kv
