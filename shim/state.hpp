// The shim's process-wide state: the configuration snapshot taken by the
// library constructor. Immutable once `g_active` is set.
#pragma once

#include <string>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"
#include "shim/remote_half.hpp"

// Exported only where functions.def says so; everything else stays hidden.
#define SHIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace fractfs::shim {

struct State {
  Config cfg;
  Resolver resolver;
  std::string root;            // normalized app root
  std::string root_real;       // its realpath when it differs ("" otherwise)
  RemoteHalf* half = nullptr;  // the remote tier's physical half
  std::string lib_path;        // absolute path of libfractfs.so, for children
  std::string snapshot;        // the configuration snapshot children inherit
};

// True once the constructor has loaded a configuration with a remote store.
// Before that, and in passthrough mode, every call goes straight to libc.
extern bool g_active;
extern State* g_state;

// An acquire load (a plain load on x86): a thread started before the
// constructor sets g_active (by another library's constructor) must see
// g_state once it is set.
inline bool shim_on() noexcept { return __builtin_expect(__atomic_load_n(&g_active, __ATOMIC_ACQUIRE), 1); }

inline RemoteHalf& remote_half() noexcept { return *g_state->half; }

// Loads the configuration and turns the shim on. Called by the constructor.
void init() noexcept;

}  // namespace fractfs::shim
