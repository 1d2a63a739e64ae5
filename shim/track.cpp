#include "shim/track.hpp"

#include <pthread.h>

#include "shim/holder_role.hpp"
#include "shim/state.hpp"
#include "sync/journal.hpp"

namespace fractfs::shim::track {
namespace {

journal::Writer g_writer;
pthread_once_t g_attach_once = PTHREAD_ONCE_INIT;

void attach() noexcept {
  Bypass off;
  if (const char* path = holder_role::journal_path()) g_writer.attach(path);
}

bool worth_recording(const Decision& d, bool is_dir) noexcept {
  return d.tier == Tier::local_synced || (d.tier == Tier::remote && is_dir);
}

void record(journal::Event e, std::string_view rel) noexcept {
  if (rel.empty()) return;  // the root itself
  ::pthread_once(&g_attach_once, attach);
  if (g_writer.attached()) g_writer.record(e, rel);
  holder_role::maybe_take_over();
}

void record(journal::Event e, const Target& t) noexcept {
  if (!holder_role::recording() || !worth_recording(t.decision, t.is_dir_decision)) return;
  record(e, t.rel);
}

}  // namespace

void changed(const Target& t) noexcept { record(journal::Event::changed, t); }
void opened(const Target& t) noexcept { record(journal::Event::opened, t); }
void removed(const Target& t) noexcept { record(journal::Event::removed, t); }

void closed(std::string_view vpath) noexcept {
  if (!holder_role::recording()) return;
  std::string_view rel;
  if (!inside_root(vpath, &rel) || !worth_recording(decide(rel, false), false)) return;
  record(journal::Event::closed, rel);
}

}  // namespace fractfs::shim::track
