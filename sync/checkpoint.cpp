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

constexpr std::size_t kMaxUnsettled = 20;

void unsettled(CheckpointReport& rep, const std::string& rel, const std::string& what) {
  if (rep.unsettled.size() < kMaxUnsettled) rep.unsettled.push_back(rel + ": " + what);
}

std::string parent_of(const std::string& rel) {
  std::size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

// A database was read with its log: the -wal entry is the one read with
// it (or none), and its -shm and -journal are never in a checkpoint.
void settle_sidecars(Snapshot& snap, const std::string& rel, Capture& c, std::set<std::string>& settled) {
  std::string wal = rel + "-wal";
  if (c.wal) snap.model.set(wal, std::move(*c.wal));
  else snap.model.remove(wal);
  settled.insert(wal);
  for (const char* suffix : {"-shm", "-journal"}) snap.model.remove(rel + suffix);
}

// A file that changed during every read keeps its previous version (a new
// one stays out) for a while, then the last copy read is stored; a
// database keeps its previous version until SQLite lets it be read. Both
// are listed in the status.
void unstable(Snapshot& snap, const std::string& rel, Capture& c, CheckpointReport& rep, double settle_seconds) {
  snap.retry.push_back(rel);
  std::int64_t now = sys::now_ns();
  std::int64_t since = snap.unsettled_since.try_emplace(rel, now).first->second;
  bool settle = !c.database && static_cast<double>(now - since) / 1e9 >= settle_seconds;
  if (!settle) {
    ++rep.kept_dirty;
    const Entry* old = snap.model.find(rel);
    std::string why = c.database ? c.error : "changed during every read";
    return unsettled(rep, rel, why + (old ? "; the previous version is kept" : "; not in the checkpoint yet"));
  }
  snap.model.set(rel, std::move(c.entry));
  ++rep.torn;
  unsettled(rep, rel,
            "changed during every read for " + std::to_string((now - since) / 1000000000) +
                " s; stored as last read, which may be inconsistent");
}

// Reads the listed files (in parallel) and puts what was read in the model.
// Entries set along with a database (its -wal) go into `settled`: the scan
// may have seen them vanish before the capture saw them again.
void capture_all(const SyncEnv& env, Snapshot& snap, Scanner& scan, int root_fd, CheckpointReport& rep, Generation& gen,
                 const CheckpointOptions& opt, std::set<std::string>& settled) {
  Progress* progress = opt.progress;
  double settle_seconds = opt.settle_seconds;
  // A path can be queued twice: listed, and found in a new directory.
  std::sort(scan.to_read.begin(), scan.to_read.end());
  scan.to_read.erase(std::unique(scan.to_read.begin(), scan.to_read.end()), scan.to_read.end());
  std::vector<Capture> results(scan.to_read.size());
  unsigned threads = worker_count(results.size());
  std::vector<std::vector<char>> buffers(threads);
  PutOnce once;
  CaptureSource src{root_fd, env.cfg.root_real.empty() ? env.cfg.root : env.cfg.root_real, snap.model, env.store, once};
  parallel_for(results.size(), threads, [&](std::size_t i, unsigned w) {
    results[i] = capture_file(src, scan.to_read[i], buffers[w]);
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
        if (c.cloned) ++rep.cloned;
        if (!snap.model.dir(parent_of(rel))) {
          snap.retry.push_back(rel);
          break;
        }
        snap.model.set(rel, std::move(c.entry));
        snap.unsettled_since.erase(rel);
        if (c.database) settle_sidecars(snap, rel, c, settled);
        break;
      case Capture::Outcome::vanished: scan.gone.push_back(rel); break;
      case Capture::Outcome::not_regular: again.push_back(rel); break;
      case Capture::Outcome::unstable:
      case Capture::Outcome::busy: unstable(snap, rel, c, rep, settle_seconds); break;
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

// Writes the generation record and swaps CURRENT: the commit point. The
// swap is conditional on CURRENT being what this snapshot was built on, so
// of two writers racing from one parent exactly one wins; the other's
// record has a key of its own (its tag) and is left for the collector.
void commit(const SyncEnv& env, Snapshot& snap, Generation& gen) {
  Store& store = env.store;
  gen.root = snap.model.root_tree();
  crash_point("trees");
  store.flush();  // every object the new generation names is durable first
  auto current = read_current(store);
  std::uint64_t now_current = current ? current->generation : 0;
  std::string now_tag = current ? current->tag : std::string();
  if (now_current != snap.current.number || now_tag != snap.current.tag)
    throw StaleSnapshot(
        fmt::format("{}: generation {} was made by another writer since this snapshot (of {}); "
                    "reloading it",
                    store.describe(), now_current, snap.current.number));
  gen.number = now_current + 1;
  gen.parent = now_current;
  gen.parent_tag = now_tag;
  gen.tag = new_tag();
  // A change list only when it is against the parent: otherwise the
  // collector sweeps instead.
  if (snap.base == now_current) {
    std::string text = serialize(snap.model.changes());
    gen.changes = hash_bytes(text);
    store.put(keys::changes(gen.number, gen.tag), text);
  }
  gen.time_ns = sys::now_ns();
  store.put(keys::generation(gen.number, gen.tag), serialize(gen));
  crash_point("generation");
  store.flush();
  SwapResult swap = store.swap_pointer(keys::current, current ? current->version : std::nullopt,
                                       serialize(Current{gen.number, gen.root, gen.tag, std::nullopt}));
  if (!swap.won)
    throw StaleSnapshot(
        fmt::format("{}: another writer made generation {} current first; reloading it", store.describe(), gen.number));
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
  snap.current = read_generation(store, cur->generation, cur->tag);
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
  snap.model.distrust_unaccepted();  // a previous run failed after taking files in
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
  std::set<std::string> settled;
  capture_all(env, snap, scan, root.fd(), rep, gen, opt, settled);
  for (const std::string& rel : scan.gone) {
    if (settled.count(rel)) continue;
    snap.unsettled_since.erase(rel);
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
      collect_garbage(env.store, RecordKey{gen.number, gen.tag}, env.cfg.keep_generations, snap.model, opt.full);
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
