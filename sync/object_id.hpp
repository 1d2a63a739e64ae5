// Content identity: the XXH3-128 hash of an object's bytes, written as 32
// lower-case hex digits. Objects (file chunks and directory trees) are
// stored under their id, so unchanged content costs nothing and identical
// content is stored once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fractfs {

struct ObjectId {
  std::uint64_t hi = 0, lo = 0;

  friend bool operator==(const ObjectId&, const ObjectId&) = default;
  friend auto operator<=>(const ObjectId&, const ObjectId&) = default;

  bool null() const noexcept { return hi == 0 && lo == 0; }
  std::string hex() const;
  static std::optional<ObjectId> parse(std::string_view hex) noexcept;
};

struct ObjectIdHash {
  std::size_t operator()(const ObjectId& id) const noexcept { return static_cast<std::size_t>(id.lo); }
};

ObjectId hash_bytes(const void* data, std::size_t n) noexcept;
inline ObjectId hash_bytes(std::string_view s) noexcept { return hash_bytes(s.data(), s.size()); }

// A 64-bit hash for keys that are not stored (names of state directories).
std::uint64_t hash64(std::string_view s) noexcept;

}  // namespace fractfs
