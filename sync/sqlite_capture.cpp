#include "sync/sqlite_capture.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <system_error>

#include "sync/sys.hpp"

namespace fractfs {
namespace {

constexpr char kHeader[16] = "SQLite format 3";  // and its NUL
// How long a capture waits for its read lock (a rollback-journal writer
// commits under an exclusive lock) before it gives up until the next
// checkpoint; and how often it tries meanwhile. SQLite's own busy handler
// sleeps up to 100 ms between tries: against a writer that commits back to
// back it would find the lock free too rarely.
constexpr double kBusyFor = 1.0;
constexpr long kBusyPollUs = 200;

int on_busy(void* deadline, int) {
  if (sys::seconds_now() > *static_cast<double*>(deadline)) return 0;
  struct timespec ts {
    0, kBusyPollUs * 1000
  };
  ::nanosleep(&ts, nullptr);
  return 1;
}
constexpr off_t kMinSize = 512;  // the smallest page size

bool has_header(int fd) noexcept {
  char head[sizeof kHeader];
  return sys::pread_full(fd, head, sizeof head, 0) == static_cast<ssize_t>(sizeof head) &&
         memcmp(head, kHeader, sizeof head) == 0;
}

// Header bytes 18 and 19 (write and read format versions) are 2 in WAL mode.
bool wal_mode(int fd) noexcept {
  unsigned char v[2];
  return sys::pread_full(fd, v, sizeof v, 18) == 2 && v[0] == 2 && v[1] == 2;
}

struct Closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, Closer>;

Connection open_connection(const std::string& path, double* deadline, std::string& error) {
  sqlite3* raw = nullptr;
  // Read-write (never written through: query_only) so that SQLite can roll
  // back a hot journal or recover a log, as any client does on open.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close_v2(raw);
    raw = nullptr;
    rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
  }
  Connection db(raw);
  if (rc != SQLITE_OK) {
    error = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return nullptr;
  }
  // Our connection must leave the files as it found them: no checkpoint of
  // the log into the database, nor deletion of the log, when it closes.
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_busy_handler(raw, on_busy, deadline);
  sqlite3_exec(raw, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  return db;
}

// Starts the read transaction: SHARED, or a WAL snapshot.
int begin_read(sqlite3* db) {
  int rc = sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  return rc;
}

// A file of the database as it is now (the transaction holds it still).
// A log shorter than at its stat is used as far as it goes.
bool copy_file(const CaptureSource& src, int fd, std::vector<char>& buf, Entry& e, Capture& out, bool partial_ok) {
  struct stat st;
  if (::fstat(fd, &st) != 0) throw std::system_error(errno, std::generic_category());
  e = Entry{};
  e.chunk_shift = kDatabaseChunkShift;
  auto size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t got = read_chunks(fd, size, src, buf, e, out);
  if (got != size && !partial_ok) return false;
  describe_file(st, e);
  e.size = got;
  return true;
}

// A WAL-mode database with no log: nothing uses it, copied as a file, and
// kept only if nothing (a new log included) appeared meanwhile.
bool copy_idle(const CaptureSource& src, const std::string& rel, int fd, std::vector<char>& buf, Capture& out) {
  struct stat before, after, wal;
  if (::fstat(fd, &before) != 0 || !copy_file(src, fd, buf, out.entry, out, false) || ::fstat(fd, &after) != 0)
    return false;
  bool log_appeared = ::fstatat(src.root_fd, (rel + "-wal").c_str(), &wal, AT_SYMLINK_NOFOLLOW) == 0;
  return !log_appeared && before.st_size == after.st_size && sys::mtime_ns(before) == sys::mtime_ns(after) &&
         sys::ctime_ns(before) == sys::ctime_ns(after);
}

Capture failed(Capture::Outcome o, std::string why) {
  Capture c;
  c.outcome = o;
  c.error = std::move(why);
  c.database = true;
  return c;
}

}  // namespace

bool is_sqlite_database(int fd, const struct stat& st) noexcept {
  return S_ISREG(st.st_mode) && st.st_size >= kMinSize && has_header(fd);
}

Sidecar sqlite_sidecar(int root_fd, std::string_view rel, std::string* owner) {
  Sidecar kind = rel.ends_with("-wal")       ? Sidecar::wal
                 : rel.ends_with("-shm")     ? Sidecar::shm
                 : rel.ends_with("-journal") ? Sidecar::journal
                                             : Sidecar::none;
  if (kind == Sidecar::none) return kind;
  std::string db(rel.substr(0, rel.size() - (kind == Sidecar::journal ? 8 : 4)));
  if (db.empty() || db.back() == '/') return Sidecar::none;
  int fd = open_for_reading(root_fd, db);
  if (fd < 0) return Sidecar::none;
  struct stat st;
  bool is_db = ::fstat(fd, &st) == 0 && is_sqlite_database(fd, st);
  ::close(fd);
  if (!is_db) return Sidecar::none;
  if (owner) *owner = std::move(db);
  return kind;
}

Capture capture_database(const CaptureSource& src, const std::string& rel, std::vector<char>& buf) {
  Capture out;
  out.database = true;
  // Our descriptor on the database is closed after the connection
  // (declared first, destroyed last): see the header.
  sys::Fd db_fd(open_for_reading(src.root_fd, rel));
  if (db_fd.get() < 0)
    return failed(errno == ENOENT ? Capture::Outcome::vanished : Capture::Outcome::unreadable, strerror(errno));
  sys::Fd found_log(open_for_reading(src.root_fd, rel + "-wal"));
  bool no_log = found_log.get() < 0 && errno == ENOENT;
  try {
    if (no_log && wal_mode(db_fd.get()) && copy_idle(src, rel, db_fd.get(), buf, out)) return out;
    std::string error;
    double deadline = sys::seconds_now() + kBusyFor;
    Connection db = open_connection(src.root + "/" + rel, &deadline, error);
    if (!db) return failed(Capture::Outcome::unreadable, "SQLite cannot open it: " + error);
    int rc = begin_read(db.get());
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      return failed(Capture::Outcome::busy, "the database stayed locked (an exclusive lock, or a long write)");
    if (rc != SQLITE_OK)
      return failed(Capture::Outcome::unreadable, std::string("SQLite: ") + sqlite3_errmsg(db.get()));
    // The log as it is now that our snapshot is pinned: it may have been
    // made, or removed and made again, since we looked (SQLite never locks
    // the log, so its descriptor may be closed before the connection).
    bool wal = wal_mode(db_fd.get());
    sys::Fd log_fd(wal ? open_for_reading(src.root_fd, rel + "-wal") : -1);
    if (!copy_file(src, db_fd.get(), buf, out.entry, out, false))
      return failed(Capture::Outcome::unstable, "the database file shrank while its read lock was held");
    if (log_fd.get() >= 0) {
      Entry log;
      copy_file(src, log_fd.get(), buf, log, out, true);
      if (log.size > 0) out.wal = std::move(log);
    }
    sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
    db.reset();
  } catch (const std::system_error& e) {
    return failed(Capture::Outcome::unreadable, e.code().message());
  }
  return out;
}

}  // namespace fractfs
