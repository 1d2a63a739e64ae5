// fts(3), written from the documented API and glibc's observable behaviour.
//
// Shape of a stream, as in glibc (callers can see all of it through the
// public structs):
//  - sp->fts_path is one buffer shared by every entry's fts_path; it holds
//    the path of the entry last returned, and sp->fts_pathlen is its size.
//  - sp->fts_cur is that entry. Its fts_link is its next sibling (a
//    directory is read whole, then sorted, before its first entry is
//    returned); fts_parent leads up to a level -1 entry above the roots.
//    Before the first fts_read, fts_cur is an FTS_INIT entry whose fts_link
//    is the list of roots.
//  - sp->fts_child is the list fts_children built for the current directory.
//
// No chdir, ever: every entry is reached by its full path, so fts_accpath
// is fts_path as under FTS_NOCHDIR. When the caller did not ask for
// FTS_NOCHDIR, glibc would chdir into each directory it reads; that chdir
// can fail (no search permission, directory replaced meanwhile), and those
// failures are reproduced so fts_info/fts_errno come out the same.
#include "shim/walk_fts.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "shim/app_calls.hpp"

namespace fractfs::walk {
namespace {

using Compar = int (*)(const FTSENT**, const FTSENT**);

enum class Build { children, names, read };  // who reads a directory

// A path kept apart from the shared buffer (see failed_reentry), followed
// by its characters.
struct PathCopy {
  PathCopy* next;
};

// The stream: glibc's struct first, so the FTS* handed out converts back.
struct Stream {
  FTS fts;
  PathCopy* copies;  // freed by fts_close
};
static_assert(offsetof(Stream, fts) == 0);

Stream* stream_of(FTS* sp) { return reinterpret_cast<Stream*>(sp); }

// glibc sizes the path buffer for at least MAXPATHLEN and grows it by what
// is needed plus 256; kept, since where the buffer stops growing (fts_pathlen
// is an unsigned short) decides where ENAMETOOLONG is reported.
constexpr size_t kMinPathBuffer = 4096;
constexpr size_t kPathSlack = 256;

bool has(const FTS* sp, int opt) { return (sp->fts_options & opt) != 0; }

bool is_dot(const char* name) { return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')); }

char* name_of(FTSENT* p) { return reinterpret_cast<char*>(p) + offsetof(FTSENT, fts_name); }

struct stat64* stat_of(FTSENT* p) {
  return reinterpret_cast<struct stat64*>(p->fts_statp);
}

// Length of p's path that children append to: a trailing '/' is not doubled.
size_t append_at(const FTSENT* p) {
  return p->fts_path[p->fts_pathlen - 1] == '/' ? p->fts_pathlen - 1 : p->fts_pathlen;
}

// The entry after p when walking towards the level -1 entry: what remains
// of p's directory, then its parent's, and so on. Covers every live entry
// but the fts_children list.
FTSENT* next_live(const FTSENT* p) { return p->fts_link != nullptr ? p->fts_link : p->fts_parent; }

// ---- entries ---------------------------------------------------------------

// One zeroed block: the entry, its name, then an aligned stat buffer. The
// buffer exists under FTS_NOSTAT too, so fts_statp is never wild.
FTSENT* new_entry(FTS* sp, const char* name, size_t len) {
  const size_t align = alignof(struct stat64);
  const size_t name_end = std::max(offsetof(FTSENT, fts_name) + len + 1, sizeof(FTSENT));
  const size_t stat_at = (name_end + align - 1) / align * align;
  auto* block = static_cast<char*>(calloc(1, stat_at + sizeof(struct stat64)));
  if (block == nullptr) return nullptr;
  auto* p = reinterpret_cast<FTSENT*>(block);
  memcpy(name_of(p), name, len);
  p->fts_namelen = static_cast<unsigned short>(len);
  p->fts_path = sp->fts_path;
  p->fts_accpath = sp->fts_path;
  p->fts_instr = FTS_NOINSTR;
  p->fts_statp = reinterpret_cast<struct stat*>(block + stat_at);
  return p;
}

void free_list(FTSENT* head) {
  while (head != nullptr) {
    FTSENT* next = head->fts_link;
    free(head);
    head = next;
  }
}

void drop_children(FTS* sp) {
  free_list(sp->fts_child);
  sp->fts_child = nullptr;
}

// ---- the shared path buffer -------------------------------------------------

void rebase_list(FTSENT* p, const char* from, char* to) {
  for (; p != nullptr; p = p->fts_link) {
    if (p->fts_accpath == from) p->fts_accpath = to;
    if (p->fts_path == from) p->fts_path = to;
  }
}

// Points every live entry at the new buffer (`building`: a list not linked
// into the tree yet).
void rebase(FTS* sp, const char* from, char* to, FTSENT* building) {
  rebase_list(building, from, to);
  rebase_list(sp->fts_child, from, to);
  for (FTSENT* p = sp->fts_cur; p != nullptr; p = next_live(p)) {
    if (p->fts_accpath == from) p->fts_accpath = to;
    if (p->fts_path == from) p->fts_path = to;
  }
}

bool grow_path(FTS* sp, size_t more, FTSENT* building) {
  const size_t size = static_cast<size_t>(sp->fts_pathlen) + more + kPathSlack;
  if (size >= USHRT_MAX) {
    errno = ENAMETOOLONG;
    return false;
  }
  auto* buf = static_cast<char*>(calloc(1, size));
  if (buf == nullptr) return false;
  char* old = sp->fts_path;
  if (old != nullptr) {
    memcpy(buf, old, static_cast<size_t>(sp->fts_pathlen));
    rebase(sp, old, buf, building);
    free(old);
  }
  sp->fts_path = buf;
  sp->fts_pathlen = static_cast<int>(size);
  return true;
}

char* keep_copy(FTS* sp, const char* path) {
  const size_t len = strlen(path) + 1;
  auto* copy = static_cast<PathCopy*>(malloc(sizeof(PathCopy) + len));
  if (copy == nullptr) return nullptr;
  copy->next = stream_of(sp)->copies;
  stream_of(sp)->copies = copy;
  return static_cast<char*>(memcpy(copy + 1, path, len));
}

void free_copies(FTS* sp) {
  for (PathCopy* c = stream_of(sp)->copies; c != nullptr;) {
    PathCopy* next = c->next;
    free(c);
    c = next;
  }
}

// Writes p's path into the buffer (its parent's path is already there).
FTSENT* show(FTS* sp, FTSENT* p) {
  char* at = sp->fts_path + append_at(p->fts_parent);
  *at++ = '/';
  memcpy(at, name_of(p), p->fts_namelen + 1u);
  return p;
}

// ---- stat ---------------------------------------------------------------------

// A directory already on the way down from the roots: following p would loop.
FTSENT* ancestor_like(const FTSENT* p) {
  for (FTSENT* a = p->fts_parent; a != nullptr && a->fts_level >= FTS_ROOTLEVEL; a = a->fts_parent) {
    if (a->fts_ino == p->fts_ino && a->fts_dev == p->fts_dev) return a;
  }
  return nullptr;
}

unsigned short classify(FTSENT* p) {
  const struct stat64& st = *stat_of(p);
  if (S_ISDIR(st.st_mode)) {
    // Set for directories only, as glibc does (see restat for the one place
    // where that shows).
    p->fts_dev = st.st_dev;
    p->fts_ino = st.st_ino;
    p->fts_nlink = st.st_nlink;
    if (is_dot(name_of(p))) return FTS_DOT;
    if (FTSENT* a = ancestor_like(p)) {
      p->fts_cycle = a;
      return FTS_DC;
    }
    return FTS_D;
  }
  if (S_ISLNK(st.st_mode)) return FTS_SL;
  return S_ISREG(st.st_mode) ? FTS_F : FTS_DEFAULT;
}

unsigned short stat_failed(FTSENT* p, int err) {
  p->fts_errno = err;
  memset(stat_of(p), 0, sizeof(struct stat64));
  return FTS_NS;
}

// Stats p through fts_accpath and returns its fts_info. A link whose target
// cannot be stat'ed is FTS_SLNONE, with errno 0 as glibc leaves it.
unsigned short stat_entry(FTS* sp, FTSENT* p, bool follow) {
  struct stat64* st = stat_of(p);
  if (follow || has(sp, FTS_LOGICAL)) {
    if (APP(stat64)(p->fts_accpath, st) != 0) {
      const int err = errno;
      if (APP(lstat64)(p->fts_accpath, st) == 0) {
        errno = 0;
        return FTS_SLNONE;
      }
      return stat_failed(p, err);
    }
  } else if (APP(lstat64)(p->fts_accpath, st) != 0) {
    return stat_failed(p, errno);
  }
  return classify(p);
}

// ---- what glibc's chdir would have said -------------------------------------------

// Whether glibc could chdir into p through `fd` (a descriptor on p): it
// refuses a directory that is no longer the one stat'ed (ENOENT) and the
// kernel one without search permission, which looking up "." checks too.
bool enterable(const FTS* sp, const FTSENT* p, int fd) {
  if (has(sp, FTS_NOCHDIR) || fd < 0) return true;  // no descriptor: nothing to check with
  struct stat64 st;
  if (APP(fstatat64)(fd, ".", &st, 0) != 0) {
    if (errno == ENOTDIR) errno = ENOENT;  // replaced by a non-directory
    return false;
  }
  if (st.st_dev == p->fts_dev && st.st_ino == p->fts_ino) return true;
  errno = ENOENT;
  return false;
}

// The same, through p's path, for a directory fts_children read earlier.
bool reenterable(const FTS* sp, const FTSENT* p) {
  if (has(sp, FTS_NOCHDIR)) return true;
  // Non-blocking: whatever replaced the directory must not hang us.
  const int fd = APP(open)(p->fts_accpath, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = enterable(sp, p, fd);
  const int err = errno;
  APP(close)(fd);
  errno = err;
  return ok;
}

// ---- reading a directory ------------------------------------------------------------

struct Listing {
  FTSENT* head = nullptr;
  FTSENT* tail = nullptr;
  int count = 0;

  void add(FTSENT* p) {
    (tail != nullptr ? tail->fts_link : head) = p;
    tail = p;
    ++count;
  }
};

// How many entries to stat: -1 all, 0 none. A physical FTS_NOSTAT walk
// stats only what may be a directory, until the parent's link count says
// every subdirectory was seen (glibc's shortcut, kept for its results).
int stat_budget(const FTS* sp, const FTSENT* dir, Build how) {
  if (how == Build::names) return 0;
  if (!has(sp, FTS_NOSTAT) || !has(sp, FTS_PHYSICAL)) return -1;
  return static_cast<int>(dir->fts_nlink) - (has(sp, FTS_SEEDOT) ? 0 : 2);
}

bool counts_as_subdir(unsigned short info) { return info == FTS_D || info == FTS_DC || info == FTS_DOT; }

// Makes the entry for `d`; `len` is the length of "dir/". Returns an errno
// value on failure, 0 otherwise.
int add_entry(FTS* sp, const struct dirent64* d, size_t len, int& budget, Listing& list) {
  const size_t namelen = strlen(d->d_name);
  if (namelen >= static_cast<size_t>(sp->fts_pathlen) - len && !grow_path(sp, namelen + len + 1, list.head))
    return errno;
  if (len + namelen >= USHRT_MAX) return ENAMETOOLONG;  // fts_pathlen could not hold it
  FTSENT* p = new_entry(sp, d->d_name, namelen);
  if (p == nullptr) return ENOMEM;
  FTSENT* dir = sp->fts_cur;
  p->fts_level = static_cast<short>(dir->fts_level + 1);
  p->fts_parent = dir;
  p->fts_pathlen = static_cast<unsigned short>(len + namelen);
  // Under the FTS_NOSTAT shortcut, d_type can already tell a non-directory.
  const bool typed_nondir = d->d_type != DT_DIR && d->d_type != DT_UNKNOWN;
  if (budget == 0 || (typed_nondir && has(sp, FTS_NOSTAT) && has(sp, FTS_PHYSICAL))) {
    p->fts_info = FTS_NSOK;
  } else {
    memcpy(sp->fts_path + len, d->d_name, namelen + 1);
    p->fts_info = stat_entry(sp, p, false);
    if (budget > 0 && counts_as_subdir(p->fts_info)) --budget;
  }
  list.add(p);
  return 0;
}

int read_entries(FTS* sp, DIR* dir, size_t len, int budget, Listing& list) {
  while (const struct dirent64* d = APP(readdir64)(dir)) {
    if (!has(sp, FTS_SEEDOT) && is_dot(d->d_name)) continue;
    if (const int err = add_entry(sp, d, len, budget, list)) return err;
  }
  return 0;
}

// Leaves the buffer as glibc does: not changing directory it has written
// "dir/" and keeps it after a non-empty read ("dir" after an empty one);
// changing directory it never touched the buffer. fts_path shows either.
void restore_path(FTS* sp, const FTSENT* dir, size_t base, int count) {
  char* path = sp->fts_path;
  if (has(sp, FTS_NOCHDIR)) {
    const bool full = base + 1 == static_cast<size_t>(sp->fts_pathlen);
    path[count == 0 || full ? base : base + 1] = '\0';
  } else {
    path[base] = base < dir->fts_pathlen ? '/' : '\0';
    path[dir->fts_pathlen] = '\0';
  }
}

void close_dir(DIR* dir) {
  const int err = errno;
  APP(closedir)(dir);
  errno = err;
}

FTSENT* sort_list(FTS* sp, FTSENT* head, int count);

// Fatal for the stream, as in glibc: the directory becomes FTS_ERR and every
// later call returns NULL.
FTSENT* build_failed(FTS* sp, FTSENT* dir, Listing& list, int err) {
  free_list(list.head);
  dir->fts_info = FTS_ERR;
  sp->fts_options |= FTS_STOP;
  errno = err;
  return nullptr;
}

// Reads the current directory whole into a new list of entries, in readdir
// order or sorted. nullptr when it is empty or unreadable; for fts_read the
// directory then becomes FTS_DP or FTS_DNR.
FTSENT* read_dir(FTS* sp, Build how) {
  FTSENT* dir = sp->fts_cur;
  DIR* stream = APP(opendir)(dir->fts_accpath);
  if (stream == nullptr) {
    if (how == Build::read) {
      dir->fts_info = FTS_DNR;
      dir->fts_errno = errno;
    }
    return nullptr;
  }
  const int budget = stat_budget(sp, dir, how);
  if ((budget != 0 || how == Build::read) && !enterable(sp, dir, APP(dirfd)(stream))) {
    // glibc lists nothing then, and reports the error on the directory only
    // when it had something to stat.
    if (budget != 0 && how == Build::read) dir->fts_errno = errno;
    dir->fts_flags |= FTS_DONTCHDIR;
    close_dir(stream);
    stream = nullptr;
  }
  const size_t base = append_at(dir);
  sp->fts_path[base] = '/';
  Listing list;
  const int err = stream != nullptr ? read_entries(sp, stream, base + 1, budget, list) : 0;
  if (stream != nullptr) close_dir(stream);
  if (err != 0) return build_failed(sp, dir, list, err);
  restore_path(sp, dir, base, list.count);
  if (list.count == 0) {
    if (how == Build::read) dir->fts_info = FTS_DP;
    return nullptr;
  }
  return sp->fts_compar != nullptr && list.count > 1 ? sort_list(sp, list.head, list.count) : list.head;
}

// ---- sorting ------------------------------------------------------------------------

int compare_entries(const void* a, const void* b, void* sp) {
  auto compar = reinterpret_cast<Compar>(static_cast<FTS*>(sp)->fts_compar);
  return compar(static_cast<const FTSENT**>(const_cast<void*>(a)), static_cast<const FTSENT**>(const_cast<void*>(b)));
}

// Sorts with libc's qsort algorithm (qsort_r is the same one), so entries
// the comparator calls equal keep glibc's order. Unsorted if out of memory.
FTSENT* sort_list(FTS* sp, FTSENT* head, int count) {
  if (count > sp->fts_nitems) {
    const int want = count + 40;  // room to spare, as glibc keeps
    void* grown = realloc(sp->fts_array, sizeof(FTSENT*) * static_cast<size_t>(want));
    if (grown == nullptr) return head;
    sp->fts_array = static_cast<FTSENT**>(grown);
    sp->fts_nitems = want;
  }
  FTSENT** array = sp->fts_array;
  int n = 0;
  for (FTSENT* p = head; p != nullptr; p = p->fts_link) array[n++] = p;
  qsort_r(array, static_cast<size_t>(count), sizeof(FTSENT*), compare_entries, sp);
  for (int i = 0; i + 1 < count; ++i) array[i]->fts_link = array[i + 1];
  array[count - 1]->fts_link = nullptr;
  return array[0];
}

// ---- opening --------------------------------------------------------------------------

FTSENT* new_root(FTS* sp, const char* arg, FTSENT* parent) {
  FTSENT* p = new_entry(sp, arg, strlen(arg));
  if (p == nullptr) return nullptr;
  p->fts_level = FTS_ROOTLEVEL;
  p->fts_parent = parent;
  p->fts_accpath = name_of(p);
  p->fts_info = stat_entry(sp, p, has(sp, FTS_COMFOLLOW));
  if (p->fts_info == FTS_DOT) p->fts_info = FTS_D;  // "." and ".." given as roots are walked
  return p;
}

// The roots in argument order, or reversed then sorted with a comparator
// (the order equal roots come out in depends on it).
bool add_roots(FTS* sp, char* const* argv, FTSENT* parent, FTSENT** roots) {
  Listing list;
  for (; argv != nullptr && *argv != nullptr; ++argv) {
    FTSENT* p = **argv != '\0' ? new_root(sp, *argv, parent) : nullptr;
    if (p == nullptr) {
      if (**argv == '\0') errno = ENOENT;
      free_list(list.head);
      return false;
    }
    if (sp->fts_compar != nullptr) {
      p->fts_link = list.head;
      list.head = p;
      ++list.count;
    } else {
      list.add(p);
    }
  }
  *roots = sp->fts_compar != nullptr && list.count > 1 ? sort_list(sp, list.head, list.count) : list.head;
  return true;
}

// The FTS_INIT entry fts_read starts from, and the level -1 entry above the
// roots (none without roots).
bool start(FTS* sp, char* const* argv) {
  FTSENT* parent = nullptr;
  if (argv != nullptr && *argv != nullptr) {
    if ((parent = new_entry(sp, "", 0)) == nullptr) return false;
    parent->fts_level = FTS_ROOTPARENTLEVEL;
  }
  FTSENT* roots = nullptr;
  FTSENT* init = nullptr;
  if (!add_roots(sp, argv, parent, &roots) || (init = new_entry(sp, "", 0)) == nullptr) {
    free_list(roots);
    free(parent);
    return false;
  }
  init->fts_info = FTS_INIT;
  init->fts_level = FTS_ROOTLEVEL;
  init->fts_link = roots;
  init->fts_parent = parent;
  sp->fts_cur = init;
  return true;
}

size_t longest_arg(char* const* argv) {
  size_t longest = 0;
  for (; argv != nullptr && *argv != nullptr; ++argv) longest = std::max(longest, strlen(*argv));
  return longest + 1;
}

// glibc keeps a descriptor on "." to come back to; failing to open it, it
// walks as under FTS_NOCHDIR.
bool can_reopen_cwd() {
  const int fd = APP(open)(".", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  APP(close)(fd);
  return true;
}

// ---- reading --------------------------------------------------------------------------

// Becomes the root's traversal: the buffer holds its argument, its fts_name
// the last component (unless that is all there is: "/" stays "/").
FTSENT* load_root(FTS* sp, FTSENT* p) {
  char* name = name_of(p);
  p->fts_pathlen = p->fts_namelen;
  memcpy(sp->fts_path, name, p->fts_namelen + 1u);
  const char* slash = strrchr(name, '/');
  if (slash != nullptr && (slash != name || slash[1] != '\0')) {
    const size_t len = strlen(slash + 1);
    memmove(name, slash + 1, len + 1);
    p->fts_namelen = static_cast<unsigned short>(len);
  }
  p->fts_accpath = p->fts_path = sp->fts_path;
  sp->fts_dev = p->fts_dev;
  return p;
}

// Postorder visit of the directory `done` was in, or the end of the walk.
FTSENT* leave_dir(FTS* sp, FTSENT* done) {
  FTSENT* p = done->fts_parent;
  free(done);
  sp->fts_cur = p;
  if (p == nullptr || p->fts_level == FTS_ROOTPARENTLEVEL) {
    free(p);
    sp->fts_cur = nullptr;
    errno = 0;  // tells the end from an error
    return nullptr;
  }
  sp->fts_path[p->fts_pathlen] = '\0';
  p->fts_info = p->fts_errno != 0 ? FTS_ERR : FTS_DP;
  return p;
}

// The entry after p in its directory (or the next root), honouring the
// FTS_SKIP and FTS_FOLLOW set on it through fts_children.
FTSENT* next_entry(FTS* sp, FTSENT* p) {
  for (;;) {
    FTSENT* next = p->fts_link;
    if (next == nullptr) return leave_dir(sp, p);
    sp->fts_cur = next;
    free(p);
    p = next;
    if (p->fts_level == FTS_ROOTLEVEL) return load_root(sp, p);
    if (p->fts_instr == FTS_SKIP) continue;
    if (p->fts_instr == FTS_FOLLOW) {
      // glibc stats fts_accpath before writing this entry's path: with
      // chdir that is the bare name, right; under FTS_NOCHDIR the buffer
      // still holds the previous path, which it stats. Same here.
      if (!has(sp, FTS_NOCHDIR)) show(sp, p);
      p->fts_info = stat_entry(sp, p, true);
      p->fts_instr = FTS_NOINSTR;
    }
    return show(sp, p);
  }
}

// glibc could not chdir back into p, whose entries fts_children listed: p
// gets the error (its postorder visit becomes FTS_ERR) and, staying in p's
// parent, glibc gives the entries p's fts_accpath, so later stats and reads
// of them reach p's path. That is the buffer for a root, p's name otherwise.
void failed_reentry(FTS* sp, FTSENT* p, FTSENT* entries) {
  p->fts_errno = errno;
  p->fts_flags |= FTS_DONTCHDIR;
  char* acc = p->fts_accpath;
  if (p->fts_level != FTS_ROOTLEVEL && acc == p->fts_path) acc = keep_copy(sp, p->fts_path);
  if (acc == nullptr) return;
  for (FTSENT* c = entries; c != nullptr; c = c->fts_link) c->fts_accpath = acc;
}

// Preorder directory p, read again: descend into it, or skip it (FTS_SKIP,
// or another device under FTS_XDEV) with a postorder visit.
FTSENT* enter_dir(FTS* sp, FTSENT* p, int instr) {
  // A list fts_children made for another entry (p was re-stat'ed since).
  if (sp->fts_child != nullptr && sp->fts_child->fts_parent != p) drop_children(sp);
  if (instr == FTS_SKIP || (has(sp, FTS_XDEV) && p->fts_dev != sp->fts_dev)) {
    drop_children(sp);
    p->fts_info = FTS_DP;
    return p;
  }
  if (sp->fts_child != nullptr && has(sp, FTS_NAMEONLY)) {  // names only: read for real now
    sp->fts_options &= ~FTS_NAMEONLY;
    drop_children(sp);
  }
  FTSENT* first = sp->fts_child;
  if (first != nullptr) {
    if (!reenterable(sp, p)) failed_reentry(sp, p, first);
    sp->fts_child = nullptr;
  } else if ((first = read_dir(sp, Build::read)) == nullptr) {
    return has(sp, FTS_STOP) ? nullptr : p;
  }
  sp->fts_cur = first;
  return show(sp, first);
}

// FTS_AGAIN, or FTS_FOLLOW on the current entry. A root that was no
// directory when its walk began had no device for FTS_XDEV to keep to
// (glibc compares with an unset value then); it gets the one it has now.
FTSENT* restat(FTS* sp, FTSENT* p, bool follow) {
  p->fts_info = stat_entry(sp, p, follow);
  if (p->fts_level == FTS_ROOTLEVEL && p->fts_info == FTS_D && sp->fts_dev == 0) sp->fts_dev = p->fts_dev;
  return p;
}

}  // namespace

FTS* fts_open(char* const* argv, int options, Compar compar) {
  if ((options & ~FTS_OPTIONMASK) != 0) {
    errno = EINVAL;
    return nullptr;
  }
  auto* stream = static_cast<Stream*>(calloc(1, sizeof(Stream)));
  if (stream == nullptr) return nullptr;
  FTS* sp = &stream->fts;
  sp->fts_compar = reinterpret_cast<int (*)(const void*, const void*)>(compar);
  sp->fts_options = options;
  if (has(sp, FTS_LOGICAL)) sp->fts_options |= FTS_NOCHDIR;  // as glibc: a logical walk never chdirs
  if (!grow_path(sp, std::max(longest_arg(argv), kMinPathBuffer), nullptr) || !start(sp, argv)) {
    const int err = errno;
    free(sp->fts_path);
    free(stream);
    errno = err;
    return nullptr;
  }
  if (!has(sp, FTS_NOCHDIR) && !can_reopen_cwd()) sp->fts_options |= FTS_NOCHDIR;
  return sp;
}

FTSENT* fts_read(FTS* sp) {
  if (sp == nullptr || sp->fts_cur == nullptr || has(sp, FTS_STOP)) return nullptr;
  FTSENT* p = sp->fts_cur;
  const int instr = p->fts_instr;
  p->fts_instr = FTS_NOINSTR;
  if (instr == FTS_AGAIN) return restat(sp, p, false);
  if (instr == FTS_FOLLOW && (p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE)) return restat(sp, p, true);
  if (p->fts_info == FTS_D) return enter_dir(sp, p, instr);
  return next_entry(sp, p);
}

FTSENT* fts_children(FTS* sp, int instr) {
  if (instr != 0 && instr != FTS_NAMEONLY) {
    errno = EINVAL;
    return nullptr;
  }
  errno = 0;  // tells an empty directory from an error
  if (sp == nullptr || sp->fts_cur == nullptr || has(sp, FTS_STOP)) return nullptr;
  FTSENT* p = sp->fts_cur;
  if (p->fts_info == FTS_INIT) return p->fts_link;  // the roots
  if (p->fts_info != FTS_D) return nullptr;
  drop_children(sp);
  if (instr == FTS_NAMEONLY) sp->fts_options |= FTS_NAMEONLY;
  sp->fts_child = read_dir(sp, instr == FTS_NAMEONLY ? Build::names : Build::children);
  return sp->fts_child;
}

int fts_set(FTS* /*sp*/, FTSENT* p, int instr) {
  const bool known =
      instr == 0 || instr == FTS_AGAIN || instr == FTS_FOLLOW || instr == FTS_NOINSTR || instr == FTS_SKIP;
  if (!known || p == nullptr) {
    errno = EINVAL;
    return 1;
  }
  p->fts_instr = static_cast<unsigned short>(instr);
  return 0;
}

int fts_close(FTS* sp) {
  if (sp == nullptr) return 0;
  // Whatever is left of the current directory, its ancestors' and the
  // remaining roots, up to and including the level -1 entry.
  for (FTSENT* p = sp->fts_cur; p != nullptr;) {
    FTSENT* next = p->fts_level >= FTS_ROOTLEVEL ? next_live(p) : nullptr;
    free(p);
    p = next;
  }
  drop_children(sp);
  free_copies(sp);
  free(sp->fts_array);
  free(sp->fts_path);
  free(stream_of(sp));
  return 0;
}

}  // namespace fractfs::walk
