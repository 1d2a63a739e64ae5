// bind() of a Unix domain socket. A socket is node-local by nature: one
// bound in a union directory lives in its local half (where the kernel puts
// it, since the cwd and absolute paths are natural), and the shim's stat,
// listing, unlink and rmdir look for it there (fs_ops: to_local_socket).
// What is done here: the local half of its directory is created when only
// the remote half exists. connect() and sendto() need nothing: the kernel
// finds the socket at its natural path.
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "shim/envelope.hpp"
#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

using namespace fractfs::shim;

namespace {

// The NUL-terminated path of an AF_UNIX address, or nullptr (another
// family, an abstract or unnamed socket, or an unterminated path).
const char* unix_path(const struct sockaddr* addr, socklen_t len, char* buf) {
  if (!addr || len <= offsetof(struct sockaddr_un, sun_path) || addr->sa_family != AF_UNIX) return nullptr;
  const auto* un = reinterpret_cast<const struct sockaddr_un*>(addr);
  std::size_t n = len - offsetof(struct sockaddr_un, sun_path);
  if (n > sizeof un->sun_path) n = sizeof un->sun_path;
  if (!n || un->sun_path[0] == '\0') return nullptr;
  memcpy(buf, un->sun_path, n);
  buf[n] = '\0';
  return buf;
}

}  // namespace

SHIM_EXPORT int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  int rc = REAL(bind)(fd, addr, len);
  if (rc == 0 || errno != ENOENT || !shim_on()) return rc;
  char p[sizeof(sockaddr_un::sun_path) + 1];
  if (!unix_path(addr, len, p)) return rc;
  return on_path(
      __func__, AT_FDCWD, p, Kind::file,
      [&](Target& t) { return ensure_local_parent(t) == 0 ? REAL(bind)(fd, addr, len) : (errno = ENOENT, -1); },
      [&] { return errno = ENOENT, -1; });
}
