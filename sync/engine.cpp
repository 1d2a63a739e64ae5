#include "sync/engine.hpp"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "sync/sys.hpp"

namespace fractfs {
namespace {

std::string read_or_empty(const std::string& path) {
  std::string text;
  return sys::read_file(path, text) == 0 ? text : std::string();
}

bool exists(const std::string& path) noexcept {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void write_state(const StateDir& state, const char* name, const std::string& text) {
  if (int err = sys::write_file(state.path(name), text, false))
    throw StoreError("cannot write " + state.path(name) + ": " + strerror(err));
}

}  // namespace

Engine::Engine(Config cfg) : cfg_(std::move(cfg)), resolver_(cfg_), store_(open_store(cfg_)), state_(cfg_) {
  std::string text = read_or_empty(state_.path("bundle"));
  if (!text.empty()) {
    try {
      bundle_ = Bundle::parse(text, state_.path("bundle"));
    } catch (const FormatError&) {
      // A damaged list: no bundle (everything is checkpointed) beats a wrong one.
    }
  }
}

bool is_restored(const StateDir& state) noexcept { return exists(state.path("restored")); }

StartReport ensure_restored(Engine& engine, Snapshot* snap, Progress* progress) {
  StartReport r;
  const StateDir& state = engine.state();
  if (is_restored(state)) return r;
  if (!state.ensure()) throw StoreError("cannot create the state directory " + state.dir() + ": " + strerror(errno));
  FileLock lock;
  if (!lock.acquire(state.path("restore.lock")))
    throw StoreError("cannot lock " + state.path("restore.lock") + ": " + strerror(errno));
  if (is_restored(state)) return r;  // someone restored while we waited
  RestoreOptions opt;
  opt.progress = progress;
  r.restore = restore_node(engine, opt, snap);
  r.restored_now = true;
  return r;
}

RestoreReport restore_node(Engine& engine, RestoreOptions opt, Snapshot* snap) {
  const StateDir& state = engine.state();
  opt.detect_bundle = !exists(state.path("bundle"));
  RestoreReport r = restore(engine.env(), opt, snap);
  if (opt.dry_run) return r;
  if (opt.detect_bundle) {
    write_state(state, "bundle", r.bundle.serialize());
    engine.set_bundle(r.bundle);
  }
  if (snap && r.generation) save_index(engine, *snap);
  write_state(state, "restored", "generation " + std::to_string(r.generation) + "\n");
  return r;
}

Snapshot load_snapshot(Engine& engine) {
  auto cur = read_current(engine.store());
  if (!cur) return {};
  std::string text = read_or_empty(engine.state().path("index"));
  std::optional<Model> index;
  if (!text.empty()) {
    try {
      std::uint64_t gen = 0;
      index = Model::parse_index(text, engine.state().path("index"), &gen);
      if (gen == cur->generation && index->root_tree() == cur->root) {  // the tag: read with the record
        Snapshot snap;
        snap.current = read_generation(engine.store(), cur->generation, cur->tag);
        snap.base = cur->generation;
        snap.model = std::move(*index);
        return snap;
      }
    } catch (const FormatError&) {
      index.reset();  // rebuilt from the store; every file is read once
    }
  }
  return load_current(engine.store(), index ? &*index : nullptr);
}

void save_index(Engine& engine, const Snapshot& snap) noexcept {
  try {
    sys::write_file(engine.state().path("index"), snap.model.serialize_index(snap.current.number), false);
  } catch (...) {
    // Only a cache: the next holder reads the store instead.
  }
}

}  // namespace fractfs
