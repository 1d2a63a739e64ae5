// When fractfs cannot do its job for an app started with a bare LD_PRELOAD
// (an invalid configuration, a remote_root that is not there, a restore
// that failed): the app is not started, since it would run on the node's
// disk alone, on cold state, and its files would be lost at the next wipe.
// Unless the user prefers availability: FRACTFS_ON_ERROR=passthrough runs
// it without fractfs.
#pragma once

#include <string>

namespace fractfs::shim {

// Says why and ends the process with `status`; returns (having logged the
// error) only under FRACTFS_ON_ERROR=passthrough.
void refuse(const std::string& why, int status);

}  // namespace fractfs::shim
