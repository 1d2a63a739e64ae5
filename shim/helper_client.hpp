// The app's side of the helper process (sync/helper.hpp). Nothing of the
// checkpoint runs in an app process: it records changes (shim/track) and
// asks the helper. In the first process of an app started with a bare
// LD_PRELOAD, the constructor starts the helper (or finds it running) and
// waits until the app may run: layout prepared, last checkpoint restored.
// Every process of the app holds the presence lock (sync/presence.hpp), so
// the helper knows when the app is gone. When that first process exits
// with changes not yet checkpointed, it waits for a checkpoint (bounded).
#pragma once

namespace fractfs::shim::helper_client {

// From the constructor, once the configuration is known. Never throws; on
// failure nothing is recorded in this process tree.
void at_start() noexcept;
// From the library destructor, and from _exit/_Exit: in the app's first
// process only (never in a forked or vfork child), the exit checkpoint.
void at_exit() noexcept;
// After a recorded change: every few seconds at most, start a helper when
// none runs (the one that ran has gone, e.g. fractfs-run's before a daemon
// the app left behind).
void maybe_take_over() noexcept;

// In a child made by fork (not vfork): it is a process of its own.
void after_fork_child() noexcept;
// False in a vfork child, which shares this process's memory (and its fd
// table) but not its descriptors.
bool own_process() noexcept;

// True when changes are to be recorded in the journal, at `journal_path`.
bool recording() noexcept;
const char* journal_path() noexcept;

}  // namespace fractfs::shim::helper_client
