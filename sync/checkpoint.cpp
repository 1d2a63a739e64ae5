#include "sync/checkpoint.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "sync/capture.hpp"
#include "sync/crash.hpp"
#include "sync/gc.hpp"
#include "sync/parallel.hpp"
#include "sync/progress.hpp"
#include "sync/restore_util.hpp"
#include "sync/scan.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

// Reads the listed files (in parallel) and puts what was read in the model.
void capture_all(const SyncEnv& env, Snapshot& snap, Scanner& scan, int root_fd, CheckpointReport& rep,
                 Generation& gen, Progress* progress) {
  // A path can be queued twice: listed, and found in a new directory.
  std::sort(scan.to_read.begin(), scan.to_read.end());
  scan.to_read.erase(std::unique(scan.to_read.begin(), scan.to_read.end()), scan.to_read.end());
  std::vector<Capture> results(scan.to_read.size());
  unsigned threads = worker_count(results.size());
  std::vector<std::vector<char>> buffers(threads);
  PutOnce once;
  parallel_for(results.size(), threads, [&](std::size_t i, unsigned w) {
    results[i] = capture_file(root_fd, scan.to_read[i], snap.model, env.store, once, buffers[w]);
    if (progress) progress->add(1, results[i].entry.size);
  });
  std::vector<std::string> again;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::string& rel = scan.to_read[i];
    Capture& c = results[i];
    gen.new_objects += c.new_objects;
    gen.new_bytes += c.new_bytes;
    switch (c.outcome) {
      case Capture::Outcome::ok:
        ++rep.read;
        if (snap.model.dir(rel.substr(0, rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/'))))
          snap.model.set(rel, std::move(c.entry));
        else
          snap.retry.push_back(rel);
        break;
      case Capture::Outcome::vanished: scan.gone.push_back(rel); break;
      case Capture::Outcome::not_regular: again.push_back(rel); break;
      case Capture::Outcome::unstable:
        ++rep.kept_dirty;
        snap.retry.push_back(rel);
        break;
      case Capture::Outcome::unreadable: scan.problem(rel + ": " + c.error); break;
    }
  }
  if (!again.empty()) {  // became a symlink or special file while we looked
    Scanner rescan(env, snap.model, root_fd, false);
    rescan.examine_paths(again);
    scan.gone.insert(scan.gone.end(), rescan.gone.begin(), rescan.gone.end());
    for (const std::string& rel : rescan.to_read) snap.retry.push_back(rel);
  }
}

// Writes the generation record and flips CURRENT: the commit point.
void commit(const SyncEnv& env, Snapshot& snap, Generation& gen) {
  Store& store = env.store;
  gen.root = snap.model.root_tree();
  crash_point("trees");
  store.flush();  // every object the new generation names is durable first
  auto current = read_current(store);
  std::uint64_t now_current = current ? current->generation : 0;
  if (now_current != snap.current.number)
    throw StaleSnapshot(fmt::format("{}: generation {} was made by another writer since this snapshot (of {}); "
                                    "reloading it", store.describe(), now_current, snap.current.number));
  gen.number = now_current + 1;
  gen.parent = now_current;
  // A change list only when it is against the parent: otherwise the
  // collector sweeps instead.
  if (snap.base == now_current) {
    std::string text = serialize(snap.model.changes());
    gen.changes = hash_bytes(text);
    store.put(keys::changes(gen.number), text);
  }
  gen.time_ns = sys::now_ns();
  store.put(keys::generation(gen.number), serialize(gen));
  crash_point("generation");
  store.flush();
  store.put(keys::current, serialize(Current{gen.number, gen.root}));
  crash_point("current");
  store.flush();
  snap.model.accept();
  snap.current = gen;
  snap.base = gen.number;
}

}  // namespace

Snapshot load_current(Store& store, const Model* known) {
  Snapshot snap;
  auto cur = read_current(store);
  if (!cur) return snap;
  snap.current = read_generation(store, cur->generation);
  snap.base = cur->generation;
  snap.model = Model::load(store, cur->root);
  if (known) snap.model.adopt_local_identities(*known);
  return snap;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

CheckpointReport checkpoint(const SyncEnv& env, Snapshot& snap, const std::vector<std::string>& paths,
                            const CheckpointOptions& opt) {
  double start = sys::seconds_now();
  CheckpointReport rep;
  if (!opt.full && paths.empty() && snap.retry.empty() && snap.current.number != 0) {
    rep.generation = snap.current;  // nothing to look at
    rep.seconds = sys::seconds_now() - start;
    return rep;
  }
  RootDir root(env.cfg.root);
  Scanner scan(env, snap.model, root.fd(), opt.full && opt.rehash);
  if (opt.full) {
    scan.walk_all();
  } else {
    std::vector<std::string> all = paths;
    all.insert(all.end(), snap.retry.begin(), snap.retry.end());
    scan.examine_paths(std::move(all));
  }
  snap.retry.clear();
  Generation gen;
  gen.full = opt.full;
  gen.host = host_name();
  capture_all(env, snap, scan, root.fd(), rep, gen, opt.progress);
  for (const std::string& rel : scan.gone) {
    if (snap.model.find(rel)) ++rep.removed;
    snap.model.remove(rel);
  }
  rep.examined = scan.examined;
  rep.problems = std::move(scan.problems);
  snap.model.commit(env.store, &gen.new_objects, &gen.new_bytes);
  const Model::Totals& t = snap.model.totals();
  gen.files = t.files, gen.dirs = t.dirs, gen.symlinks = t.symlinks, gen.bytes = t.bytes;
  gen.dirty = rep.kept_dirty;
  // Compared with what is current, not with what this run touched: a
  // failed commit, or a restored older generation, differs too.
  if (snap.current.number == 0 || snap.model.root_tree() != snap.current.root) {
    gen.duration = sys::seconds_now() - start;
    commit(env, snap, gen);
    rep.committed = true;
    rep.generation = gen;
    try {
      collect_garbage(env.store, gen.number, env.cfg.keep_generations, snap.model, opt.full);
    } catch (const std::exception& e) {
      rep.problems.push_back(std::string("collecting old generations: ") + e.what());
    }
  } else {
    snap.model.accept();  // it equals the current generation
    snap.base = snap.current.number;
    rep.generation = snap.current;
  }
  rep.seconds = sys::seconds_now() - start;
  return rep;
}

}  // namespace fractfs
