// The shim's process-wide state: the configuration snapshot taken by the
// library constructor. Immutable once `g_active` is set.
#pragma once

#include <string>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"

// Exported only where functions.def says so; everything else stays hidden.
#define SHIM_EXPORT extern "C" __attribute__((visibility("default")))

namespace fractfs::shim {

struct State {
  Config cfg;
  Resolver resolver;
  std::string root;         // normalized app root
  std::string root_real;    // its realpath when it differs ("" otherwise)
  std::string remote_root;  // where the remote tier lives (mount backend)
  std::string lib_path;     // absolute path of libfractfs.so, for children
  std::string snapshot;     // the configuration snapshot children inherit
};

// True once the constructor has loaded a configuration with a remote store.
// Before that, and in passthrough mode, every call goes straight to libc.
extern bool g_active;
extern State* g_state;

// Set in threads of fractfs itself (the sync helper): their calls are never
// redirected. Initial-exec TLS: one load, no call.
extern __thread bool t_bypass __attribute__((tls_model("initial-exec")));

// An acquire load (a plain load on x86): the holder's thread starts before
// the constructor sets g_active, and must see g_state once it is set.
inline bool shim_on() noexcept {
  return __builtin_expect(__atomic_load_n(&g_active, __ATOMIC_ACQUIRE) && !t_bypass, 1);
}

// For the scope's life this thread's libc calls go straight to libc, so
// shared code written with plain libc calls (sync/) works on physical paths.
class Bypass {
 public:
  Bypass() noexcept : old_(t_bypass) { t_bypass = true; }
  ~Bypass() { t_bypass = old_; }
  Bypass(const Bypass&) = delete;
  Bypass& operator=(const Bypass&) = delete;

 private:
  bool old_;
};

// Loads the configuration and turns the shim on. Called by the constructor.
void init() noexcept;

}  // namespace fractfs::shim
