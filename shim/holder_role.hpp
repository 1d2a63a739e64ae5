// The sync side of the shim: the restore before main, which process is
// the holder (and takes over when the holder is gone), and its final
// checkpoint at exit. The checkpointing itself is sync/holder.
#pragma once

namespace fractfs::shim::holder_role {

// From the constructor, once the configuration is known: restores the
// root if this node has not, and starts the holder when this process is to
// be it. Never throws; on failure checkpoints stay off in this process.
void at_start() noexcept;
// From the library destructor: the holder's final checkpoint.
void at_exit() noexcept;
// From _exit/_Exit: the same, in the holder process only. Anyone else
// (a vfork child above all) returns at once, touching nothing.
void before_exit() noexcept;
// In a forked child: the holder (if any) is the parent's.
void after_fork_child() noexcept;
// After a tracked change: every few seconds at most, try to become the
// holder when nobody is (the previous one exited).
void maybe_take_over() noexcept;
// The lock can no longer be trusted: checkpointing stops in this process.
void disown(const char* why) noexcept;

// True when changes are to be recorded in the journal, at `journal_path`.
bool recording() noexcept;
const char* journal_path() noexcept;

}  // namespace fractfs::shim::holder_role
