// Taking a checkpoint: look at the paths that changed (or walk everything),
// bring the model up to date, store new content and trees, and commit a
// generation if the snapshot differs from the current one.
//
// Order of writes, so that a crash at any instant leaves the previous
// generation complete and current: content objects and trees, flush; the
// generation record and its change list, flush; CURRENT, flush. Old
// generations and the objects only they used go afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/store.hpp"

namespace fractfs {

struct Config;
class Resolver;
class Store;
class Bundle;
class Progress;

// What checkpoints and restores work with.
struct SyncEnv {
  const Config& cfg;
  const Resolver& resolver;
  Store& store;
  const Bundle& bundle;
};

// The holder's state between checkpoints.
struct Snapshot {
  Model model;
  Generation current;  // the store's current generation when last seen (number 0: none)
  // The generation the model's accepted state equals: its change lists are
  // computed against it. Not `current` after a restore of an older one.
  std::uint64_t base = 0;
  std::vector<std::string> retry;  // looked at again next time: changing while read, or too recent to trust
  // Files that changed during every read, since when (sys::now_ns): their
  // previous version is kept (a new one is left out) for settle_seconds,
  // then what was read is stored.
  std::map<std::string, std::int64_t> unsettled_since;
};

// Another writer made a generation since this snapshot was taken: reload it.
class StaleSnapshot : public StoreError {
 public:
  using StoreError::StoreError;
};

struct CheckpointOptions {
  bool full = false;    // walk the whole root (a reconcile)
  bool rehash = false;  // with `full`: read every file, trust no quick check
  Progress* progress = nullptr;
  // How long a file that changes during every read keeps its previous
  // version before the copy as read (maybe inconsistent) is stored.
  double settle_seconds = 60;
};

struct CheckpointReport {
  bool committed = false;  // a new generation was made
  Generation generation;   // the current one afterwards (number 0: none)
  std::uint64_t examined = 0, read = 0, kept_dirty = 0, removed = 0;
  std::uint64_t torn = 0;    // stored as read although they changed during every read
  std::uint64_t cloned = 0;  // read from a reflink clone: they changed during every plain read
  double seconds = 0;
  std::vector<std::string> problems;  // files that could not be read, and the like (capped)
  // Files not captured consistently this time, "PATH: what happened" (capped).
  std::vector<std::string> unsettled;
};

// `paths`: root-relative paths that may have changed. Throws StoreError
// (and FormatError) when the store fails: nothing is committed then, and
// the next checkpoint tries again.
CheckpointReport checkpoint(const SyncEnv& env, Snapshot& snap, const std::vector<std::string>& paths,
                            const CheckpointOptions& opt);

// The store's current generation as a snapshot (empty when there is none),
// taking local identities (inode, ctime) from `known` where entries match,
// so unchanged files are not read again.
Snapshot load_current(Store& store, const Model* known);

// The hostname, for generation records.
std::string host_name();

}  // namespace fractfs
