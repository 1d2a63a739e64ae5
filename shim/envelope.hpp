// The envelope of every interposer, written once. A call that is not the
// root's goes to libc at the cost of one check; one of the root's runs its
// slow path in a stack frame of its own under the fault guard (an internal
// fault logs once and passes the call through). `where` is always the
// exported function's name (__func__): FRACTFS_INTERNAL_FAULT selects
// entry points by it, and tests/shim/test_faults.sh injects into each.
//
//   slow_path  the slow path of a call already known to be the root's
//   on_path    a call on (dirfd, path), placed as `kind`
//   on_paths   a call on two paths (rename, link): the root's if either is
//   on_fd      a call on a descriptor the fd table records
#pragma once

#include "shim/fd_table.hpp"
#include "shim/guard.hpp"
#include "shim/mapping.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {

template <typename Body, typename Pass>
auto slow_path(const char* where, Body&& body, Pass&& pass) -> decltype(pass()) {
  return out_of_line([&] { return guarded(where, body, pass); });
}

// body(Target&) for (dirfd, path) placed as `kind`; pass() otherwise. When
// the remote half could not look the path up, the call fails with its error
// (`fail(Failure)` says how, for a call whose failure is not -1 or null).
template <typename Body, typename Pass, typename Fail>
auto on_path(const char* where, int dirfd, const char* path, Kind kind, Body&& body, Pass&& pass, Fail&& fail)
    -> decltype(pass()) {
  if (!maybe_ours(dirfd, path)) return pass();
  return slow_path(
      where,
      [&]() -> decltype(pass()) {
        Target t;
        if (!place(dirfd, path, kind, t)) return pass();
        if (t.half_err) return fail(Failure{t.half_err});
        return body(t);
      },
      pass);
}

template <typename Body, typename Pass>
auto on_path(const char* where, int dirfd, const char* path, Kind kind, Body&& body, Pass&& pass) -> decltype(pass()) {
  using R = decltype(pass());
  return on_path(where, dirfd, path, kind, body, pass, [](Failure f) { return f.as<R>(); });
}

template <typename Body, typename Pass>
auto on_paths(const char* where, int dirfd1, const char* path1, int dirfd2, const char* path2, Body&& body, Pass&& pass)
    -> decltype(pass()) {
  if (!maybe_ours(dirfd1, path1) && !maybe_ours(dirfd2, path2)) return pass();
  return slow_path(where, body, pass);
}

// One atomic load for a descriptor the shim never recorded.
template <typename Body, typename Pass>
auto on_fd(const char* where, int fd, Body&& body, Pass&& pass) -> decltype(pass()) {
  if (!fd_table::tracked(fd) || !shim_on()) return pass();
  return slow_path(where, body, pass);
}

}  // namespace fractfs::shim
