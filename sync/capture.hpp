// Reading one file into the checkpoint: its content in chunks, each hashed
// and stored unless the model already references it. This runs in the
// process that checkpoints (the helper, or fractfs-run), never in an app
// process: closing a descriptor on a file drops every POSIX lock its
// process holds on it.
//
// A file that changes while it is read (size, mtime or ctime differ before
// and after) is read again a few times, then from a reflink clone
// (FICLONE) where the file system has them; if it keeps changing it is
// "unstable", and the caller decides between the previous version and the
// copy as read (Capture::entry). A SQLite database (recognized by its
// header, whatever its name) is read inside a SQLite read transaction,
// together with its -wal (sync/sqlite_capture.hpp).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "sync/tree.hpp"

namespace fractfs {

class Model;
class Store;

struct Capture {
  // busy: a database whose lock could not be had (held exclusively).
  enum class Outcome { ok, vanished, not_regular, unstable, unreadable, busy };
  Outcome outcome = Outcome::ok;
  Entry entry;        // ok: the file as stored; unstable: the last copy read
  std::string error;  // unreadable, busy: why
  std::uint64_t new_objects = 0, new_bytes = 0;
  bool cloned = false;  // read from a reflink clone (it kept changing)
  // A SQLite database: its -wal from the same read transaction (nullopt:
  // it has none, or is not in WAL mode). Its -shm and -journal are never
  // checkpointed: SQLite rebuilds the one, and the other is a transaction's
  // undo log, never needed by a consistent copy.
  bool database = false;
  std::optional<Entry> wal;
};

// Objects put during one checkpoint, shared by its readers, so identical
// content in several files (or chunks) is uploaded once.
class PutOnce {
 public:
  // True for the first caller with `id`; later ones skip the upload.
  bool claim(const ObjectId& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_.insert(id).second;
  }

 private:
  std::mutex mu_;
  std::unordered_set<ObjectId, ObjectIdHash> ids_;
};

// Where captures read from and store to.
struct CaptureSource {
  int root_fd;         // the app root, O_DIRECTORY
  std::string root;    // its path (SQLite opens databases by name)
  const Model& model;  // objects it references are not stored again
  Store& store;
  PutOnce& once;
};

// `rel` below the root; `buf` is the caller's reusable buffer.
Capture capture_file(const CaptureSource& src, const std::string& rel, std::vector<char>& buf);

// ---- shared by the capture of plain files and of databases ----

// Reads up to `size` bytes of `fd` in chunks of 2^e.chunk_shift into
// e.content, storing the chunks the model does not know. Returns the number
// of bytes read (less than `size`: the file shrank).
std::uint64_t read_chunks(int fd, std::uint64_t size, const CaptureSource& src, std::vector<char>& buf, Entry& e,
                          Capture& out);
// Mode, mtime, size and node-local identity from `st`. A file changed
// within a timestamp tick of now gets no identity (ino 0), so the quick
// check cannot call it unchanged next time.
void describe_file(const struct stat& st, Entry& e) noexcept;
// O_RDONLY|O_NOFOLLOW|O_NONBLOCK (it may have become a FIFO), O_NOATIME
// where allowed. -1 with errno.
int open_for_reading(int root_fd, const std::string& rel) noexcept;

}  // namespace fractfs
