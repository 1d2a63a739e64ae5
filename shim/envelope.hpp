// The envelope of an operation on a path, written once: a path that is not
// the root's goes to libc at the cost of maybe_ours(); one of the root's is
// placed, in a stack frame of its own, and handled by `body` under the
// fault guard (an internal fault logs once and passes the call through).
#pragma once

#include "shim/guard.hpp"
#include "shim/mapping.hpp"

namespace fractfs::shim {

// body(Target&) for (dirfd, path) placed as `kind`; pass() otherwise.
template <typename Body, typename Pass>
auto on_path(const char* where, int dirfd, const char* path, Kind kind, Body&& body, Pass&& pass) -> decltype(pass()) {
  if (!maybe_ours(dirfd, path)) return pass();
  return out_of_line([&] {
    return guarded(
        where,
        [&]() -> decltype(pass()) {
          Target t;
          if (!place(dirfd, path, kind, t)) return pass();
          return body(t);
        },
        pass);
  });
}

}  // namespace fractfs::shim
