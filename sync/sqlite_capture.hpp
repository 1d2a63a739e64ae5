// SQLite databases, captured consistently with SQLite's own protocol.
//
// A database is recognized by its header ("SQLite format 3"), whatever its
// name. It is read inside a read transaction of a SQLite connection of our
// own (Debian's libsqlite3), opened in the process that checkpoints:
//  - rollback journal: the transaction holds SHARED, so no writer can
//    change the file while it is copied (writers wait, as for any reader);
//  - WAL: the transaction pins a snapshot (a read mark), so no checkpoint
//    can copy frames past it into the database file and the log cannot be
//    restarted; the file, then the -wal, are copied. On restore SQLite's
//    recovery replays the log's committed frames (and ignores a torn tail).
// Our own descriptors on the files stay open until the connection is
// closed: closing one earlier would drop the connection's POSIX locks.
// Our connection leaves the files as it found them (no checkpoint on
// close). Like any reader's, it keeps an app's last close from removing
// the -wal and -shm while it reads: SQLite removes them at a later close.
// Removing them ourselves would take the exclusive lock, and an app that
// opens the database at that moment, without a busy timeout, would fail.
// A database in WAL mode with no -wal file is idle: it is copied without a
// connection (creating one would leave a -wal and -shm behind), checked for
// change after the copy.
//
// Database chunks are 2^kDatabaseChunkShift bytes: a few changed pages cost
// a few small chunks, not 4 MiB ones.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>
#include <vector>

#include "sync/capture.hpp"

namespace fractfs {

inline constexpr unsigned kDatabaseChunkShift = 18;  // 256 KiB

// The open file `fd` (of `st`) begins with SQLite's header.
bool is_sqlite_database(int fd, const struct stat& st) noexcept;

// The files SQLite keeps beside a database "x": "x-wal", "x-shm", "x-journal".
enum class Sidecar { none, wal, shm, journal };
// Which one `rel` is, if the database it names (`*owner`) is one; none otherwise.
Sidecar sqlite_sidecar(int root_fd, std::string_view rel, std::string* owner);

// The database at `rel` and its -wal, as of one moment.
Capture capture_database(const CaptureSource& src, const std::string& rel, std::vector<char>& buf);

}  // namespace fractfs
