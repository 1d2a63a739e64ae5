// _exit and _Exit end a process without running destructors: shells (dash,
// bash) leave that way, so with bare LD_PRELOAD the app's first process
// would not wait for its exit checkpoint. exit() reaches the kernel through
// libc's internal _exit, not through these, so the destructor's wait is
// not doubled.
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/guard.hpp"
#include "shim/half_calls.hpp"
#include "shim/helper_client.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

// The system call itself, as libc's _exit makes it: no symbol lookup,
// which a vfork child must not do.
[[noreturn]] void end_process(int status) noexcept {
  for (;;) {
    ::syscall(SYS_exit_group, status);
    ::syscall(SYS_exit, status);
  }
}

// The exit checkpoint under the guard: a fault skips it, never the exit.
void exit_checkpoint(const char* where) {
  if (!shim_on()) return;
  guarded(
      where,
      [] {
        half::at_exit(false);
        helper_client::at_exit();
        return 0;
      },
      [] { return 0; });
}

}  // namespace

SHIM_EXPORT void _exit(int status) {
  exit_checkpoint(__func__);
  end_process(status);
}

SHIM_EXPORT void _Exit(int status) {
  exit_checkpoint(__func__);
  end_process(status);
}

}  // namespace fractfs::shim
