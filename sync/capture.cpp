#include "sync/capture.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "sync/crash.hpp"
#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/sqlite_capture.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

using sys::Fd;

constexpr int kAttempts = 4;

// Timestamps advance in ticks (a jiffy of at most 10 ms; a second or two
// on some file systems): a same-size rewrite within the tick of a capture
// leaves size, mtime and ctime as they were.
bool racy(std::int64_t mtime_ns, std::int64_t ctime_ns) noexcept {
  constexpr std::int64_t kSecond = 1000000000;
  bool coarse = mtime_ns % kSecond == 0 && ctime_ns % kSecond == 0;
  std::int64_t tick = coarse ? 2 * kSecond : 20000000;
  return sys::now_ns() - std::max(mtime_ns, ctime_ns) < tick;
}

bool same_version(const struct stat& a, const struct stat& b) noexcept {
  return a.st_size == b.st_size && sys::mtime_ns(a) == sys::mtime_ns(b) && sys::ctime_ns(a) == sys::ctime_ns(b);
}

void pause_before(int attempt) noexcept {
  struct timespec ts {
    0, 5000000L * attempt* attempt
  };
  ::nanosleep(&ts, nullptr);
}

// An instant private copy of `fd`'s content (a reflink), as an unnamed file
// in the same directory: -1 where the file system has no reflinks.
int reflink_clone(int root_fd, const std::string& rel, int fd) noexcept {
  std::size_t slash = rel.rfind('/');
  std::string dir = slash == std::string::npos ? "." : rel.substr(0, slash);
  int tmp = ::openat(root_fd, dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (tmp < 0) return -1;
  if (::ioctl(tmp, FICLONE, fd) != 0) {
    ::close(tmp);
    return -1;
  }
  return tmp;
}

// One pass over an open file. False when it changed under us (`out.entry`
// then holds what was read, without a local identity).
bool read_version(int fd, const struct stat& before, const CaptureSource& src, std::vector<char>& buf, Capture& out) {
  Entry& e = out.entry;
  e = Entry{};
  auto size = static_cast<std::uint64_t>(before.st_size);
  std::uint64_t got = read_chunks(fd, size, src, buf, e, out);
  struct stat after;
  if (::fstat(fd, &after) != 0) throw std::system_error(errno, std::generic_category());
  describe_file(after, e);
  e.size = got;
  bool stable = got == size && same_version(before, after);
  if (!stable) e.ino = 0;
  return stable;
}

// The content of a reflink clone of `fd`, with `fd`'s metadata as of the clone.
bool read_clone(const CaptureSource& src, const std::string& rel, int fd, std::vector<char>& buf, Capture& out) {
  Fd clone(reflink_clone(src.root_fd, rel, fd));
  struct stat st, cst;
  if (clone.get() < 0 || ::fstat(fd, &st) != 0 || ::fstat(clone.get(), &cst) != 0) return false;
  Entry& e = out.entry;
  e = Entry{};
  auto size = static_cast<std::uint64_t>(cst.st_size);
  if (read_chunks(clone.get(), size, src, buf, e, out) != size) return false;
  describe_file(st, e);
  e.size = size;
  e.ino = 0;  // the file may have changed since: read it again next time
  out.cloned = true;
  return true;
}

}  // namespace

int open_for_reading(int root_fd, const std::string& rel) noexcept {
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  int fd = ::openat(root_fd, rel.c_str(), flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(root_fd, rel.c_str(), flags);  // not the owner
  return fd;
}

void describe_file(const struct stat& st, Entry& e) noexcept {
  e.kind = EntryKind::file;
  e.mode = st.st_mode & 07777;
  e.mtime_ns = sys::mtime_ns(st);
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.dev = st.st_dev, e.ino = st.st_ino, e.ctime_ns = sys::ctime_ns(st);
  if (racy(e.mtime_ns, e.ctime_ns)) e.ino = 0;
  if (e.size == 0) e.chunk_shift = kChunkShift;  // no chunks to size
}

std::uint64_t read_chunks(int fd, std::uint64_t size, const CaptureSource& src, std::vector<char>& buf, Entry& e,
                          Capture& out) {
  const std::uint64_t chunk = std::uint64_t{1} << e.chunk_shift;
  e.content.clear();
  std::uint64_t off = 0;
  while (off < size) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - off));
    if (buf.size() < want) buf.resize(want);
    ssize_t got = sys::pread_full(fd, buf.data(), want, static_cast<off_t>(off));
    if (got < 0) throw std::system_error(errno, std::generic_category());
    if (got == 0) break;
    auto n = static_cast<std::size_t>(got);
    ObjectId id = hash_bytes(buf.data(), n);
    if (!src.model.stored(id) && src.once.claim(id)) {
      src.store.put(keys::object(id), std::string_view(buf.data(), n));
      ++out.new_objects;
      out.new_bytes += n;
      crash_point("object");
    }
    e.content.push_back(id);
    off += n;
    if (n != want) break;
  }
  return off;
}

Capture capture_file(const CaptureSource& src, const std::string& rel, std::vector<char>& buf) {
  Capture out;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) pause_before(attempt);
    Fd fd(open_for_reading(src.root_fd, rel));
    if (fd.get() < 0) {
      if (errno == ENOENT || errno == ENOTDIR) out.outcome = Capture::Outcome::vanished;
      else if (errno == ELOOP || errno == ENXIO) out.outcome = Capture::Outcome::not_regular;
      else out.outcome = Capture::Outcome::unreadable, out.error = strerror(errno);
      return out;
    }
    try {
      struct stat before;
      if (::fstat(fd.get(), &before) != 0) throw std::system_error(errno, std::generic_category());
      if (!S_ISREG(before.st_mode)) {
        out.outcome = Capture::Outcome::not_regular;
        return out;
      }
      if (attempt == 0 && is_sqlite_database(fd.get(), before)) break;
      if (read_version(fd.get(), before, src, buf, out)) return out;
      if (attempt == 1 && read_clone(src, rel, fd.get(), buf, out)) return out;
    } catch (const std::system_error& e) {
      out.outcome = Capture::Outcome::unreadable;
      out.error = e.code().message();
      return out;
    }
    if (attempt + 1 == kAttempts) {
      out.outcome = Capture::Outcome::unstable;
      return out;
    }
  }
  return capture_database(src, rel, buf);  // our descriptor on it is closed: see sqlite_capture.hpp
}

}  // namespace fractfs
