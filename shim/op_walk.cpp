// nftw, ftw and fts: glibc walks trees with internal calls that cannot be
// interposed, so walks that may reach the root use our implementations
// (shim/walk_*.cpp), whose directory reads and stats come back through the
// shim. Walks elsewhere stay with libc.
#include <atomic>

#include "shim/envelope.hpp"
#include "shim/real.hpp"
#include "shim/state.hpp"
#include "shim/walk_fts.hpp"
#include "shim/walk_nftw.hpp"

namespace fractfs::shim {
namespace {

// Inside the root, or a directory above it. The guard covers this
// decision only: the walk calls the app's functions, whose exceptions
// must reach the app.
bool reaches_root(const char* where, const char* dir) {
  return slow_path(
      where,
      [&] {
        char buf[fractfs::path::kMax];
        return virtual_path(AT_FDCWD, dir, buf, sizeof buf) >= 0;
      },
      [] { return false; });
}

// The FTS streams made by our fts_open: every other call on a stream goes
// back to whichever implementation made it (libc's, after a fault).
// Lock-free, so a child forked in mid-walk can go on using them.
constexpr int kStreams = 64;
std::atomic<FTS*> g_streams[kStreams];

bool adopt(FTS* sp) noexcept {
  for (auto& slot : g_streams)
    if (FTS* none = nullptr; slot.compare_exchange_strong(none, sp)) return true;
  return false;
}
bool ours(FTS* sp) noexcept {
  if (!sp) return false;
  for (auto& slot : g_streams)
    if (slot.load(std::memory_order_relaxed) == sp) return true;
  return false;
}
void disown(FTS* sp) noexcept {
  for (auto& slot : g_streams)
    if (FTS* mine = sp; slot.compare_exchange_strong(mine, nullptr)) return;
}

using Compar = int (*)(const FTSENT**, const FTSENT**);

// Ours, or libc's when a fault or too many open streams say so.
FTS* open_stream(const char* where, char* const* argv, int options, Compar compar) {
  auto libc = [&] { return REAL(fts_open)(argv, options, compar); };
  if (!shim_on()) return libc();
  return slow_path(
      where,
      [&] {
        FTS* sp = walk::fts_open(argv, options, compar);
        if (!sp || adopt(sp)) return sp;
        walk::fts_close(sp);
        return libc();
      },
      libc);
}

}  // namespace
}  // namespace fractfs::shim

using namespace fractfs::shim;
namespace walk = fractfs::walk;

SHIM_EXPORT int nftw(const char* dir, __nftw_func_t fn, int nopenfd, int flags) {
  return reaches_root(__func__, dir) ? walk::nftw(dir, fn, nopenfd, flags) : REAL(nftw)(dir, fn, nopenfd, flags);
}
SHIM_EXPORT int nftw64(const char* dir, __nftw64_func_t fn, int nopenfd, int flags) {
  return reaches_root(__func__, dir) ? walk::nftw64(dir, fn, nopenfd, flags) : REAL(nftw64)(dir, fn, nopenfd, flags);
}
SHIM_EXPORT int ftw(const char* dir, __ftw_func_t fn, int nopenfd) {
  return reaches_root(__func__, dir) ? walk::ftw(dir, fn, nopenfd) : REAL(ftw)(dir, fn, nopenfd);
}
SHIM_EXPORT int ftw64(const char* dir, __ftw64_func_t fn, int nopenfd) {
  return reaches_root(__func__, dir) ? walk::ftw64(dir, fn, nopenfd) : REAL(ftw64)(dir, fn, nopenfd);
}

SHIM_EXPORT FTS* fts_open(char* const* argv, int options, Compar compar) {
  return open_stream(__func__, argv, options, compar);
}
SHIM_EXPORT FTSENT* fts_read(FTS* sp) { return ours(sp) ? walk::fts_read(sp) : REAL(fts_read)(sp); }
SHIM_EXPORT FTSENT* fts_children(FTS* sp, int instr) {
  return ours(sp) ? walk::fts_children(sp, instr) : REAL(fts_children)(sp, instr);
}
SHIM_EXPORT int fts_set(FTS* sp, FTSENT* p, int instr) {
  return ours(sp) ? walk::fts_set(sp, p, instr) : REAL(fts_set)(sp, p, instr);
}
SHIM_EXPORT int fts_close(FTS* sp) {
  if (!ours(sp)) return REAL(fts_close)(sp);
  disown(sp);
  return walk::fts_close(sp);
}

// The 64-bit forms share the layout on this ABI (asserted in walk_fts.hpp);
// a stream opened by fts64_open may be read with either name's functions.
SHIM_EXPORT FTS64* fts64_open(char* const* argv, int options, int (*compar)(const FTSENT64**, const FTSENT64**)) {
  return reinterpret_cast<FTS64*>(open_stream(__func__, argv, options, reinterpret_cast<Compar>(compar)));
}
SHIM_EXPORT FTSENT64* fts64_read(FTS64* sp) {
  return reinterpret_cast<FTSENT64*>(fts_read(reinterpret_cast<FTS*>(sp)));
}
SHIM_EXPORT FTSENT64* fts64_children(FTS64* sp, int instr) {
  return reinterpret_cast<FTSENT64*>(fts_children(reinterpret_cast<FTS*>(sp), instr));
}
SHIM_EXPORT int fts64_set(FTS64* sp, FTSENT64* p, int instr) {
  return fts_set(reinterpret_cast<FTS*>(sp), reinterpret_cast<FTSENT*>(p), instr);
}
SHIM_EXPORT int fts64_close(FTS64* sp) { return fts_close(reinterpret_cast<FTS*>(sp)); }
