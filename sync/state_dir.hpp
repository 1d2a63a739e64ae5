// The node-local state of one app root: SCRATCH/<root-id>/, mode 0700.
// It holds what processes of the app share on this node:
//   journal       the write-tracking ring (sync/journal.hpp)
//   restore.lock  held while the current generation is being restored
//   restored      marker: the restore is done ("generation N")
//   holder.lock   held by the process that checkpoints (the holder); holds its pid
//   holder.sock   the holder's control socket (`fractfs sync`)
//   status        the last checkpoint's figures and the last error
//   index         the last snapshot with node-local identities (quick check)
//   bundle        paths of the deploy bundle, never checkpointed
// The root id hashes the root, the remote and the checkpoint subdir, so
// apps (or one app with two remotes) never share state.
#pragma once

#include <string>

namespace fractfs {

struct Config;

class StateDir {
 public:
  StateDir() = default;
  explicit StateDir(const Config& cfg);  // computes the path; no I/O

  const std::string& dir() const noexcept { return dir_; }
  std::string path(const char* name) const { return dir_ + "/" + name; }
  // mkdir -p with mode 0700; false with errno set.
  bool ensure() const noexcept;

 private:
  std::string dir_;
};

// An flock(2) on a file, released when the object dies. The descriptor is
// close-on-exec: an exec'd program does not inherit the lock.
class FileLock {
 public:
  FileLock() = default;
  ~FileLock() { release(); }
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Without waiting: false if someone else holds it (or on error, errno set).
  bool try_acquire(const std::string& path) noexcept;
  // Waits for it; false on error (errno set).
  bool acquire(const std::string& path) noexcept;
  void release() noexcept;
  // Forgets the descriptor without unlocking (a forked child's copy).
  void abandon_after_fork() noexcept;
  bool held() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }

 private:
  bool take(const std::string& path, bool wait) noexcept;
  int fd_ = -1;
};

// True when some process holds the flock on `path` (probes without waiting).
bool lock_is_held(const std::string& path) noexcept;

}  // namespace fractfs
