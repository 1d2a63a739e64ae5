// The mount backend: keys are files below a directory. save() writes a
// temporary file and renames it over the key; flush() is one syncfs(2)
// instead of an fsync per object, which would dominate a checkpoint of
// many small files. A pointer is a file too, switched under an flock(2) of
// KEY.tmp-lock (local file systems, NFSv4), and durable when switched; its
// version is the hash of its content.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>
#include <sys/file.h>

#include <atomic>
#include <cstdlib>

#include <fmt/format.h>

#include "sync/fileops.hpp"
#include "sync/object_id.hpp"
#include "sync/skeleton.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

std::atomic<unsigned> g_temp_counter{0};
constexpr std::size_t kBuffer = 1 << 20;

// Temporary files are named KEY.tmp-WRITER-PID-N. WRITER tells this
// machine and pid namespace apart from others sharing the store, so a
// temporary file whose process is gone can be recognized as abandoned.
// Leaked: the holder's final checkpoint runs after static destructors.
const std::string& writer_tag() {
  static const std::string& tag = *new std::string([] {
    char host[256] = {}, ns[64] = {};
    ::gethostname(host, sizeof host - 1);
    (void)!::readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    std::string boot;
    sys::read_file("/proc/sys/kernel/random/boot_id", boot);
    return fmt::format("{:016x}", hash64(std::string(host) + "\n" + ns + "\n" + boot));
  }());
  return tag;
}

// True when the temporary file `name` (a leaf) belongs to no live put.
bool abandoned(std::string_view name, std::int64_t mtime_ns, std::int64_t older_than_s) {
  std::size_t at = name.find(".tmp-");
  if (at == std::string_view::npos || name.ends_with(".tmp-lock")) return false;
  std::string_view rest = name.substr(at + 5);
  long pid = 0;
  if (rest.starts_with(writer_tag()) && rest.size() > 17 && rest[16] == '-') {
    pid = std::strtol(std::string(rest.substr(17)).c_str(), nullptr, 10);
    if (pid == ::getpid()) return false;
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  }
  return sys::now_ns() - mtime_ns > older_than_s * 1000000000;  // another writer's, or an old format
}

std::string version_of(std::string_view value) { return hash_bytes(value).hex(); }

class MountStore final : public Store {
 public:
  // A store on a read-only mount (or not ours to write) can still be read
  // from: a restore works, and each checkpoint fails saying why.
  explicit MountStore(std::string dir) : dir_(std::move(dir)) {
    if (fileops::make_dirs(dir_, 0700) != 0 && errno != EROFS && errno != EACCES) fail("cannot create", "", errno);
  }

  std::string describe() const override { return dir_; }

  Capabilities caps() const override { return {true, true, 8, 0}; }

  bool load(const std::string& key, const Sink& sink, Range range) override {
    int fd = ::open(path(key).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return false;
      fail("cannot read", key, errno);
    }
    struct stat st;
    std::size_t cap =
        ::fstat(fd, &st) == 0
            ? static_cast<std::size_t>(std::min<std::uint64_t>(kBuffer, static_cast<std::uint64_t>(st.st_size) + 1))
            : kBuffer;
    std::unique_ptr<char[]> buf(new char[cap]);
    std::uint64_t pos = range.offset, left = range.length;
    try {
      while (left > 0) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, left));
        ssize_t got = sys::pread_full(fd, buf.get(), want, static_cast<off_t>(pos));
        if (got < 0) fail("cannot read", key, errno);
        if (got > 0) sink(std::string_view(buf.get(), static_cast<std::size_t>(got)));
        if (static_cast<std::size_t>(got) < want) break;
        pos += static_cast<std::uint64_t>(got);
        if (left != Range::kToEnd) left -= static_cast<std::uint64_t>(got);
      }
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return true;
  }

  void save(const std::string& key, const Source& data) override { write_file(key, data, false); }

  std::optional<ObjectInfo> stat(const std::string& key) override {
    struct stat st;
    if (::stat(path(key).c_str(), &st) != 0) {
      if (errno == ENOENT) return std::nullopt;
      fail("cannot stat", key, errno);
    }
    return ObjectInfo{key, static_cast<std::uint64_t>(st.st_size),
                      fmt::format("{:x}-{:x}", sys::mtime_ns(st), st.st_size)};
  }

  std::optional<Pointer> read_pointer(const std::string& key) override {
    auto value = get(key);
    if (!value) return std::nullopt;
    std::string version = version_of(*value);
    return Pointer{std::move(*value), std::move(version)};
  }

  SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                          std::string_view value) override {
    std::string lock_path = path(key) + ".tmp-lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
      if (fileops::make_dirs(parent(lock_path), 0700) != 0) fail("cannot create directory for", key, errno);
      fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    }
    if (fd < 0) fail("cannot lock", key, errno);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int err = errno;
        ::close(fd);
        fail("cannot lock", key, err);
      }
    }
    try {
      std::optional<Pointer> now = read_pointer(key);
      bool matches = expected ? (now && now->version == *expected) : !now;
      SwapResult r{false, now};
      if (matches) {
        write_file(key, BytesSource(value), true);
        r = {true, Pointer{std::string(value), version_of(value)}};
      }
      ::close(fd);  // releases the lock
      return r;
    } catch (...) {
      ::close(fd);
      throw;
    }
  }

  void remove_pointer(const std::string& key) override {
    remove(key);
    ::unlink((path(key) + ".tmp-lock").c_str());
  }

  void remove(const std::string& key) override {
    if (::unlink(path(key).c_str()) != 0 && errno != ENOENT) fail("cannot remove", key, errno);
  }

  void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) override {
    walk_below(prefix, each);
  }

  std::uint64_t discard_abandoned(std::int64_t older_than_s) override {
    std::uint64_t n = 0;
    discard_below(dir_, older_than_s, n);
    return n;
  }

  void flush() override {
    int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("cannot open", "", errno);
    int rc = ::syncfs(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) fail("cannot flush", "", err);
  }

 private:
  std::string path(const std::string& key) const {
    if (key.empty() || key.front() == '/' || key.find("..") != std::string::npos)
      throw StoreError("invalid store key '" + key + "'");
    return dir_ + "/" + key;
  }

  static std::string parent(const std::string& p) { return p.substr(0, p.rfind('/')); }

  // The data into KEY.tmp-…, renamed over the key; fsynced (file and
  // directory) when `durable`, else left to flush().
  void write_file(const std::string& key, const Source& data, bool durable) {
    std::string dst = path(key);
    std::string tmp = fmt::format("{}.tmp-{}-{}-{}", dst, writer_tag(), ::getpid(), g_temp_counter++);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
      if (fileops::make_dirs(parent(dst), 0700) != 0) fail("cannot create directory for", key, errno);
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) fail("cannot create", key, errno);
    int err = 0;
    try {
      err = copy_into(fd, data);
    } catch (...) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw;
    }
    if (err == 0 && durable && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0 && ::rename(tmp.c_str(), dst.c_str()) != 0) err = errno;
    if (err != 0) {
      ::unlink(tmp.c_str());
      fail("cannot write", key, err);
    }
    if (durable) {
      int dfd = ::open(parent(dst).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
  }

  static int copy_into(int fd, const Source& data) {
    if (const std::string_view* whole = data.in_memory()) return sys::write_all(fd, whole->data(), whole->size());
    std::uint64_t size = data.size();
    std::unique_ptr<char[]> buf(new char[static_cast<std::size_t>(std::min<std::uint64_t>(kBuffer, size))]);
    for (std::uint64_t pos = 0; pos < size;) {
      std::size_t got =
          data.read_at(pos, buf.get(), static_cast<std::size_t>(std::min<std::uint64_t>(kBuffer, size - pos)));
      if (got == 0) throw StoreError("the data being stored ended early");
      if (int err = sys::write_all(fd, buf.get(), got)) return err;
      pos += got;
    }
    return 0;
  }

  void walk_below(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) {
    DIR* d = ::opendir(prefix.empty() ? dir_.c_str() : path(prefix).c_str());
    if (!d) {
      if (errno == ENOENT) return;
      fail("cannot list", prefix, errno);
    }
    std::vector<std::string> subdirs, files;
    while (const struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || name.find(".tmp-") != std::string_view::npos) continue;
      std::string key = prefix.empty() ? std::string(name) : prefix + "/" + e->d_name;
      bool dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        dir = ::lstat(path(key).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      (dir ? subdirs : files).push_back(std::move(key));
    }
    ::closedir(d);
    for (const std::string& f : files) {
      struct stat st;
      if (::stat(path(f).c_str(), &st) != 0) continue;  // removed meanwhile
      each(ObjectInfo{f, static_cast<std::uint64_t>(st.st_size), {}, st.st_mtime});
    }
    for (const std::string& s : subdirs) walk_below(s, each);
  }

  void discard_below(const std::string& dir, std::int64_t older_than_s, std::uint64_t& n) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> subdirs;
    while (const struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string p = dir + "/" + e->d_name;
      struct stat st;
      if (::lstat(p.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) subdirs.push_back(std::move(p));
      else if (abandoned(name, sys::mtime_ns(st), older_than_s) && ::unlink(p.c_str()) == 0) ++n;
    }
    ::closedir(d);
    for (const std::string& s : subdirs) discard_below(s, older_than_s, n);
  }

  [[noreturn]] void fail(const char* what, const std::string& key, int err) const {
    throw StoreError(std::string(what) + " " + (key.empty() ? dir_ : dir_ + "/" + key) + ": " + strerror(err));
  }

  std::string dir_;
};

}  // namespace

std::unique_ptr<Store> open_mount_store(const std::string& dir) { return std::make_unique<MountStore>(dir); }

}  // namespace fractfs
