// The remote store behind checkpoints: one small interface, so a mount
// point, an S3 bucket or a WebDAV server can stand behind it (after
// restic's backend: few calls, stated capabilities).
//
// Keys are relative '/'-separated names ("objects/ab/cd…"). save() replaces
// a key atomically where caps().atomic_replace says so (readers see the old
// bytes or the new, never a mix); what was saved is durable once flush()
// returns. Bytes stream through Source and Sink: nothing holds a whole
// object in memory. Every call is thread-safe (run up to caps().max_parallel
// at once: see for_each_parallel) and may throw StoreError, whose message
// names the store and the key and, when it is the user's to fix, how.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
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

// Bytes to upload: a size known up front and reads at any offset, so a
// retry reads again and the parts of a multipart upload read in parallel.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::uint64_t size() const = 0;
  // Up to n bytes at `offset` into buf; fewer only at the end. Throws StoreError.
  virtual std::size_t read_at(std::uint64_t offset, char* buf, std::size_t n) const = 0;
  // All of it, when it is in memory already (saves a copy).
  virtual const std::string_view* in_memory() const { return nullptr; }
};

class BytesSource final : public Source {
 public:
  explicit BytesSource(std::string_view data) : data_(data) {}
  std::uint64_t size() const override { return data_.size(); }
  std::size_t read_at(std::uint64_t offset, char* buf, std::size_t n) const override;
  const std::string_view* in_memory() const override { return &data_; }

 private:
  std::string_view data_;
};

// `length` bytes of an open file from `offset` (pread: the descriptor's
// position is not used, so parts can be read at once). Does not own fd.
class FileSource final : public Source {
 public:
  FileSource(int fd, std::uint64_t offset, std::uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
  std::uint64_t size() const override { return length_; }
  std::size_t read_at(std::uint64_t offset, char* buf, std::size_t n) const override;

 private:
  int fd_;
  std::uint64_t offset_, length_;
};

// Where downloaded bytes go, in order. Throwing from it aborts the transfer.
using Sink = std::function<void(std::string_view)>;

struct Range {
  static constexpr std::uint64_t kToEnd = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t offset = 0;
  std::uint64_t length = kToEnd;
};

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;        // the store's version tag; may be empty
  std::int64_t mtime = 0;  // when it was stored, seconds since the epoch; 0: unknown
};

// A small value switched atomically (the generation pointer, the lease).
struct Pointer {
  std::string value;
  std::string version;  // opaque; pass it back to swap_pointer
};

struct SwapResult {
  bool won = false;
  std::optional<Pointer> current;  // what the key holds now: ours if won, else the winner's
};

struct Capabilities {
  bool atomic_replace = true;             // save() over an existing key is never seen half-done
  bool conditional_write = false;         // swap_pointer() is atomic against other writers
  unsigned max_parallel = 1;              // transfers worth running at once
  std::uint64_t multipart_threshold = 0;  // save() of at least this many bytes goes in parts (0: never)
};

class Store {
 public:
  virtual ~Store() = default;

  // Where the store is, for messages ("s3://bucket/app/_checkpoint/.fractfs").
  virtual std::string describe() const = 0;
  virtual Capabilities caps() const = 0;

  // Streams `range` of the key into sink; false if the key does not exist.
  // A range past the end yields what there is (maybe nothing).
  virtual bool load(const std::string& key, const Sink& sink, Range range = {}) = 0;
  virtual void save(const std::string& key, const Source& data) = 0;
  virtual std::optional<ObjectInfo> stat(const std::string& key) = 0;
  virtual void remove(const std::string& key) = 0;  // an absent key is fine
  // Every key below `prefix` (a "directory" of keys; "" for all), in no
  // order, as the pages of the listing arrive.
  virtual void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) = 0;

  // Pointer keys are read and written only through these two (on WebDAV
  // they are stored apart). expected: nullopt creates only if absent,
  // else replaces only if the version is still `expected`. Exactly one of
  // racing writers wins when caps().conditional_write; a writer that is
  // unsure whether its request went through reads the pointer back, so a
  // value should be unique to its writer (a node id, a generation).
  virtual std::optional<Pointer> read_pointer(const std::string& key) = 0;
  virtual SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                                  std::string_view value) = 0;
  // Deletes a pointer (a probe's, a test's): not safe against a racing swap.
  virtual void remove_pointer(const std::string& key) = 0;

  // Makes everything saved so far durable.
  virtual void flush() = 0;
  // Removes what saves that never finished left behind (a writer killed
  // mid-upload): what is older than `older_than_s` seconds, or provably
  // dead sooner (never what may still be on its way from a live writer,
  // e.g. a pack whose index is not written yet). Called by the collector's
  // sweep; returns how many.
  virtual std::uint64_t discard_abandoned(std::int64_t older_than_s = 3600) = 0;
  // Rewrites what removals left sparse (packs: sync/pack_store.hpp) and
  // returns the bytes freed; called by the collector after a sweep.
  virtual std::uint64_t compact() { return 0; }

  // Conveniences over the calls above, for small values.
  std::optional<std::string> get(const std::string& key);  // nullopt if absent
  void put(const std::string& key, std::string_view data);
  std::vector<std::string> list(const std::string& prefix);  // keys only
};

// Runs fn(i) for i in [0, n) with up to caps().max_parallel in flight; the
// first exception stops the loop and is rethrown.
void for_each_parallel(Store& store, std::size_t n, const std::function<void(std::size_t)>& fn);

// The checkpoint store of a configuration: REMOTE_ROOT/CHECKPOINT_SUBDIR/.fractfs
// (a directory, or a prefix in a bucket or below a URL). Throws StoreError;
// network backends only where a program installed them (below).
std::unique_ptr<Store> open_store(const Config& cfg);

// A store on a mounted file system (local disk, NFS, a FUSE mount).
std::unique_ptr<Store> open_mount_store(const std::string& dir);

// The network backends live in sync/net/, linked into the fractfs programs
// but never into libfractfs.so (no libcurl or OpenSSL in the app's process).
// A program that has them sets this hook at start (net::install()).
using NetworkStoreOpener = std::unique_ptr<Store> (*)(const Config& cfg);
extern NetworkStoreOpener g_network_store_opener;

}  // namespace fractfs
