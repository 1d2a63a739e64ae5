#include "shim/half_calls.hpp"

#include <errno.h>

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

int listing(const Target& t) noexcept {
  if (!t.remote()) return 0;
  return call([&](RemoteHalf& h) { return h.lookup(t.rel); });
}

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

}  // namespace fractfs::shim::half
