// Whether any process of an app is still running: the helper process
// checkpoints for as long as one is, and once more when the last is gone.
//
// Every process of the app that runs under the shim holds a shared flock(2)
// on STATE/app.lock through a descriptor of its own: a forked child shares
// its parent's, a program started by exec takes its own in the library's
// constructor (the descriptor is close-on-exec, so no other program ever
// inherits it). The kernel drops the lock with the last process holding
// it, however that process ended (kill -9 included). The helper probes for
// an exclusive lock: granted means no process of the app is left.
#pragma once

#include <string>

namespace fractfs::presence {

// The app's side: a shared lock on `path` (created if missing). Blocks
// while the helper holds it exclusively: it is then taking its final
// checkpoint and about to leave, and the caller must start a new one after.
// The descriptor, or -1 with errno.
int join(const char* path) noexcept;

// The helper's side.
class Watch {
 public:
  Watch() = default;
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  bool open(const std::string& path) noexcept;  // false with errno
  // True when no process of the app holds the lock; the exclusive lock is
  // then held until release() (or until this process exits), so no
  // process of the app can start meanwhile.
  bool alone() noexcept;
  void release() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace fractfs::presence
