// inotify_add_watch: the watch goes on the physical place of the path. A
// union directory is watched on its remote half, where the entries of its
// tier live; what patterns keep in its local half is not reported (the
// kernel watches one inode per call, see the README's limits).
#include <sys/inotify.h>

#include "shim/guard.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"

using namespace fractfs::shim;

SHIM_EXPORT int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  if (!maybe_ours(AT_FDCWD, path)) return REAL(inotify_add_watch)(fd, path, mask);
  return out_of_line([&] {
    Target t;
    auto pass = [&] { return REAL(inotify_add_watch)(fd, path, mask); };
    if (!place(AT_FDCWD, path, Kind::unknown, t)) return pass();
    return guarded(
        "inotify_add_watch",
        [&] {
          return with_relink(t, Kind::unknown, !(mask & IN_DONT_FOLLOW),
                             [&] { return t.passes() ? pass() : REAL(inotify_add_watch)(fd, t.at_path(), mask); });
        },
        pass);
  });
}
