// inotify_add_watch: the watch goes on the physical place of the path. A
// union directory is watched on its remote half, where the entries of its
// tier live; what patterns keep in its local half is not reported (the
// kernel watches one inode per call, see the README's limits).
#include <sys/inotify.h>

#include "shim/envelope.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"

using namespace fractfs::shim;

SHIM_EXPORT int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  auto pass = [&] { return REAL(inotify_add_watch)(fd, path, mask); };
  return on_path(
      __func__, AT_FDCWD, path, Kind::unknown,
      [&](Target& t) {
        return with_relink(t, Kind::unknown, !(mask & IN_DONT_FOLLOW),
                           [&] { return t.passes() ? pass() : REAL(inotify_add_watch)(fd, t.at_path(), mask); });
      },
      pass);
}
