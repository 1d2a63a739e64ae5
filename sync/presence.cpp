#include "sync/presence.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace fractfs::presence {
namespace {

int lock_retrying(int fd, int op) noexcept {
  int rc;
  do rc = ::flock(fd, op);
  while (rc != 0 && errno == EINTR);
  return rc;
}

}  // namespace

int join(const char* path) noexcept {
  int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  if (lock_retrying(fd, LOCK_SH) != 0) {
    int err = errno;
    ::close(fd);
    return errno = err, -1;
  }
  return fd;
}

Watch::~Watch() {
  if (fd_ >= 0) ::close(fd_);
}

bool Watch::open(const std::string& path) noexcept {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  return fd_ >= 0;
}

bool Watch::alone() noexcept { return fd_ >= 0 && lock_retrying(fd_, LOCK_EX | LOCK_NB) == 0; }

void Watch::release() noexcept {
  if (fd_ >= 0) (void)lock_retrying(fd_, LOCK_UN);
}

}  // namespace fractfs::presence
