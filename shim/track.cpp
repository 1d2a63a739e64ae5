#include "shim/track.hpp"

#include <pthread.h>

#include <atomic>

#include "shim/fd_table.hpp"
#include "shim/helper_client.hpp"
#include "shim/scratch.hpp"
#include "shim/state.hpp"
#include "sync/journal.hpp"

namespace fractfs::shim::track {
namespace {

constexpr std::uint64_t kQuietFor = 3;  // seconds without a drain (the helper drains every second)

journal::Writer g_writer;
pthread_once_t g_attach_once = PTHREAD_ONCE_INIT;
// Set by any thread that records; read at exit. Relaxed: a flag, no data.
std::atomic<bool> g_recorded{false};

void attach() noexcept {
  if (const char* path = helper_client::journal_path()) g_writer.attach(path);
}

bool worth_recording(const Decision& d, bool is_dir) noexcept {
  return d.tier == Tier::local_synced || (d.tier == Tier::remote && is_dir);
}

void record(journal::Event e, std::string_view rel) noexcept {
  if (rel.empty()) return;  // the root itself
  ::pthread_once(&g_attach_once, attach);
  if (g_writer.attached()) g_writer.record(e, rel);
  g_recorded.store(true, std::memory_order_relaxed);
  helper_client::maybe_take_over();
}

void record(journal::Event e, const Target& t) noexcept {
  if (!helper_client::recording() || !worth_recording(t.decision, t.is_dir_decision)) return;
  record(e, t.rel);
}

void record_path(journal::Event e, std::string_view vpath) noexcept {
  if (!helper_client::recording()) return;
  std::string_view rel;
  if (!inside_root(vpath, &rel) || !worth_recording(decide(rel, false), false)) return;
  record(e, rel);
}

}  // namespace

void changed(const Target& t) noexcept { record(journal::Event::changed, t); }
void opened(const Target& t) noexcept { record(journal::Event::opened, t); }
void removed(const Target& t) noexcept { record(journal::Event::removed, t); }
void closed(std::string_view vpath) noexcept { record_path(journal::Event::closed, vpath); }

bool unsaved() noexcept {
  ::pthread_once(&g_attach_once, attach);
  return g_writer.unsaved();
}

bool helper_quiet(std::int64_t now_s) noexcept {
  ::pthread_once(&g_attach_once, attach);
  return g_writer.reader_quiet(static_cast<std::uint64_t>(now_s), kQuietFor);
}

bool recorded_here() noexcept { return g_recorded.load(std::memory_order_relaxed); }

// The child holds every descriptor its parent had open for writing, and
// may write through them after the parent closed its own: each is the
// child's too (the helper watches a file while any of its writers lives).
void after_fork_child() noexcept {
  g_writer.forget_seen();
  g_recorded.store(false, std::memory_order_relaxed);
  if (!helper_client::recording()) return;
  scratch::Buf v;
  for (int fd = 0, n = fd_table::limit(); v.ok() && fd < n; ++fd) {
    std::uint32_t flags = 0;
    if (fd_table::tracked(fd) && fd_table::get(fd, v.get(), v.size(), &flags) >= 0 && (flags & fd_table::writable))
      record_path(journal::Event::opened, v.get());
  }
}

}  // namespace fractfs::shim::track
