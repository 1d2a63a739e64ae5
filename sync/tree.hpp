// What a checkpoint records about one directory: its entries, each a file
// (mode, mtime, size, the ids of its content chunks), a directory (and the
// id of its own tree) or a symlink (its target, never followed).
//
// A tree is stored as an object like file content, so a directory whose
// entries did not change keeps its id and costs nothing to checkpoint again
// (the generation's root tree id covers the whole snapshot, as in git).
//
// Text format, one entry per line, sorted by name (bytewise):
//   fractfs-tree 1
//   f 644 MTIME_NS SIZE [cN:]ID[,ID...]|- NAME
//   d 755 MTIME_NS 0 TREE_ID NAME
//   l 777 MTIME_NS SIZE TARGET NAME
// NAME and TARGET escape bytes below 0x21, '%' and 0x7f as %XX. A file's
// chunks are 2^22 bytes (4 MiB) unless "cN:" says 2^N (a database's pages
// change a few at a time: smaller chunks store less of what did not).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/container/flat_map.hpp>
#include <boost/container/small_vector.hpp>

#include "sync/object_id.hpp"

namespace fractfs {

enum class EntryKind : char { file = 'f', dir = 'd', symlink = 'l' };

// A chunk of file content is at most this big: a large file that changed
// in one place uploads one chunk, and no buffer grows past it.
inline constexpr unsigned kChunkShift = 22;
inline constexpr std::size_t kChunkSize = std::size_t{1} << kChunkShift;
inline constexpr unsigned kMinChunkShift = 12, kMaxChunkShift = 26;

// Directories nest at most this deep below the root in a checkpoint: the
// reader refuses deeper trees, so the writer (sync/scan.cpp) leaves a
// deeper directory out, with a warning naming it, rather than commit a
// generation no restore could read.
inline constexpr std::size_t kMaxTreeDepth = 1024;

struct Entry {
  EntryKind kind = EntryKind::file;
  std::uint32_t mode = 0;  // permission bits (07777)
  std::int64_t mtime_ns = 0;
  std::uint64_t size = 0;                               // file: bytes; symlink: target length
  boost::container::small_vector<ObjectId, 1> content;  // file: chunks in order; dir: its tree
  std::uint8_t chunk_shift = kChunkShift;               // file: chunks of 2^chunk_shift bytes (the last one shorter)
  std::string target;                                   // symlink target

  // Node-local identity for the quick check; kept in the local index only.
  std::uint64_t dev = 0, ino = 0;
  std::int64_t ctime_ns = 0;

  bool is_dir() const noexcept { return kind == EntryKind::dir; }
  // Same content and metadata as far as a checkpoint is concerned.
  bool same_snapshot(const Entry& o) const noexcept {
    return kind == o.kind && mode == o.mode && mtime_ns == o.mtime_ns && size == o.size && content == o.content &&
           chunk_shift == o.chunk_shift && target == o.target;
  }
};

using Entries = boost::container::flat_map<std::string, Entry, std::less<>>;

class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A directory entry name as stored: non-empty, no '/', no NUL, not "." or "..".
bool valid_name(std::string_view name) noexcept;

// With `local`, each line also carries DEV INO CTIME_NS (the local index).
std::string serialize_tree(const Entries& entries, bool local = false);
// Throws FormatError naming `what` and the line.
Entries parse_tree(std::string_view text, std::string_view what, bool local = false);

std::string escape_name(std::string_view s);
// false on a malformed escape.
bool unescape_name(std::string_view s, std::string& out);

}  // namespace fractfs
