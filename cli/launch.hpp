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

// Where the program `command` physically is: fractfs-run itself runs
// without the shim, so a program stored in the remote tier (./data/t.sh,
// node_modules/.bin/x, a PATH entry under a [dirs] path) is looked up the
// way the shim would place it. `command` itself when nothing maps it.
std::string physical_program(const Config& cfg, const std::string& command);

}  // namespace fractfs::cli
