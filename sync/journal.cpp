#include "sync/journal.hpp"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace fractfs::journal {
namespace {

using Clock = std::chrono::steady_clock;

static_assert(std::is_standard_layout_v<FileHeader> && std::is_trivially_copyable_v<FileHeader>);
static_assert(sizeof(FileHeader) <= kHeaderSize);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<char*>::is_always_lock_free);
// The shim keeps a static Writer: no constructor or destructor runs for it.
static_assert(std::is_trivially_destructible_v<Writer>);

constexpr std::uint8_t kCommitted = 1, kPad = 2;
constexpr std::uint64_t kRecordHead = 24;  // header word, check word, pid word

constexpr std::uint64_t round8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }
constexpr std::uint64_t kMaxRecord = round8(kRecordHead + kMaxPath);
static_assert(kMaxRecord <= 0xffff && kMaxRecord <= kMinCapacity);

template <class T>
std::atomic_ref<T> at(T& x) noexcept {
  return std::atomic_ref<T>(x);
}
std::atomic_ref<std::uint64_t> word_at(char* data, std::uint64_t off) noexcept {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(data + off));
}

std::uint64_t header_word(std::uint64_t pos, std::uint64_t cap, std::uint64_t len, std::uint8_t kind,
                          std::uint8_t state) noexcept {
  return (pos / cap) << 32 | len << 16 | std::uint64_t{kind} << 8 | state;
}
// Committed or pad, for this lap. Anything else has not been written yet
// (0, or a word left from an earlier lap).
bool written(std::uint64_t w, std::uint64_t pos, std::uint64_t cap) noexcept {
  return (w & 0xff) != 0 && (w >> 32) == ((pos / cap) & 0xffffffff);
}

std::uint64_t key_of(std::uint8_t kind, std::string_view rel) noexcept {
  return XXH3_64bits_withSeed(rel.data(), rel.size(), kind);
}
// splitmix64's finalizer.
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30, x *= 0xbf58476d1ce4e5b9;
  x ^= x >> 27, x *= 0x94d049bb133111eb;
  return x ^ (x >> 31);
}
std::uint64_t check_of(std::uint64_t key, std::uint64_t pos, std::uint64_t pid) noexcept {
  return key ^ mix(pos) ^ mix(pid ^ 0x9e3779b97f4a7c15);
}

bool valid(const FileHeader& h, off_t size) noexcept {
  return h.magic == kMagic && h.version == kVersion && h.header_size == kHeaderSize && h.capacity >= kMinCapacity &&
         h.capacity <= kMaxCapacity && h.capacity % 8 == 0 &&
         static_cast<std::uint64_t>(size) == kHeaderSize + h.capacity;
}

// Builds a fresh journal in a temp file next to `path`, then link(2)s it into
// place (EEXIST: someone else won) or, with `replace`, renames it over
// what is there. A replacement starts "lost": events recorded into the file
// it replaces are gone. 0, or -1 with errno.
int build(const char* path, std::uint64_t cap, bool replace) noexcept {
  static std::atomic<unsigned> counter{0};
  char tmp[PATH_MAX];
  int n = snprintf(tmp, sizeof tmp, "%s.%d-%u.tmp", path, static_cast<int>(::getpid()),
                   counter.fetch_add(1, std::memory_order_relaxed));
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof tmp) return errno = ENAMETOOLONG, -1;
  int fd = ::open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  FileHeader h{};
  h.magic = kMagic, h.version = kVersion, h.header_size = kHeaderSize, h.capacity = cap;
  h.lost = replace ? 1 : 0;
  // Sparse: the data area costs nothing until used.
  bool ok = ::ftruncate(fd, static_cast<off_t>(kHeaderSize + cap)) == 0 &&
            ::pwrite(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h);
  int err = errno;
  ::close(fd);
  if (ok) {
    ok = (replace ? ::rename(tmp, path) : ::link(tmp, path)) == 0;
    err = errno;
  }
  if (!ok || !replace) ::unlink(tmp);
  if (!ok) return errno = err, -1;
  return 0;
}

bool same_file(const struct stat& a, const struct stat& b) noexcept {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

struct Mapping {
  char* base = nullptr;
  std::size_t len = 0;
  std::uint64_t cap = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

// One mapping per journal file per process, shared by the process's Writer
// and Reader (a holder thread inside an app). Besides saving address space,
// this lets ThreadSanitizer see the reader's synchronization on the very
// addresses the writers use: through two mappings of one file it reports
// false races between writers of successive laps, which the reader orders.
struct Shared {
  dev_t dev;
  ino_t ino;
  char* base;
  std::size_t len;
  int refs;  // 0: free slot
};
constinit std::mutex g_shared_lock;
constinit Shared g_shared[8]{};

// Swaps `m` for this process's existing mapping of the same file, if any.
// (The inode cannot be reused while a mapping keeps it alive.)
void share(Mapping& m) noexcept {
  std::lock_guard lock(g_shared_lock);
  Shared* free_slot = nullptr;
  for (Shared& s : g_shared) {
    if (s.refs > 0 && s.dev == m.dev && s.ino == m.ino) {
      ::munmap(m.base, m.len);
      m.base = s.base, m.len = s.len, m.cap = s.len - kHeaderSize;
      ++s.refs;
      return;
    }
    if (s.refs == 0 && !free_slot) free_slot = &s;
  }
  if (free_slot) *free_slot = Shared{m.dev, m.ino, m.base, m.len, 1};
  // else: not shared, which works as well.
}

void release(char* base, std::size_t len) noexcept {
  {
    std::lock_guard lock(g_shared_lock);
    for (Shared& s : g_shared)
      if (s.refs > 0 && s.base == base) {
        if (--s.refs > 0) return;
        break;
      }
  }
  ::munmap(base, len);
}

// Maps the journal at `path`, creating or replacing it as needed. A few
// rounds, since other processes may be creating or replacing it at the same
// time. 0, or -1 with errno.
int map_journal(const char* path, std::uint64_t cap, Mapping& out) noexcept {
  if (cap < kMinCapacity || cap > kMaxCapacity || cap % 8 != 0) return errno = EINVAL, -1;
  for (int round = 0; round < 8; ++round) {
    int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      if (errno != ENOENT) return -1;
      if (build(path, cap, false) != 0 && errno != EEXIST) return -1;
      continue;
    }
    struct stat st;
    int err = ::fstat(fd, &st) != 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL : 0;
    if (err != 0) {
      ::close(fd);
      return errno = err, -1;
    }
    FileHeader h{};
    ssize_t got = ::pread(fd, &h, sizeof h, 0);
    if (got < 0) {
      err = errno;
      ::close(fd);
      return errno = err, -1;
    }
    if (static_cast<std::size_t>(got) != sizeof h || !valid(h, st.st_size)) {
      // Another version's, truncated, or scribbled over. Writers still
      // attached to it see the poisoned magic and stop; a fresh file goes in
      // its place (unless someone replaced it already).
      if (static_cast<std::size_t>(st.st_size) >= sizeof kDeadMagic)
        (void)!::pwrite(fd, &kDeadMagic, sizeof kDeadMagic, 0);
      ::close(fd);
      struct stat now;
      if (::stat(path, &now) == 0 && same_file(now, st) && build(path, cap, true) != 0) return -1;
      continue;
    }
    std::size_t len = kHeaderSize + h.capacity;
    void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    err = errno;
    ::close(fd);
    if (p == MAP_FAILED) return errno = err, -1;
    // Replaced between our open and now: map the new one.
    struct stat now;
    if (::stat(path, &now) != 0 || !same_file(now, st)) {
      ::munmap(p, len);
      continue;
    }
    out = Mapping{static_cast<char*>(p), len, h.capacity, st.st_dev, st.st_ino};
    share(out);
    return 0;
  }
  return errno = EAGAIN, -1;
}

}  // namespace

void before_fork() noexcept { g_shared_lock.lock(); }
void after_fork() noexcept { g_shared_lock.unlock(); }

// ---- Writer ----

bool Writer::attach(const char* path, std::uint64_t capacity) noexcept {
  detach();
  Mapping m;
  if (map_journal(path, capacity, m) != 0) return false;
  map_ = m.base, map_len_ = m.len, cap_ = m.cap;
  live_.store(m.base, std::memory_order_release);
  return true;
}

bool Writer::attached() const noexcept { return live_.load(std::memory_order_acquire) != nullptr; }

void Writer::detach() noexcept {
  live_.store(nullptr, std::memory_order_release);
  if (map_) release(map_, map_len_);
  map_ = nullptr, map_len_ = 0, cap_ = 0;
}

void Writer::mark_lost() noexcept {
  if (char* base = live_.load(std::memory_order_acquire))
    at(reinterpret_cast<FileHeader*>(base)->lost).store(1, std::memory_order_release);
}

// Dedup, and why it is safe. An event is skipped only when this process
// recorded the same (kind, path) before, in the same epoch, and that record
// was committed before the slot was set. The reader takes its head snapshot
// first and bumps the epoch last, just before drain() returns. So:
//  - the earlier record read epoch e before its reservation; a drain whose
//    snapshot covers that reservation bumps the epoch after it, and that is
//    the first bump after the record read e (or a later one);
//  - the skip read e as well, so it came before that bump, hence before that
//    drain returned; the holder reads the file after the drain returns and
//    sees the change the skipped event stood for.
// (Bumping first, as a drain "start", would not do: a record tagged with the
// new epoch could land before the snapshot and be consumed by that very
// drain; a later identical event in the same epoch would then be skipped
// after the holder had read the file.)
// A record dropped by a resync or skip_to is covered by the rescan that
// follows it, by the same argument.
void Writer::record(Event e, std::string_view rel) noexcept {
  char* base = live_.load(std::memory_order_acquire);
  if (!base) return;
  FileHeader& h = *reinterpret_cast<FileHeader*>(base);
  if (at(h.magic).load(std::memory_order_relaxed) != kMagic) {
    // Replaced or scribbled over: stop. (No munmap: other threads may be here.)
    live_.store(nullptr, std::memory_order_release);
    return;
  }
  auto kind = static_cast<std::uint8_t>(e);
  if (kind < 1 || kind > 4) return;
  if (rel.size() > kMaxPath) {
    at(h.lost).store(1, std::memory_order_release);
    return;
  }
  std::uint64_t key = key_of(kind, rel);
  std::atomic<std::uint64_t>& slot = seen_[key % kSeen];
  std::uint64_t tag = key ^ mix(at(h.epoch).load(std::memory_order_seq_cst));
  if (slot.load(std::memory_order_acquire) == tag) return;
  if (append(base, kind, rel, key, static_cast<std::uint64_t>(::getpid()))) slot.store(tag, std::memory_order_release);
}

bool Writer::unsaved() const noexcept {
  char* base = live_.load(std::memory_order_acquire);
  if (!base) return true;
  FileHeader& h = *reinterpret_cast<FileHeader*>(base);
  std::uint64_t saved = at(h.saved).load(std::memory_order_acquire);  // position + 1
  return saved == 0 || at(h.head).load(std::memory_order_acquire) > saved - 1;
}

bool Writer::reader_quiet(std::uint64_t now_s, std::uint64_t quiet_s) const noexcept {
  char* base = live_.load(std::memory_order_acquire);
  if (!base) return true;
  std::uint64_t beat = at(reinterpret_cast<FileHeader*>(base)->heartbeat).load(std::memory_order_relaxed);
  return beat == 0 || now_s > beat + quiet_s;
}

void Writer::forget_seen() noexcept {
  for (auto& s : seen_) s.store(0, std::memory_order_relaxed);
}

bool Writer::append(char* base, std::uint8_t kind, std::string_view rel, std::uint64_t key,
                    std::uint64_t pid) noexcept {
  FileHeader& h = *reinterpret_cast<FileHeader*>(base);
  char* data = base + kHeaderSize;
  const std::uint64_t cap = cap_;  // ours, not the file's: bounds hold whatever the file says
  const std::uint64_t len = kRecordHead + rel.size(), adv = round8(len);
  // A retry follows a pad; a second pad in a row needs a whole lap written
  // meanwhile, so this gives up only on a ring far too small.
  for (int tries = 0; tries < 4; ++tries) {
    std::uint64_t pos = at(h.head).fetch_add(adv, std::memory_order_seq_cst);
    std::uint64_t tail = at(h.tail).load(std::memory_order_acquire);
    // Full: write nothing; the lost flag covers the hole. (pos < tail: the
    // reader gave up on this spot already, we were stopped for long. A
    // misaligned pos: a scribbled head, which the reader repairs.)
    if (pos < tail || pos - tail > cap - adv || pos % 8 != 0) break;
    std::uint64_t off = pos % cap;
    if (off + adv > cap) {
      // Would straddle the end: a pad covering the whole reservation (so
      // the reader skips it, wrapping), then a new reservation.
      word_at(data, off).store(header_word(pos, cap, adv, 0, kPad), std::memory_order_release);
      continue;
    }
    std::uint64_t check = check_of(key, pos, pid);
    memcpy(data + off + 8, &check, sizeof check);
    memcpy(data + off + 16, &pid, sizeof pid);
    if (!rel.empty()) memcpy(data + off + kRecordHead, rel.data(), rel.size());
    word_at(data, off).store(header_word(pos, cap, len, kind, kCommitted), std::memory_order_release);
    return true;
  }
  at(h.lost).store(1, std::memory_order_release);
  return false;
}

// ---- Reader ----

Reader::~Reader() { unmap(); }

void Reader::unmap() noexcept {
  if (map_) release(map_, map_len_);
  map_ = nullptr, map_len_ = 0, cap_ = 0;
}

void Reader::open(const std::string& path, std::uint64_t capacity) {
  Mapping m;
  if (map_journal(path.c_str(), capacity, m) != 0)
    throw std::system_error(errno, std::generic_category(), "journal " + path);
  unmap();
  path_ = path;
  map_ = m.base, map_len_ = m.len, cap_ = m.cap, dev_ = m.dev, ino_ = m.ino;
  stuck_ = false;
}

// Still the file at path_, and its header still sane. (A misaligned head
// cannot be mended in place while writers add to it: the file is replaced.)
bool Reader::intact() const noexcept {
  FileHeader& h = hdr();
  struct stat st;
  return at(h.magic).load(std::memory_order_relaxed) == kMagic && at(h.head).load(std::memory_order_relaxed) % 8 == 0 &&
         at(h.tail).load(std::memory_order_relaxed) % 8 == 0 &&
         at(h.version).load(std::memory_order_relaxed) == kVersion &&
         at(h.header_size).load(std::memory_order_relaxed) == kHeaderSize &&
         at(h.capacity).load(std::memory_order_relaxed) == cap_ && ::stat(path_.c_str(), &st) == 0 &&
         st.st_dev == dev_ && st.st_ino == ino_;
}

Batch Reader::drain(std::chrono::milliseconds wait, std::chrono::milliseconds give_up) {
  if (!map_) throw std::system_error(EBADF, std::generic_category(), "journal not open");
  Batch b;
  if (!intact()) {
    // Scribbled over, or replaced by someone who found it so: stop the
    // writers still on our file, and move to the one at the path.
    at(hdr().magic).store(kDeadMagic, std::memory_order_relaxed);
    open(path_, cap_);
    resync(b);
  } else if (at(hdr().lost).exchange(0, std::memory_order_acq_rel) != 0) {
    resync(b);
  } else {
    walk(b, wait, give_up);
  }
  // Last, after every head snapshot this drain took: see Writer::record.
  at(hdr().epoch).fetch_add(1, std::memory_order_seq_cst);
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  at(hdr().heartbeat).store(static_cast<std::uint64_t>(ts.tv_sec), std::memory_order_relaxed);
  return b;
}

void Reader::walk(Batch& b, std::chrono::milliseconds wait, std::chrono::milliseconds give_up) {
  FileHeader& h = hdr();
  char* d = data();
  const std::uint64_t snap = at(h.head).load(std::memory_order_seq_cst);
  std::uint64_t pos = at(h.tail).load(std::memory_order_relaxed);
  if (pos > snap) return resync(b);  // nonsense
  while (pos < snap) {
    std::uint64_t off = pos % cap_;
    std::uint64_t w = word_at(d, off).load(std::memory_order_acquire);
    if (!written(w, pos, cap_)) {
      w = await(pos, wait);
      if (!written(w, pos, cap_)) {
        // A writer's full ring left a hole here, or it died between
        // reserving and committing: skip to the head.
        if (at(h.lost).load(std::memory_order_relaxed) != 0 || Clock::now() - stuck_since_ >= give_up) resync(b);
        return;
      }
    }
    std::uint64_t len = (w >> 16) & 0xffff, adv = round8(len);
    auto kind = static_cast<std::uint8_t>(w >> 8);
    std::uint8_t state = w & 0xff;
    bool sane = state == kPad ? kind == 0 && len >= 8 && len % 8 == 0 && len <= kMaxRecord && snap - pos >= len
                              : state == kCommitted && kind >= 1 && kind <= 4 && len >= kRecordHead &&
                                    len <= kRecordHead + kMaxPath && off + adv <= cap_ && snap - pos >= adv;
    if (!sane) return resync(b);
    if (state == kCommitted) {
      std::string path(d + off + kRecordHead, len - kRecordHead);
      std::uint64_t check, pid;
      memcpy(&check, d + off + 8, sizeof check);
      memcpy(&pid, d + off + 16, sizeof pid);
      if (check != check_of(key_of(kind, path), pos, pid)) return resync(b);
      b.events.push_back(Record{static_cast<Event>(kind), std::move(path), static_cast<pid_t>(pid)});
    }
    // Zero what we consumed: a header slot of a later lap then reads 0 until
    // its writer publishes it, never old payload bytes. (A wrapping pad's
    // part past the end is zero already.)
    memset(d + off, 0, std::min(adv, cap_ - off));
    pos += adv;
    at(h.tail).store(pos, std::memory_order_release);
  }
}

// Polls the header word at `pos` for up to `wait`, stopping early if a writer
// reports lost events (then nothing will come). Notes when the wait began.
std::uint64_t Reader::await(std::uint64_t pos, std::chrono::milliseconds wait) noexcept {
  auto now = Clock::now();
  if (!stuck_ || stuck_pos_ != pos) stuck_ = true, stuck_pos_ = pos, stuck_since_ = now;
  auto word = word_at(data(), pos % cap_);
  auto deadline = now + wait;
  auto nap = std::chrono::microseconds(20);
  for (;;) {
    std::uint64_t w = word.load(std::memory_order_acquire);
    if (written(w, pos, cap_) || at(hdr().lost).load(std::memory_order_relaxed) != 0) return w;
    now = Clock::now();
    if (now >= deadline) return w;
    std::this_thread::sleep_for(std::min<Clock::duration>(nap, deadline - now));
    nap = std::min<std::chrono::microseconds>(nap * 2, std::chrono::milliseconds(1));
  }
}

// Drops everything up to the head. The lost flag is cleared before the
// snapshot: a writer sets it after its reservation, so any flag cleared
// here belongs to a hole this skip covers.
void Reader::resync(Batch& b) noexcept {
  FileHeader& h = hdr();
  at(h.lost).exchange(0, std::memory_order_acq_rel);
  at(h.tail).store(at(h.head).load(std::memory_order_seq_cst), std::memory_order_release);
  stuck_ = false;
  b.lost = true;
}

std::uint64_t Reader::head() noexcept {
  if (!map_) return 0;
  std::uint64_t h = at(hdr().head).load(std::memory_order_seq_cst);
  at(hdr().epoch).fetch_add(1, std::memory_order_seq_cst);
  return h;
}

void Reader::skip_to(std::uint64_t h) noexcept {
  if (!map_) return;
  std::uint64_t tail = at(hdr().tail).load(std::memory_order_relaxed);
  std::uint64_t head = at(hdr().head).load(std::memory_order_seq_cst);
  if (h > tail && h <= head && h % 8 == 0) at(hdr().tail).store(h, std::memory_order_release);
  stuck_ = false;
}

std::uint64_t Reader::consumed() const noexcept { return map_ ? at(hdr().tail).load(std::memory_order_acquire) : 0; }

void Reader::set_saved(std::uint64_t pos) noexcept {
  if (map_) at(hdr().saved).store(pos == kNotSaved ? 0 : pos + 1, std::memory_order_release);
}

std::uint64_t Reader::pending_bytes() const noexcept {
  if (!map_) return 0;
  std::uint64_t tail = at(hdr().tail).load(std::memory_order_acquire);
  std::uint64_t head = at(hdr().head).load(std::memory_order_acquire);
  return head > tail ? head - tail : 0;
}

}  // namespace fractfs::journal
