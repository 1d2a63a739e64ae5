#include "cli/launch.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "resolver/config_snapshot.hpp"
#include "resolver/path.hpp"
#include "resolver/remote_place.hpp"
#include "resolver/resolver.hpp"

extern char** environ;

namespace fractfs::cli {
namespace {

// Where an install puts the library, relative to the program's directory:
// $(libdir)/fractfs with libdir one of $(exec_prefix)/lib/<multiarch>
// (Debian), lib64 or lib; then the build tree's ../lib and the program's
// own directory. Relative, so any prefix works with no variable set.
#ifndef FRACTFS_MULTIARCH
#define FRACTFS_MULTIARCH ""  // then the same as ../lib/fractfs
#endif
constexpr const char* kLibraryPlaces[] = {"../lib/" FRACTFS_MULTIARCH "/fractfs/libfractfs.so",
                                          "../lib64/fractfs/libfractfs.so", "../lib/fractfs/libfractfs.so",
                                          "../lib/libfractfs.so", "libfractfs.so"};

// This program's directory: /proc/self/exe, else (no /proc mounted, as in
// some chroots) the absolute path it was executed by, links resolved.
std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    return std::string(path::dirname(buf));
  }
  const char* exec_fn = reinterpret_cast<const char*>(::getauxval(AT_EXECFN));
  if (exec_fn && exec_fn[0] == '/' && ::realpath(exec_fn, buf)) return std::string(path::dirname(buf));
  throw std::runtime_error("cannot find where fractfs-run is (is /proc mounted?); set FRACTFS_LIB");
}

bool starts_with_var(const std::string& entry, const char* name) {
  std::size_t n = std::char_traits<char>::length(name);
  return entry.size() > n && entry.compare(0, n, name) == 0 && entry[n] == '=';
}

std::string cwd() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) ? buf : "/";
}

// The physical path of `file` (absolute, or relative to the cwd) by its
// tier; "" when it is not in the remote tier.
std::string remote_file_place(const Config& cfg, const Resolver& r, const std::string& file) {
  std::string abs = path::normalized(cwd(), file);
  auto rel = path::relative_to(cfg.root, abs);
  if (!rel && !cfg.root_real.empty()) rel = path::relative_to(cfg.root_real, abs);
  if (!rel || rel->empty() || r.decide(*rel, false).tier != Tier::remote) return {};
  return remote_place(cfg.remote_root, *rel);
}

bool executable_file(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::string physical_program(const Config& cfg, const std::string& command) {
  if (cfg.passthrough() || cfg.backend != Backend::mount || command.empty()) return command;
  Resolver r(cfg);
  if (command.find('/') != std::string::npos) {
    std::string p = remote_file_place(cfg, r, command);
    return p.empty() ? command : p;
  }
  // execvp's search, each candidate placed by its tier.
  const char* env_path = ::getenv("PATH");
  std::string search = env_path ? env_path : "/bin:/usr/bin";
  for (std::size_t i = 0;;) {
    std::size_t colon = search.find(':', i);
    std::string dir = search.substr(i, colon == std::string::npos ? std::string::npos : colon - i);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + command;
    std::string p = remote_file_place(cfg, r, candidate);
    if (executable_file(p.empty() ? candidate : p)) return p.empty() ? command : p;
    if (colon == std::string::npos) break;
    i = colon + 1;
  }
  return command;
}

std::string find_library() {
  if (const char* lib = ::getenv("FRACTFS_LIB"); lib && *lib) {
    if (::access(lib, R_OK) != 0) throw std::runtime_error(std::string("FRACTFS_LIB: cannot read ") + lib);
    return path::normalized(lib[0] == '/' ? std::string("/") : self_dir(), lib);
  }
  std::string dir = self_dir();
  std::string tried;
  for (const char* rel : kLibraryPlaces) {
    std::string candidate = path::normalized(dir, rel);
    if (::access(candidate.c_str(), R_OK) == 0) return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate;
  }
  throw std::runtime_error("libfractfs.so not found (looked at " + tried + "; set FRACTFS_LIB)");
}

std::vector<std::string> child_environment(const Config& cfg, const std::string& lib) {
  std::vector<std::string> env;
  std::string preload = lib;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    if (starts_with_var(entry, "LD_PRELOAD")) {
      std::string old = entry.substr(sizeof "LD_PRELOAD");
      if (!old.empty() && old != lib) preload += ":" + old;
      continue;
    }
    if (starts_with_var(entry, "FRACTFS_ROOT") || starts_with_var(entry, "UV_USE_IO_URING") ||
        starts_with_var(entry, "FRACTFS_INTERNAL_SAID") || starts_with_var(entry, kSnapshotVar))
      continue;
    env.push_back(std::move(entry));
  }
  env.push_back("LD_PRELOAD=" + preload);
  env.push_back("FRACTFS_ROOT=" + cfg.root);
  env.push_back("UV_USE_IO_URING=0");
  env.push_back("FRACTFS_INTERNAL_SAID=1");
  env.push_back(std::string(kSnapshotVar) + "=" + to_snapshot(cfg));
  return env;
}

}  // namespace fractfs::cli
