// Restoring a generation into the app root before the app runs.
//
// Directories are created top down, files written in parallel (each built
// in a temporary file beside its place, every chunk checked against its
// id, then renamed into place), directory modes and mtimes set last,
// bottom up. A local file newer than the checkpoint's copy is kept unless
// `overwrite`; an entry whose tier is no longer local_synced (the
// configuration changed) is skipped; nothing is ever written outside the
// root: names are checked, and no symlink is followed on the way.
// Restore adds and replaces; it never deletes local files.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sync/bundle.hpp"
#include "sync/checkpoint.hpp"

namespace fractfs {

struct RestoreOptions {
  std::optional<std::uint64_t> generation;  // default: the current one
  bool overwrite = false;
  bool dry_run = false;
  // A first start on this node: local files the generation does not know
  // become the deploy bundle (with auto_ignore_bundle).
  bool detect_bundle = false;
  Progress* progress = nullptr;
};

struct RestoreReport {
  std::uint64_t generation = 0;                                // restored; 0 when there was none
  bool legacy = false;                                         // from the Python package's checkpoint
  std::uint64_t files = 0, bytes = 0, dirs = 0, symlinks = 0;  // written (or, dry run, to write)
  std::uint64_t unchanged = 0, kept_newer = 0, skipped = 0, conflicts = 0;
  std::vector<std::string> notes;  // what was kept or skipped, and why (capped)
  Bundle bundle;                   // with detect_bundle
  double seconds = 0;
};

// Throws StoreError / FormatError when the checkpoint cannot be read or a
// file cannot be written: the restore is then incomplete. On success,
// `out` (if given) receives the restored snapshot with local identities.
RestoreReport restore(const SyncEnv& env, const RestoreOptions& opt, Snapshot* out);

// The Python package's checkpoint (REMOTE/CHECKPOINT_SUBDIR/<rel> files
// with a .fractfs-state.json), when there is one and no generation.
bool has_legacy_checkpoint(const Config& cfg);
void restore_legacy(const SyncEnv& env, const RestoreOptions& opt, RestoreReport& rep);
// Whether the Python package's checkpoint has a file or symlink at `rel`.
std::function<bool(const std::string&)> legacy_knows(const Config& cfg);

}  // namespace fractfs
