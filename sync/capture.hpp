// Reading one file into the checkpoint: its content in chunks of
// kChunkSize, each hashed and stored unless the model already references
// it. A file that changes while it is read (size, mtime or ctime differ
// before and after) is read again, a few times; then it is "unstable" and
// the caller keeps its previous version.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "sync/tree.hpp"

namespace fractfs {

class Model;
class Store;

struct Capture {
  enum class Outcome { ok, vanished, not_regular, unstable, unreadable };
  Outcome outcome = Outcome::ok;
  Entry entry;          // ok: the file as stored
  std::string error;    // unreadable: why
  std::uint64_t new_objects = 0, new_bytes = 0;
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

// `rel` below `root_fd`; `buf` is the caller's reusable buffer.
Capture capture_file(int root_fd, const std::string& rel, const Model& model, Store& store, PutOnce& once,
                     std::vector<char>& buf);

}  // namespace fractfs
