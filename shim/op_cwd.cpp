// chdir, fchdir, getcwd and realpath. The cwd is always a natural path (a
// union directory's local half), so getcwd needs no rewriting; realpath of
// a remote-tier path is computed on the remote side and mapped back.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shim/cwd.hpp"
#include "shim/envelope.hpp"
#include "shim/fd_table.hpp"
#include "shim/fs_ops.hpp"
#include "shim/guard.hpp"
#include "shim/real.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "shim/symlinks.hpp"

namespace fractfs::shim {
namespace {

int chdir_placed(Target& t) {
  if (t.remote() && materialize(t) != 0) return -1;
  int rc = REAL(chdir)(t.remote() ? t.natural() : t.at_path());
  // The kernel's word is final (symlinks may differ from a lexical path).
  if (rc == 0) cwd::invalidate();
  return rc;
}

// realpath(remote_root), looked up once, when first needed. Leaked: app
// threads may call realpath while static destructors run at exit.
const std::string& remote_real() {
  static const std::string& real = *new std::string([] {
    char buf[PATH_MAX];
    const std::string& rr = remote_half().dir();
    return std::string(REAL(realpath)(rr.c_str(), buf) ? buf : rr.c_str());
  }());
  return real;
}

// A remote-store path as the app must see it: under the root.
char* map_back(const char* real_result, char* resolved) {
  const State& s = *g_state;
  std::string_view r(real_result);
  std::string out(r);
  if (auto rest = path::relative_to(remote_real(), r)) {
    const std::string& root = s.root_real.empty() ? s.root : s.root_real;
    out = rest->empty() ? root : root + "/" + std::string(*rest);
  }
  if (!resolved) return strdup(out.c_str());
  if (out.size() >= PATH_MAX) return errno = ENAMETOOLONG, nullptr;
  memcpy(resolved, out.c_str(), out.size() + 1);
  return resolved;
}

template <typename Real>
char* realpath_impl(const char* where, const char* path, char* resolved, Real&& real) {
  return on_path(
      where, AT_FDCWD, path, Kind::unknown,
      [&](Target& t) -> char* {
        if (t.passes()) return real(path, resolved);
        if (!t.remote()) return real(t.natural(), resolved);
        char buf[PATH_MAX];
        if (!real(t.remote_path(), buf)) return nullptr;
        return map_back(buf, resolved);
      },
      [&] { return real(path, resolved); });
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int chdir(const char* path) {
  // Not ours, or a fault: libc's, and the cwd is learned again.
  auto pass = [&] {
    int rc = REAL(chdir)(path);
    if (rc == 0 && shim_on()) cwd::invalidate();
    return rc;
  };
  return on_path(
      __func__, AT_FDCWD, path, Kind::dir,
      [&](Target& t) { return with_relink(t, Kind::dir, true, [&] { return chdir_placed(t); }); }, pass);
}

// A descriptor for a remote-tier directory may be its remote half: the
// cwd goes to the local half, so it stays a natural path.
SHIM_EXPORT int fchdir(int fd) {
  if (!shim_on()) return REAL(fchdir)(fd);
  return slow_path(
      __func__,
      [&] {
        scratch::Buf vb;
        char* v = vb.get();
        std::uint32_t flags = 0;
        std::ptrdiff_t n = v ? fd_table::get(fd, v, fractfs::path::kMax, &flags) : -1;
        if (n >= 0 && (flags & fd_table::remote_half)) {
          Target t;
          if (place(AT_FDCWD, v, Kind::dir, t) && t.remote() && kind_at(t.remote_path()) == 'd' &&
              materialize(t) == 0) {
            int rc = REAL(chdir)(t.natural());
            if (rc == 0) cwd::set(t.vpath);
            return rc;
          }
        }
        int rc = REAL(fchdir)(fd);
        if (rc != 0) return rc;
        if (n >= 0) cwd::set(std::string_view(v, static_cast<std::size_t>(n)));
        else cwd::invalidate();
        return rc;
      },
      [&] {
        int rc = REAL(fchdir)(fd);
        if (rc == 0) cwd::invalidate();
        return rc;
      });
}

// The kernel already answers with the natural path; take the chance to
// refresh our copy if it is stale.
SHIM_EXPORT char* getcwd(char* buf, size_t size) {
  char* r = REAL(getcwd)(buf, size);
  if (!r || !shim_on()) return r;
  return slow_path(
      __func__,
      [&] {
        if (cwd::relation() == cwd::Relation::stale) cwd::set(r);
        return r;
      },
      [&] {
        cwd::invalidate();
        return r;
      });
}

SHIM_EXPORT char* realpath(const char* path, char* resolved) {
  return realpath_impl(__func__, path, resolved, [](const char* p, char* out) { return REAL(realpath)(p, out); });
}
SHIM_EXPORT char* __realpath_chk(const char* path, char* resolved, size_t resolvedlen) {
  return realpath_impl(__func__, path, resolved,
                       [&](const char* p, char* out) { return REAL(__realpath_chk)(p, out, resolvedlen); });
}
SHIM_EXPORT char* canonicalize_file_name(const char* path) {
  return realpath_impl(__func__, path, nullptr, [](const char* p, char* out) {
    return out ? REAL(realpath)(p, out) : REAL(canonicalize_file_name)(p);
  });
}
