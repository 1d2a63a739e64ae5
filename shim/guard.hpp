// Internal faults must never reach the app: an exception escaping an
// operation is logged once and the call is passed through to libc.
#pragma once

#include <exception>

#include "shim/log.hpp"

namespace fractfs::shim {

template <typename Body, typename Fallback>
auto guarded(const char* where, Body&& body, Fallback&& fallback) noexcept -> decltype(fallback()) {
  try {
    return body();
  } catch (const std::exception& e) {
    log::fault(where, e.what());
  } catch (...) {
    log::fault(where, "unknown exception");
  }
  return fallback();
}

}  // namespace fractfs::shim
