// scandir and glob: libc's versions read directories with internal calls,
// so a union directory is scanned here, and glob is given our directory
// functions through GLOB_ALTDIRFUNC.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "shim/app_calls.hpp"
#include "shim/dir_stream.hpp"
#include "shim/envelope.hpp"
#include "shim/fs_ops.hpp"
#include "shim/half_calls.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"

namespace fractfs::shim {
namespace {

// What a scandir inside the root lists, decided under the fault guard. The
// app's filter and comparison run after it, outside the guard (as glob runs
// outside it): an exception they throw leaves scandir once, as from libc's,
// not caught by the guard and the scan made again.
struct ScanPlan {
  enum class How { libc, local, merged } how = How::libc;
  std::string local;              // How::local: libc's scandir on this path
  std::vector<DirEntry> entries;  // How::merged: a union directory's listing
};

int plan_scan(Target& t, ScanPlan& plan) {
  if (t.passes()) return 0;
  if (!t.remote()) {
    plan.local = t.natural();
    plan.how = ScanPlan::How::local;
    return 0;
  }
  if (int err = half::listing(t)) return errno = err, -1;
  if (kind_at(t.remote_path()) != 'd' && kind_at(t.natural()) != 'd') return errno = ENOENT, -1;
  plan.entries = list_union(t);
  plan.how = ScanPlan::How::merged;
  return 0;
}

template <typename Ent>
void free_all(std::vector<Ent*>& out, Ent** list = nullptr) {
  for (Ent* p : out) free(p);
  free(list);
}

// A union directory's entries, filtered and sorted as libc's scandir does.
template <typename Ent>
int select_entries(std::vector<DirEntry>&& entries, Ent*** namelist, int (*filter)(const Ent*),
                   int (*compar)(const Ent**, const Ent**)) {
  UnionDir scratch;
  scratch.entries = std::move(entries);
  std::vector<Ent*> out;
  Ent** list = nullptr;
  try {
    while (struct dirent64* e = scratch.next()) {
      const Ent* view = reinterpret_cast<const Ent*>(e);
      if (filter && !filter(view)) continue;
      auto* copy = static_cast<Ent*>(malloc(sizeof(Ent)));
      if (!copy) return free_all(out), errno = ENOMEM, -1;
      memcpy(copy, e, sizeof(Ent));
      out.push_back(copy);
    }
    list = static_cast<Ent**>(malloc(sizeof(Ent*) * (out.size() ? out.size() : 1)));
    if (!list) return free_all(out), errno = ENOMEM, -1;
    memcpy(list, out.data(), sizeof(Ent*) * out.size());
    if (compar) qsort(list, out.size(), sizeof(Ent*), reinterpret_cast<int (*)(const void*, const void*)>(compar));
  } catch (...) {
    free_all(out, list);
    throw;
  }
  *namelist = list;
  return static_cast<int>(out.size());
}

static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent and dirent64 share a layout here");

// `pass()` is libc's scandir as called, `at(path)` libc's on an absolute path.
template <typename Ent, typename Pass, typename At>
int scandir_at(const char* where, int dirfd, const char* dir, Ent*** namelist, int (*filter)(const Ent*),
               int (*compar)(const Ent**, const Ent**), Pass&& pass, At&& at) {
  ScanPlan plan;
  int rc = on_path(
      where, dirfd, dir, Kind::dir, [&](Target& t) { return plan_scan(t, plan); }, [] { return 0; });
  if (rc < 0) return rc;
  switch (plan.how) {
    case ScanPlan::How::local: return at(plan.local.c_str());
    case ScanPlan::How::merged: return select_entries(std::move(plan.entries), namelist, filter, compar);
    case ScanPlan::How::libc: break;
  }
  return pass();
}

// Our own exported directory functions, as glob's GLOB_ALTDIRFUNC hooks.
void* glob_opendir(const char* p) { return APP(opendir)(p); }
void* glob_readdir(void* d) { return APP(readdir)(static_cast<DIR*>(d)); }
void* glob_readdir64(void* d) { return APP(readdir64)(static_cast<DIR*>(d)); }
void glob_closedir(void* d) { APP(closedir)(static_cast<DIR*>(d)); }
int glob_stat(const char* p, struct stat* st) { return APP(stat)(p, st); }
int glob_lstat(const char* p, struct stat* st) { return APP(lstat)(p, st); }
int glob_stat64(const char* p, struct stat64* st) { return APP(stat64)(p, st); }
int glob_lstat64(const char* p, struct stat64* st) { return APP(lstat64)(p, st); }

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;

SHIM_EXPORT int scandir(const char* dir, struct dirent*** namelist, int (*filter)(const struct dirent*),
                        int (*compar)(const struct dirent**, const struct dirent**)) {
  return scandir_at(
      __func__, AT_FDCWD, dir, namelist, filter, compar, [&] { return REAL(scandir)(dir, namelist, filter, compar); },
      [&](const char* p) { return REAL(scandir)(p, namelist, filter, compar); });
}
SHIM_EXPORT int scandir64(const char* dir, struct dirent64*** namelist, int (*filter)(const struct dirent64*),
                          int (*compar)(const struct dirent64**, const struct dirent64**)) {
  return scandir_at(
      __func__, AT_FDCWD, dir, namelist, filter, compar, [&] { return REAL(scandir64)(dir, namelist, filter, compar); },
      [&](const char* p) { return REAL(scandir64)(p, namelist, filter, compar); });
}
SHIM_EXPORT int scandirat(int dirfd, const char* dir, struct dirent*** namelist, int (*filter)(const struct dirent*),
                          int (*compar)(const struct dirent**, const struct dirent**)) {
  return scandir_at(
      __func__, dirfd, dir, namelist, filter, compar,
      [&] { return REAL(scandirat)(dirfd, dir, namelist, filter, compar); },
      [&](const char* p) { return REAL(scandir)(p, namelist, filter, compar); });
}
SHIM_EXPORT int scandirat64(int dirfd, const char* dir, struct dirent64*** namelist,
                            int (*filter)(const struct dirent64*),
                            int (*compar)(const struct dirent64**, const struct dirent64**)) {
  return scandir_at(
      __func__, dirfd, dir, namelist, filter, compar,
      [&] { return REAL(scandirat64)(dirfd, dir, namelist, filter, compar); },
      [&](const char* p) { return REAL(scandir64)(p, namelist, filter, compar); });
}

namespace {

// The hooks go in under the guard; glob itself runs outside it, as it
// calls the app's errfunc.
template <typename Glob, typename Readdir, typename Stat>
bool hook_glob(const char* where, int flags, Glob* pglob, Readdir readdir, Stat stat, Stat lstat) {
  if (!shim_on() || (flags & GLOB_ALTDIRFUNC)) return false;
  return slow_path(
      where,
      [&] {
        pglob->gl_opendir = glob_opendir;
        pglob->gl_readdir = readdir;
        pglob->gl_closedir = glob_closedir;
        pglob->gl_stat = stat;
        pglob->gl_lstat = lstat;
        return true;
      },
      [] { return false; });
}

}  // namespace

SHIM_EXPORT int glob(const char* pattern, int flags, int (*errfunc)(const char*, int), glob_t* pglob) {
  auto readdir = reinterpret_cast<struct dirent* (*)(void*)>(glob_readdir);
  if (hook_glob(__func__, flags, pglob, readdir, glob_stat, glob_lstat)) flags |= GLOB_ALTDIRFUNC;
  return REAL(glob)(pattern, flags, errfunc, pglob);
}

SHIM_EXPORT int glob64(const char* pattern, int flags, int (*errfunc)(const char*, int), glob64_t* pglob) {
  auto readdir = reinterpret_cast<struct dirent64* (*)(void*)>(glob_readdir64);
  if (hook_glob(__func__, flags, pglob, readdir, glob_stat64, glob_lstat64)) flags |= GLOB_ALTDIRFUNC;
  return REAL(glob64)(pattern, flags, errfunc, pglob);
}
