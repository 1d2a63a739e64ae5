// nftw, ftw and fts: glibc walks trees with internal calls that cannot be
// interposed, so walks that may reach the root use our implementations
// (shim/walk_*.cpp), whose directory reads and stats come back through the
// shim. Walks elsewhere stay with libc.
#include "shim/mapping.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/walk_fts.hpp"
#include "shim/walk_nftw.hpp"

namespace fractfs::shim {
namespace {

// Inside the root, or a directory above it.
bool reaches_root(const char* dir) {
  char buf[fractfs::path::kMax];
  return virtual_path(AT_FDCWD, dir, buf, sizeof buf) >= 0;
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;
namespace walk = fractfs::walk;

SHIM_EXPORT int nftw(const char* dir, __nftw_func_t fn, int nopenfd, int flags) {
  return reaches_root(dir) ? walk::nftw(dir, fn, nopenfd, flags) : REAL(nftw)(dir, fn, nopenfd, flags);
}
SHIM_EXPORT int nftw64(const char* dir, __nftw64_func_t fn, int nopenfd, int flags) {
  return reaches_root(dir) ? walk::nftw64(dir, fn, nopenfd, flags) : REAL(nftw64)(dir, fn, nopenfd, flags);
}
SHIM_EXPORT int ftw(const char* dir, __ftw_func_t fn, int nopenfd) {
  return reaches_root(dir) ? walk::ftw(dir, fn, nopenfd) : REAL(ftw)(dir, fn, nopenfd);
}
SHIM_EXPORT int ftw64(const char* dir, __ftw64_func_t fn, int nopenfd) {
  return reaches_root(dir) ? walk::ftw64(dir, fn, nopenfd) : REAL(ftw64)(dir, fn, nopenfd);
}

// An FTS stream lives from fts_open to fts_close and its handle must go
// back to the implementation that made it: while the shim is on (decided
// once, at load) every stream is ours.
SHIM_EXPORT FTS* fts_open(char* const* argv, int options, int (*compar)(const FTSENT**, const FTSENT**)) {
  return shim_on() ? walk::fts_open(argv, options, compar) : REAL(fts_open)(argv, options, compar);
}
SHIM_EXPORT FTSENT* fts_read(FTS* sp) { return shim_on() ? walk::fts_read(sp) : REAL(fts_read)(sp); }
SHIM_EXPORT FTSENT* fts_children(FTS* sp, int instr) {
  return shim_on() ? walk::fts_children(sp, instr) : REAL(fts_children)(sp, instr);
}
SHIM_EXPORT int fts_set(FTS* sp, FTSENT* p, int instr) {
  return shim_on() ? walk::fts_set(sp, p, instr) : REAL(fts_set)(sp, p, instr);
}
SHIM_EXPORT int fts_close(FTS* sp) { return shim_on() ? walk::fts_close(sp) : REAL(fts_close)(sp); }

// The 64-bit forms share the layout on this ABI (asserted in walk_fts.hpp).
SHIM_EXPORT FTS64* fts64_open(char* const* argv, int options, int (*compar)(const FTSENT64**, const FTSENT64**)) {
  if (!shim_on()) return REAL(fts64_open)(argv, options, compar);
  using Compar = int (*)(const FTSENT**, const FTSENT**);
  return reinterpret_cast<FTS64*>(walk::fts_open(argv, options, reinterpret_cast<Compar>(compar)));
}
SHIM_EXPORT FTSENT64* fts64_read(FTS64* sp) {
  if (!shim_on()) return REAL(fts64_read)(sp);
  return reinterpret_cast<FTSENT64*>(walk::fts_read(reinterpret_cast<FTS*>(sp)));
}
SHIM_EXPORT FTSENT64* fts64_children(FTS64* sp, int instr) {
  if (!shim_on()) return REAL(fts64_children)(sp, instr);
  return reinterpret_cast<FTSENT64*>(walk::fts_children(reinterpret_cast<FTS*>(sp), instr));
}
SHIM_EXPORT int fts64_set(FTS64* sp, FTSENT64* p, int instr) {
  if (!shim_on()) return REAL(fts64_set)(sp, p, instr);
  return walk::fts_set(reinterpret_cast<FTS*>(sp), reinterpret_cast<FTSENT*>(p), instr);
}
SHIM_EXPORT int fts64_close(FTS64* sp) {
  if (!shim_on()) return REAL(fts64_close)(sp);
  return walk::fts_close(reinterpret_cast<FTS*>(sp));
}
