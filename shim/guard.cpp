// The guard's state: which entry points FRACTFS_INTERNAL_FAULT makes fail
// (all of them, or those it names; read once at start and copied, as the
// app may change its environment), and the unwinder the guard relies on.
#include "shim/guard.hpp"

#include <stdlib.h>
#include <string.h>
#include <unwind.h>

namespace fractfs::shim {

bool g_inject_faults = false;

namespace {
char g_names[1024];  // ",name,name," or empty for every entry point
}  // namespace

void init_fault_injection() noexcept {
  const char* v = ::getenv("FRACTFS_INTERNAL_FAULT");
  g_inject_faults = v != nullptr;
  g_names[0] = '\0';
  if (!v || !strcmp(v, "1") || !strcmp(v, "all") || strlen(v) + 3 > sizeof g_names) return;
  g_names[0] = ',';
  strcpy(g_names + 1, v);
  strcat(g_names, ",");
}

// The library links its own copy of the unwinder (static libgcc_eh: one
// file to load, not two). A thread cancellation, a pthread_exit, or an
// app's exception leaving a callback unwinds through the shim's frames
// driven by the system's libgcc_s, which calls this library's personality
// routine, which calls our copy's _Unwind_SetGR: that reads a register
// size table our copy fills on its first use, and aborts while it is
// empty. Walking one frame fills it, before the first guarded call (only
// frames of guarded calls and what they call have cleanups): processes
// that never reach the root do not pay for it.
bool g_unwinder_primed = false;

void prime_unwinder() noexcept {
  _Unwind_Backtrace([](struct _Unwind_Context*, void*) { return _URC_END_OF_STACK; }, nullptr);
  __atomic_store_n(&g_unwinder_primed, true, __ATOMIC_RELEASE);
}

bool fault_selected(const char* where) noexcept {
  if (!g_names[0]) return true;
  std::size_t n = strlen(where);
  for (const char* p = g_names; (p = strstr(p, where)); p += n)
    if (p[-1] == ',' && p[n] == ',') return true;
  return false;
}

}  // namespace fractfs::shim
