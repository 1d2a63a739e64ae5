// The write-tracking journal: a lock-free ring buffer in one shared file.
// Every app process (through the shim's Writer) appends "path P changed"
// events; one process, the holder, drains them (Reader) before checkpoints.
//
// File: a 4096-byte header (FileHeader) then a data area of `capacity`
// bytes used as a ring. Positions are byte counters that never wrap; a
// position's place in the file is pos % capacity, its lap pos / capacity.
// A record is an 8-byte header word, an 8-byte check word, the writer's pid
// (8 bytes), then the path, padded to a multiple of 8:
//   header word  bits 63..32 lap (truncated), 31..16 length in bytes before
//                padding (24 + path size; a pad's whole length), 15..8 event
//                kind, 7..0 state (1 record, 2 pad, 0 not written yet)
//   check word   XXH3(path, seed kind) ^ mix(pos) ^ mix(pid): a scribbled
//                payload or a stale record from an earlier lap does not pass
//   pid word     the recording process (opened/closed events are per process:
//                a file stays open for writing until every opener closed it)
// Writers reserve with head.fetch_add, write the payload, then publish the
// header word (release). The reader accepts a header word only if its lap
// matches, and zeroes what it consumed, so a header slot not written yet in
// this lap reads as 0 (never as old payload bytes).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fractfs::journal {

enum class Event : std::uint8_t { changed = 1, removed = 2, opened = 3, closed = 4 };

inline constexpr std::size_t kMaxPath = 4000;         // longer: the event is lost
inline constexpr std::uint64_t kCapacity = 4u << 20;  // default data area size

// ---- File format (here for tools and tests) ----
inline constexpr std::uint64_t kMagic = 0x314e4a5443415246;      // "FRACTJN1"
inline constexpr std::uint64_t kDeadMagic = 0x4445445443415246;  // "FRACTDED": file replaced
inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::size_t kHeaderSize = 4096;
inline constexpr std::uint64_t kMinCapacity = 4096;  // a record of kMaxPath fits
inline constexpr std::uint64_t kMaxCapacity = 1u << 30;

// Plain fields, accessed through std::atomic_ref in the mapping.
struct FileHeader {
  // Written when the file is built; `magic` is poisoned (kDeadMagic) when the
  // file is replaced, which stops the writers still attached to it.
  alignas(64) std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t capacity;          // data area size, a multiple of 8
  std::uint64_t epoch;             // bumped by the reader at each drain; read by every record()
  alignas(64) std::uint64_t head;  // next position to reserve (writers fetch_add)
  alignas(64) std::uint64_t tail;  // consumed up to (reader only)
  std::uint32_t lost;              // events were dropped: the reader must rescan
  // 1 + a position: every event before it is in a checkpoint, and no file
  // was open for writing then (set by the reader; 0: not known to be so).
  alignas(64) std::uint64_t saved;
  // When the reader last drained (CLOCK_MONOTONIC seconds): a writer that
  // sees it stale knows the reader (the helper) may be gone.
  std::uint64_t heartbeat;
};

// One per process (the shim keeps a static one: constant-initialized, and
// its destructor leaves the mapping alone, since other threads may still be
// recording while the process exits). record() is thread-safe, lock-free,
// async-signal-safe, and never allocates, blocks or throws.
class Writer {
 public:
  constexpr Writer() noexcept = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Maps the journal at `path`, creating it if absent (built in a temp file
  // next to it, then link(2)ed into place; an existing file's capacity wins)
  // or replacing it if it is not a valid journal. Call while no other thread
  // records. Plain libc calls (the shim calls it with its redirection off).
  // False, with errno, on failure.
  bool attach(const char* path, std::uint64_t capacity = kCapacity) noexcept;
  // False before attach, after detach, and once record() found the file
  // replaced or scribbled over (then detach and attach again at a quiet point).
  bool attached() const noexcept;
  // munmap. Call while no other thread records.
  void detach() noexcept;

  // `rel` is root-relative (no leading '/'). Never blocks: when the ring is
  // full or `rel` is longer than kMaxPath, sets the shared "lost" flag
  // instead (the reader then rescans everything). An event identical to one
  // this process recorded since the last drain is skipped.
  void record(Event e, std::string_view rel) noexcept;
  void mark_lost() noexcept;
  // True when something was recorded since the last checkpoint that
  // covers everything (Reader::set_saved), or when that is not known.
  bool unsaved() const noexcept;
  // No reader drained for `quiet_s` seconds (or never): it may be gone.
  bool reader_quiet(std::uint64_t now_s, std::uint64_t quiet_s) const noexcept;
  // In a forked child: events its parent recorded are not the child's, so
  // none of them may be skipped as already recorded.
  void forget_seen() noexcept;

 private:
  bool append(char* base, std::uint8_t kind, std::string_view rel, std::uint64_t key, std::uint64_t pid) noexcept;

  static constexpr std::size_t kSeen = 512;
  std::atomic<char*> live_{nullptr};  // the mapping while recording is on
  char* map_ = nullptr;               // for detach(), even after recording stopped
  std::size_t map_len_ = 0;
  std::uint64_t cap_ = 0;
  // Dedup: per slot, the key of the last event recorded, mixed with the epoch
  // it was recorded in.
  std::atomic<std::uint64_t> seen_[kSeen]{};
};

// One drained event: what happened to which root-relative path, in which process.
struct Record {
  Event event;
  std::string path;
  pid_t pid = 0;
};

struct Batch {
  std::vector<Record> events;  // in ring order
  // Events were lost since the previous drain: the caller must rescan
  // everything (and `events` may be incomplete).
  bool lost = false;
};

// One reader at a time (callers serialize with a lock file). Not for hot paths.
class Reader {
 public:
  Reader() = default;
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Maps (creates, repairs) like Writer::attach; throws std::system_error
  // naming the path.
  void open(const std::string& path, std::uint64_t capacity = kCapacity);

  // Takes every committed event up to the head as it was when called. A
  // reserved record not yet committed stops the drain there; it waits up to
  // `wait` for it. One that stays uncommitted for `give_up` (measured across
  // calls: its writer was killed between reserving and committing) is
  // declared lost: lost=true, and the drain skips everything up to the head.
  // A drained event means the path may have changed at any time before
  // drain() returned: read the file after that. Throws if the file had to be
  // replaced and the new one cannot be mapped.
  Batch drain(std::chrono::milliseconds wait = std::chrono::milliseconds(50),
              std::chrono::milliseconds give_up = std::chrono::seconds(2));

  // For a full rescan without the journal: h = head(); rescan; skip_to(h).
  // Events up to h are dropped; they happened before the rescan started.
  // (Not const: it starts a new dedup epoch, so no writer skips an event on
  // the strength of a record that skip_to drops.)
  std::uint64_t head() noexcept;
  void skip_to(std::uint64_t head) noexcept;
  std::uint64_t pending_bytes() const noexcept;  // head - tail, for status
  std::uint64_t consumed() const noexcept;       // the tail: drained up to here
  // A checkpoint now holds every event before `pos` and every file that was
  // open for writing; kNotSaved when it does not (files are still open).
  static constexpr std::uint64_t kNotSaved = ~std::uint64_t{0};
  void set_saved(std::uint64_t pos) noexcept;

 private:
  FileHeader& hdr() const noexcept { return *reinterpret_cast<FileHeader*>(map_); }
  char* data() const noexcept { return map_ + kHeaderSize; }
  bool intact() const noexcept;
  void walk(Batch& b, std::chrono::milliseconds wait, std::chrono::milliseconds give_up);
  std::uint64_t await(std::uint64_t pos, std::chrono::milliseconds wait) noexcept;
  void resync(Batch& b) noexcept;
  void unmap() noexcept;

  std::string path_;
  char* map_ = nullptr;
  std::size_t map_len_ = 0;
  std::uint64_t cap_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  // The uncommitted record the reader is waiting for, and since when.
  bool stuck_ = false;
  std::uint64_t stuck_pos_ = 0;
  std::chrono::steady_clock::time_point stuck_since_;
};

// Around fork(): the table of mappings shared within a process has a lock;
// a child forked while another thread held it would hang on its first
// attach. The shim calls these from its pthread_atfork handlers.
void before_fork() noexcept;
void after_fork() noexcept;

}  // namespace fractfs::journal
