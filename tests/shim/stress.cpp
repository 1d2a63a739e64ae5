// Multi-threaded stress of the shim: creates, cross-tier renames, unlinks,
// mkdir/rmdir and listings of shared union directories, from many threads
// at once. Each thread checks what it reads back; at the end the physical
// placement of every surviving file is checked against its tier.
//
// Run under the shim: FRACTFS_ROOT (with a .fractfs.toml whose [dirs] holds
// "data" and whose [ignore] holds "*.tmp") set before start; either
// LD_PRELOAD=libfractfs.so, or linked with the shim's objects (the
// sanitizer builds do that, so ASan/TSan see the shim's own code).
//
//   stress ROOT REMOTE [threads] [iterations]
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<int> g_failures{0};

void fail(const std::string& what) {
  if (g_failures.fetch_add(1) < 20)
    std::fprintf(stderr, "FAIL: %s (errno %d: %s)\n", what.c_str(), errno, std::strerror(errno));
}

bool write_file(const std::string& p, const std::string& text) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  return ::close(fd) == 0 && ok;
}

bool read_file(const std::string& p, std::string& out) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return false;
  out.assign(buf, static_cast<std::size_t>(n));
  return true;
}

int count_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (::readdir(d)) ++n;
  ::closedir(d);
  return n;
}

struct Worker {
  std::string root;
  int id;
  int iterations;

  void run() {
    std::mt19937 rng(static_cast<unsigned>(id) * 7919u + 1);
    std::string mine = root + "/data/w" + std::to_string(id);
    if (::mkdir(mine.c_str(), 0755) != 0) return fail("mkdir " + mine);
    for (int i = 0; i < iterations; ++i) step(rng, mine, i);
  }

  void step(std::mt19937& rng, const std::string& mine, int i) {
    std::string tag = std::to_string(id) + "-" + std::to_string(i);
    std::string tmp = mine + "/f" + tag + ".tmp", final = mine + "/f" + tag + ".parquet";
    if (!write_file(tmp, tag)) return fail("create " + tmp);
    // Local -> remote and back: each rename crosses tiers.
    if (::rename(tmp.c_str(), final.c_str()) != 0) return fail("rename " + tmp + " -> " + final);
    std::string got;
    if (!read_file(final, got) || got != tag) return fail("read back " + final + " = '" + got + "'");
    struct stat st;
    if (::stat(tmp.c_str(), &st) == 0) return fail("source still there after rename: " + tmp);
    if (rng() % 3 == 0) {
      if (::rename(final.c_str(), tmp.c_str()) != 0) return fail("rename back " + final);
      if (::unlink(tmp.c_str()) != 0) return fail("unlink " + tmp);
    } else if (rng() % 2 == 0) {
      if (::unlink(final.c_str()) != 0) return fail("unlink " + final);
    }
    std::string sub = mine + "/d" + tag;
    if (::mkdir(sub.c_str(), 0755) != 0) return fail("mkdir " + sub);
    if (!write_file(sub + "/x.tmp", "x") || !write_file(sub + "/y.bin", "y")) return fail("fill " + sub);
    if (count_entries(sub) != 4) return fail("list " + sub);
    if (::unlink((sub + "/x.tmp").c_str()) != 0 || ::unlink((sub + "/y.bin").c_str()) != 0 || ::rmdir(sub.c_str()) != 0)
      return fail("empty and remove " + sub);
    // Everyone lists the shared union directory while others change it.
    if (count_entries(root + "/data") < 2) fail("list " + root + "/data");
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return std::fprintf(stderr, "usage: stress ROOT REMOTE [threads] [iterations]\n"), 64;
  std::string root = argv[1], remote = argv[2];
  int threads = argc > 3 ? std::atoi(argv[3]) : 8, iterations = argc > 4 ? std::atoi(argv[4]) : 200;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { Worker{root, t, iterations}.run(); });
  for (auto& th : pool) th.join();
  (void)remote;  // physical placement is checked by the calling script, outside the shim
  std::printf("stress: %d threads x %d iterations, %d failures\n", threads, iterations, g_failures.load());
  return g_failures.load() == 0 ? 0 : 1;
}
