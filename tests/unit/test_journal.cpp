// The write-tracking journal: order, wrap-around, overflow, dedup, many
// threads and processes, a writer killed mid-record, and damaged files.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>
#include <tuple>

#include "sync/journal.hpp"
#include "tests/unit/tmpdir.hpp"

using namespace fractfs::journal;
using fractfs::test::TempDir;
using std::chrono::milliseconds;

namespace {

constexpr std::uint64_t kSmall = 4096;

// The shim keeps a static Writer: it must be constant-initialized.
[[maybe_unused]] constinit Writer g_static_writer;

using Events = std::vector<std::pair<Event, std::string>>;

// What was recorded, checking that each event names the process that made it.
Events events(const Batch& b, pid_t pid = ::getpid()) {
  Events out;
  for (const Record& r : b.events) {
    CHECK(r.pid == pid);
    out.emplace_back(r.event, r.path);
  }
  return out;
}

std::vector<std::string> paths(const Batch& b) {
  std::vector<std::string> out;
  for (const Record& r : b.events) out.push_back(r.path);
  return out;
}

// A second mapping of the journal file, to look at and damage it.
class View {
 public:
  explicit View(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    struct stat st;
    REQUIRE(::fstat(fd, &st) == 0);
    len_ = static_cast<std::size_t>(st.st_size);
    base_ = static_cast<char*>(::mmap(nullptr, len_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    ::close(fd);
    REQUIRE(base_ != MAP_FAILED);
  }
  ~View() { ::munmap(base_, len_); }
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  FileHeader& h() const { return *reinterpret_cast<FileHeader*>(base_); }
  char* data() const { return base_ + kHeaderSize; }
  std::atomic_ref<std::uint64_t> head() const { return std::atomic_ref<std::uint64_t>(h().head); }
  std::atomic_ref<std::uint64_t> tail() const { return std::atomic_ref<std::uint64_t>(h().tail); }

 private:
  char* base_ = nullptr;
  std::size_t len_ = 0;
};

// A writer and a reader on a fresh journal.
struct Pair {
  explicit Pair(std::uint64_t cap = kSmall) : path(dir / "journal") {
    REQUIRE(w.attach(path.c_str(), cap));
    r.open(path, cap);
  }
  ~Pair() { w.detach(); }
  TempDir dir;
  std::string path;
  Writer w;
  Reader r;
};

}  // namespace

TEST_CASE("journal: records come out in order, with their kinds", "[journal]") {
  Pair j;
  Batch b = j.r.drain();
  CHECK(b.events.empty());
  CHECK_FALSE(b.lost);

  j.w.record(Event::changed, "a");
  j.w.record(Event::removed, "b/c");
  j.w.record(Event::opened, "");
  j.w.record(Event::closed, "d/e/f.txt");
  CHECK(j.r.pending_bytes() > 0);
  b = j.r.drain();
  CHECK_FALSE(b.lost);
  CHECK(events(b) ==
        Events{{Event::changed, "a"}, {Event::removed, "b/c"}, {Event::opened, ""}, {Event::closed, "d/e/f.txt"}});
  CHECK(j.r.pending_bytes() == 0);
  b = j.r.drain();
  CHECK(b.events.empty());
  CHECK_FALSE(b.lost);
}

TEST_CASE("journal: an existing file's capacity wins", "[journal]") {
  Pair j(kSmall);
  Reader other;
  other.open(j.path, 1 << 20);
  CHECK(std::filesystem::file_size(j.path) == kHeaderSize + kSmall);
  Writer w2;
  REQUIRE(w2.attach(j.path.c_str(), 1 << 20));
  w2.record(Event::changed, "x");
  CHECK(paths(other.drain()) == std::vector<std::string>{"x"});
  w2.detach();
}

TEST_CASE("journal: wraps around many times, every event once and in order", "[journal]") {
  Pair j(kSmall);
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> len(1, 300);
  std::vector<std::string> sent, seen;
  // Stop short of full: a record and a pad of at most 320 bytes each.
  while (sent.size() < 20000) {
    while (j.r.pending_bytes() + 640 <= kSmall) {
      std::string p = std::to_string(sent.size()) + "/";
      p.resize(std::max(p.size(), len(rng)), 'x');
      j.w.record(Event::changed, p);
      sent.push_back(p);
    }
    Batch b = j.r.drain(milliseconds(0), milliseconds(1000));
    REQUIRE_FALSE(b.lost);
    for (auto& p : paths(b)) seen.push_back(p);
  }
  Batch b = j.r.drain(milliseconds(0), milliseconds(1000));
  REQUIRE_FALSE(b.lost);
  for (auto& p : paths(b)) seen.push_back(p);
  CHECK(seen == sent);
  View v(j.path);
  CHECK(v.head().load() / kSmall > 500);  // laps
}

TEST_CASE("journal: a full ring reports lost, then works again", "[journal]") {
  Pair j(kSmall);
  for (int i = 0; i < 200; ++i) j.w.record(Event::changed, "file-" + std::to_string(i));
  Batch b = j.r.drain(milliseconds(1), milliseconds(1));
  CHECK(b.lost);
  b = j.r.drain();
  CHECK_FALSE(b.lost);
  CHECK(b.events.empty());
  for (int round = 0; round < 3; ++round) {
    j.w.record(Event::changed, "after-" + std::to_string(round));
    j.w.record(Event::removed, "gone");
    b = j.r.drain();
    CHECK_FALSE(b.lost);
    CHECK(events(b) == Events{{Event::changed, "after-" + std::to_string(round)}, {Event::removed, "gone"}});
  }
}

TEST_CASE("journal: an event is stored once per drain", "[journal]") {
  Pair j;
  j.w.record(Event::changed, "x");
  j.w.record(Event::changed, "x");
  j.w.record(Event::removed, "x");  // another kind: another event
  j.w.record(Event::changed, "x");
  CHECK(events(j.r.drain()) == Events{{Event::changed, "x"}, {Event::removed, "x"}});

  j.w.record(Event::changed, "x");
  j.w.record(Event::changed, "x");
  CHECK(events(j.r.drain()) == Events{{Event::changed, "x"}});

  // head() starts a new epoch too: an event dropped by skip_to does not
  // hide the next identical one.
  j.w.record(Event::changed, "y");
  std::uint64_t h = j.r.head();
  j.r.skip_to(h);
  CHECK(j.r.pending_bytes() == 0);
  j.w.record(Event::changed, "y");
  CHECK(events(j.r.drain()) == Events{{Event::changed, "y"}});
}

TEST_CASE("journal: head and skip_to drop what a rescan covers", "[journal]") {
  Pair j;
  j.w.record(Event::changed, "before");
  std::uint64_t h = j.r.head();
  j.w.record(Event::changed, "after");
  j.r.skip_to(h);
  j.r.skip_to(0);  // never backwards
  Batch b = j.r.drain();
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"after"});
}

TEST_CASE("journal: many threads record while a reader drains", "[journal]") {
  constexpr int kThreads = 4;
  // Both wrap hundreds of times; the small ring with long paths pads often.
  auto [cap, longest, each] = GENERATE(std::tuple<std::uint64_t, std::size_t, int>{64 << 10, 12, 20000},
                                       std::tuple<std::uint64_t, std::size_t, int>{kSmall, 300, 5000});
  CAPTURE(cap, longest, each);
  Pair j(cap);
  std::atomic<int> running{kThreads};
  std::vector<std::string> seen;
  bool lost = false;
  std::thread reader([&] {
    for (;;) {
      bool last = running.load() == 0;
      Batch b = j.r.drain(milliseconds(50), milliseconds(10000));
      lost |= b.lost;
      for (auto& p : paths(b)) seen.push_back(std::move(p));
      if (last) break;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::uniform_int_distribution<std::size_t> len(1, longest);
      for (int i = 0; i < each; ++i) {
        // Flow control for the test only, so the ring never overflows:
        // room for a record and a pad of each thread.
        while (j.r.pending_bytes() + kThreads * 2 * 320 > cap) std::this_thread::yield();
        std::string p = std::to_string(t) + "/" + std::to_string(i) + "/";
        p.resize(std::max(p.size(), len(rng)), 'x');
        j.w.record(Event::changed, p);
      }
      running.fetch_sub(1);
    });
  for (auto& w : writers) w.join();
  reader.join();
  REQUIRE_FALSE(lost);
  REQUIRE(seen.size() == std::size_t{kThreads} * static_cast<std::size_t>(each));
  std::vector<int> next(kThreads, 0);
  for (const auto& p : seen) {
    std::size_t slash = p.find('/');
    int t = std::stoi(p.substr(0, slash));
    int i = std::stoi(p.substr(slash + 1));
    REQUIRE(i == next[t]);  // each thread's events once, in its order
    ++next[t];
  }
}

TEST_CASE("journal: child processes record into the same journal", "[journal]") {
  constexpr int kChildren = 4, kEach = 500;
  Pair j(kCapacity);
  std::vector<pid_t> kids;
  std::cout.flush();  // or the children's exit may print it again
  std::fflush(nullptr);
  for (int c = 0; c < kChildren; ++c) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Half use the writer inherited across fork, half attach their own
      // (as a process started by exec would).
      Writer own;
      Writer& w = c % 2 ? own : j.w;
      if (c % 2 && !own.attach(j.path.c_str())) ::_exit(1);
      for (int i = 0; i < kEach; ++i) w.record(Event::changed, std::to_string(c) + "/" + std::to_string(i));
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  Batch b = j.r.drain();
  REQUIRE_FALSE(b.lost);
  REQUIRE(b.events.size() == std::size_t{kChildren} * kEach);
  std::vector<int> next(kChildren, 0);
  for (const Record& r : b.events) {
    int c = std::stoi(r.path.substr(0, r.path.find('/')));
    REQUIRE(std::stoi(r.path.substr(r.path.find('/') + 1)) == next[c]);
    REQUIRE(r.pid == kids[static_cast<std::size_t>(c)]);  // each event names its process
    ++next[c];
  }
}

TEST_CASE("journal: a forked child records what its parent recorded too", "[journal]") {
  Pair j;
  j.w.record(Event::opened, "db");
  std::fflush(nullptr);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    j.w.forget_seen();  // as the shim's fork handler does
    j.w.record(Event::opened, "db");
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  Batch b = j.r.drain();
  REQUIRE(b.events.size() == 2);
  CHECK(b.events[0].pid == ::getpid());
  CHECK(b.events[1].pid == pid);
  CHECK(b.events[1].path == "db");
}

TEST_CASE("journal: a writer killed between reserving and committing", "[journal]") {
  Pair j;
  View v(j.path);
  j.w.record(Event::changed, "a");
  v.head().fetch_add(24);  // reserved, never committed
  j.w.record(Event::changed, "b");

  // Stops at the hole, waiting a little each time.
  auto t0 = std::chrono::steady_clock::now();
  Batch b = j.r.drain(milliseconds(20), milliseconds(150));
  CHECK(std::chrono::steady_clock::now() - t0 >= milliseconds(20));
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"a"});
  b = j.r.drain(milliseconds(1), milliseconds(150));
  CHECK_FALSE(b.lost);
  CHECK(b.events.empty());

  // Then gives up on it: lost, and skips to the head.
  std::this_thread::sleep_for(milliseconds(160));
  b = j.r.drain(milliseconds(1), milliseconds(150));
  CHECK(b.lost);
  CHECK(j.r.pending_bytes() == 0);

  j.w.record(Event::changed, "c");
  b = j.r.drain(milliseconds(1), milliseconds(150));
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"c"});
}

TEST_CASE("journal: a hole left by a full ring ends the wait at once", "[journal]") {
  Pair j;
  View v(j.path);
  j.w.record(Event::changed, "a");
  // A writer found the ring full: it reserved, wrote nothing, and sets the
  // lost flag while the reader waits at its hole.
  v.head().fetch_add(24);
  std::thread late([&] {
    std::this_thread::sleep_for(milliseconds(30));
    j.w.mark_lost();
  });
  auto t0 = std::chrono::steady_clock::now();
  Batch b = j.r.drain(milliseconds(3000), milliseconds(5000));
  late.join();
  CHECK(std::chrono::steady_clock::now() - t0 < milliseconds(1500));
  CHECK(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"a"});  // what came before the hole
  CHECK(j.r.pending_bytes() == 0);
  j.w.record(Event::changed, "b");
  b = j.r.drain();
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"b"});
}

TEST_CASE("journal: a path longer than kMaxPath is lost", "[journal]") {
  Pair j;
  j.w.record(Event::changed, std::string(kMaxPath + 1, 'x'));
  CHECK(j.r.drain().lost);
  j.w.record(Event::changed, std::string(kMaxPath, 'y'));
  Batch b = j.r.drain();
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{std::string(kMaxPath, 'y')});
}

TEST_CASE("journal: a file that is not a journal is replaced", "[journal]") {
  TempDir dir;
  std::string path = dir.write("journal", "not a journal at all");
  Writer w;
  REQUIRE(w.attach(path.c_str(), kSmall));
  CHECK(std::filesystem::file_size(path) == kHeaderSize + kSmall);
  Reader r;
  r.open(path, kSmall);
  CHECK(r.drain().lost);  // whatever the old file held is gone
  w.record(Event::changed, "x");
  Batch b = r.drain();
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"x"});

  // A journal of the right format but the wrong size (truncated).
  w.detach();
  std::filesystem::resize_file(path, kHeaderSize + 100);
  REQUIRE(w.attach(path.c_str(), kSmall));
  CHECK(std::filesystem::file_size(path) == kHeaderSize + kSmall);
  w.detach();

  // Neither a directory nor a missing parent is a journal.
  CHECK_FALSE(w.attach(dir.path().c_str()));
  CHECK_FALSE(w.attach((dir / "no/such/journal").c_str()));
  CHECK_FALSE(w.attached());
  Reader bad;
  CHECK_THROWS_AS(bad.open(dir / "no/such/journal"), std::system_error);
}

TEST_CASE("journal: a scribbled header stops the writers and is repaired", "[journal]") {
  Pair j;
  j.w.record(Event::changed, "a");
  SECTION("magic") {
    View v(j.path);
    std::memset(&v.h().magic, 0xab, sizeof v.h().magic);
    j.w.record(Event::changed, "b");
    CHECK_FALSE(j.w.attached());
    CHECK(j.r.drain().lost);
  }
  SECTION("capacity: the reader notices, and its repair stops the writers") {
    View v(j.path);
    v.h().capacity = 12345;
    CHECK(j.r.drain().lost);
    j.w.record(Event::changed, "b");
    CHECK_FALSE(j.w.attached());
  }
  SECTION("a misaligned head: cannot be mended in place, the file is replaced") {
    View v(j.path);
    v.head().fetch_add(3);
    j.w.record(Event::changed, "b");  // not written
    CHECK(j.r.drain().lost);
    j.w.record(Event::changed, "b");
    CHECK_FALSE(j.w.attached());
  }
  REQUIRE(j.w.attach(j.path.c_str(), kSmall));
  j.w.record(Event::changed, "c");
  Batch b = j.r.drain();
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"c"});
}

TEST_CASE("journal: scribbled records are reported lost, never crash", "[journal]") {
  Pair j;
  View v(j.path);
  for (int i = 0; i < 10; ++i) j.w.record(Event::changed, "file-" + std::to_string(i));
  const std::uint64_t first = v.tail().load();  // the first record's position
  auto word = [&] { return reinterpret_cast<std::uint64_t*>(v.data() + first % kSmall); };

  SECTION("random bytes") {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 64; ++i) reinterpret_cast<std::uint64_t*>(v.data())[i] = rng();
  }
  SECTION("a length past the head") { *word() |= std::uint64_t{0xfff0} << 16; }
  SECTION("an unknown state") { *word() = (*word() & ~std::uint64_t{0xff}) | 9; }
  SECTION("a changed path") { v.data()[first % kSmall + 24] ^= 1; }
  SECTION("an unknown kind") { *word() = (*word() & ~std::uint64_t{0xff00}) | 0x700; }
  SECTION("tail past head") { v.tail().store(v.head().load() + 1000); }
  SECTION("head near the top of the counter") {
    v.head().store(~std::uint64_t{0} - 47);
    v.tail().store(~std::uint64_t{0} - 47);
    for (int i = 0; i < 10; ++i) j.w.record(Event::removed, "wrap-" + std::to_string(i));
  }
  Batch b = j.r.drain(milliseconds(1), milliseconds(0));
  CHECK(b.lost);
  CHECK(b.events.size() < 10);
  // Works again.
  j.w.record(Event::changed, "fine");
  b = j.r.drain(milliseconds(1), milliseconds(0));
  CHECK_FALSE(b.lost);
  CHECK(paths(b) == std::vector<std::string>{"fine"});
}

TEST_CASE("journal: what the last checkpoint saved, and the reader's heartbeat", "[journal]") {
  Pair j;
  CHECK(j.w.unsaved());  // not known yet
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  auto now = static_cast<std::uint64_t>(ts.tv_sec);
  CHECK(j.w.reader_quiet(now, 3));  // never drained
  j.w.record(Event::changed, "a");
  j.r.drain();
  CHECK_FALSE(j.w.reader_quiet(now, 3));
  CHECK(j.w.reader_quiet(now + 10, 3));
  j.r.set_saved(j.r.consumed());
  CHECK_FALSE(j.w.unsaved());
  j.w.record(Event::changed, "b");
  CHECK(j.w.unsaved());
  j.r.drain();
  j.r.set_saved(j.r.consumed());
  CHECK_FALSE(j.w.unsaved());
  j.r.set_saved(Reader::kNotSaved);  // a file still open for writing
  CHECK(j.w.unsaved());
  CHECK(Writer().unsaved());  // a writer not attached cannot tell
}
