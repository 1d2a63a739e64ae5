// Pieces shared by the restore of a generation and of the Python
// package's checkpoint.
#pragma once

#include <time.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sync/bundle.hpp"
#include "sync/object_id.hpp"

namespace fractfs {

struct SyncEnv;
class Model;
class Store;

// The app root, open for *at calls.
class RootDir {
 public:
  explicit RootDir(const std::string& root);  // throws StoreError
  ~RootDir();
  RootDir(const RootDir&) = delete;
  RootDir& operator=(const RootDir&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string join_rel(std::string_view dir, std::string_view name);
// A hidden, unique name beside `rel` for building it before the rename.
std::string temp_beside(const std::string& rel);
inline struct timespec to_timespec(std::int64_t ns) {
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}
// An object's bytes, checked against its id. Throws when missing or corrupt.
std::string fetch_object(Store& store, const ObjectId& id, const std::string& for_rel);

// Local checkpointable files and symlinks the checkpoint does not know
// (`known` says false), except those an explicit [local] pattern names:
// the deploy bundle.
Bundle detect_bundle(const SyncEnv& env, const std::function<bool(const std::string&)>& known);

}  // namespace fractfs
