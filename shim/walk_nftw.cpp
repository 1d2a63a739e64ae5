#include "shim/walk_nftw.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <deque>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "shim/app_calls.hpp"

namespace fractfs::walk {
namespace {

// One walker serves the stat and stat64 entry points by handing a
// struct stat64 to "struct stat" callbacks; that is only sound where the
// two structures are the same bytes (x86_64, and every LP64 glibc target).
#define FRACTFS_SAME_FIELD(f)                                \
  (offsetof(struct stat, f) == offsetof(struct stat64, f) && \
   sizeof(static_cast<struct stat*>(nullptr)->f) == sizeof(static_cast<struct stat64*>(nullptr)->f))
static_assert(sizeof(struct stat) == sizeof(struct stat64) && alignof(struct stat) == alignof(struct stat64) &&
                  FRACTFS_SAME_FIELD(st_dev) && FRACTFS_SAME_FIELD(st_ino) && FRACTFS_SAME_FIELD(st_nlink) &&
                  FRACTFS_SAME_FIELD(st_mode) && FRACTFS_SAME_FIELD(st_uid) && FRACTFS_SAME_FIELD(st_gid) &&
                  FRACTFS_SAME_FIELD(st_rdev) && FRACTFS_SAME_FIELD(st_size) && FRACTFS_SAME_FIELD(st_blksize) &&
                  FRACTFS_SAME_FIELD(st_blocks) && FRACTFS_SAME_FIELD(st_atim) && FRACTFS_SAME_FIELD(st_mtim) &&
                  FRACTFS_SAME_FIELD(st_ctim),
              "struct stat and struct stat64 differ: nftw and nftw64 need two walkers");
#undef FRACTFS_SAME_FIELD

constexpr int kNftwFlags = FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL;

// ftw's callbacks know fewer typeflags: glibc folds the nftw-only ones.
int ftw_typeflag(int flag) {
  switch (flag) {
    case FTW_SL: return FTW_F;
    case FTW_DP: return FTW_D;
    case FTW_SLN: return FTW_NS;
    default: return flag;
  }
}

// The caller's function, whichever of the four signatures it has; exactly
// one member is set. Calling each with its own type avoids glibc's trick of
// calling a 3-argument function through a 4-argument pointer.
struct Callback {
  __ftw_func_t ftw = nullptr;
  __ftw64_func_t ftw64 = nullptr;
  __nftw_func_t nftw = nullptr;
  __nftw64_func_t nftw64 = nullptr;

  int operator()(const char* path, const struct stat64* st, int flag, FTW* info) const {
    const auto* st32 = reinterpret_cast<const struct stat*>(st);
    if (nftw64) return nftw64(path, st, flag, info);
    if (nftw) return nftw(path, st32, flag, info);
    if (ftw64) return ftw64(path, st, ftw_typeflag(flag));
    return ftw(path, st32, ftw_typeflag(flag));
  }
};

bool is_dot_or_dotdot(const char* name) {
  return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

// A directory being read. Its stream may be closed early to give its
// descriptor to a deeper level (nopenfd); the names not read yet are kept,
// so the order of entries never changes.
class Dir {
 public:
  Dir() = default;
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() { close(); }

  bool is_open() const { return stream_ != nullptr; }
  int fd() const { return fd_; }

  void open_path(const char* path) { adopt(APP(opendir)(path)); }

  void open_at(int parent_fd, const char* name) {
    const int fd = APP(openat)(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
    if (fd == -1) return;
    DIR* stream = APP(fdopendir)(fd);
    if (!stream) {
      const int err = errno;  // report fdopendir's failure, not close's
      APP(close)(fd);
      errno = err;
      return;
    }
    adopt(stream);
  }

  // The next name, or nullptr at the end (a read error ends it too, as in glibc).
  const char* next() {
    if (stream_) {
      const dirent64* d = APP(readdir64)(stream_);
      return d ? d->d_name : nullptr;
    }
    return pos_ < rest_.size() ? rest_[pos_++].c_str() : nullptr;
  }

  // Reads what is left into memory and frees the descriptor.
  void spill() {
    for (const dirent64* d; (d = APP(readdir64)(stream_)) != nullptr;) rest_.emplace_back(d->d_name);
    close();
  }

  // Closing must not hide the errno of whatever made the walk stop.
  void close() {
    if (!stream_) return;
    const int err = errno;
    APP(closedir)(stream_);
    errno = err;
    stream_ = nullptr;
    fd_ = -1;
  }

 private:
  void adopt(DIR* stream) {
    stream_ = stream;
    if (stream) fd_ = APP(dirfd)(stream);
  }

  DIR* stream_ = nullptr;
  int fd_ = -1;
  std::vector<std::string> rest_;
  std::size_t pos_ = 0;
};

// FTW_CHDIR: where to return once the walk ends, however it ends.
class CwdKeeper {
 public:
  CwdKeeper() = default;
  CwdKeeper(const CwdKeeper&) = delete;
  CwdKeeper& operator=(const CwdKeeper&) = delete;
  ~CwdKeeper() {
    if (fd_ == -1 && !name_) return;
    const int err = errno;
    // Best effort, as in glibc: the walk's own result stands either way.
    [[maybe_unused]] const int rc = fd_ != -1 ? APP(fchdir)(fd_) : APP(chdir)(name_);
    if (fd_ != -1) APP(close)(fd_);
    ::free(name_);
    errno = err;
  }

  // A descriptor on "." or, when the cwd is searchable but not readable,
  // its name (glibc does the same). False, errno set, when neither works.
  bool save() {
    fd_ = APP(open)(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ != -1) return true;
    if (errno == EACCES) name_ = APP(getcwd)(nullptr, 0);
    return name_ != nullptr;
  }
  bool holds_fd() const { return fd_ != -1; }

 private:
  int fd_ = -1;
  char* name_ = nullptr;
};

class Walker {
 public:
  Walker(Callback cb, int nopenfd, int flags)
      : cb_(cb), flags_(flags), maxdir_(nopenfd < 1 ? 1 : static_cast<std::size_t>(nopenfd)) {}

  int run(const char* start);
  bool callback_threw() const { return callback_threw_; }

 private:
  bool has(int flag) const { return (flags_ & flag) != 0; }
  int call(const struct stat64& st, int flag);
  const char* own_name() const;
  int chdir_to_parent();
  int start_object();
  int walk_dir(const struct stat64& st, const Dir* parent);
  int open_dir(const Dir* parent, Dir& dir);
  void close_dir(Dir& dir);
  void descend();
  void ascend(int previous_base);
  int back_to(const Dir& parent, int result);
  int entry(const Dir& dir, const char* name);
  int classify(const Dir& dir, const char* name, struct stat64& st) const;
  int stat_entry(const Dir& dir, const char* name, struct stat64& st, bool nofollow) const;
  bool keeps_going(int result) const;

  Callback cb_;
  int flags_;
  std::size_t maxdir_;     // directory streams open at once
  std::deque<Dir*> open_;  // those open now, oldest (shallowest) first
  std::string path_;       // what the callback gets; ftw_.base indexes it
  FTW ftw_{};
  dev_t dev_ = 0;                             // the start's device, for FTW_MOUNT
  std::set<std::pair<dev_t, ino64_t>> seen_;  // directories entered (not FTW_PHYS)
  bool callback_threw_ = false;
};

int Walker::call(const struct stat64& st, int flag) {
  try {
    return cb_(path_.c_str(), &st, flag, &ftw_);
  } catch (...) {
    callback_threw_ = true;  // the caller's exception, not ours to turn into ENOMEM
    throw;
  }
}

// Under FTW_CHDIR the cwd is the parent, so the object is named by its last
// component ("." for "/", whose last component is empty).
const char* Walker::own_name() const {
  const char* name = path_.c_str() + ftw_.base;
  return *name ? name : ".";
}

int Walker::chdir_to_parent() {
  if (ftw_.base == 1) return APP(chdir)("/");
  return APP(chdir)(path_.substr(0, ftw_.base - 1).c_str());
}

int Walker::run(const char* start) {
  if (*start == '\0') {
    errno = ENOENT;
    return -1;
  }
  // Trailing slashes go (a lone "/" stays); base is after the last slash.
  path_ = start;
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  const std::size_t slash = path_.rfind('/');
  ftw_.base = slash == std::string::npos ? 0 : static_cast<int>(slash + 1);
  ftw_.level = 0;

  CwdKeeper keeper;
  if (has(FTW_CHDIR)) {
    if (!keeper.save()) return -1;
    if (keeper.holds_fd() && maxdir_ > 1) --maxdir_;  // that descriptor counts against nopenfd
    if (ftw_.base > 0 && chdir_to_parent() != 0) return -1;
  }
  int result = start_object();
  if (has(FTW_ACTIONRETVAL) && (result == FTW_SKIP_SUBTREE || result == FTW_SKIP_SIBLINGS)) result = 0;
  return result;
}

int Walker::start_object() {
  const bool phys = has(FTW_PHYS);
  const char* name = has(FTW_CHDIR) ? own_name() : path_.c_str();
  struct stat64 st {};
  if ((phys ? APP(lstat64)(name, &st) : APP(stat64)(name, &st)) != 0) {
    // A dangling symlink can still be reported; nothing else can.
    if (!phys && errno == ENOENT && APP(lstat64)(name, &st) == 0 && S_ISLNK(st.st_mode)) return call(st, FTW_SLN);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return call(st, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F);
  dev_ = st.st_dev;
  if (!phys) seen_.emplace(st.st_dev, st.st_ino);
  return walk_dir(st, nullptr);
}

// Reports a directory and everything under it. Steps and their order are
// glibc's: FTW_D before entering, the stream closed before FTW_DP (so the
// cwd during FTW_DP is still the directory itself under FTW_CHDIR), the
// return to the parent last.
int Walker::walk_dir(const struct stat64& st, const Dir* parent) {
  Dir dir;
  if (open_dir(parent, dir) != 0) return errno == EACCES ? call(st, FTW_DNR) : -1;
  if (!has(FTW_DEPTH)) {
    if (const int r = call(st, FTW_D); r != 0) {
      close_dir(dir);
      return r;
    }
  }
  if (has(FTW_CHDIR) && APP(fchdir)(dir.fd()) != 0) {
    close_dir(dir);
    return -1;
  }
  const int previous_base = ftw_.base;
  descend();
  int result = 0;
  while (const char* name = dir.next()) {
    if ((result = entry(dir, name)) != 0) break;
  }
  close_dir(dir);
  if (has(FTW_ACTIONRETVAL) && result == FTW_SKIP_SIBLINGS) result = 0;
  ascend(previous_base);
  if (result == 0 && has(FTW_DEPTH)) result = call(st, FTW_DP);
  if (parent && has(FTW_CHDIR) && keeps_going(result)) result = back_to(*parent, result);
  return result;
}

// Keeps at most maxdir_ streams open: past that, the oldest one is read
// into memory and closed. A subdirectory is opened relative to its parent's
// descriptor while the parent has one, else by name.
int Walker::open_dir(const Dir* parent, Dir& dir) {
  if (open_.size() >= maxdir_) {
    open_.front()->spill();
    open_.pop_front();
  }
  if (parent && parent->is_open()) {
    dir.open_at(parent->fd(), path_.c_str() + ftw_.base);
  } else {
    dir.open_path(has(FTW_CHDIR) ? own_name() : path_.c_str());
  }
  if (!dir.is_open()) return -1;
  open_.push_back(&dir);
  return 0;
}

// Streams close in reverse order of opening, so an open one is the newest.
void Walker::close_dir(Dir& dir) {
  if (!dir.is_open()) return;
  dir.close();
  open_.pop_back();
}

void Walker::descend() {
  ++ftw_.level;
  if (path_.back() != '/') path_ += '/';
  ftw_.base = static_cast<int>(path_.size());
}

// Cuts the path back to the directory. For "/" this leaves "" (no slash
// was added to it): glibc reports the root's FTW_DP as "" too.
void Walker::ascend(int previous_base) {
  path_.resize(ftw_.base - 1);
  --ftw_.level;
  ftw_.base = previous_base;
}

// glibc goes back up only while the walk continues, or was merely told to
// skip; after a stop the final restore of the cwd is enough.
bool Walker::keeps_going(int result) const {
  return result == 0 || (has(FTW_ACTIONRETVAL) && result != -1 && result != FTW_STOP);
}

// Back to the parent by its descriptor, else by ".." (which, like glibc's,
// lands elsewhere when the directory was reached through a symlink; it is
// only needed when nopenfd was too small to keep the parent open).
int Walker::back_to(const Dir& parent, int result) {
  if (parent.is_open() && APP(fchdir)(parent.fd()) == 0) return result;
  return APP(chdir)(ftw_.base == 1 ? "/" : "..") == 0 ? result : -1;
}

// One name read from dir. `name` may point into the stream's buffer, which
// a deeper open_dir can free: it is not used once walk_dir starts.
int Walker::entry(const Dir& dir, const char* name) {
  if (is_dot_or_dotdot(name)) return 0;
  path_.resize(ftw_.base);
  path_ += name;
  struct stat64 st {};
  const int flag = classify(dir, name, st);
  if (flag < 0) return -1;
  int result = 0;
  // FTW_MOUNT hides other filesystems; an unstattable entry has no device.
  if (flag == FTW_NS || !has(FTW_MOUNT) || st.st_dev == dev_) {
    if (flag != FTW_D) result = call(st, flag);
    else if (has(FTW_PHYS) || seen_.emplace(st.st_dev, st.st_ino).second)
      result = walk_dir(st, &dir);  // a directory met again via a symlink is skipped silently
  }
  return has(FTW_ACTIONRETVAL) && result == FTW_SKIP_SUBTREE ? 0 : result;
}

// The typeflag glibc gives an entry, or -1 when stat fails otherwise than
// EACCES/ENOENT (ELOOP, ENAMETOOLONG...): glibc ends the whole walk then.
int Walker::classify(const Dir& dir, const char* name, struct stat64& st) const {
  const bool phys = has(FTW_PHYS);
  if (stat_entry(dir, name, st, phys) == 0) return S_ISDIR(st.st_mode) ? FTW_D : S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
  if (errno != EACCES && errno != ENOENT) return -1;
  if (phys) return FTW_NS;
  // Following failed: a dangling symlink is reported with its lstat.
  return stat_entry(dir, name, st, true) == 0 && S_ISLNK(st.st_mode) ? FTW_SLN : FTW_NS;
}

// Relative to the directory's descriptor when it has one (works past
// PATH_MAX), else by name: relative to the cwd under FTW_CHDIR, else the
// whole path.
int Walker::stat_entry(const Dir& dir, const char* name, struct stat64& st, bool nofollow) const {
  if (dir.is_open()) return APP(fstatat64)(dir.fd(), name, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
  const char* path = has(FTW_CHDIR) ? name : path_.c_str();
  return nofollow ? APP(lstat64)(path, &st) : APP(stat64)(path, &st);
}

int walk(const char* dir, Callback cb, int nopenfd, int flags) {
  Walker walker(cb, nopenfd, flags);
  try {
    return walker.run(dir);
  } catch (const std::bad_alloc&) {
    if (walker.callback_threw()) throw;
    errno = ENOMEM;  // glibc's answer when its own allocations fail
    return -1;
  }
}

// The GLIBC_2.3.3 nftw refuses flags it does not know.
bool valid_flags(int flags) {
  if ((flags & ~kNftwFlags) == 0) return true;
  errno = EINVAL;
  return false;
}

}  // namespace

int nftw(const char* dir, __nftw_func_t fn, int nopenfd, int flags) {
  return valid_flags(flags) ? walk(dir, Callback{.nftw = fn}, nopenfd, flags) : -1;
}

int nftw64(const char* dir, __nftw64_func_t fn, int nopenfd, int flags) {
  return valid_flags(flags) ? walk(dir, Callback{.nftw64 = fn}, nopenfd, flags) : -1;
}

int ftw(const char* dir, __ftw_func_t fn, int nopenfd) { return walk(dir, Callback{.ftw = fn}, nopenfd, 0); }

int ftw64(const char* dir, __ftw64_func_t fn, int nopenfd) { return walk(dir, Callback{.ftw64 = fn}, nopenfd, 0); }

}  // namespace fractfs::walk
