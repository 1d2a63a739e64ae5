#include "sync/restore_util.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"
#include "sync/checkpoint.hpp"
#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/store.hpp"
#include "sync/tree.hpp"

namespace fractfs {

RootDir::RootDir(const std::string& root) : fd_(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  if (fd_ < 0) throw StoreError("cannot open the app root " + root + ": " + strerror(errno));
}

RootDir::~RootDir() { ::close(fd_); }

std::string join_rel(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty()) out += '/';
  out += name;
  return out;
}

std::string temp_beside(const std::string& rel) {
  static std::atomic<unsigned> counter{0};
  std::size_t slash = rel.rfind('/');
  std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return fmt::format("{}.{}.fractfs-restore-{}-{}", dir, base.substr(0, 200), ::getpid(), counter++);
}

std::string fetch_object(Store& store, const ObjectId& id, const std::string& for_rel) {
  std::string key = keys::object(id);
  auto data = store.get(key);
  if (!data) throw StoreError(fmt::format("{}/{}: missing (content of '{}')", store.describe(), key, for_rel));
  if (hash_bytes(*data) != id)
    throw FormatError(fmt::format("{}/{}: corrupt, its content does not match its id (content of '{}')",
                                  store.describe(), key, for_rel));
  return std::move(*data);
}

namespace {

struct BundleWalk {
  const SyncEnv& env;
  const std::function<bool(const std::string&)>& known;
  Bundle& out;

  void walk(int dir_fd, const std::string& rel) {
    DIR* d = ::fdopendir(dir_fd);
    if (!d) return (void)::close(dir_fd);
    while (const struct dirent* e = ::readdir(d)) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      std::string child = join_rel(rel, e->d_name);
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      bool is_dir = S_ISDIR(st.st_mode);
      Decision dec = env.resolver.decide(child, is_dir);
      if (is_dir) {
        if (dec.tier == Tier::local_ignored) continue;
        int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) walk(fd, child);
      } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && dec.tier == Tier::local_synced &&
                 dec.rule != Rule::local && !known(child)) {
        out.add(std::move(child));
      }
    }
    ::closedir(d);
  }
};

}  // namespace

Bundle detect_bundle(const SyncEnv& env, const std::function<bool(const std::string&)>& known) {
  Bundle b;
  if (!env.cfg.auto_ignore_bundle) return b;
  int fd = ::open(env.cfg.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) BundleWalk{env, known, b}.walk(fd, "");
  return b;
}

}  // namespace fractfs
