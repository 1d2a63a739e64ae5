#include "sync/state_dir.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "sync/fileops.hpp"
#include "sync/object_id.hpp"

namespace fractfs {

StateDir::StateDir(const Config& cfg) {
  // The real root: the same app reached through a symlink shares its state.
  const std::string& root = cfg.root_real.empty() ? cfg.root : cfg.root_real;
  std::string key = root + '\0' + cfg.remote_root + '\0' + cfg.checkpoint_subdir;
  dir_ = fmt::format("{}/{:016x}", cfg.scratch, hash64(key));
}

bool StateDir::ensure() const noexcept { return fileops::make_dirs(dir_, 0700) == 0; }

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

bool FileLock::take(const std::string& path, bool wait) noexcept {
  release();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  int rc;
  do rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return false;
  }
  fd_ = fd;
  return true;
}

bool FileLock::try_acquire(const std::string& path) noexcept { return take(path, false); }
bool FileLock::acquire(const std::string& path) noexcept { return take(path, true); }

void FileLock::release() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);  // closing the last descriptor drops the lock
  fd_ = -1;
}

void FileLock::abandon_after_fork() noexcept {
  // The child's descriptor shares the parent's lock: closing it is safe
  // (the parent's copy keeps the lock), keeping it would keep the lock
  // alive after the parent is gone.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool lock_is_held(const std::string& path) noexcept {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace fractfs
