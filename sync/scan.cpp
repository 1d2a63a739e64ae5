#include "sync/scan.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "resolver/config.hpp"
#include "resolver/path.hpp"
#include "resolver/resolver.hpp"
#include "sync/bundle.hpp"
#include "sync/sqlite_capture.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

constexpr std::size_t kMaxProblems = 20;

std::string parent_of(const std::string& rel) {
  std::size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::size_t depth_of(const std::string& rel) {
  return rel.empty() ? 0 : 1 + static_cast<std::size_t>(std::count(rel.begin(), rel.end(), '/'));
}

std::string join(const std::string& dir, const char* name) { return dir.empty() ? name : dir + "/" + name; }

Entry dir_entry(const struct stat& st) {
  Entry e;
  e.kind = EntryKind::dir;
  e.mode = st.st_mode & 07777;
  e.mtime_ns = sys::mtime_ns(st);
  e.dev = st.st_dev, e.ino = st.st_ino, e.ctime_ns = sys::ctime_ns(st);
  return e;
}

// A root-relative path as the journal gives it: clean and inside the root.
bool well_formed(const std::string& rel) {
  return !rel.empty() && rel.front() != '/' && rel.back() != '/' && rel.find("//") == std::string::npos &&
         !path::has_dotdot(rel) && rel != "." && rel.find("/./") == std::string::npos && !rel.starts_with("./") &&
         !rel.ends_with("/.");
}

}  // namespace

Scanner::Scanner(const SyncEnv& env, Model& model, int root_fd, bool rehash)
    : env_(env), model_(model), root_fd_(root_fd), rehash_(rehash) {}

void Scanner::problem(std::string what) {
  if (problems.size() < kMaxProblems) problems.push_back(std::move(what));
}

bool Scanner::included(const std::string& rel, const struct stat& st) const {
  bool is_dir = S_ISDIR(st.st_mode);
  switch (env_.resolver.decide(rel, is_dir).tier) {
    case Tier::local_synced: return is_dir || !env_.bundle.contains(rel);
    case Tier::remote: return is_dir;  // a local half: holds local files of a [dirs] tree
    default: return false;
  }
}

void Scanner::examine_paths(std::vector<std::string> paths) {
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<std::string> present;
  for (std::string& rel : paths) {
    if (!well_formed(rel)) continue;
    struct stat st;
    if (::fstatat(root_fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      present.push_back(std::move(rel));
    } else if (errno == ENOENT || errno == ENOTDIR) {
      note_vanished(rel);
      gone.push_back(rel);
      refresh_parent(rel);
    } else {
      problem(rel + ": " + strerror(errno));
    }
  }
  for (const std::string& rel : present) examine(rel);
}

void Scanner::note_vanished(const std::string& rel) {
  model_.for_each_below(rel, [&](const std::string&, const Entry& e) {
    if (e.kind == EntryKind::file && e.ino != 0) vanished_.emplace(std::make_pair(e.dev, e.ino), e);
  });
}

void Scanner::walk_all() {
  walking_all_ = true;
  walk("");
}

void Scanner::examine(const std::string& rel) {
  struct stat st;
  if (::fstatat(root_fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) gone.push_back(rel);
    else problem(rel + ": " + strerror(errno));
    return;
  }
  if (!ensure_parents(rel)) return;
  refresh_parent(rel);
  examine_stat(rel, st);
}

void Scanner::examine_stat(const std::string& rel, const struct stat& st) {
  ++examined;
  if (!included(rel, st)) {
    if (model_.find(rel)) gone.push_back(rel);
    return;
  }
  if (S_ISREG(st.st_mode)) return file(rel, st);
  if (S_ISLNK(st.st_mode)) return symlink(rel, st);
  if (!S_ISDIR(st.st_mode)) {  // FIFOs, sockets, devices: not checkpointed
    if (model_.find(rel)) gone.push_back(rel);
    return;
  }
  if (depth_of(rel) > kMaxTreeDepth) {
    problem(rel + ": directories nest deeper than " + std::to_string(kMaxTreeDepth) +
            " levels here; this one and what is below it are not checkpointed");
    if (model_.find(rel)) gone.push_back(rel);
    return;
  }
  const Entry* old = model_.find(rel);
  bool fresh = !old || !old->is_dir() || old->ino != st.st_ino || old->dev != st.st_dev;
  model_.set(rel, dir_entry(st));
  if (walking_all_ || fresh) walk(rel);
}

void Scanner::walk(const std::string& rel) {
  int fd = ::openat(root_fd_, rel.empty() ? "." : rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR* d = fd < 0 ? nullptr : ::fdopendir(fd);
  if (!d) {
    if (fd >= 0) ::close(fd);
    if (errno != ENOENT) problem((rel.empty() ? "." : rel) + ": " + strerror(errno));
    return;
  }
  std::vector<std::string> names;
  while (const struct dirent* e = ::readdir(d)) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    std::string child = join(rel, e->d_name);
    struct stat st;
    if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    names.emplace_back(e->d_name);
    examine_stat(child, st);
  }
  ::closedir(d);
  // What the model has here and the disk no longer does.
  if (const Model::Dir* md = model_.dir(rel)) {
    std::sort(names.begin(), names.end());
    for (const auto& [name, e] : md->entries)
      if (!std::binary_search(names.begin(), names.end(), name)) gone.push_back(join(rel, name.c_str()));
  }
}

// The quick check: as it was when last read, by size, mtime, ctime and inode.
bool Scanner::unchanged(const std::string& rel, const struct stat& st) const {
  const Entry* old = model_.find(rel);
  return old && old->kind == EntryKind::file && !rehash_ && old->size == static_cast<std::uint64_t>(st.st_size) &&
         old->mtime_ns == sys::mtime_ns(st) && old->ino == st.st_ino && old->dev == st.st_dev &&
         old->ctime_ns == sys::ctime_ns(st);
}

// SQLite's files beside a database: the -wal is read with the database (a
// changed log means a changed database), the -shm and -journal never.
bool Scanner::sidecar(const std::string& rel, const struct stat& st) {
  std::string owner;
  Sidecar kind = sqlite_sidecar(root_fd_, rel, &owner);
  if (kind == Sidecar::none) return false;
  struct stat ost;
  bool owner_in = ::fstatat(root_fd_, owner.c_str(), &ost, AT_SYMLINK_NOFOLLOW) == 0 && included(owner, ost);
  if (kind == Sidecar::wal && owner_in) {
    if (!unchanged(rel, st)) to_read.push_back(owner);
  } else if (model_.find(rel)) {
    gone.push_back(rel);
  }
  return true;
}

void Scanner::file(const std::string& rel, const struct stat& st) {
  if (sidecar(rel, st) || unchanged(rel, st)) return;
  auto mtime = sys::mtime_ns(st);
  auto size = static_cast<std::uint64_t>(st.st_size);
  // Renamed here from a path that is gone in this batch: same inode, same
  // data, as far as the quick check can tell.
  auto it = rehash_ ? vanished_.end() : vanished_.find({st.st_dev, st.st_ino});
  if (it != vanished_.end() && it->second.size == size && it->second.mtime_ns == mtime &&
      born_before(rel, it->second.ctime_ns)) {
    Entry e = it->second;
    e.mode = st.st_mode & 07777;
    e.ctime_ns = sys::ctime_ns(st);
    model_.set(rel, std::move(e));
    return;
  }
  to_read.push_back(rel);
}

// A freed inode is handed out again at once, and tools that keep mtimes
// give a new file the old one's size and mtime: only a birth time no later
// than what was recorded proves it is the same file. Unknown: read it.
bool Scanner::born_before(const std::string& rel, std::int64_t ctime_ns) const {
  struct statx sx;
  if (::statx(root_fd_, rel.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) != 0) return false;
  if (!(sx.stx_mask & STATX_BTIME)) return false;
  std::int64_t born = static_cast<std::int64_t>(sx.stx_btime.tv_sec) * 1000000000 + sx.stx_btime.tv_nsec;
  return born <= ctime_ns;
}

void Scanner::symlink(const std::string& rel, const struct stat& st) {
  std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
  ssize_t n = ::readlinkat(root_fd_, rel.c_str(), target.data(), target.size());
  if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
    problem(rel + ": cannot read the link" + (n < 0 ? std::string(": ") + strerror(errno) : std::string()));
    return;
  }
  target.resize(static_cast<std::size_t>(n));
  if (target.empty()) return;
  Entry e;
  e.kind = EntryKind::symlink;
  e.mode = st.st_mode & 07777;
  e.mtime_ns = sys::mtime_ns(st);
  e.size = target.size();
  e.target = std::move(target);
  e.dev = st.st_dev, e.ino = st.st_ino, e.ctime_ns = sys::ctime_ns(st);
  model_.set(rel, std::move(e));
}

// Every directory above `rel` into the model, top down. False when one of
// them is not a checkpointed directory (then neither is `rel`).
bool Scanner::ensure_parents(const std::string& rel) {
  std::string parent = parent_of(rel);
  if (model_.dir(parent)) return true;
  if (depth_of(parent) > kMaxTreeDepth || !ensure_parents(parent)) return false;
  struct stat st;
  if (::fstatat(root_fd_, parent.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
      !included(parent, st))
    return false;
  model_.set(parent, dir_entry(st));
  return true;
}

// A directory's mtime and mode change with what happens in it: refreshed
// once per checkpoint for the parent of every path examined.
void Scanner::refresh_parent(const std::string& rel) {
  std::string parent = parent_of(rel);
  if (parent.empty() || !refreshed_.insert(parent).second) return;
  const Entry* old = model_.find(parent);
  struct stat st;
  if (!old || !old->is_dir() || ::fstatat(root_fd_, parent.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISDIR(st.st_mode))
    return;
  model_.set(parent, dir_entry(st));
}

}  // namespace fractfs
