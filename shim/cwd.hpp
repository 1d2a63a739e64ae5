// The current directory as the shim sees it, kept in step with chdir and
// fchdir so relative paths can be placed without asking the kernel.
// Readers never lock (a sequence lock over atomic word copies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fractfs::shim::cwd {

enum class Relation : std::uint8_t {
  unrelated,  // neither inside the root nor above it
  ancestor,   // above the root: "app/x" may lead inside
  inside,     // the root or below it
  stale,      // unknown until re-read: at start, and after chdir or an fchdir we cannot follow
};

// Cheap: one atomic load.
Relation relation() noexcept;

// Copies the current directory (absolute, normalized) into buf; returns its
// length, or -1 if it does not fit. Re-reads it from the kernel if stale.
std::ptrdiff_t copy(char* buf, std::size_t cap) noexcept;

// Records a new current directory (absolute, normalized).
void set(std::string_view abs) noexcept;

// The kernel's current directory is unknown (fchdir to an untracked fd).
void invalidate() noexcept;

// Held across fork so the child never inherits a half-written value.
void lock() noexcept;
void unlock() noexcept;

}  // namespace fractfs::shim::cwd
