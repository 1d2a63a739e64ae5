// Pointers to the functions the shim interposes, as the next object in the
// lookup order (normally libc) defines them. REAL(open)(...) calls libc's
// open. Each is looked up on its first use: a process that calls ten of
// them pays for ten lookups, not for the whole table.
#pragma once

#include "shim/decls.hpp"

namespace fractfs::shim::real {

// readdir_r is deprecated in glibc's headers, yet apps still call it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define FN(name)                 \
  extern decltype(&::name) name; \
  inline constexpr const char* version_of_##name = nullptr;
#define FNV(name, version)       \
  extern decltype(&::name) name; \
  inline constexpr const char* version_of_##name = version;
#define FNH(name) FN(name)
#include "shim/functions.def"
#undef FN
#undef FNV
#undef FNH
#pragma GCC diagnostic pop

// Looks up one symbol; ends the process with a message if it is missing
// (a libc without it could not have run the app's call either).
void* lookup(const char* name, const char* version) noexcept;

}  // namespace fractfs::shim::real

namespace fractfs::shim::detail {
template <typename F>
inline F real_or_lookup(F& slot, const char* name, const char* version) noexcept {
  F f = __atomic_load_n(&slot, __ATOMIC_ACQUIRE);
  if (__builtin_expect(f != nullptr, 1)) return f;
  f = reinterpret_cast<F>(real::lookup(name, version));
  __atomic_store_n(&slot, f, __ATOMIC_RELEASE);
  return f;
}
}  // namespace fractfs::shim::detail

// The real (next) definition of a libc function; versioned entries use the
// version named in functions.def.
#define REAL(name)                                                             \
  (::fractfs::shim::detail::real_or_lookup(::fractfs::shim::real::name, #name, \
                                           ::fractfs::shim::real::version_of_##name))
