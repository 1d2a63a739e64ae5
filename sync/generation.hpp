// Generations: each checkpoint is an immutable generation record naming the
// root tree of the snapshot, made current by replacing the small CURRENT
// pointer. Until CURRENT names a generation, nothing it wrote is used; a
// crash at any instant leaves the previous generation complete and current.
//
// Store layout (keys):
//   CURRENT                      "fractfs-current 1", "generation N", "root ID"
//   generations/NNNNNNNNNNNN     the record: key value lines
//   generations/NNNNNNNNNNNN.changes   "+ID" / "-ID" lines: objects this
//                                generation added to / released from its parent's
//   objects/ab/cdef…             file chunks and trees, named by content id
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
std::string object(const ObjectId& id);
std::string generation(std::uint64_t n);
std::string changes(std::uint64_t n);
}  // namespace keys

struct Generation {
  std::uint64_t number = 0;
  std::uint64_t parent = 0;  // the generation it was made from (0: none)
  ObjectId root;             // root tree
  std::int64_t time_ns = 0;  // when it was committed
  double duration = 0;       // seconds the checkpoint took
  std::uint64_t files = 0, dirs = 0, symlinks = 0, bytes = 0;
  std::uint64_t new_objects = 0, new_bytes = 0;  // uploaded by this checkpoint
  std::uint64_t dirty = 0;  // files kept at an older version: they changed while being read
  bool full = false;        // made by a walk of the whole tree
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
};
std::string serialize(const Current& c);
Current parse_current(std::string_view text, std::string_view what);

// Reading them from a store (StoreError / FormatError on trouble).
std::optional<Current> read_current(Store& store);
Generation read_generation(Store& store, std::uint64_t n);
// Numbers of the generation records present, ascending.
std::vector<std::uint64_t> list_generations(Store& store);
// Generation n's change list, if it is trustworthy: the record exists,
// its parent is n-1, and the list is the one the record names.
std::optional<Changes> read_changes(Store& store, std::uint64_t n);

}  // namespace fractfs
