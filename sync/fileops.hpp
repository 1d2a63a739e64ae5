// Physical file mechanics shared by the shim and the sync engine: plain
// libc calls on physical paths. (The shim calls these with its own
// redirection switched off for the thread, see shim/state.hpp.)
#pragma once

#include <sys/types.h>

#include <string>

namespace fractfs::fileops {

// mkdir -p. 0, or -1 with errno.
int make_dirs(const std::string& path, mode_t mode) noexcept;

// A fresh hidden name next to `dst`, for building a file there before
// renaming it into place.
std::string temp_name_for(const std::string& dst);

// Copies what `src_fd` holds (data, mode, times) to `dst` through a
// temporary file next to it: write, fsync, rename (or link, with
// `noreplace`), fsync the directory. `dst` is never seen half-written.
// 0, or -1 with errno.
int copy_fd_into_place(int src_fd, const std::string& dst, bool noreplace) noexcept;
int copy_into_place(const std::string& src, const std::string& dst, bool noreplace) noexcept;

// Moves one entry (file, symlink, special file, or a directory tree, merged
// into an existing directory) from `src` to `dst`: rename(2), or across
// file systems a copy that is never seen half-written, then removal of
// the source. 0, or -1 with errno.
int move_node(const std::string& src, const std::string& dst, bool noreplace) noexcept;

// fsync of the directory holding `path`.
int fsync_parent(const std::string& path) noexcept;

}  // namespace fractfs::fileops
