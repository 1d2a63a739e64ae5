#include "cli/tier_count.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "resolver/remote_place.hpp"
#include "sync/engine.hpp"

namespace fractfs::cli {
namespace {

std::string join(const std::string& dir, const char* name) { return dir.empty() ? name : dir + "/" + name; }

// Calls fn(rel, stat, under_ignored) for every non-directory below dir_fd
// (which it closes). `under_ignored`: below an ignored directory, where
// nothing can be re-included and no decision is needed.
template <typename Fn>
void walk(int dir_fd, const std::string& rel, Fn&& fn, bool under_ignored, const Engine& engine) {
  DIR* d = ::fdopendir(dir_fd);
  if (!d) return (void)::close(dir_fd);
  while (const struct dirent* e = ::readdir(d)) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string child = join(rel, e->d_name);
    if (!S_ISDIR(st.st_mode)) {
      fn(child, st, under_ignored);
      continue;
    }
    bool ignored = under_ignored || engine.resolver().decide(child, true).tier == Tier::local_ignored;
    int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) walk(fd, child, fn, ignored, engine);
  }
  ::closedir(d);
}

void add(TierCounts::Tally& t, const struct stat& st) {
  ++t.files;
  if (S_ISREG(st.st_mode)) t.bytes += static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

TierCounts count_tiers(const Engine& engine) {
  TierCounts c;
  const Config& cfg = engine.cfg();
  int fd = ::open(cfg.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    walk(
        fd, "",
        [&](const std::string& rel, const struct stat& st, bool under_ignored) {
          if (under_ignored) return add(c.local_ignored, st);
          switch (engine.resolver().decide(rel, false).tier) {
            case Tier::local_ignored: return add(c.local_ignored, st);
            case Tier::local_synced: return add(engine.bundle().contains(rel) ? c.bundle : c.local_synced, st);
            default: return;  // a remote-tier file left in a local half: adoption moves it
          }
        },
        false, engine);
  }
  for (const std::string& d : engine.resolver().dirs()) {
    int rfd = ::open(remote_place(cfg.remote_root, d).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd >= 0)
      walk(
          rfd, d, [&](const std::string&, const struct stat& st, bool) { add(c.remote, st); }, false, engine);
  }
  return c;
}

}  // namespace fractfs::cli
