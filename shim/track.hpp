// Change tracking: the operations report every change to a path inside the
// root here, and it goes to the journal (sync/journal.hpp) for the holder's
// next checkpoint. Only what a checkpoint covers is recorded: local_synced
// paths, and directories of a [dirs] tree (their local halves hold local
// files). Calls are cheap (no system call once the journal is mapped) and
// never fail.
#pragma once

#include <cstdint>
#include <string_view>

#include "shim/mapping.hpp"

namespace fractfs::shim::track {

// `t` was created, truncated, renamed into place, or had its metadata changed.
void changed(const Target& t) noexcept;
// `t` was opened for writing: it changes until closed.
void opened(const Target& t) noexcept;
// `t` was removed (or renamed away).
void removed(const Target& t) noexcept;
// A descriptor opened for writing on `vpath` (absolute virtual path) was closed.
void closed(std::string_view vpath) noexcept;

// Something was recorded (by any process of the app) that no checkpoint
// holds yet, or a file is open for writing, or the journal cannot tell.
bool unsaved() noexcept;
// No helper drained the journal lately (it may be gone); and whether this
// process recorded anything.
bool helper_quiet(std::int64_t now_s) noexcept;
bool recorded_here() noexcept;
// In a forked child: record even what the parent already did.
void after_fork_child() noexcept;

}  // namespace fractfs::shim::track
