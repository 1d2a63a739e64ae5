#include "shim/absent.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "shim/remote_half.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

// openat2 refused: ENOSYS before Linux 5.6, EPERM or ENOSYS from a seccomp
// filter (container runtimes that predate it). Then never tried again.
bool g_refused = false;
// The remote half's directory has a link above it (a remote_root below a
// linked mount point): every probe there would be refused, so none is made.
bool g_remote_linked = false;

// openat2 of `path` without following any link: 0 when something is there
// (O_PATH|O_NOFOLLOW: a link or a socket as the last component is opened as
// itself), else the errno (ENOENT: nothing there, no link on the way;
// ELOOP: a link on the way).
int probe(const char* path) noexcept {
  struct open_how how {};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  long fd = REAL(syscall)(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd >= 0) return ::close(static_cast<int>(fd)), 0;
  if (errno == ENOSYS || errno == EPERM) __atomic_store_n(&g_refused, true, __ATOMIC_RELAXED);
  return errno;
}

bool nothing_there(const char* path) noexcept { return probe(path) == ENOENT; }

// The same in the remote half. A link found may be above the half's
// directory, outside our part of the path: if so, remote probes stop.
bool nothing_there_remote(const char* path) noexcept {
  int err = probe(path);
  if (err == ELOOP && probe(remote_half().dir().c_str()) == ELOOP)
    __atomic_store_n(&g_remote_linked, true, __ATOMIC_RELAXED);
  return err == ENOENT;
}

// An openat2 costs more than an lstat (it takes a file structure before its
// walk): worth it when it saves looks. The slow way makes one lstat per
// directory on the path below the root, and a remote-tier name one more
// look for a socket in the local half.
bool worth_probing(std::string_view rel, int probes, bool remote) noexcept {
  auto looks = static_cast<int>(std::count(rel.begin(), rel.end(), '/')) + (remote ? 1 : 0);
  return probes < looks;
}

}  // namespace

bool surely_absent(const Target& t) noexcept {
  if (__atomic_load_n(&g_refused, __ATOMIC_RELAXED) || t.tail != Tail::none || t.rel.empty()) return false;
  const State& s = *g_state;
  // Outside every [dirs] tree no component has a remote half.
  bool both = t.remote() || s.resolver.dirs_index(t.rel) >= 0;
  if (both && __atomic_load_n(&g_remote_linked, __ATOMIC_RELAXED)) return false;
  if (!worth_probing(t.rel, both ? 2 : 1, t.remote())) return false;
  ErrnoGuard g;
  scratch::Buf buf;
  if (!buf.ok()) return false;
  // From the root's real path: a link above the root is no concern of ours,
  // but RESOLVE_NO_SYMLINKS would refuse it.
  const std::string& root = s.root_real.empty() ? s.root : s.root_real;
  if (!path::join(root, t.rel, buf.get(), buf.size()) || !nothing_there(buf.get())) return false;
  if (!both) return true;
  if (t.remote()) return nothing_there_remote(t.remote_path());
  return s.half->place(t.rel, buf.get(), scratch::Buf::size()) && nothing_there_remote(buf.get());
}

}  // namespace fractfs::shim
