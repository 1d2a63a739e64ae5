// Process creation: a child must load the library too and find the same
// root, even when the app hands it an environment of its own, and a program
// stored in the remote tier must run. glibc's exec* variants call its
// internal execve, so each is implemented here on top of ours. Memory comes
// from the stack or mmap, never malloc: these may run in a vfork child.
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/envelope.hpp"
#include "shim/half_calls.hpp"
#include "shim/mapping.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

constexpr char kPreload[] = "LD_PRELOAD=";
constexpr char kRoot[] = "FRACTFS_ROOT=";
constexpr char kSnap[] = "FRACTFS_INTERNAL_CONFIG=";

// True if the space- or colon-separated list `list` holds `item`.
bool list_has(const char* list, const char* item) {
  std::size_t n = strlen(item);
  for (const char* p = list; (p = strstr(p, item)); p += n) {
    bool start = p == list || p[-1] == ':' || p[-1] == ' ';
    bool end = p[n] == '\0' || p[n] == ':' || p[n] == ' ';
    if (start && end) return true;
  }
  return false;
}

// An environment with the library preloaded, FRACTFS_ROOT set and the
// configuration snapshot; `envp` itself when it has all three. Unmapped by
// the destructor.
class ChildEnv {
 public:
  explicit ChildEnv(char* const* envp) : env_(const_cast<char**>(envp)) {
    if (!shim_on() || !envp || g_state->lib_path.empty()) return;
    const char* preload = nullptr;
    bool has_root = false, has_snap = g_state->snapshot.empty();
    std::size_t n = 0;
    for (; envp[n]; ++n) {
      if (!strncmp(envp[n], kPreload, sizeof kPreload - 1)) preload = envp[n] + sizeof kPreload - 1;
      if (!strncmp(envp[n], kRoot, sizeof kRoot - 1)) has_root = true;
      if (!strncmp(envp[n], kSnap, sizeof kSnap - 1)) has_snap = true;
    }
    bool has_lib = preload && list_has(preload, g_state->lib_path.c_str());
    if (has_lib && has_root && has_snap) return;
    build(envp, n, has_lib ? nullptr : (preload ? preload : ""), !has_root, !has_snap);
  }
  ~ChildEnv() {
    if (map_) ::munmap(map_, len_);
  }
  ChildEnv(const ChildEnv&) = delete;
  ChildEnv& operator=(const ChildEnv&) = delete;
  char* const* get() const { return env_; }

 private:
  // new_preload: the old LD_PRELOAD value to extend, or nullptr to keep it.
  void build(char* const* envp, std::size_t n, const char* new_preload, bool add_root, bool add_snap) {
    const State& s = *g_state;
    std::size_t strings = (new_preload ? sizeof kPreload + s.lib_path.size() + 1 + strlen(new_preload) : 0) +
                          (add_root ? sizeof kRoot + s.root.size() : 0) +
                          (add_snap ? sizeof kSnap + s.snapshot.size() : 0);
    len_ = (n + 4) * sizeof(char*) + strings;
    void* m = ::mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    map_ = m;
    auto** out = static_cast<char**>(m);
    char* text = reinterpret_cast<char*>(out + n + 4);
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (!new_preload || strncmp(envp[i], kPreload, sizeof kPreload - 1)) out[k++] = envp[i];
    if (new_preload) {
      out[k++] = text;
      text = stpcpy(stpcpy(text, kPreload), s.lib_path.c_str());
      if (*new_preload) text = stpcpy(stpcpy(text, ":"), new_preload);
      ++text;
    }
    if (add_root) {
      out[k++] = text;
      text = stpcpy(stpcpy(text, kRoot), s.root.c_str()) + 1;
    }
    if (add_snap) {
      out[k++] = text;
      text = stpcpy(stpcpy(text, kSnap), s.snapshot.c_str()) + 1;
    }
    out[k] = nullptr;
    env_ = out;
  }

  char** env_;
  void* map_ = nullptr;
  std::size_t len_ = 0;
};

// The physical path of an executable given by path (a remote-tier script);
// null with errno when the remote half could not make it present.
const char* exec_path(int dirfd, const char* path, Target& t) {
  if (!place(dirfd, path, Kind::file, t) || !t.remote()) return path;
  int err = t.half_err ? t.half_err : half::opening(t, O_RDONLY);
  return err ? (errno = err, nullptr) : t.remote_path();
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

namespace {

// Every exec with a path comes here; `where` names the caller's entry.
int exec_at(const char* where, int dirfd, const char* path, char* const argv[], char* const envp[], int flags) {
  auto libc = [&] {
    return dirfd == AT_FDCWD && !flags ? REAL(execve)(path, argv, envp)
                                       : REAL(execveat)(dirfd, path, argv, envp, flags);
  };
  if (!shim_on()) return libc();
  return slow_path(
      where,
      [&] {
        char vb[fractfs::path::kMax], rb[fractfs::path::kMax];  // no pool: may run in a vfork child
        Target t(vb, rb);
        ChildEnv env(envp);
        const char* p = exec_path(dirfd, path, t);
        if (!p) return -1;
        if (dirfd == AT_FDCWD && !flags) return REAL(execve)(p, argv, env.get());
        return REAL(execveat)(p == path ? dirfd : AT_FDCWD, p, argv, env.get(), flags);
      },
      libc);
}

}  // namespace

SHIM_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  return exec_at(__func__, AT_FDCWD, path, argv, envp, 0);
}

namespace {

// What execvp does with a file that is not a binary: run it with /bin/sh.
int exec_script(const char* path, char* const argv[], char* const envp[]) {
  std::size_t argc = 0;
  while (argv[argc]) ++argc;
  auto** args = static_cast<char**>(__builtin_alloca((argc + 2) * sizeof(char*)));
  args[0] = const_cast<char*>("/bin/sh");
  args[1] = const_cast<char*>(path);
  for (std::size_t i = 1; i <= argc; ++i) args[i + 1] = argv[i];
  if (argc == 0) args[2] = nullptr;
  return ::execve("/bin/sh", args, envp);
}

// execvpe's search of PATH, each candidate through our execve (so a program
// in the remote tier is found and run). Error rules as glibc's.
int search_and_exec(const char* file, char* const argv[], char* const envp[]) {
  if (!*file) return errno = ENOENT, -1;
  if (strchr(file, '/')) {
    ::execve(file, argv, envp);
    return errno == ENOEXEC ? exec_script(file, argv, envp) : -1;
  }
  const char* path = ::getenv("PATH");
  if (!path) path = "/bin:/usr/bin";
  bool eacces = false;
  char cand[4096];
  for (const char* p = path;; ++p) {
    const char* end = strchrnul(p, ':');
    std::size_t dl = static_cast<std::size_t>(end - p), fl = strlen(file);
    if (dl + 1 + fl + 1 <= sizeof cand) {
      memcpy(cand, p, dl);
      std::size_t n = dl;
      if (n) cand[n++] = '/';
      memcpy(cand + n, file, fl + 1);
      ::execve(cand, argv, envp);
      if (errno == ENOEXEC) exec_script(cand, argv, envp);
      if (errno == EACCES) eacces = true;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT)
        return -1;
    }
    if (!*end) break;
    p = end;
  }
  if (eacces) errno = EACCES;
  return -1;
}

// The NULL-terminated arguments after `first` as an argv on the stack.
#define COLLECT_ARGS(first, argv_out, envp_out, with_envp)                               \
  std::size_t n_args = 1;                                                                \
  {                                                                                      \
    va_list ap;                                                                          \
    va_start(ap, first);                                                                 \
    while (va_arg(ap, char*)) ++n_args;                                                  \
    va_end(ap);                                                                          \
  }                                                                                      \
  auto** argv_out = static_cast<char**>(__builtin_alloca((n_args + 1) * sizeof(char*))); \
  char* const* envp_out = environ;                                                       \
  {                                                                                      \
    va_list ap;                                                                          \
    va_start(ap, first);                                                                 \
    argv_out[0] = const_cast<char*>(first);                                              \
    for (std::size_t i = 1; i <= n_args; ++i) argv_out[i] = va_arg(ap, char*);           \
    if (with_envp) envp_out = va_arg(ap, char* const*);                                  \
    va_end(ap);                                                                          \
  }

// The PATH search under the guard; libc's own search after a fault.
template <typename Libc>
int search_as(const char* where, const char* file, char* const argv[], char* const envp[], Libc&& libc) {
  if (!shim_on()) return libc();
  return slow_path(
      where, [&] { return search_and_exec(file, argv, envp); }, libc);
}

}  // namespace

SHIM_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return search_as(__func__, file, argv, envp, [&] { return REAL(execvpe)(file, argv, envp); });
}
SHIM_EXPORT int execv(const char* path, char* const argv[]) {
  return exec_at(__func__, AT_FDCWD, path, argv, environ, 0);
}
SHIM_EXPORT int execvp(const char* file, char* const argv[]) {
  return search_as(__func__, file, argv, environ, [&] { return REAL(execvp)(file, argv); });
}
SHIM_EXPORT int execl(const char* path, const char* arg, ...) {
  COLLECT_ARGS(arg, args, envp, false)
  return exec_at(__func__, AT_FDCWD, path, args, envp, 0);
}
SHIM_EXPORT int execle(const char* path, const char* arg, ...) {
  COLLECT_ARGS(arg, args, envp, true)
  return exec_at(__func__, AT_FDCWD, path, args, envp, 0);
}
SHIM_EXPORT int execlp(const char* file, const char* arg, ...) {
  COLLECT_ARGS(arg, args, envp, false)
  return search_as(__func__, file, args, envp, [&] { return REAL(execvp)(file, args); });
}

SHIM_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  auto libc = [&] { return REAL(fexecve)(fd, argv, envp); };
  if (!shim_on()) return libc();
  return slow_path(
      __func__,
      [&] {
        ChildEnv env(envp);
        return REAL(fexecve)(fd, argv, env.get());
      },
      libc);
}

SHIM_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags) {
  return exec_at(__func__, dirfd, path, argv, envp, flags);
}

SHIM_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions,
                            const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  auto libc = [&] { return REAL(posix_spawn)(pid, path, actions, attr, argv, envp); };
  if (!shim_on()) return libc();
  return slow_path(
      __func__,
      [&] {
        char vb[fractfs::path::kMax], rb[fractfs::path::kMax];
        Target t(vb, rb);
        ChildEnv env(envp);
        const char* p = exec_path(AT_FDCWD, path, t);
        return p ? REAL(posix_spawn)(pid, p, actions, attr, argv, env.get()) : errno;
      },
      libc);
}

SHIM_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
                             const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  auto libc = [&] { return REAL(posix_spawnp)(pid, file, actions, attr, argv, envp); };
  if (!shim_on()) return libc();
  return slow_path(
      __func__,
      [&] {
        ChildEnv env(envp);
        return REAL(posix_spawnp)(pid, file, actions, attr, argv, env.get());
      },
      libc);
}
