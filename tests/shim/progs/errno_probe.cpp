// Successful calls under the shim leave errno as it was, however many
// internal probes failed on the way (libc does not touch errno on success).
// Run with the cwd at an app root whose [dirs] holds "data" and [ignore]
// holds "*.tmp". Prints "ok" or the failing call.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

static int failures = 0;

static void check(const char* what, bool ok) {
  if (!ok || errno != 4242) {
    std::printf("FAIL %s (ok=%d errno=%d)\n", what, ok, errno);
    ++failures;
  }
  errno = 4242;
}

int main() {
  struct stat st;
  errno = 4242;
  check("mkdir remote-tier dir", ::mkdir("data/d", 0755) == 0);
  check("stat union dir", ::stat("data/d", &st) == 0);
  int fd = ::open("data/d/f.bin", O_CREAT | O_WRONLY, 0644);
  check("create remote file", fd >= 0);
  ::close(fd);
  errno = 4242;
  check("create local file in union dir", (fd = ::open("data/d/x.tmp", O_CREAT | O_WRONLY, 0644)) >= 0);
  ::close(fd);
  errno = 4242;
  check("rename local -> remote", ::rename("data/d/x.tmp", "data/d/x.bin") == 0);
  check("rename remote -> local", ::rename("data/d/x.bin", "data/d/y.tmp") == 0);
  check("opendir union dir", [] {
    DIR* d = ::opendir("data/d");
    return d && ::closedir(d) == 0;
  }());
  check("open union dir O_RDONLY", (fd = ::open("data/d", O_RDONLY)) >= 0);
  check("fstat of it", ::fstat(fd, &st) == 0);
  ::close(fd);
  errno = 4242;
  check("chdir into union dir", ::chdir("data/d") == 0);
  check("relative stat", ::stat("f.bin", &st) == 0);
  check("chdir back", ::chdir("../..") == 0);
  check("unlink remote file", ::unlink("data/d/f.bin") == 0);
  check("unlink local file", ::unlink("data/d/y.tmp") == 0);
  check("rmdir union dir", ::rmdir("data/d") == 0);
  // Failures still report the right errno.
  errno = 0;
  bool enoent = ::stat("data/missing", &st) == -1 && errno == ENOENT;
  if (!enoent) std::printf("FAIL stat missing: errno %d\n", errno), ++failures;
  errno = 0;
  bool eexist = ::mkdir("data", 0755) == -1 && errno == EEXIST;
  if (!eexist) std::printf("FAIL mkdir existing: errno %d\n", errno), ++failures;
  // NULL and over-long paths pass through without a crash.
  errno = 0;
  bool efault = ::stat(nullptr, &st) == -1 && errno == EFAULT;
  if (!efault) std::printf("FAIL stat(NULL): errno %d\n", errno), ++failures;
  std::string longp = "data/" + std::string(5000, 'a');
  errno = 0;
  bool toolong = ::open(longp.c_str(), O_RDONLY) == -1 && errno == ENAMETOOLONG;
  if (!toolong) std::printf("FAIL over-long path: errno %d\n", errno), ++failures;
  if (!failures) std::printf("ok\n");
  return failures ? 1 : 0;
}
