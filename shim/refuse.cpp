#include "shim/refuse.hpp"

#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "shim/log.hpp"

namespace fractfs::shim {

void refuse(const std::string& why, int status) {
  const char* v = ::getenv("FRACTFS_ON_ERROR");
  if (!v || !*v) v = ::getenv("fractfs_on_error");
  if (v && !strcasecmp(v, "passthrough")) {
    log::write(log::Level::error, "%s (FRACTFS_ON_ERROR=passthrough: running without fractfs)", why.c_str());
    return;
  }
  std::string msg = "fractfs: error: " + why +
                    "\nfractfs: the app is not started (FRACTFS_ON_ERROR=passthrough runs it without fractfs)\n";
  if (v && *v && strcasecmp(v, "exit") != 0)
    msg += "fractfs: FRACTFS_ON_ERROR: expected exit or passthrough, got '" + std::string(v) + "'\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(status);
}

}  // namespace fractfs::shim
