#include "sync/fileops.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <new>
#include <vector>

namespace fractfs::fileops {
namespace {

std::string parent_of(const std::string& p) {
  std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

bool write_all(int fd, const char* buf, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    buf += w, n -= static_cast<std::size_t>(w);
  }
  return true;
}

// From offset 0 of `in`, leaving its file offset alone (it may be the
// app's descriptor).
int copy_data(int in, int out) noexcept {
  off_t off = 0;
  for (;;) {
    ssize_t n = ::copy_file_range(in, &off, out, nullptr, 1 << 30, 0);
    if (n == 0) return 0;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) return -1;
    break;  // not supported between these two: plain reads and writes
  }
  // On the heap: neither a thread_local (the library's static TLS is
  // taken from every thread's stack, small ones too) nor the stack.
  constexpr std::size_t kBuf = 1 << 16;
  std::unique_ptr<char[]> buf(new (std::nothrow) char[kBuf]);
  if (!buf) return errno = ENOMEM, -1;
  for (;;) {
    ssize_t n = ::pread(in, buf.get(), kBuf, off);
    if (n == 0) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || !write_all(out, buf.get(), static_cast<std::size_t>(n))) return -1;
    off += n;
  }
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const struct dirent* e = ::readdir(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

// Puts a freshly built `tmp` at `dst`, then removes `src`.
int finish(const std::string& tmp, const std::string& src, const std::string& dst, bool noreplace) {
  int rc = noreplace ? ::link(tmp.c_str(), dst.c_str()) : ::rename(tmp.c_str(), dst.c_str());
  int err = errno;
  if (rc != 0 || noreplace) ::unlink(tmp.c_str());
  if (rc != 0) return errno = err, -1;
  return ::unlink(src.c_str());
}

// Symlinks (recreated with the same target) and fifos, sockets, devices.
int move_special(const std::string& src, const std::string& dst, const struct stat& st, bool noreplace) {
  std::string tmp = temp_name_for(dst);
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
    if (n < 0) return -1;
    target.resize(static_cast<std::size_t>(n));
    if (::symlink(target.c_str(), tmp.c_str()) != 0) return -1;
  } else if (::mknod(tmp.c_str(), st.st_mode, st.st_rdev) != 0) {
    return -1;
  }
  return finish(tmp, src, dst, noreplace);
}

int move_dir(const std::string& src, const std::string& dst, const struct stat& st, bool noreplace) {
  struct stat dst_st;
  if (::lstat(dst.c_str(), &dst_st) == 0) {
    if (noreplace) return errno = EEXIST, -1;
    if (!S_ISDIR(dst_st.st_mode)) return errno = ENOTDIR, -1;
  } else if (::mkdir(dst.c_str(), st.st_mode & 07777) != 0) {
    return -1;
  }
  for (const std::string& name : names_in(src))
    if (move_node(src + "/" + name, dst + "/" + name, false) != 0) return -1;
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
  return ::rmdir(src.c_str());
}

}  // namespace

int make_dirs(const std::string& p, mode_t mode) noexcept {
  // Usually everything exists already: one call says so.
  if (::mkdir(p.c_str(), mode) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return -1;
  std::size_t slash = p.rfind('/');
  if (slash == std::string::npos || slash == 0) return -1;
  if (make_dirs(p.substr(0, slash), mode) != 0) return -1;
  return ::mkdir(p.c_str(), mode) == 0 || errno == EEXIST ? 0 : -1;
}

std::string temp_name_for(const std::string& dst) {
  static std::atomic<unsigned> counter{0};
  std::size_t slash = dst.rfind('/');
  std::string dir = slash == std::string::npos ? "." : dst.substr(0, slash);
  std::string base = slash == std::string::npos ? dst : dst.substr(slash + 1);
  return dir + "/." + base + ".fractfs-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

int fsync_parent(const std::string& p) noexcept {
  int fd = ::open(parent_of(p).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = ::fsync(fd);
  ::close(fd);
  return rc;
}

int copy_fd_into_place(int in, const std::string& dst, bool noreplace) noexcept {
  try {
    struct stat st;
    if (::fstat(in, &st) != 0) return -1;
    std::string tmp = temp_name_for(dst);
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) return -1;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    bool ok = copy_data(in, out) == 0 && ::fchmod(out, st.st_mode & 07777) == 0 && ::futimens(out, times) == 0 &&
              ::fsync(out) == 0;
    int err = errno;
    ::close(out);
    if (ok) {
      ok = noreplace ? ::link(tmp.c_str(), dst.c_str()) == 0 : ::rename(tmp.c_str(), dst.c_str()) == 0;
      err = errno;
    }
    if (!ok || noreplace) ::unlink(tmp.c_str());
    if (!ok) return errno = err, -1;
    fsync_parent(dst);  // the new name must be durable before any source goes
    return 0;
  } catch (const std::bad_alloc&) {
    return errno = ENOMEM, -1;
  }
}

int copy_into_place(const std::string& src, const std::string& dst, bool noreplace) noexcept {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return -1;
  int rc = copy_fd_into_place(in, dst, noreplace);
  int err = errno;
  ::close(in);
  errno = err;
  return rc;
}

int move_node(const std::string& src, const std::string& dst, bool noreplace) noexcept {
  try {
    struct stat st;
    if (::lstat(src.c_str(), &st) != 0) return -1;
    int rc = noreplace ? ::renameat2(AT_FDCWD, src.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE)
                       : ::rename(src.c_str(), dst.c_str());
    if (rc == 0 || errno != EXDEV) return rc;
    if (S_ISREG(st.st_mode)) return copy_into_place(src, dst, noreplace) == 0 ? ::unlink(src.c_str()) : -1;
    if (S_ISDIR(st.st_mode)) return move_dir(src, dst, st, noreplace);
    return move_special(src, dst, st, noreplace);
  } catch (const std::bad_alloc&) {
    return errno = ENOMEM, -1;
  }
}

}  // namespace fractfs::fileops
