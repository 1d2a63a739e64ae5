// Every operation's envelope. An internal fault (an exception escaping an
// operation) is logged once and the call is passed through to libc. And a
// call that succeeds leaves errno as the caller had it, whatever probes
// failed on the way: libc does not touch errno on success either.
#pragma once

#include <cxxabi.h>
#include <errno.h>

#include <exception>
#include <stdexcept>
#include <type_traits>

#include "shim/log.hpp"

namespace fractfs::shim {

// Set from FRACTFS_INTERNAL_FAULT at start: the guarded operations of the
// entry points it names (a comma-separated list; "1" or "all" for every
// one) throw, so tests can check that faults pass calls through.
extern bool g_inject_faults;
void init_fault_injection() noexcept;
// Makes the library's own unwinder usable by unwinds it did not start
// (shim/guard.cpp says why); guarded() does it on its first call.
extern bool g_unwinder_primed;
void prime_unwinder() noexcept;
// `where` (an entry point's name) is one FRACTFS_INTERNAL_FAULT names.
bool fault_selected(const char* where) noexcept;

template <typename R>
bool succeeded(const R& rc) noexcept {
  if constexpr (std::is_pointer_v<R>) return rc != nullptr;
  else if constexpr (std::is_same_v<R, bool>) return rc;
  else return rc >= 0;
}

// The failure value of a call returning R, errno set to `err`: what a call
// returns when the shim must fail it (a remote half's hook failed).
struct Failure {
  int err;
  template <typename R>
  R as() const noexcept {
    errno = err;
    if constexpr (std::is_pointer_v<R>) return nullptr;
    else return static_cast<R>(-1);
  }
};

// Runs `body`, keeping errno for a successful result.
template <typename Body>
auto keep_errno(Body&& body) -> decltype(body()) {
  int saved = errno;
  auto rc = body();
  if (succeeded(rc)) errno = saved;
  return rc;
}

template <typename Body, typename Fallback>
auto guarded(const char* where, Body&& body, Fallback&& fallback) -> decltype(fallback()) {
  if (__builtin_expect(!__atomic_load_n(&g_unwinder_primed, __ATOMIC_ACQUIRE), 0)) prime_unwinder();
  try {
    if (g_inject_faults && fault_selected(where)) throw std::runtime_error("injected fault");
    if constexpr (std::is_void_v<decltype(fallback())>) {
      return body();
    } else {
      return keep_errno(body);
    }
  } catch (abi::__forced_unwind&) {
    throw;  // thread cancellation unwinding through a cancellation point (open, close)
  } catch (const std::exception& e) {
    log::fault(where, e.what());
  } catch (...) {
    log::fault(where, "unknown exception");
  }
  return fallback();
}

}  // namespace fractfs::shim
