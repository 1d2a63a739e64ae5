// The mount backend: keys are files below a directory. put() writes a
// temporary file and renames it over the key; flush() is one syncfs(2)
// instead of an fsync per object, which would dominate a checkpoint of
// many small files.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <cstdlib>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "sync/object_id.hpp"
#include "sync/fileops.hpp"
#include "sync/skeleton.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

std::atomic<unsigned> g_temp_counter{0};
constexpr std::int64_t kAbandonedAfterNs = 3600LL * 1000000000;

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
bool abandoned(std::string_view name, std::int64_t mtime_ns) {
  std::size_t at = name.find(".tmp-");
  if (at == std::string_view::npos) return false;
  std::string_view rest = name.substr(at + 5);
  long pid = 0;
  if (rest.starts_with(writer_tag()) && rest.size() > 17 && rest[16] == '-') {
    pid = std::strtol(std::string(rest.substr(17)).c_str(), nullptr, 10);
    if (pid == ::getpid()) return false;
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  }
  return sys::now_ns() - mtime_ns > kAbandonedAfterNs;  // another writer's, or an old format
}

class MountStore final : public Store {
 public:
  // A store on a read-only mount (or not ours to write) can still be read
  // from: a restore works, and each checkpoint fails saying why.
  explicit MountStore(std::string dir) : dir_(std::move(dir)) {
    if (fileops::make_dirs(dir_, 0700) != 0 && errno != EROFS && errno != EACCES) fail("cannot create", "", errno);
  }

  std::string describe() const override { return dir_; }

  std::optional<std::string> get(const std::string& key) override {
    std::string out;
    int rc = sys::read_file(path(key), out);
    if (rc == ENOENT) return std::nullopt;
    if (rc != 0) fail("cannot read", key, rc);
    return out;
  }

  void put(const std::string& key, std::string_view data) override {
    std::string dst = path(key);
    std::string tmp = fmt::format("{}.tmp-{}-{}-{}", dst, writer_tag(), ::getpid(), g_temp_counter++);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
      if (fileops::make_dirs(parent(dst), 0700) != 0) fail("cannot create directory for", key, errno);
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) fail("cannot create", key, errno);
    int err = sys::write_all(fd, data.data(), data.size());
    if (::close(fd) != 0 && err == 0) err = errno;
    if (err == 0 && ::rename(tmp.c_str(), dst.c_str()) != 0) err = errno;
    if (err != 0) {
      ::unlink(tmp.c_str());
      fail("cannot write", key, err);
    }
  }

  void remove(const std::string& key) override {
    if (::unlink(path(key).c_str()) != 0 && errno != ENOENT) fail("cannot remove", key, errno);
  }

  std::vector<std::string> list(const std::string& prefix) override {
    std::vector<std::string> keys;
    list_into(prefix, keys);
    return keys;
  }

  std::uint64_t discard_abandoned() override {
    std::uint64_t n = 0;
    discard_below(dir_, n);
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

  void list_into(const std::string& prefix, std::vector<std::string>& keys) {
    DIR* d = ::opendir(path(prefix).c_str());
    if (!d) {
      if (errno == ENOENT) return;
      fail("cannot list", prefix, errno);
    }
    std::vector<std::string> subdirs;
    while (const struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || name.find(".tmp-") != std::string_view::npos) continue;
      std::string key = prefix + "/" + e->d_name;
      bool dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        dir = ::lstat(path(key).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      (dir ? subdirs : keys).push_back(std::move(key));
    }
    ::closedir(d);
    for (const std::string& s : subdirs) list_into(s, keys);
  }

  void discard_below(const std::string& dir, std::uint64_t& n) {
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
      else if (abandoned(name, sys::mtime_ns(st)) && ::unlink(p.c_str()) == 0) ++n;
    }
    ::closedir(d);
    for (const std::string& s : subdirs) discard_below(s, n);
  }

  [[noreturn]] void fail(const char* what, const std::string& key, int err) const {
    throw StoreError(std::string(what) + " " + (key.empty() ? dir_ : dir_ + "/" + key) + ": " + strerror(err));
  }

  std::string dir_;
};

}  // namespace

std::unique_ptr<Store> open_mount_store(const std::string& dir) { return std::make_unique<MountStore>(dir); }

std::unique_ptr<Store> open_store(const Config& cfg) {
  if (cfg.passthrough()) throw StoreError("no remote_root is configured: there is no checkpoint store");
  if (cfg.backend != Backend::mount)
    throw StoreError("backend '" + std::string(backend_name(cfg.backend)) + "' is not available in this build");
  require_remote_root(cfg);  // never created here: see sync/skeleton.hpp
  return open_mount_store(cfg.remote_root + "/" + cfg.checkpoint_subdir + "/.fractfs");
}

}  // namespace fractfs
