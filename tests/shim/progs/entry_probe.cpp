// entry_probe NAME: calls the libc entry point NAME once on a small tree
// it makes under ./w, in the way that takes the shim's slow path, and
// prints the call's result and the tree after it. test_faults.sh runs it
// for every entry of shim/functions.def with a fault injected into that
// entry alone, and compares the output with a run without the shim.
// `entry_probe --list` prints the names it knows.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "shim/decls.hpp"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

constexpr time_t kFixed = 1000000000;

void say(const char* what, long rc) {
  if (rc < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
  else printf("%s: %s\n", what, rc > 0 ? "positive" : "0");
}
void say_ptr(const char* what, const void* p) {
  if (!p) printf("%s: NULL %s\n", what, strerrorname_np(errno));
  else printf("%s: ok\n", what);
}
// A path with the working directory's name replaced by ".".
void say_path(const char* what, const char* p) {
  if (!p) return say_ptr(what, p);
  char cwd[4096];
  std::size_t n = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
  printf("%s: %s\n", what, n && !strncmp(p, cwd, n) ? std::string(".").append(p + n).c_str() : p);
}

void put(const char* path, const char* text, mode_t mode = 0644) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) perror(path), exit(2);
  close(fd);
}

// The tree every case starts from.
void setup() {
  if (mkdir("w", 0755) || mkdir("w/d", 0755) || mkdir("w/e", 0755)) perror("setup"), exit(2);
  put("w/f", "hello\n");
  put("w/d/g", "g\n");
  put("w/x.sh", "#!/bin/sh\necho ran \"$@\"\n", 0755);
  if (symlink("f", "w/l")) perror("setup"), exit(2);
}

void list_into(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = dir + "/" + name;
    bool temp = name.size() >= 7 && name[0] == 't' && (name.size() == 7 || name.substr(7) == ".s");
    struct stat st;
    if (lstat(p.c_str(), &st)) {
      out.push_back(p + " ?");
      continue;
    }
    char line[512];
    snprintf(line, sizeof line, "%s %o %s%s", temp ? (dir + "/t??????" + name.substr(7)).c_str() : p.c_str(),
             st.st_mode, S_ISREG(st.st_mode) ? std::to_string(st.st_size).c_str() : "-",
             st.st_mtime == kFixed ? " fixed" : "");
    out.push_back(line);
    if (S_ISDIR(st.st_mode)) list_into(p, out);
  }
  closedir(d);
}

// The tree after the call: what a wrong pass-through would leave different.
void show_tree() {
  std::vector<std::string> lines;
  list_into("w", lines);
  std::sort(lines.begin(), lines.end());
  for (auto& l : lines) printf("  %s\n", l.c_str());
}

template <typename St>
void say_stat(const char* what, int rc, const St& st) {
  if (rc) return say(what, rc);
  printf("%s: mode %o size %lld\n", what, st.st_mode, S_ISREG(st.st_mode) ? (long long)st.st_size : -1LL);
}

int rd() { return open("w/f", O_RDONLY); }
int wr() { return open("w/f", O_WRONLY | O_APPEND); }  // a writable descriptor the shim tracks
int dir_fd(const char* p = "w/d") { return open(p, O_RDONLY | O_DIRECTORY); }

void say_read(const char* what, int fd) {
  if (fd < 0) return say(what, fd);
  char buf[64] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  printf("%s: read %zd [%s]\n", what, n, buf);
  close(fd);
}
void say_stream(const char* what, FILE* f) {
  if (!f) return say_ptr(what, f);
  char buf[64] = {};
  printf("%s: [%s]\n", what, fgets(buf, sizeof buf, f) ? buf : "");
  fclose(f);
}

// Runs `exec` in a child and reports how it ended.
void child(const char* what, const std::function<void()>& exec) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    exec();
    printf("%s: returned %s\n", what, strerrorname_np(errno));
    fflush(stdout);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("%s: exit %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
void spawned(const char* what, int rc, const pid_t& pid) {
  if (rc) return printf("%s: %s\n", what, strerrorname_np(rc)), void();
  int status = 0;
  waitpid(pid, &status, 0);
  printf("%s: exit %d\n", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

template <typename Dir, typename Read>
void say_dir(const char* what, Dir* d, Read&& read) {
  if (!d) return say_ptr(what, d);
  std::vector<std::string> names;
  while (auto* e = read(d)) names.push_back(e->d_name);
  std::sort(names.begin(), names.end());
  printf("%s:", what);
  for (auto& n : names) printf(" %s", n.c_str());
  printf("\n");
  closedir(d);
}
// `list` by reference: it is filled by the call in the same argument list.
template <typename Ent>
void say_names(const char* what, int n, Ent** const& list) {
  if (n < 0) return say(what, n);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(list[i]->d_name), free(list[i]);
  free(list);
  std::sort(names.begin(), names.end());
  printf("%s:", what);
  for (auto& s : names) printf(" %s", s.c_str());
  printf("\n");
}

std::vector<std::string> g_walked;
int walked(const char* p, const struct stat*, int type, struct FTW*) {
  g_walked.push_back(std::string(p) + ":" + std::to_string(type));
  return 0;
}
int walked64(const char* p, const struct stat64*, int type, struct FTW*) {
  g_walked.push_back(std::string(p) + ":" + std::to_string(type));
  return 0;
}
int walked_old(const char* p, const struct stat*, int type) {
  g_walked.push_back(std::string(p) + ":" + std::to_string(type));
  return 0;
}
int walked_old64(const char* p, const struct stat64*, int type) {
  g_walked.push_back(std::string(p) + ":" + std::to_string(type));
  return 0;
}
void say_walk(const char* what, int rc) {
  std::sort(g_walked.begin(), g_walked.end());
  printf("%s: %d", what, rc);
  for (auto& s : g_walked) printf(" %s", s.c_str());
  printf("\n");
}

template <typename Open, typename Read, typename Children, typename Set, typename Close>
void fts_walk(const char* what, Open&& open_, Read&& read_, Children&& children, Set&& set, Close&& close_) {
  char* argv[] = {const_cast<char*>("w"), nullptr};
  auto* sp = open_(argv, FTS_PHYSICAL, nullptr);
  if (!sp) return say_ptr(what, sp);
  std::vector<std::string> seen;
  while (auto* e = read_(sp)) {
    seen.push_back(std::string(e->fts_path) + ":" + std::to_string(e->fts_info));
    if (e->fts_info == FTS_D && !strcmp(e->fts_name, "w")) {
      int n = 0;
      for (auto* c = children(sp, FTS_NAMEONLY); c; c = c->fts_link) ++n;
      seen.push_back("children:" + std::to_string(n));
    }
    if (e->fts_info == FTS_D && !strcmp(e->fts_name, "e")) set(sp, e, FTS_SKIP);
  }
  std::sort(seen.begin(), seen.end());
  printf("%s:", what);
  for (auto& s : seen) printf(" %s", s.c_str());
  printf(" close %d\n", close_(sp));
}

int unix_socket_at(const char* path, const std::function<int(int, const sockaddr*, socklen_t)>& bind_) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  strcpy(a.sun_path, path);
  int rc = bind_(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  close(s);
  return rc;
}

const struct timeval kTv[2] = {{kFixed, 0}, {kFixed, 0}};
const struct timespec kTs[2] = {{kFixed, 0}, {kFixed, 0}};
const struct utimbuf kUb = {kFixed, kFixed};

char g_tmpl[64];
char* t(const char* s) { return strcpy(g_tmpl, s); }
void made(const char* what, long rc) { say(what, rc < 0 ? rc : 0), say("made", access(g_tmpl, F_OK)); }

using Case = std::function<void()>;
std::map<std::string, Case> cases() {
  return {
      // open family
      {"open", [] { say_read("open", open("w/f", O_RDONLY)); }},
      {"open64", [] { say_read("open64", open64("w/f", O_RDONLY)); }},
      {"openat", [] { say_read("openat", openat(AT_FDCWD, "w/f", O_RDONLY)); }},
      {"openat64", [] { say_read("openat64", openat64(AT_FDCWD, "w/f", O_RDONLY)); }},
      {"creat", [] { say("creat", creat("w/new", 0600)); }},
      {"creat64", [] { say("creat64", creat64("w/new", 0600)); }},
      {"__open_2", [] { say_read("__open_2", __open_2("w/f", O_RDONLY)); }},
      {"__open64_2", [] { say_read("__open64_2", __open64_2("w/f", O_RDONLY)); }},
      {"__openat_2", [] { say_read("__openat_2", __openat_2(AT_FDCWD, "w/f", O_RDONLY)); }},
      {"__openat64_2", [] { say_read("__openat64_2", __openat64_2(AT_FDCWD, "w/f", O_RDONLY)); }},
      {"fopen", [] { say_stream("fopen", fopen("w/f", "r")); }},
      {"fopen64", [] { say_stream("fopen64", fopen64("w/f", "r")); }},
      {"freopen", [] { say_stream("freopen", freopen("w/f", "r", fopen("/dev/null", "r"))); }},
      {"freopen64", [] { say_stream("freopen64", freopen64("w/f", "r", fopen("/dev/null", "r"))); }},
      // stat family
      {"stat",
       [] {
         struct stat s;
         say_stat("stat", stat("w/l", &s), s);
       }},
      {"stat64",
       [] {
         struct stat64 s;
         say_stat("stat64", stat64("w/l", &s), s);
       }},
      {"lstat",
       [] {
         struct stat s;
         say_stat("lstat", lstat("w/l", &s), s);
       }},
      {"lstat64",
       [] {
         struct stat64 s;
         say_stat("lstat64", lstat64("w/l", &s), s);
       }},
      {"fstatat",
       [] {
         struct stat s;
         say_stat("fstatat", fstatat(AT_FDCWD, "w/l", &s, 0), s);
       }},
      {"fstatat64",
       [] {
         struct stat64 s;
         say_stat("fstatat64", fstatat64(AT_FDCWD, "w/l", &s, 0), s);
       }},
      {"statx",
       [] {
         struct statx s;
         int rc = statx(AT_FDCWD, "w/f", 0, STATX_BASIC_STATS, &s);
         printf("statx: %d size %llu\n", rc, rc ? 0ULL : (unsigned long long)s.stx_size);
       }},
      {"__xstat",
       [] {
         struct stat s;
         say_stat("__xstat", __xstat(1, "w/l", &s), s);
       }},
      {"__xstat64",
       [] {
         struct stat64 s;
         say_stat("__xstat64", __xstat64(1, "w/l", &s), s);
       }},
      {"__lxstat",
       [] {
         struct stat s;
         say_stat("__lxstat", __lxstat(1, "w/l", &s), s);
       }},
      {"__lxstat64",
       [] {
         struct stat64 s;
         say_stat("__lxstat64", __lxstat64(1, "w/l", &s), s);
       }},
      {"__fxstatat",
       [] {
         struct stat s;
         say_stat("__fxstatat", __fxstatat(1, AT_FDCWD, "w/l", &s, 0), s);
       }},
      {"__fxstatat64",
       [] {
         struct stat64 s;
         say_stat("__fxstatat64", __fxstatat64(1, AT_FDCWD, "w/l", &s, 0), s);
       }},
      {"fstat",
       [] {
         struct stat s;
         say_stat("fstat", fstat(dir_fd(), &s), s);
       }},
      {"fstat64",
       [] {
         struct stat64 s;
         say_stat("fstat64", fstat64(dir_fd(), &s), s);
       }},
      {"__fxstat",
       [] {
         struct stat s;
         say_stat("__fxstat", __fxstat(1, dir_fd(), &s), s);
       }},
      {"__fxstat64",
       [] {
         struct stat64 s;
         say_stat("__fxstat64", __fxstat64(1, dir_fd(), &s), s);
       }},
      {"statfs",
       [] {
         struct statfs s;
         say("statfs", statfs("w/f", &s));
       }},
      {"statfs64",
       [] {
         struct statfs64 s;
         say("statfs64", statfs64("w/f", &s));
       }},
      {"statvfs",
       [] {
         struct statvfs s;
         say("statvfs", statvfs("w/f", &s));
       }},
      {"statvfs64",
       [] {
         struct statvfs64 s;
         say("statvfs64", statvfs64("w/f", &s));
       }},
      {"access", [] { say("access", access("w/nothing", R_OK)); }},
      {"faccessat", [] { say("faccessat", faccessat(AT_FDCWD, "w/f", R_OK, 0)); }},
      {"euidaccess", [] { say("euidaccess", euidaccess("w/f", R_OK)); }},
      {"eaccess", [] { say("eaccess", eaccess("w/f", R_OK)); }},
      // namespace changes
      {"mkdir", [] { say("mkdir", mkdir("w/n", 0700)); }},
      {"mkdirat", [] { say("mkdirat", mkdirat(AT_FDCWD, "w/n", 0700)); }},
      {"rmdir", [] { say("rmdir", rmdir("w/e")); }},
      {"unlink", [] { say("unlink", unlink("w/f")); }},
      {"unlinkat", [] { say("unlinkat", unlinkat(AT_FDCWD, "w/e", AT_REMOVEDIR)); }},
      {"remove", [] { say("remove", remove("w/d/g")); }},
      {"rename", [] { say("rename", rename("w/f", "w/d/f2")); }},
      {"renameat", [] { say("renameat", renameat(AT_FDCWD, "w/f", AT_FDCWD, "w/f2")); }},
      {"renameat2", [] { say("renameat2", renameat2(AT_FDCWD, "w/f", AT_FDCWD, "w/d/g", RENAME_NOREPLACE)); }},
      {"link", [] { say("link", link("w/f", "w/h")); }},
      {"linkat", [] { say("linkat", linkat(AT_FDCWD, "w/f", AT_FDCWD, "w/h", 0)); }},
      {"symlink", [] { say("symlink", symlink("d/g", "w/s")); }},
      {"symlinkat", [] { say("symlinkat", symlinkat("d/g", AT_FDCWD, "w/s")); }},
      {"readlink",
       [] {
         char b[64] = {};
         say("readlink", readlink("w/l", b, sizeof b)), puts(b);
       }},
      {"readlinkat",
       [] {
         char b[64] = {};
         say("readlinkat", readlinkat(AT_FDCWD, "w/l", b, sizeof b)), puts(b);
       }},
      {"__readlink_chk",
       [] {
         char b[64] = {};
         say("__readlink_chk", __readlink_chk("w/l", b, sizeof b, sizeof b)), puts(b);
       }},
      {"__readlinkat_chk",
       [] {
         char b[64] = {};
         say("__readlinkat_chk", __readlinkat_chk(AT_FDCWD, "w/l", b, sizeof b, sizeof b)), puts(b);
       }},
      {"mknod", [] { say("mknod", mknod("w/p", S_IFIFO | 0600, 0)); }},
      {"mknodat", [] { say("mknodat", mknodat(AT_FDCWD, "w/p", S_IFIFO | 0600, 0)); }},
      {"__xmknod",
       [] {
         dev_t d = 0;
         say("__xmknod", __xmknod(0, "w/p", S_IFIFO | 0600, &d));
       }},
      {"__xmknodat",
       [] {
         dev_t d = 0;
         say("__xmknodat", __xmknodat(0, AT_FDCWD, "w/p", S_IFIFO | 0600, &d));
       }},
      {"mkfifo", [] { say("mkfifo", mkfifo("w/p", 0600)); }},
      {"mkfifoat", [] { say("mkfifoat", mkfifoat(AT_FDCWD, "w/p", 0600)); }},
      // attributes
      {"chmod", [] { say("chmod", chmod("w/f", 0640)); }},
      {"lchmod", [] { say("lchmod", lchmod("w/f", 0604)); }},
      {"fchmodat", [] { say("fchmodat", fchmodat(AT_FDCWD, "w/f", 0600, 0)); }},
      {"chown", [] { say("chown", chown("w/f", getuid(), getgid())); }},
      {"lchown", [] { say("lchown", lchown("w/l", getuid(), getgid())); }},
      {"fchownat", [] { say("fchownat", fchownat(AT_FDCWD, "w/f", getuid(), getgid(), 0)); }},
      {"fchmod", [] { say("fchmod", fchmod(wr(), 0660)); }},
      {"fchown", [] { say("fchown", fchown(wr(), getuid(), getgid())); }},
      {"futimens", [] { say("futimens", futimens(wr(), kTs)); }},
      {"futimes", [] { say("futimes", futimes(wr(), kTv)); }},
      {"truncate", [] { say("truncate", truncate("w/f", 3)); }},
      {"truncate64", [] { say("truncate64", truncate64("w/f", 2)); }},
      {"utime", [] { say("utime", utime("w/f", &kUb)); }},
      {"utimes", [] { say("utimes", utimes("w/f", kTv)); }},
      {"lutimes", [] { say("lutimes", lutimes("w/l", kTv)); }},
      {"utimensat", [] { say("utimensat", utimensat(AT_FDCWD, "w/f", kTs, 0)); }},
      {"futimesat", [] { say("futimesat", futimesat(AT_FDCWD, "w/f", kTv)); }},
      {"getxattr",
       [] {
         char b[16] = {};
         setxattr("w/f", "user.k", "v1", 2, 0);
         say("getxattr", getxattr("w/f", "user.k", b, sizeof b)), puts(b);
       }},
      {"lgetxattr",
       [] {
         char b[16] = {};
         say("lgetxattr", lgetxattr("w/l", "user.k", b, sizeof b)), puts(b);
       }},
      {"setxattr", [] { say("setxattr", setxattr("w/f", "user.k", "v2", 2, 0)); }},
      {"lsetxattr", [] { say("lsetxattr", lsetxattr("w/f", "user.k", "v3", 2, 0)); }},
      {"listxattr",
       [] {
         char b[64] = {};
         setxattr("w/f", "user.k", "v", 1, 0);
         say("listxattr", listxattr("w/f", b, sizeof b)), puts(b);
       }},
      {"llistxattr",
       [] {
         char b[64] = {};
         say("llistxattr", llistxattr("w/f", b, sizeof b)), puts(b);
       }},
      {"removexattr",
       [] {
         setxattr("w/f", "user.k", "v", 1, 0);
         say("removexattr", removexattr("w/f", "user.k"));
       }},
      {"lremovexattr", [] { say("lremovexattr", lremovexattr("w/f", "user.none")); }},
      // temporary files
      {"mkstemp", [] { made("mkstemp", mkstemp(t("w/tXXXXXX"))); }},
      {"mkstemp64", [] { made("mkstemp64", mkstemp64(t("w/tXXXXXX"))); }},
      {"mkostemp", [] { made("mkostemp", mkostemp(t("w/tXXXXXX"), O_CLOEXEC)); }},
      {"mkostemp64", [] { made("mkostemp64", mkostemp64(t("w/tXXXXXX"), O_CLOEXEC)); }},
      {"mkstemps", [] { made("mkstemps", mkstemps(t("w/tXXXXXX.s"), 2)); }},
      {"mkstemps64", [] { made("mkstemps64", mkstemps64(t("w/tXXXXXX.s"), 2)); }},
      {"mkostemps", [] { made("mkostemps", mkostemps(t("w/tXXXXXX.s"), 2, 0)); }},
      {"mkostemps64", [] { made("mkostemps64", mkostemps64(t("w/tXXXXXX.s"), 2, 0)); }},
      {"mkdtemp", [] { made("mkdtemp", mkdtemp(t("w/tXXXXXX")) ? 0 : -1); }},
      {"mktemp", [] { printf("mktemp: %s\n", mktemp(t("w/tXXXXXX"))[0] ? "named" : "empty"); }},
      // directories
      {"opendir", [] { say_dir("opendir", opendir("w"), readdir); }},
      {"fdopendir", [] { say_dir("fdopendir", fdopendir(dir_fd("w")), readdir); }},
      {"closedir",
       [] {
         DIR* d = opendir("w");
         say("closedir", closedir(d));
       }},
      {"readdir", [] { say_dir("readdir", opendir("w"), readdir); }},
      {"readdir64", [] { say_dir("readdir64", opendir("w"), readdir64); }},
      {"readdir_r",
       [] {
         say_dir("readdir_r", opendir("w"), [](DIR* d) {
           static struct dirent e;
           struct dirent* r = nullptr;
           readdir_r(d, &e, &r);
           return r;
         });
       }},
      {"readdir64_r",
       [] {
         say_dir("readdir64_r", opendir("w"), [](DIR* d) {
           static struct dirent64 e;
           struct dirent64* r = nullptr;
           readdir64_r(d, &e, &r);
           return r;
         });
       }},
      {"rewinddir",
       [] {
         DIR* d = opendir("w");
         readdir(d);
         rewinddir(d);
         say_dir("rewinddir", d, readdir);
       }},
      {"seekdir",
       [] {
         DIR* d = opendir("w");
         long at = telldir(d);
         readdir(d);
         seekdir(d, at);
         say_dir("seekdir", d, readdir);
       }},
      {"telldir",
       [] {
         DIR* d = opendir("w");
         printf("telldir: %s\n", telldir(d) >= 0 ? "ok" : "bad");
         closedir(d);
       }},
      {"dirfd",
       [] {
         DIR* d = opendir("w");
         struct stat s;
         say_stat("dirfd", fstat(dirfd(d), &s), s);
         closedir(d);
       }},
      {"scandir",
       [] {
         struct dirent** l;
         say_names("scandir", scandir("w", &l, nullptr, alphasort), l);
       }},
      {"scandir64",
       [] {
         struct dirent64** l;
         say_names("scandir64", scandir64("w", &l, nullptr, alphasort64), l);
       }},
      {"scandirat",
       [] {
         struct dirent** l;
         say_names("scandirat", scandirat(AT_FDCWD, "w", &l, nullptr, alphasort), l);
       }},
      {"scandirat64",
       [] {
         struct dirent64** l;
         say_names("scandirat64", scandirat64(AT_FDCWD, "w", &l, nullptr, alphasort64), l);
       }},
      {"glob",
       [] {
         glob_t g;
         int rc = glob("w/*", 0, nullptr, &g);
         printf("glob: %d", rc);
         for (size_t i = 0; !rc && i < g.gl_pathc; ++i) printf(" %s", g.gl_pathv[i]);
         printf("\n");
         if (!rc) globfree(&g);
       }},
      {"glob64",
       [] {
         glob64_t g;
         int rc = glob64("w/*", 0, nullptr, &g);
         printf("glob64: %d", rc);
         for (size_t i = 0; !rc && i < g.gl_pathc; ++i) printf(" %s", g.gl_pathv[i]);
         printf("\n");
         if (!rc) globfree64(&g);
       }},
      {"nftw", [] { say_walk("nftw", nftw("w", walked, 8, FTW_PHYS)); }},
      {"nftw64", [] { say_walk("nftw64", nftw64("w", walked64, 8, FTW_PHYS)); }},
      {"ftw", [] { say_walk("ftw", ftw("w", walked_old, 8)); }},
      {"ftw64", [] { say_walk("ftw64", ftw64("w", walked_old64, 8)); }},
      {"fts_open", [] { fts_walk("fts_open", fts_open, fts_read, fts_children, fts_set, fts_close); }},
      {"fts_read", [] { fts_walk("fts_read", fts_open, fts_read, fts_children, fts_set, fts_close); }},
      {"fts_children", [] { fts_walk("fts_children", fts_open, fts_read, fts_children, fts_set, fts_close); }},
      {"fts_set", [] { fts_walk("fts_set", fts_open, fts_read, fts_children, fts_set, fts_close); }},
      {"fts_close", [] { fts_walk("fts_close", fts_open, fts_read, fts_children, fts_set, fts_close); }},
      {"fts64_open", [] { fts_walk("fts64_open", fts64_open, fts64_read, fts64_children, fts64_set, fts64_close); }},
      {"fts64_read", [] { fts_walk("fts64_read", fts64_open, fts64_read, fts64_children, fts64_set, fts64_close); }},
      {"fts64_children",
       [] { fts_walk("fts64_children", fts64_open, fts64_read, fts64_children, fts64_set, fts64_close); }},
      {"fts64_set", [] { fts_walk("fts64_set", fts64_open, fts64_read, fts64_children, fts64_set, fts64_close); }},
      {"fts64_close", [] { fts_walk("fts64_close", fts64_open, fts64_read, fts64_children, fts64_set, fts64_close); }},
      // working directory and canonical names
      {"chdir",
       [] {
         say("chdir", chdir("w/d"));
         say_read("then open", open("g", O_RDONLY));
       }},
      {"fchdir",
       [] {
         say("fchdir", fchdir(dir_fd()));
         say_read("then open", open("g", O_RDONLY));
       }},
      {"getcwd",
       [] {
         char b[4096];
         chdir("w");
         chdir("d");
         char* p = getcwd(b, sizeof b);
         printf("getcwd: %s\n", p && strstr(p, "/w/d") ? "ends in /w/d" : "wrong");
       }},
      {"realpath",
       [] {
         char b[4096];
         say_path("realpath", realpath("w/l", b));
       }},
      {"__realpath_chk",
       [] {
         char b[4096];
         say_path("__realpath_chk", __realpath_chk("w/d/../l", b, sizeof b));
       }},
      {"canonicalize_file_name",
       [] {
         char* p = canonicalize_file_name("w/d/g");
         say_path("canonicalize_file_name", p);
         free(p);
       }},
      // descriptor bookkeeping
      {"close",
       [] {
         int fd = wr();
         write(fd, "c\n", 2);
         say("close", close(fd));
       }},
      {"close_range",
       [] {
         int fd = wr();
         write(fd, "r\n", 2);
         say("close_range", close_range(fd, fd, 0));
         say("closed", fcntl(fd, F_GETFD));
       }},
      {"fsync",
       [] {
         int fd = wr();
         write(fd, "s\n", 2);
         say("fsync", fsync(fd));
         close(fd);
       }},
      {"fdatasync",
       [] {
         int fd = wr();
         write(fd, "t\n", 2);
         say("fdatasync", fdatasync(fd));
         close(fd);
       }},
      {"dup",
       [] {
         int fd = wr();
         int n = dup(fd);
         close(fd);
         say("dup", write(n, "d\n", 2));
         close(n);
       }},
      {"dup2",
       [] {
         int fd = wr(), o = rd();
         say("dup2", dup2(fd, o) == o ? 0 : -1);
         close(fd);
         write(o, "2\n", 2);
         close(o);
       }},
      {"dup3",
       [] {
         int fd = wr(), o = rd();
         say("dup3", dup3(fd, o, O_CLOEXEC) == o ? 0 : -1);
         close(fd);
         write(o, "3\n", 2);
         close(o);
       }},
      {"fcntl",
       [] {
         int fd = wr();
         int n = fcntl(fd, F_DUPFD_CLOEXEC, 10);
         close(fd);
         say("fcntl", write(n, "f\n", 2));
         close(n);
       }},
      {"fcntl64",
       [] {
         int fd = wr();
         int n = fcntl64(fd, F_DUPFD, 10);
         close(fd);
         say("fcntl64", write(n, "f\n", 2));
         close(n);
       }},
      {"fclose",
       [] {
         FILE* f = fopen("w/f", "a");
         fputs("fc\n", f);
         say("fclose", fclose(f));
       }},
      // process creation
      {"execve",
       [] {
         child("execve", [] {
           char* a[] = {(char*)"x", (char*)"1", nullptr};
           execve("w/x.sh", a, environ);
         });
       }},
      {"execvpe",
       [] {
         child("execvpe", [] {
           char* a[] = {(char*)"x", (char*)"2", nullptr};
           execvpe("w/x.sh", a, environ);
         });
       }},
      {"fexecve",
       [] {
         child("fexecve", [] {
           char* a[] = {(char*)"x", (char*)"3", nullptr};
           fexecve(open("w/x.sh", O_RDONLY), a, environ);
         });
       }},
      {"execveat",
       [] {
         child("execveat", [] {
           char* a[] = {(char*)"x", (char*)"4", nullptr};
           execveat(AT_FDCWD, "w/x.sh", a, environ, 0);
         });
       }},
      {"execv",
       [] {
         child("execv", [] {
           char* a[] = {(char*)"x", (char*)"5", nullptr};
           execv("w/x.sh", a);
         });
       }},
      {"execvp",
       [] {
         child("execvp", [] {
           char* a[] = {(char*)"x", (char*)"6", nullptr};
           execvp("w/x.sh", a);
         });
       }},
      {"execl", [] { child("execl", [] { execl("w/x.sh", "x", "7", nullptr); }); }},
      {"execlp", [] { child("execlp", [] { execlp("w/x.sh", "x", "8", nullptr); }); }},
      {"execle", [] { child("execle", [] { execle("w/x.sh", "x", "9", nullptr, environ); }); }},
      {"posix_spawn",
       [] {
         pid_t p;
         char* a[] = {(char*)"x", (char*)"s", nullptr};
         spawned("posix_spawn", posix_spawn(&p, "w/x.sh", nullptr, nullptr, a, environ), p);
       }},
      {"posix_spawnp",
       [] {
         pid_t p;
         char* a[] = {(char*)"x", (char*)"sp", nullptr};
         spawned("posix_spawnp", posix_spawnp(&p, "w/x.sh", nullptr, nullptr, a, environ), p);
       }},
      // the rest
      {"syscall",
       [] {
         struct stat s;
         say_stat("syscall", (int)syscall(SYS_newfstatat, AT_FDCWD, "w/l", &s, 0), s);
       }},
      {"inotify_add_watch",
       [] {
         int fd = inotify_init1(IN_CLOEXEC);
         say("inotify_add_watch", inotify_add_watch(fd, "w/d", IN_CREATE));
         close(fd);
       }},
      {"bind",
       [] {
         say("bind", unix_socket_at("w/nodir/s", ::bind));
         say("bind", unix_socket_at("w/s", ::bind));
       }},
      // not an entry point: a thread cancelled while blocked inside the
      // shim (open of a FIFO) unwinds through the fault guard
      {"pthread_cancel",
       [] {
         mkfifo("w/fifo", 0600);
         pthread_t th;
         pthread_create(
             &th, nullptr, [](void*) -> void* { return open("w/fifo", O_RDONLY), nullptr; }, nullptr);
         usleep(100000);
         pthread_cancel(th);
         void* r = nullptr;
         pthread_join(th, &r);
         printf("pthread_cancel: %s\n", r == PTHREAD_CANCELED ? "cancelled" : "returned");
       }},
      // not an entry point: an exception thrown by the app's callback
      // unwinds through the shim's walk
      {"nftw_throw",
       [] {
         try {
           nftw(
               "w", [](const char*, const struct stat*, int, struct FTW*) -> int { throw 42; }, 8, FTW_PHYS);
           printf("nftw_throw: returned\n");
         } catch (int e) {
           printf("nftw_throw: caught %d\n", e);
         }
       }},
      // an exception thrown by scandir's filter leaves scandir at once, in
      // a local directory as in a union one (from the comparison, glibc's
      // own qsort frees its buffer twice)
      {"scandir_throw",
       [] {
         static int calls;
         mkdir("data", 0755);
         mkdir("w", 0755);
         for (const char* f : {"data/a", "data/b", "w/a", "w/b"}) close(open(f, O_CREAT | O_WRONLY, 0644));
         for (const char* dir : {"data", "w"}) {
           struct dirent** list = nullptr;
           calls = 0;
           try {
             scandir(
                 dir, &list, [](const struct dirent*) -> int { throw ++calls; }, nullptr);
             printf("scandir_throw %s: returned\n", dir);
           } catch (int e) {
             printf("scandir_throw %s: caught %d, filter called %d time(s)\n", dir, e, calls);
           }
         }
       }},
      {"_exit",
       [] {
         show_tree();
         fflush(stdout);
         _exit(7);
       }},
      {"_Exit",
       [] {
         show_tree();
         fflush(stdout);
         _Exit(8);
       }},
  };
}

}  // namespace

int main(int argc, char** argv) {
  auto all = cases();
  if (argc == 2 && !strcmp(argv[1], "--list")) {
    for (auto& [name, fn] : all) puts(name.c_str());
    return 0;
  }
  if (argc != 2 || !all.count(argv[1])) return fprintf(stderr, "usage: entry_probe NAME|--list\n"), 2;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  setup();
  all[argv[1]]();
  show_tree();
  return 0;
}
