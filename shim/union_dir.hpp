// A remote-tier directory is the union of its remote half (REMOTE_ROOT/rel)
// and its local half (the natural path), which holds the entries that
// patterns keep local and gives the directory its identity.
#pragma once

#include <dirent.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "shim/mapping.hpp"

namespace fractfs::shim {

struct DirEntry {
  std::string name;
  unsigned char type;  // DT_*
  ino_t ino;
};

// What the union directory `t` shows, each name once: "." and "..", then
// the local half's entries that live locally, the remote half's entries
// that live remotely, and every sub-directory of either half.
std::vector<DirEntry> list_union(const Target& t);

// True when the directory at `physical` holds anything but "." and "..".
bool has_entries(const char* physical) noexcept;

// mkdir of a remote-tier directory: both halves. EEXIST if either exists.
int mkdir_union(const Target& t, mode_t mode) noexcept;

// rmdir of a remote-tier directory: both halves; ENOTEMPTY if the union is
// not empty.
int rmdir_union(const Target& t) noexcept;

// Remote-tier path that names a directory: a union directory.
bool is_union_dir(const Target& t) noexcept;

}  // namespace fractfs::shim
