// The holder's report of its last checkpoint, kept in the state directory
// for `fractfs status`: figures of the last checkpoint, the last error, and
// who the holder is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fractfs {

struct Status {
  std::uint64_t generation = 0;
  std::int64_t time_ns = 0;  // of the last checkpoint (committed or not)
  double duration = 0;
  std::uint64_t files = 0, dirs = 0, symlinks = 0, bytes = 0;
  std::uint64_t new_bytes = 0;  // uploaded by the last committed checkpoint
  std::uint64_t dirty = 0;      // files kept at an older version by the last checkpoint
  std::uint64_t torn = 0;       // files stored as read although they changed during every read
  std::uint64_t cloned = 0;     // files read from a reflink clone (they changed during every plain read)
  // "PATH: what happened" for each file the last checkpoint could not
  // capture consistently (capped).
  std::vector<std::string> unsettled;
  std::uint64_t checkpoints = 0;  // taken by this holder
  std::string last_error;
  std::int64_t last_error_ns = 0;
  long holder_pid = 0;
  std::int64_t holder_since_ns = 0;
};

std::string serialize(const Status& s);
// Lenient: a missing or damaged file reads as an empty status.
Status parse_status(std::string_view text);

}  // namespace fractfs
