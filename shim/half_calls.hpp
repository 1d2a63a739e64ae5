// The remote half's hooks where the shim's operations reach them. Each costs
// one load when the half has no hooks (a mount), and keeps errno.
#pragma once

#include <string_view>

#include "shim/mapping.hpp"
#include "shim/remote_half.hpp"

namespace fractfs::shim::half {

using Change = RemoteHalf::Change;

// Before a name in the remote directory `dir` (root-relative) is used:
// 0 or an errno value. place() asks it for every remote-tier Target.
int lookup(std::string_view dir) noexcept;
// Before the remote-tier directory `t` is listed: 0 or an errno value.
int listing(const Target& t) noexcept;
// Before the file `t` is opened with `flags` (or executed): 0 or an errno value.
int opening(const Target& t, int flags) noexcept;
// After a change at the remote-tier path `t` (nothing for another tier);
// `to` is a rename's destination, in the remote tier too.
void changed(const Target& t, Change change, const Target* to = nullptr) noexcept;
// Before a descriptor on `vpath` that may have written is synced: 0 or an
// errno value, for the fsync to return.
int written(std::string_view vpath, int fd) noexcept;
// Before such a descriptor, already forgotten by the fd table, is closed:
// `written` when it was the file's last writable descriptor in this process.
int last_close(std::string_view vpath, int fd) noexcept;
// At the process's end: `written` for each file still open for writing on
// the remote half, whose descriptors the kernel closes. From exit() (the
// destructor) the streams are flushed first, as exit() would after us;
// from _exit they are not.
void at_exit(bool flush_streams) noexcept;

}  // namespace fractfs::shim::half
