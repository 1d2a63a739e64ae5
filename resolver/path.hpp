// Lexical path handling shared by the resolver, the shim and the sync engine.
// Everything here is allocation-free unless the signature returns std::string,
// so the shim can call it on its hot path with stack buffers.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fractfs::path {

// Largest path the shim handles itself; longer ones pass through untouched.
inline constexpr std::size_t kMax = 4096;

// Lexically normalizes `in` into `out` (capacity `cap`, NUL-terminated):
// collapses "//", "." and "..", drops a trailing "/". If `in` is relative it is
// first joined to `base` (absolute, normalized). ".." never climbs above "/".
// Returns the length written, or -1 if the result does not fit or `in` is
// relative and no base was given.
std::ptrdiff_t normalize(std::string_view base, std::string_view in, char* out, std::size_t cap) noexcept;

// Allocating convenience form of normalize(); throws std::length_error.
std::string normalized(std::string_view base, std::string_view in);

// If `abs` (normalized) is `root` or below it, the root-relative part:
// "" for the root itself, "a/b" for root/a/b. std::nullopt otherwise.
std::optional<std::string_view> relative_to(std::string_view root, std::string_view abs) noexcept;

// True when `dir` (normalized absolute) is a strict ancestor of `abs`.
bool is_ancestor(std::string_view dir, std::string_view abs) noexcept;

// True when `inner` equals `outer` or lies below it (both normalized).
inline bool contains(std::string_view outer, std::string_view inner) noexcept {
  return relative_to(outer, inner).has_value();
}

// True if `rel` (a relative path) has a ".." component anywhere.
bool has_dotdot(std::string_view rel) noexcept;

// Last component of a normalized path ("" for "/").
std::string_view basename(std::string_view p) noexcept;

// Everything before the last component ("" when there is none; "/" for "/x").
std::string_view dirname(std::string_view p) noexcept;

// `dir` + "/" + `rel` into buf (`dir` alone for an empty rel), NUL-terminated;
// false when it does not fit in `cap` bytes. Never allocates.
bool join(std::string_view dir, std::string_view rel, char* buf, std::size_t cap) noexcept;

}  // namespace fractfs::path
