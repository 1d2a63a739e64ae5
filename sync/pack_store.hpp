// Small objects packed: a store that wraps another and keeps objects
// smaller than PackOptions::max_object ("objects/…" keys: file chunks,
// trees) in pack objects of a few MiB, each with an index, as restic does.
// A first checkpoint of 100,000 small files is then a few dozen uploads,
// not 100,000, and a restore a few dozen downloads.
//
// Layout (format 1 of packs, described in the README):
//   packs/ID   the objects' bytes, one after another; ID is the XXH3-128 of
//              the pack, so a pack is never overwritten with other bytes
//   index/ID   "fractfs-index 1", then "OBJECT OFFSET LENGTH" per object
// An index is saved only after its pack is durable: no index names a
// missing pack. A pack without an index (a writer killed between the two)
// is discarded by the collector's sweep. Larger objects stay loose under
// their own key, and every other key passes straight through.
//
// Everything above this layer keeps calling save/load/remove on object
// keys. Removing a packed object marks it dead (in memory: the sweep that
// opens every holder's first checkpoint finds the dead again); a pack
// whose objects are all dead is deleted at once (index first), and
// compact() rewrites packs whose live bytes fell under half.
#pragma once

#include <cstdint>
#include <memory>

#include "sync/store.hpp"

namespace fractfs {

struct PackOptions {
  std::uint64_t target = std::uint64_t{8} << 20;      // a pack is sealed once it holds this much
  std::uint64_t max_object = std::uint64_t{1} << 20;  // objects of this size or more stay loose
  unsigned cached_packs = 6;                          // whole packs kept in memory for loads
};

std::unique_ptr<Store> pack_objects(std::unique_ptr<Store> inner, PackOptions opt = {});

}  // namespace fractfs
