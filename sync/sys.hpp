// Small system-call helpers for the sync engine: whole reads and writes
// that retry on EINTR and short counts, and atomic replacement of small
// local files. They return 0 or an errno value rather than throwing, so
// callers decide how loud a failure is.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fractfs::sys {

int write_all(int fd, const void* buf, std::size_t n) noexcept;
// Reads up to n bytes at `off`, stopping early only at end of file.
// Returns the count, or -1 with errno.
ssize_t pread_full(int fd, void* buf, std::size_t n, off_t off) noexcept;
// The whole file at `path` into `out`: 0, or an errno value.
int read_file(const std::string& path, std::string& out);
// Replaces `path` with `data` through a temporary file and rename(2),
// fsync'ed when `durable`: 0, or an errno value.
int write_file(const std::string& path, std::string_view data, bool durable, mode_t mode = 0600);

inline std::int64_t mtime_ns(const struct stat& st) noexcept {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}
inline std::int64_t ctime_ns(const struct stat& st) noexcept {
  return static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
}

// openat(2) of `rel` below `dir_fd` that follows no symlink and cannot
// leave the directory (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS;
// on kernels without it, O_NOFOLLOW on the last component).
int open_beneath(int dir_fd, const std::string& rel, int flags, mode_t mode = 0) noexcept;

// A descriptor closed when the object dies.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// Wall-clock time in nanoseconds since the epoch.
std::int64_t now_ns() noexcept;
// A steady clock in seconds, for durations.
double seconds_now() noexcept;
// "2026-11-21T20:14:03Z" for a time in nanoseconds since the epoch.
std::string utc_time(std::int64_t ns);

}  // namespace fractfs::sys
