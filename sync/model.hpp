// The snapshot being built: every checkpointed directory with its entries,
// as the holder keeps it between checkpoints. A checkpoint changes the
// entries it found changed; commit() then re-serializes only the
// directories on the way from those entries to the root.
//
// The model also counts references to every object its entries name, so a
// commit knows which objects the new generation added and which ones it
// released relative to the last committed one: garbage collection then
// costs what changed, not what exists.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sync/generation.hpp"
#include "sync/tree.hpp"

namespace fractfs {

class Store;

class Model {
 public:
  struct Dir {
    Entries entries;
    ObjectId tree;  // id of `entries` as last stored; null when never stored
    bool dirty = true;
  };

  struct Totals {
    std::uint64_t files = 0, dirs = 0, symlinks = 0, bytes = 0;
  };

  Model();

  // Lookups by root-relative path ("" is the root directory).
  const Entry* find(std::string_view rel) const;
  const Dir* dir(std::string_view rel) const;
  bool known(const ObjectId& id) const { return refs_.count(id) != 0; }
  // Known, and stored for sure: not first referenced since the last
  // accept(), as the checkpoint that saved such an object may have failed
  // before its upload (or its pack) reached the store.
  bool stored(const ObjectId& id) const;
  // At the start of a checkpoint after one that failed before accept():
  // files holding objects that may not be stored are read again (their
  // local identity is dropped) and trees that may not be are stored again.
  void distrust_unaccepted();

  // Sets the entry at `rel`; its parent must be a directory of the model.
  // A directory entry keeps its contents; one replaced by a file or symlink
  // loses them.
  void set(std::string_view rel, Entry e);
  // Updates only the node-local identity used by the quick check.
  void set_local(std::string_view rel, std::uint64_t dev, std::uint64_t ino, std::int64_t ctime_ns);
  // Removes the entry at `rel` with everything below it (absent: no-op).
  void remove(std::string_view rel);

  // Stores the trees of changed directories (deepest first) and returns the
  // root tree's id. Objects already referenced are not stored again.
  ObjectId commit(Store& store, std::uint64_t* new_objects = nullptr, std::uint64_t* new_bytes = nullptr);
  ObjectId root_tree() const { return root_tree_; }
  bool dirty() const { return dirs_.at("").dirty; }

  // What changed in the set of referenced objects since the last accept().
  Changes changes() const;
  void accept();

  const Totals& totals() const { return totals_; }

  // Every file and symlink at or below `rel`, with its path.
  void for_each_below(std::string_view rel, const std::function<void(const std::string&, const Entry&)>& fn) const;

  // Every directory, parents before children (sorted by path).
  void for_each_dir(const std::function<void(const std::string&, const Dir&)>& fn) const;

  // The snapshot under `root` (a tree id) read from the store.
  static Model load(Store& store, const ObjectId& root);

  // The node-local index: the model with local identities, as one file.
  std::string serialize_index(std::uint64_t generation) const;
  // Throws FormatError. Sets *generation to the one it was saved for.
  static Model parse_index(std::string_view text, std::string_view what, std::uint64_t* generation);
  // Copies local identities from `other` wherever an entry is the same.
  void adopt_local_identities(const Model& other);

 private:
  static std::string join(std::string_view dir, std::string_view name);
  void ref(const ObjectId& id);
  void unref(const ObjectId& id);
  void ref_entry(const Entry& e, int sign);
  void count(const Entry& e, int sign);
  void mark_dirty(std::string_view dir_rel);
  void drop_subtree(const std::string& rel);
  void set_root_tree(const ObjectId& id);
  // Tree ids of dirty directories, bottom-up; stored when `store` is given.
  ObjectId build(Store* store, std::uint64_t* new_objects, std::uint64_t* new_bytes);
  void rehash();

  std::unordered_map<std::string, Dir> dirs_;
  std::unordered_map<ObjectId, std::uint32_t, ObjectIdHash> refs_;
  std::unordered_map<ObjectId, bool, ObjectIdHash> touched_;  // id -> referenced at the last accept()
  ObjectId root_tree_;
  Totals totals_;
};

}  // namespace fractfs
