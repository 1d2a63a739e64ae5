// Every operation's envelope. An internal fault (an exception escaping an
// operation) is logged once and the call is passed through to libc. And a
// call that succeeds leaves errno as the caller had it, whatever probes
// failed on the way: libc does not touch errno on success either.
#pragma once

#include <errno.h>

#include <exception>
#include <stdexcept>
#include <type_traits>

#include "shim/log.hpp"

namespace fractfs::shim {

// Set from FRACTFS_INTERNAL_FAULT at start: every guarded operation throws,
// so tests can check that faults pass calls through.
extern bool g_inject_faults;

template <typename R>
bool succeeded(const R& rc) noexcept {
  if constexpr (std::is_pointer_v<R>) return rc != nullptr;
  else return rc >= 0;
}

// Runs `body`, keeping errno for a successful result.
template <typename Body>
auto keep_errno(Body&& body) -> decltype(body()) {
  int saved = errno;
  auto rc = body();
  if (succeeded(rc)) errno = saved;
  return rc;
}

template <typename Body, typename Fallback>
auto guarded(const char* where, Body&& body, Fallback&& fallback) noexcept -> decltype(fallback()) {
  try {
    if (g_inject_faults) throw std::runtime_error("injected fault");
    if constexpr (std::is_void_v<decltype(fallback())>) {
      return body();
    } else {
      return keep_errno(body);
    }
  } catch (const std::exception& e) {
    log::fault(where, e.what());
  } catch (...) {
    log::fault(where, "unknown exception");
  }
  return fallback();
}

}  // namespace fractfs::shim
