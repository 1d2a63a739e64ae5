// Starting an app under the shim: where libfractfs.so is, and the
// environment its processes need.
#pragma once

#include <string>
#include <vector>

#include "resolver/config.hpp"

namespace fractfs::cli {

// FRACTFS_LIB, else libfractfs.so where an install or the build tree puts
// it relative to this program: ../lib/<multiarch>/fractfs, ../lib64/fractfs,
// ../lib/fractfs, ../lib, or the same directory. Throws std::runtime_error
// naming where it looked.
std::string find_library();

// The current environment plus: the library first in LD_PRELOAD,
// FRACTFS_ROOT, UV_USE_IO_URING=0 (libuv would bypass libc through
// io_uring), the marker saying warnings were already shown, and the
// configuration snapshot (so the app's processes need not load it again).
std::vector<std::string> child_environment(const Config& cfg, const std::string& lib);

}  // namespace fractfs::cli
