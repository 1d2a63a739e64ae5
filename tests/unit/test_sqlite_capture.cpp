// SQLite databases captured with SQLite's own locks (sync/sqlite_capture).
// The writers run in child processes: POSIX locks are per process, and a
// capture in the writer's own process would drop them when it closes its
// descriptors (the very reason captures run in the helper process).
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <catch2/catch.hpp>

#include "sync/capture.hpp"
#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/sqlite_capture.hpp"
#include "tests/unit/sync_fixture.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error(sql + ": " + msg);
  }
}

sqlite3* open_db(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("open " + path);
  return db;
}

long count_rows(const std::string& path, std::string* integrity = nullptr) {
  sqlite3* db = open_db(path);
  sqlite3_stmt* st = nullptr;
  long n = -1;
  if (integrity && sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    *integrity = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// A writer in a child process: runs `setup` on its own connection, says
// so on a pipe, and holds on (connection, locks) until told to go.
class Writer {
 public:
  explicit Writer(const std::string& path, const std::function<void(sqlite3*)>& setup) {
    int up[2], down[2];
    REQUIRE(::pipe(up) == 0);
    REQUIRE(::pipe(down) == 0);
    std::fflush(nullptr);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(up[0]);
      ::close(down[1]);
      try {
        sqlite3* db = open_db(path);
        setup(db);
        (void)!::write(up[1], "k", 1);
        char c;
        (void)!::read(down[0], &c, 1);
        sqlite3_close(db);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    ::close(up[1]);
    ::close(down[0]);
    go_ = down[1];
    char c = 0;
    REQUIRE(::read(up[0], &c, 1) == 1);
    ::close(up[0]);
  }
  ~Writer() { finish(); }
  void finish() {
    if (go_ < 0) return;
    ::close(go_);
    go_ = -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

struct DbRoot {
  TempDir root;
  MemStore store;
  Model model;
  PutOnce once;
  int fd;
  DbRoot() : fd(::open(root.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {}
  ~DbRoot() { ::close(fd); }
  CaptureSource src() { return CaptureSource{fd, root.path(), model, store, once}; }
  Capture capture(const std::string& rel) {
    std::vector<char> buf;
    return capture_file(src(), rel, buf);
  }
  // Writes what `e` names from the store to `path`.
  void materialize(const Entry& e, const std::string& path) {
    std::string data;
    for (const ObjectId& id : e.content) data += *store.get(keys::object(id));
    REQUIRE(data.size() == e.size);
    std::ofstream(path, std::ios::binary) << data;
  }
};

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename());
  return out;
}

}  // namespace

TEST_CASE("sqlite capture: recognized by its header, whatever its name", "[sqlite]") {
  DbRoot s;
  sqlite3* db = open_db(s.root / "data.bin");
  exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  sqlite3_close(db);
  s.root.write("notes.txt", std::string(4096, 'x'));
  s.root.write("short.db", "SQLite format 3");
  int fd = ::open((s.root / "data.bin").c_str(), O_RDONLY);
  struct stat st;
  REQUIRE(::fstat(fd, &st) == 0);
  CHECK(is_sqlite_database(fd, st));
  ::close(fd);
  std::string owner;
  CHECK(sqlite_sidecar(s.fd, "data.bin-wal", &owner) == Sidecar::wal);
  CHECK(owner == "data.bin");
  CHECK(sqlite_sidecar(s.fd, "data.bin-shm", nullptr) == Sidecar::shm);
  CHECK(sqlite_sidecar(s.fd, "data.bin-journal", nullptr) == Sidecar::journal);
  CHECK(sqlite_sidecar(s.fd, "notes.txt-wal", nullptr) == Sidecar::none);  // not a database
  CHECK(sqlite_sidecar(s.fd, "short.db-journal", nullptr) == Sidecar::none);
  CHECK(sqlite_sidecar(s.fd, "missing-wal", nullptr) == Sidecar::none);
  CHECK(sqlite_sidecar(s.fd, "-wal", nullptr) == Sidecar::none);
  Capture c = s.capture("data.bin");
  CHECK(c.outcome == Capture::Outcome::ok);
  CHECK(c.database);
  CHECK(c.entry.chunk_shift == kDatabaseChunkShift);
  Capture plain = s.capture("notes.txt");
  CHECK_FALSE(plain.database);
  CHECK(plain.entry.chunk_shift == kChunkShift);
}

TEST_CASE("sqlite capture: a WAL database with frames not yet in the file", "[sqlite]") {
  DbRoot s;
  std::string path = s.root / "app.sqlite";
  Writer w(path, [](sqlite3* db) {
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t(n INTEGER PRIMARY KEY, v BLOB)");
    for (int i = 0; i < 300; ++i) exec(db, "INSERT INTO t(v) VALUES (randomblob(500))");
  });
  Capture c = s.capture("app.sqlite");
  REQUIRE(c.outcome == Capture::Outcome::ok);
  REQUIRE(c.wal);  // the rows are in the log only
  CHECK(c.wal->chunk_shift == kDatabaseChunkShift);
  TempDir out;
  s.materialize(c.entry, out / "app.sqlite");
  s.materialize(*c.wal, out / "app.sqlite-wal");
  std::string ok;
  CHECK(count_rows(out / "app.sqlite", &ok) == 300);
  CHECK(ok == "ok");
  w.finish();
}

TEST_CASE("sqlite capture: a rollback-journal database while a writer holds its write lock", "[sqlite]") {
  DbRoot s;
  std::string path = s.root / "app.sqlite";
  {
    sqlite3* db = open_db(path);
    exec(db, "CREATE TABLE t(n INTEGER PRIMARY KEY, v BLOB)");
    for (int i = 0; i < 50; ++i) exec(db, "INSERT INTO t(v) VALUES (randomblob(900))");
    sqlite3_close(db);
  }
  // Uncommitted: in the writer's cache (RESERVED lets readers in), never in
  // a capture. (A writer whose cache spills takes the exclusive lock early:
  // then a capture is busy, as in the test below.)
  Writer w(path, [](sqlite3* db) {
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < 20; ++i) exec(db, "INSERT INTO t(v) VALUES (randomblob(900))");
  });
  Capture c = s.capture("app.sqlite");
  REQUIRE(c.outcome == Capture::Outcome::ok);
  CHECK_FALSE(c.wal);
  TempDir out;
  s.materialize(c.entry, out / "app.sqlite");
  std::string ok;
  CHECK(count_rows(out / "app.sqlite", &ok) == 50);
  CHECK(ok == "ok");
}

TEST_CASE("sqlite capture: an idle WAL-mode database leaves no -wal or -shm behind", "[sqlite]") {
  DbRoot s;
  std::string path = s.root / "idle.sqlite";
  {
    sqlite3* db = open_db(path);
    exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(n); INSERT INTO t VALUES (1), (2), (3)");
    sqlite3_close(db);  // the last connection checkpoints and deletes the log
  }
  auto before = names_in(s.root.path());
  REQUIRE(before == std::set<std::string>{"idle.sqlite"});
  Capture c = s.capture("idle.sqlite");
  REQUIRE(c.outcome == Capture::Outcome::ok);
  CHECK_FALSE(c.wal);
  CHECK(names_in(s.root.path()) == before);
  TempDir out;
  s.materialize(c.entry, out / "idle.sqlite");
  CHECK(count_rows(out / "idle.sqlite") == 3);
}

TEST_CASE("sqlite capture: a database held exclusively is busy, not copied", "[sqlite]") {
  DbRoot s;
  std::string path = s.root / "locked.sqlite";
  Writer w(path,
           [](sqlite3* db) { exec(db, "PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE t(n); INSERT INTO t VALUES (1)"); });
  auto t0 = std::chrono::steady_clock::now();
  Capture c = s.capture("locked.sqlite");
  CHECK(c.outcome == Capture::Outcome::busy);
  CHECK(c.database);
  CHECK_THAT(c.error, Catch::Matchers::Contains("locked"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}
