// Examining the local tree for a checkpoint: which paths are checkpointed
// (local_synced, not the bundle; directories of any tier but ignored hold
// them), and what changed since the model last saw them. Metadata changes
// go straight into the model; files whose content must be read are
// listed, and so are paths that are gone (removed once the new content is
// in, so a renamed file's content is still known and not stored again).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sync/checkpoint.hpp"

namespace fractfs {

class Scanner {
 public:
  // `root_fd`: the app root, opened O_DIRECTORY. With `rehash`, a file's
  // quick check (size, mtime, ctime, inode) never counts as unchanged.
  Scanner(const SyncEnv& env, Model& model, int root_fd, bool rehash);

  // The given paths (and the subtree of any directory new to the model).
  void examine_paths(std::vector<std::string> paths);
  // The whole root.
  void walk_all();

  std::vector<std::string> to_read;  // files to capture
  std::vector<std::string> gone;     // to remove after the captures
  std::uint64_t examined = 0;
  std::vector<std::string> problems;

  void problem(std::string what);

 private:
  void examine(const std::string& rel);
  void examine_stat(const std::string& rel, const struct stat& st);
  void walk(const std::string& rel);
  void file(const std::string& rel, const struct stat& st);
  bool unchanged(const std::string& rel, const struct stat& st) const;
  bool sidecar(const std::string& rel, const struct stat& st);
  void symlink(const std::string& rel, const struct stat& st);
  bool included(const std::string& rel, const struct stat& st) const;
  bool ensure_parents(const std::string& rel);
  void refresh_parent(const std::string& rel);
  void note_vanished(const std::string& rel);
  bool born_before(const std::string& rel, std::int64_t ctime_ns) const;

  const SyncEnv& env_;
  Model& model_;
  int root_fd_;
  bool rehash_;
  bool walking_all_ = false;
  std::set<std::string> refreshed_;
  // Entries of paths that are gone in this batch, by (device, inode): a
  // file renamed (or in a renamed directory) reuses its content ids.
  std::map<std::pair<std::uint64_t, std::uint64_t>, Entry> vanished_;
};

}  // namespace fractfs
