#include "sync/gc.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "sync/crash.hpp"
#include "sync/generation.hpp"
#include "sync/model.hpp"
#include "sync/store.hpp"
#include "sync/tree.hpp"

namespace fractfs {
namespace {

using IdSet = std::unordered_set<ObjectId, ObjectIdHash>;

void drop_record(Store& store, const RecordKey& r) {
  store.remove(keys::changes(r.number, r.tag));
  store.remove(keys::generation(r.number, r.tag));
}

// Objects reachable from the tree `root`, read from the store; subtrees
// already marked are skipped (unchanged directories share their ids).
void mark_tree(Store& store, const ObjectId& root, IdSet& marked) {
  if (!marked.insert(root).second) return;
  std::string key = keys::object(root);
  auto text = store.get(key);
  if (!text) return;
  for (const auto& [name, e] : parse_tree(*text, store.describe() + "/" + key)) {
    if (e.is_dir()) mark_tree(store, e.content[0], marked);
    else marked.insert(e.content.begin(), e.content.end());
  }
}

void mark_model(const Model& model, IdSet& marked) {
  marked.insert(model.root_tree());
  model.for_each_dir([&](const std::string&, const Model::Dir& d) {
    marked.insert(d.tree);
    for (const auto& [name, e] : d.entries) marked.insert(e.content.begin(), e.content.end());
  });
}

std::uint64_t sweep(Store& store, const std::vector<RecordKey>& kept, const RecordKey& current, const Model& model) {
  IdSet marked;
  mark_model(model, marked);
  for (const RecordKey& g : kept)
    if (g != current) mark_tree(store, read_generation(store, g.number, g.tag).root, marked);
  std::uint64_t deleted = 0;
  std::string prefix = std::string(keys::objects) + "/";
  for (const std::string& key : store.list(keys::objects)) {
    std::string hex = key.substr(prefix.size());
    hex.erase(std::remove(hex.begin(), hex.end(), '/'), hex.end());
    auto id = ObjectId::parse(hex);
    if (id && marked.count(*id)) continue;
    store.remove(key);
    ++deleted;
    crash_point("gc");
  }
  deleted += store.discard_abandoned();
  store.compact();
  return deleted;
}

// Records that are not history: a race's losers (never current), and
// format-1 records above the current one (a crash before the commit).
// Tagged records above it may be a commit in flight: left alone.
void drop_orphans(Store& store, const std::vector<RecordKey>& present, const std::set<RecordKey>& history,
                  std::uint64_t current) {
  for (const RecordKey& r : present) {
    if (history.count(r) || (r.number > current && !r.tag.empty())) continue;
    drop_record(store, r);
    crash_point("gc");
  }
}

}  // namespace

GcReport collect_garbage(Store& store, const RecordKey& current, long keep, const Model& model, bool full_sweep) {
  GcReport r;
  std::vector<RecordKey> present = list_generations(store);
  std::vector<RecordKey> hist = chain(store, Current{current.number, {}, current.tag, std::nullopt}, present, 1);
  std::reverse(hist.begin(), hist.end());  // oldest first: hist[i].number == hist[0].number + i
  drop_orphans(store, present, std::set<RecordKey>(hist.begin(), hist.end()), current.number);
  std::uint64_t oldest_kept = current.number >= static_cast<std::uint64_t>(keep) ? current.number - keep + 1 : 1;
  std::vector<RecordKey> kept, dropped;
  for (const RecordKey& g : hist) (g.number >= oldest_kept ? kept : dropped).push_back(g);
  bool need_sweep = full_sweep;
  std::size_t done = 0;
  for (; done < dropped.size() && !need_sweep; ++done) {
    std::size_t d = done;  // hist[d] is dropped[d]
    // Garbage: released by d+1, not added back by d+2..current. Only if
    // every link of that chain is sound; otherwise a sweep decides.
    std::optional<Changes> next = read_changes(store, hist[d + 1], hist[d]);
    IdSet readded;
    for (std::size_t k = d + 2; next && k < hist.size(); ++k) {
      auto c = read_changes(store, hist[k], hist[k - 1]);
      if (!c) next.reset();
      else readded.insert(c->added.begin(), c->added.end());
    }
    if (!next) {
      need_sweep = true;
      break;
    }
    for (const ObjectId& id : next->released) {
      if (readded.count(id)) continue;
      store.remove(keys::object(id));
      ++r.objects_deleted;
      crash_point("gc");
    }
    drop_record(store, dropped[d]);
    ++r.generations_dropped;
  }
  if (need_sweep) {
    // Records first: a crash mid-sweep leaves no record naming a deleted object.
    for (; done < dropped.size(); ++done) {
      drop_record(store, dropped[done]);
      ++r.generations_dropped;
    }
    r.objects_deleted += sweep(store, kept, current, model);
    r.swept = true;
  }
  return r;
}

GcReport collect_garbage(Store& store, std::uint64_t current, long keep, const Model& model, bool full_sweep) {
  auto cur = read_current(store);
  auto at = cur ? in_history(store, *cur, current) : std::nullopt;
  return collect_garbage(store, at.value_or(RecordKey{current, {}}), keep, model, full_sweep);
}

}  // namespace fractfs
