// Generations: each checkpoint is an immutable generation record naming the
// root tree of the snapshot, made current by replacing the small CURRENT
// pointer. Until CURRENT names a generation, nothing it wrote is used; a
// crash at any instant leaves the previous generation complete and current.
//
// Store layout (keys):
//   CURRENT                      a pointer (Store::swap_pointer): "fractfs-current 3",
//                                "generation N", "root ID", "tag T"
//   generations/NNNNNNNNNNNN-T   the record: key value lines
//   generations/NNNNNNNNNNNN-T.changes   "+ID" / "-ID" lines: objects this
//                                generation added to / released from its parent's
//   objects/ab/cdef…             file chunks and trees, named by content id (those
//                                under 1 MiB in packs/ and index/: sync/pack_store.hpp)
//   LEASE                        a pointer: which node checkpoints (sync/lease.hpp)
//
// T is a random tag drawn by each commit, so two writers racing from the
// same parent never write the same record key: the one whose CURRENT swap
// wins is current, the other's record is an orphan the collector drops. A
// record names its parent by number and tag: the chain from CURRENT is the
// history. Stores written before tags (format 1: untagged records,
// "fractfs-current 1") are read as records with an empty tag, and stores
// written before packs (format 2) as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/object_id.hpp"

namespace fractfs {

class Store;

namespace keys {
inline constexpr const char* current = "CURRENT";
inline constexpr const char* generations = "generations";
inline constexpr const char* objects = "objects";
inline constexpr const char* lease = "LEASE";
std::string object(const ObjectId& id);
std::string generation(std::uint64_t n, std::string_view tag);
std::string changes(std::uint64_t n, std::string_view tag);
}  // namespace keys

struct Generation {
  std::uint64_t number = 0;
  std::uint64_t parent = 0;  // the generation it was made from (0: none)
  std::string tag;           // this record's tag ("" in format 1)
  std::string parent_tag;    // the parent record's tag
  ObjectId root;             // root tree
  std::int64_t time_ns = 0;  // when it was committed
  double duration = 0;       // seconds the checkpoint took
  std::uint64_t files = 0, dirs = 0, symlinks = 0, bytes = 0;
  std::uint64_t new_objects = 0, new_bytes = 0;  // uploaded by this checkpoint
  std::uint64_t dirty = 0;                       // files kept at an older version: they changed while being read
  bool full = false;                             // made by a walk of the whole tree
  std::string host;
  // Id of this generation's change list, which is only written when the
  // snapshot was built on the parent; null when there is none. Binds the
  // list to the record: a list left by a checkpoint that crashed before
  // becoming current can never pass for this generation's.
  ObjectId changes;
};

struct Changes {
  std::vector<ObjectId> added, released;
};

std::string serialize(const Generation& g);
std::string serialize(const Changes& c);
// Parsers throw FormatError naming `what` and the line.
Generation parse_generation(std::string_view text, std::string_view what);
Changes parse_changes(std::string_view text, std::string_view what);

struct Current {
  std::uint64_t generation = 0;
  ObjectId root;
  std::string tag;
  // The pointer's version, for the next conditional swap (not serialized);
  // nullopt: CURRENT is absent, or only a format-1 copy on a store that
  // keeps pointers apart (WebDAV), so the swap creates it.
  std::optional<std::string> version;
};
std::string serialize(const Current& c);
Current parse_current(std::string_view text, std::string_view what);

// A fresh random record tag.
std::string new_tag();

// Reading them from a store (StoreError / FormatError on trouble).
std::optional<Current> read_current(Store& store);
Generation read_generation(Store& store, std::uint64_t n, std::string_view tag);

struct RecordKey {
  std::uint64_t number = 0;
  std::string tag;
  auto operator<=>(const RecordKey&) const = default;
};
// The generation records present, ascending (losers of a race included).
std::vector<RecordKey> list_generations(Store& store);
// The history: from `current` back through each record's parent, newest
// first, while `want(number)` says so and the records are there. Reads a
// record only where `present` has more than one record for its parent's
// number (a race left a loser beside it).
std::vector<RecordKey> chain(Store& store, const Current& current, const std::vector<RecordKey>& present,
                             std::uint64_t down_to);
// Generation n of the history from `current`, if it is still there.
std::optional<RecordKey> in_history(Store& store, const Current& current, std::uint64_t n);
// Record `r`'s change list, if it is trustworthy: the record exists, its
// parent is `parent`, and the list is the one the record names.
std::optional<Changes> read_changes(Store& store, const RecordKey& r, const RecordKey& parent);

}  // namespace fractfs
