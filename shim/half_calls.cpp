#include "shim/half_calls.hpp"

#include <errno.h>
#include <stdio.h>

#include "shim/fd_table.hpp"
#include "shim/helper_client.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"

namespace fractfs::shim::half {
namespace {

// Runs a hook of the half, when it has hooks, keeping errno.
template <typename Hook>
int call(Hook&& hook) noexcept {
  RemoteHalf& h = remote_half();
  if (!h.hooks()) return 0;
  int saved = errno;
  int err = hook(h);
  errno = saved;
  return err;
}

}  // namespace

int lookup(std::string_view dir) noexcept {
  return call([&](RemoteHalf& h) { return h.lookup(dir); });
}

int listing(const Target& t) noexcept { return t.remote() ? lookup(t.rel) : 0; }

int opening(const Target& t, int flags) noexcept {
  if (!t.remote()) return 0;
  return call([&](RemoteHalf& h) { return h.open(t.rel, flags); });
}

void changed(const Target& t, Change change, const Target* to) noexcept {
  if (!t.remote()) return;
  call([&](RemoteHalf& h) {
    h.changed(change, t.rel, to ? to->rel : std::string_view{});
    return 0;
  });
}

int written(std::string_view vpath, int fd) noexcept {
  return call([&](RemoteHalf& h) {
    std::string_view rel;
    return inside_root(vpath, &rel) ? h.written(rel, fd) : 0;
  });
}

int last_close(std::string_view vpath, int fd) noexcept {
  if (!remote_half().hooks() || fd_table::writable_elsewhere(vpath)) return 0;
  return written(vpath, fd);
}

void at_exit(bool flush_streams) noexcept {
  if (!shim_on() || !remote_half().hooks() || !helper_client::own_process()) return;
  if (flush_streams) ::fflush(nullptr);
  scratch::Buf v;
  if (!v.ok()) return;
  for (int fd = 0, n = fd_table::limit(); fd < n; ++fd) {
    std::uint32_t flags = 0;
    if (fd_table::tracked(fd) && fd_table::get(fd, v.get(), path::kMax, &flags) >= 0 &&
        fd_table::writes_remote(flags)) {
      fd_table::forget(fd);  // once per file: its other descriptors find it gone
      last_close(v.get(), fd);
    }
  }
}

}  // namespace fractfs::shim::half
