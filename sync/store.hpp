// The remote store behind checkpoints: one small interface, so a mount
// point, an S3 bucket or a WebDAV server can stand behind it.
//
// Keys are relative '/'-separated names ("objects/ab/cd…"). put() replaces
// a key atomically (readers see the old bytes or the new, never a mix);
// what was put is durable once flush() returns. Every call may throw
// StoreError, whose message names the store and the key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fractfs {

struct Config;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  virtual ~Store() = default;

  // Where the store is, for messages ("/mnt/durable/app/_checkpoint/.fractfs").
  virtual std::string describe() const = 0;

  // The whole value; nullopt if the key does not exist.
  virtual std::optional<std::string> get(const std::string& key) = 0;
  virtual void put(const std::string& key, std::string_view data) = 0;
  virtual void remove(const std::string& key) = 0;  // an absent key is fine
  // Every key below `prefix` (a "directory" of keys), in no order.
  virtual std::vector<std::string> list(const std::string& prefix) = 0;
  // Makes everything put so far durable.
  virtual void flush() = 0;
  // Removes what puts that never finished left behind (a writer killed
  // mid-upload). Called by the collector's sweep; returns how many.
  virtual std::uint64_t discard_abandoned() { return 0; }
};

// The checkpoint store of a configuration: for the mount backend, the
// directory REMOTE_ROOT/CHECKPOINT_SUBDIR/.fractfs. Throws StoreError.
std::unique_ptr<Store> open_store(const Config& cfg);

// A store on a mounted file system (local disk, NFS, a FUSE mount).
std::unique_ptr<Store> open_mount_store(const std::string& dir);

}  // namespace fractfs
