// Switching from the Python package: its checkpoint is a plain copy of the
// local files under REMOTE/CHECKPOINT_SUBDIR/<rel>, beside a
// .fractfs-state.json. When no generation exists yet, restore copies those
// files (same rules: tier, newer local copies kept, nothing outside the
// root, no symlink followed); the first checkpoint then writes fractfs's
// own format beside them and the old files are left alone.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"
#include "sync/progress.hpp"
#include "sync/restore.hpp"
#include "sync/restore_util.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

constexpr const char* kStateFile = ".fractfs-state.json";

std::string legacy_dir(const Config& cfg) { return cfg.remote_root + "/" + cfg.checkpoint_subdir; }

class LegacyRestore {
 public:
  LegacyRestore(const SyncEnv& env, const RestoreOptions& opt, RestoreReport& rep, int root_fd)
      : env_(env), opt_(opt), rep_(rep), root_fd_(root_fd) {}

  void walk(const std::string& src_dir, const std::string& rel) {
    DIR* d = ::opendir(src_dir.c_str());
    if (!d) throw StoreError(fmt::format("cannot read {}: {}", src_dir, strerror(errno)));
    std::vector<std::string> names;
    while (const struct dirent* e = ::readdir(d))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.emplace_back(e->d_name);
    ::closedir(d);
    for (const std::string& name : names) {
      if (rel.empty() && (name == ".fractfs" || name == kStateFile)) continue;
      if (name.find(".tmp-") != std::string::npos) continue;
      entry(src_dir + "/" + name, join_rel(rel, name));
    }
  }

 private:
  void entry(const std::string& src, const std::string& rel) {
    struct stat st;
    if (::lstat(src.c_str(), &st) != 0) return;
    bool is_dir = S_ISDIR(st.st_mode);
    Tier t = env_.resolver.decide(rel, is_dir).tier;
    if (!(t == Tier::local_synced || (is_dir && t == Tier::remote))) {
      ++rep_.skipped;
      return;
    }
    struct stat local;
    bool exists = ::fstatat(root_fd_, rel.c_str(), &local, AT_SYMLINK_NOFOLLOW) == 0;
    if (is_dir) {
      if (exists && !S_ISDIR(local.st_mode)) return (void)++rep_.conflicts;
      if (!exists && !opt_.dry_run && ::mkdirat(root_fd_, rel.c_str(), st.st_mode & 07777) != 0)
        throw StoreError(fmt::format("cannot create {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
      if (!exists) ++rep_.dirs;
      if (exists || !opt_.dry_run) walk(src, rel);
      return;
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return;
    if (exists && (S_ISDIR(local.st_mode) || (sys::mtime_ns(local) > sys::mtime_ns(st) && !opt_.overwrite)))
      return (void)++rep_.kept_newer;
    if (exists && S_ISREG(local.st_mode) && local.st_size == st.st_size && sys::mtime_ns(local) == sys::mtime_ns(st))
      return (void)++rep_.unchanged;
    S_ISLNK(st.st_mode) ? ++rep_.symlinks : ++rep_.files;
    rep_.bytes += static_cast<std::uint64_t>(st.st_size);
    if (opt_.progress) opt_.progress->add(1, static_cast<std::uint64_t>(st.st_size));
    if (!opt_.dry_run) copy(src, rel, st);
  }

  void copy(const std::string& src, const std::string& rel, const struct stat& st) {
    std::string tmp = temp_beside(rel);
    struct timespec times[2] = {st.st_mtim, st.st_mtim};
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
      if (n <= 0) return;
      target.resize(static_cast<std::size_t>(n));
      if (::symlinkat(target.c_str(), root_fd_, tmp.c_str()) != 0) fail("create", rel);
      ::utimensat(root_fd_, tmp.c_str(), times, AT_SYMLINK_NOFOLLOW);
    } else {
      int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (in < 0) throw StoreError(fmt::format("cannot read {}: {}", src, strerror(errno)));
      int out = sys::open_beneath(root_fd_, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      bool ok = out >= 0 && copy_data(in, out) && ::fchmod(out, st.st_mode & 07777) == 0 && ::futimens(out, times) == 0;
      int err = errno;
      ::close(in);
      if (out >= 0) ::close(out);
      if (!ok) {
        ::unlinkat(root_fd_, tmp.c_str(), 0);
        errno = err;
        fail("write", rel);
      }
    }
    if (::renameat(root_fd_, tmp.c_str(), root_fd_, rel.c_str()) != 0) {
      int err = errno;
      ::unlinkat(root_fd_, tmp.c_str(), 0);
      errno = err;
      fail("put in place", rel);
    }
  }

  static bool copy_data(int in, int out) {
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(in, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n == 0;
      if (sys::write_all(out, buf, static_cast<std::size_t>(n)) != 0) return false;
    }
  }

  [[noreturn]] void fail(const char* what, const std::string& rel) const {
    throw StoreError(fmt::format("cannot {} {}/{}: {}", what, env_.cfg.root, rel, strerror(errno)));
  }

  const SyncEnv& env_;
  const RestoreOptions& opt_;
  RestoreReport& rep_;
  int root_fd_;
};

}  // namespace

bool has_legacy_checkpoint(const Config& cfg) {
  if (cfg.passthrough() || cfg.backend != Backend::mount) return false;
  struct stat st;
  return ::stat((legacy_dir(cfg) + "/" + kStateFile).c_str(), &st) == 0 ||
         ::stat((cfg.remote_root + "/" + kStateFile).c_str(), &st) == 0;
}

std::function<bool(const std::string&)> legacy_knows(const Config& cfg) {
  return [dir = legacy_dir(cfg)](const std::string& rel) {
    struct stat st;
    return ::lstat((dir + "/" + rel).c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
  };
}

void restore_legacy(const SyncEnv& env, const RestoreOptions& opt, RestoreReport& rep) {
  rep.legacy = true;
  RootDir root(env.cfg.root);
  LegacyRestore(env, opt, rep, root.fd()).walk(legacy_dir(env.cfg), "");
}

}  // namespace fractfs
