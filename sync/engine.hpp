// One root's sync machinery in one process: the configuration, its
// resolver, the checkpoint store, the node-local state directory and the
// deploy bundle; and the start-of-app restore that every process of the
// app passes through once.
#pragma once

#include <memory>
#include <string>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"
#include "sync/bundle.hpp"
#include "sync/checkpoint.hpp"
#include "sync/restore.hpp"
#include "sync/state_dir.hpp"
#include "sync/store.hpp"

namespace fractfs {

class Engine {
 public:
  // Opens the store (throws StoreError) and reads the bundle list, if any.
  explicit Engine(Config cfg);

  const Config& cfg() const noexcept { return cfg_; }
  const Resolver& resolver() const noexcept { return resolver_; }
  Store& store() noexcept { return *store_; }
  const StateDir& state() const noexcept { return state_; }
  const Bundle& bundle() const noexcept { return bundle_; }
  void set_bundle(Bundle b) { bundle_ = std::move(b); }
  SyncEnv env() noexcept { return SyncEnv{cfg_, resolver_, *store_, bundle_}; }

 private:
  Config cfg_;
  Resolver resolver_;
  std::unique_ptr<Store> store_;
  StateDir state_;
  Bundle bundle_;
};

// True once this node has restored the root (one stat of the marker).
bool is_restored(const StateDir& state) noexcept;

struct StartReport {
  bool restored_now = false;  // this call did the restore (else: done before)
  RestoreReport restore;
};

// Makes sure the current generation is restored on this node before the
// app runs. The first caller restores under restore.lock; a caller that
// comes meanwhile waits for it; later ones see the marker. On a first
// start on the node, local files unknown to the checkpoint become the
// bundle. `snap` receives the restored snapshot when this call restored.
// Throws (StoreError, FormatError) when the restore fails: the app must
// not start on cold state, and no marker is left.
StartReport ensure_restored(Engine& engine, Snapshot* snap, Progress* progress);

// A restore under restore.lock (taken by the caller) and its bookkeeping:
// the deploy bundle on a node's first restore, the index, the marker. A
// dry run only reports.
RestoreReport restore_node(Engine& engine, RestoreOptions opt, Snapshot* snap);

// The snapshot a holder starts from: the local index when it matches the
// current generation, else the generation's trees (with whatever local
// identities the index still knows).
Snapshot load_snapshot(Engine& engine);
void save_index(Engine& engine, const Snapshot& snap) noexcept;

}  // namespace fractfs
