// The DIR handed out for a union directory. Its first int is negative, which
// a glibc DIR's first member (its descriptor) never is: that is how every
// directory function tells the two apart without a lookup.
#pragma once

#include <dirent.h>

#include <string>
#include <vector>

#include "shim/mapping.hpp"
#include "shim/union_dir.hpp"

namespace fractfs::shim {

struct UnionDir {
  static constexpr int kMagic = -0x46524144;  // "FRAD", negated
  int magic = kMagic;
  int fd = -1;        // the local half, for dirfd()
  std::string vpath;  // to list again on rewinddir
  std::vector<DirEntry> entries;
  std::size_t pos = 0;
  struct dirent64 ent;  // what readdir returns

  struct dirent64* next() noexcept;
  void reload();
};

// Our DIR, or nullptr for one of libc's.
UnionDir* as_union(DIR* d) noexcept;

// A DIR over the union directory `t`; reads through `fd` (its local half)
// or opens the local half when fd < 0. nullptr with errno on failure.
DIR* open_union(Target& t, int fd);

}  // namespace fractfs::shim
