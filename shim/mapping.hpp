// Virtual to physical: the one place that decides where a path lives.
//
// A path outside the app root is not ours and the caller's arguments go to
// libc untouched. Inside the root, a path of a local tier lives at its
// natural place, so the caller's (dirfd, path) work as they are; a path of
// the remote tier lives where the remote half places it (shim/remote_half.hpp:
// REMOTE_ROOT/rel for a mount) and is handed to libc as that absolute path,
// once the half has looked up its directory. A remote-tier directory is a
// union of that remote half and its natural "local half", which is what
// descriptors and the cwd point at.
#pragma once

#include <fcntl.h>

#include <string_view>

#include "resolver/path.hpp"
#include "resolver/tier.hpp"

namespace fractfs::shim {

enum class Kind : std::uint8_t { unknown, file, dir };

enum class Place : std::uint8_t { local, remote };

// How the caller's path ended: normalization drops a trailing "/" or "/.",
// but the kernel must see it (it makes the last component be followed and
// be a directory), so the physical paths handed to it end the same way.
enum class Tail : std::uint8_t { none, slash, dot };

struct Target {
  Place place = Place::local;
  Decision decision;
  bool is_dir_decision = false;  // the decision is the one for a directory
  int dirfd = AT_FDCWD;          // the caller's
  const char* arg = nullptr;     // the caller's path
  const char* vstr = nullptr;    // NUL-terminated vpath: the caller's string when
                                 // it was already absolute and clean, else vbuf
  bool direct = true;            // the caller's (dirfd, path) reach the natural
                                 // location as they are (clean, and relative to a
                                 // natural directory)
  Tail tail = Tail::none;        // appended to vstr and rbuf, not part of vpath/rel
  int half_err = 0;              // the remote half's lookup of rel failed with it
  std::string_view vpath;        // absolute, normalized: the natural location
  std::string_view rel;          // root-relative, "" for the root
  char* vbuf;                    // path::kMax bytes each, from this thread's
  char* rbuf;                    // scratch pool (not the stack: see scratch.hpp);
                                 // rbuf: the remote half's place (+ tail) when remote

  Target() noexcept;
  // On buffers of the caller's (path::kMax bytes each): the exec wrappers,
  // which may run in a vfork child, keep them on their stack.
  Target(char* v, char* r) noexcept : vbuf(v), rbuf(r), owned_(false) {}
  ~Target();
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  bool remote() const noexcept { return place == Place::remote; }
  // The caller's own call does the right thing: a local tier, reached directly.
  bool passes() const noexcept { return !remote() && direct; }
  // The (dirfd, path) pair for a real *at call.
  int at_fd() const noexcept { return passes() ? dirfd : AT_FDCWD; }
  const char* at_path() const noexcept { return remote() ? rbuf : direct ? arg : vstr; }
  const char* natural() const noexcept { return vstr; }
  const char* remote_path() const noexcept { return rbuf; }

 private:
  bool owned_ = true;
};

// Places `path`, relative to `dirfd` (or the cwd for AT_FDCWD). Returns
// false when the call is not ours: the shim is off, the path is outside the
// root, or it is relative to a descriptor we do not track. Never allocates,
// never changes errno.
bool place(int dirfd, const char* path, Kind kind, Target& t) noexcept;

// False when place() would certainly say "not ours", decided without
// normalizing or copying: every operation asks this first, so a path
// outside the root costs a short scan and nothing else.
bool maybe_ours(int dirfd, const char* path) noexcept;

// Runs `body` in a stack frame of its own: the Target buffers (two paths'
// worth) stay out of the frame of the fast path.
template <typename Body>
[[gnu::noinline]] auto out_of_line(Body&& body) -> decltype(body()) {
  return body();
}

// Copies a Target (its views point into its own buffers), with the path
// made absolute: the copy owns its strings.
void copy_target(const Target& from, Target& to) noexcept;

// Gives `t` the tail `tail`: its physical paths (vstr when in vbuf, rbuf)
// end with it again, after a re-placement that lost it.
void set_tail(Target& t, Tail tail) noexcept;

// The physical path of `t` without its tail, into buf (of path::kMax).
const char* physical_no_tail(const Target& t, char* buf) noexcept;

// Re-places `t` for a known kind (e.g. once a stat revealed a directory).
void replace_kind(Target& t, Kind kind) noexcept;

// The normalized absolute virtual path for (dirfd, path) when it lies inside
// the root or above it; -1 otherwise. Used to track directory descriptors.
std::ptrdiff_t virtual_path(int dirfd, const char* path, char* buf, std::size_t cap) noexcept;

// True when `abs` (normalized) is inside the root.
bool inside_root(std::string_view abs, std::string_view* rel = nullptr) noexcept;

// The decision for a root-relative path (used by listings and moves).
Decision decide(std::string_view rel, bool is_dir) noexcept;

}  // namespace fractfs::shim
