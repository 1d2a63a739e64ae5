#include "sync/capture.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync/crash.hpp"
#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

constexpr int kAttempts = 4;
// Timestamps advance in ticks (a jiffy of at most 10 ms; a second or two
// on some file systems): a same-size rewrite within the tick of a capture
// leaves size, mtime and ctime as they were. A file captured that soon
// after a change gets no local identity, so the quick check cannot call
// it unchanged next time.
bool racy(std::int64_t mtime_ns, std::int64_t ctime_ns) noexcept {
  constexpr std::int64_t kSecond = 1000000000;
  bool coarse = mtime_ns % kSecond == 0 && ctime_ns % kSecond == 0;
  std::int64_t tick = coarse ? 2 * kSecond : 20000000;
  return sys::now_ns() - std::max(mtime_ns, ctime_ns) < tick;
}

bool same_version(const struct stat& a, const struct stat& b) noexcept {
  return a.st_size == b.st_size && sys::mtime_ns(a) == sys::mtime_ns(b) && sys::ctime_ns(a) == sys::ctime_ns(b);
}

int open_for_reading(int root_fd, const std::string& rel) noexcept {
  // O_NONBLOCK: the path may have become a FIFO since it was examined.
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  int fd = ::openat(root_fd, rel.c_str(), flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(root_fd, rel.c_str(), flags);  // not the owner
  return fd;
}

void pause_before(int attempt) noexcept {
  struct timespec ts{0, 5000000L * attempt * attempt};
  ::nanosleep(&ts, nullptr);
}

// One pass over an open file. False when it changed under us.
bool read_once(int fd, const struct stat& before, const Model& model, Store& store, PutOnce& once,
               std::vector<char>& buf, Capture& out) {
  auto size = static_cast<std::uint64_t>(before.st_size);
  out.entry.content.clear();
  for (std::uint64_t off = 0; off < size; off += kChunkSize) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkSize, size - off));
    if (buf.size() < want) buf.resize(want);
    ssize_t got = sys::pread_full(fd, buf.data(), want, static_cast<off_t>(off));
    if (got < 0) throw std::system_error(errno, std::generic_category());
    if (static_cast<std::size_t>(got) != want) return false;  // shrank
    ObjectId id = hash_bytes(buf.data(), want);
    if (!model.known(id) && once.claim(id)) {
      store.put(keys::object(id), std::string_view(buf.data(), want));
      ++out.new_objects;
      out.new_bytes += want;
      crash_point("object");
    }
    out.entry.content.push_back(id);
  }
  struct stat after;
  if (::fstat(fd, &after) != 0) throw std::system_error(errno, std::generic_category());
  if (!same_version(before, after)) return false;
  Entry& e = out.entry;
  e.kind = EntryKind::file;
  e.mode = after.st_mode & 07777;
  e.mtime_ns = sys::mtime_ns(after);
  e.size = size;
  e.dev = after.st_dev, e.ino = after.st_ino, e.ctime_ns = sys::ctime_ns(after);
  if (racy(e.mtime_ns, e.ctime_ns)) e.ino = 0;
  return true;
}

}  // namespace

Capture capture_file(int root_fd, const std::string& rel, const Model& model, Store& store, PutOnce& once,
                     std::vector<char>& buf) {
  Capture out;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) pause_before(attempt);
    int fd = open_for_reading(root_fd, rel);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) out.outcome = Capture::Outcome::vanished;
      else if (errno == ELOOP || errno == ENXIO) out.outcome = Capture::Outcome::not_regular;
      else out.outcome = Capture::Outcome::unreadable, out.error = strerror(errno);
      return out;
    }
    struct stat before;
    bool done = false;
    try {
      if (::fstat(fd, &before) != 0) throw std::system_error(errno, std::generic_category());
      if (!S_ISREG(before.st_mode)) {
        ::close(fd);
        out.outcome = Capture::Outcome::not_regular;
        return out;
      }
      done = read_once(fd, before, model, store, once, buf, out);
    } catch (const std::system_error& e) {
      ::close(fd);
      out.outcome = Capture::Outcome::unreadable;
      out.error = e.code().message();
      return out;
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    if (done) return out;
  }
  out.outcome = Capture::Outcome::unstable;
  return out;
}

}  // namespace fractfs
