#include "sync/control.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sync/sys.hpp"

namespace fractfs {
namespace {

// sockaddr_un holds 108 bytes; a longer path is reached through a
// descriptor of its directory.
bool address(const std::string& path, sockaddr_un& sa, int& dir_fd) {
  sa = {};
  sa.sun_family = AF_UNIX;
  dir_fd = -1;
  std::string p = path;
  if (p.size() >= sizeof sa.sun_path) {
    std::size_t slash = p.rfind('/');
    dir_fd = ::open(p.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return false;
    p = "/proc/self/fd/" + std::to_string(dir_fd) + p.substr(slash);
    if (p.size() >= sizeof sa.sun_path) return false;
  }
  memcpy(sa.sun_path, p.c_str(), p.size() + 1);
  return true;
}

enum class Read { line, closed, timeout };

// One line, without its newline. `closed`: the peer went away first.
Read read_line(int fd, std::string& out, double timeout_s) {
  out.clear();
  double deadline = sys::seconds_now() + timeout_s;
  char c;
  while (out.size() < 4096) {
    int left_ms = static_cast<int>((deadline - sys::seconds_now()) * 1000);
    if (left_ms <= 0) return Read::timeout;
    struct pollfd p {
      fd, POLLIN, 0
    };
    int rc = ::poll(&p, 1, left_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return Read::timeout;
    if (rc < 0) return Read::closed;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Read::closed;
    if (c == '\n') return Read::line;
    out += c;
  }
  return Read::closed;
}

}  // namespace

ControlServer::~ControlServer() { close(); }

bool ControlServer::listen(const std::string& path) noexcept {
  close();
  sockaddr_un sa;
  int dir_fd;
  if (!address(path, sa, dir_fd)) return false;
  ::unlink(sa.sun_path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
            ::chmod(sa.sun_path, 0600) == 0 && ::listen(fd, 16) == 0;
  int err = errno;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    errno = err;
    return false;
  }
  fd_ = fd;
  try {
    path_ = path;
  } catch (...) {
  }
  return true;
}

std::optional<std::string> ControlServer::accept_request(int& client) noexcept {
  client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return std::nullopt;
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
    ::close(client);
    client = -1;
    return std::nullopt;
  }
  try {
    std::string line;
    if (read_line(client, line, 5.0) == Read::line) return line;
  } catch (...) {
  }
  ::close(client);
  client = -1;
  return std::nullopt;
}

void ControlServer::reply(int client, const std::string& line) noexcept {
  std::string out = line + "\n";
  sys::write_all(client, out.data(), out.size());
  ::close(client);
}

void ControlServer::close() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
}

void ControlServer::unlink() noexcept {
  if (fd_ >= 0 && !path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

void ControlServer::abandon_after_fork() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<std::string> control_request(const std::string& path, const std::string& request, double timeout_s) {
  sockaddr_un sa;
  int dir_fd;
  if (!address(path, sa, dir_fd)) return std::nullopt;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    return std::nullopt;
  }
  std::string line = request + "\n", reply;
  // A holder that stops closes its socket unanswered: as if none listened.
  Read got = sys::write_all(fd, line.data(), line.size()) == 0 ? read_line(fd, reply, timeout_s) : Read::closed;
  ::close(fd);
  if (got == Read::closed) return std::nullopt;
  if (got == Read::timeout) return std::string("error no reply from the holder within the time limit");
  return reply;
}

}  // namespace fractfs
