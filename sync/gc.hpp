// Dropping old generations and the objects no kept generation uses.
//
// After each commit, generations older than the newest `keep` go. An object
// of a dropped generation D is garbage when generation D+1 released it and
// no later kept generation added it back: that needs the change lists of
// D+1..current only, so it costs what changed, not what exists. When a
// change list is missing (the chain was broken by a restore of an older
// generation, or by a crash between commit and collection), and on a full
// sweep, every object not reachable from a kept generation is deleted,
// leftovers of interrupted checkpoints included. The history is the chain
// of records from the current one back through their parents: a record
// beside it (a writer that lost the race for CURRENT) is dropped, its
// objects go with the next sweep.
#pragma once

#include <cstdint>

#include "sync/generation.hpp"

namespace fractfs {

class Store;
class Model;

struct GcReport {
  std::uint64_t generations_dropped = 0, objects_deleted = 0;
  bool swept = false;
};

// `current`: the generation just committed; `model`: its snapshot (saves
// reading its trees back on a sweep).
GcReport collect_garbage(Store& store, const RecordKey& current, long keep, const Model& model, bool sweep);
// The same, for the record numbered `current` in the history from CURRENT.
GcReport collect_garbage(Store& store, std::uint64_t current, long keep, const Model& model, bool sweep);

}  // namespace fractfs
