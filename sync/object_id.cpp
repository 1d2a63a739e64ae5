#include "sync/object_id.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace fractfs {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int nibble(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void put_hex(std::uint64_t v, char* out) noexcept {
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 15];
}

}  // namespace

std::string ObjectId::hex() const {
  std::string s(32, '0');
  put_hex(hi, s.data());
  put_hex(lo, s.data() + 16);
  return s;
}

std::optional<ObjectId> ObjectId::parse(std::string_view hex) noexcept {
  if (hex.size() != 32) return std::nullopt;
  ObjectId id;
  for (std::size_t i = 0; i < 32; ++i) {
    int n = nibble(hex[i]);
    if (n < 0) return std::nullopt;
    std::uint64_t& half = i < 16 ? id.hi : id.lo;
    half = (half << 4) | static_cast<std::uint64_t>(n);
  }
  return id;
}

ObjectId hash_bytes(const void* data, std::size_t n) noexcept {
  XXH128_hash_t h = XXH3_128bits(data, n);
  return ObjectId{h.high64, h.low64};
}

std::uint64_t hash64(std::string_view s) noexcept { return XXH3_64bits(s.data(), s.size()); }

}  // namespace fractfs
