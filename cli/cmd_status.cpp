// `fractfs status`: the checkpoint state of a root.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/json.hpp"
#include "cli/sync_cli.hpp"
#include "cli/tier_count.hpp"
#include "sync/control.hpp"
#include "sync/lease.hpp"
#include "sync/progress.hpp"
#include "sync/status.hpp"
#include "sync/sys.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs status [--root DIR] [--json]\n"
    "\n"
    "The checkpoint state of the app root: the current generation, the last\n"
    "checkpoint (time, duration, files, bytes), files changed since, the\n"
    "last error, the holder's pid, who holds the node lease, and files and\n"
    "bytes per tier.\n"
    "\n"
    "  --root DIR  the app root (default: FRACTFS_ROOT, the nearest\n"
    "              .fractfs.toml upwards, then the current directory)\n"
    "  --json      one JSON object instead of text\n";

struct Facts {
  std::optional<Generation> current;
  Status status;
  long holder = 0;
  std::string lease;  // who holds the node lease ("" nobody, or no lease)
  long pending = -1;  // paths changed since the last checkpoint; -1: unknown
  bool pending_lost = false;
  TierCounts tiers;
};

Facts gather(Engine& engine) {
  Facts f;
  if (auto cur = read_current(engine.store())) f.current = read_generation(engine.store(), cur->generation, cur->tag);
  std::string text;
  if (sys::read_file(engine.state().path("status"), text) == 0) f.status = parse_status(text);
  f.holder = holder_pid(engine.state());
  if (f.holder) {
    auto reply = control_request(engine.state().path("holder.sock"), "pending", 10);
    long n = 0;
    int lost = 0;
    if (reply && std::sscanf(reply->c_str(), "ok %ld %d", &n, &lost) == 2) f.pending = n, f.pending_lost = lost;
  }
  if (engine.cfg().lease_seconds > 0) f.lease = Lease::describe_holder(engine.store());
  f.tiers = count_tiers(engine);
  return f;
}

std::string tally_json(const TierCounts::Tally& t) {
  return JsonObject().add("files", t.files).add("bytes", t.bytes).str();
}

void print_json(Engine& engine, const Facts& f) {
  JsonObject o;
  o.add("root", engine.cfg().root).add("remote", engine.cfg().remote_root).add("store", engine.store().describe());
  if (f.current) {
    const Generation& g = *f.current;
    o.add("generation", g.number)
        .add("generation_time", sys::utc_time(g.time_ns))
        .add("files", g.files)
        .add("dirs", g.dirs)
        .add("symlinks", g.symlinks)
        .add("bytes", g.bytes);
  } else {
    o.add_null("generation");
  }
  const Status& s = f.status;
  if (s.time_ns) o.add("last_checkpoint", sys::utc_time(s.time_ns)).add("last_duration", s.duration);
  else o.add_null("last_checkpoint");
  o.add("dirty_kept", s.dirty).add("torn", s.torn).add("cloned", s.cloned);
  std::string list;
  for (const std::string& u : s.unsettled) list += (list.empty() ? "" : ",") + json_string(u);
  o.add_raw("unsettled", "[" + list + "]");
  if (f.pending >= 0) o.add("dirty_now", f.pending).add("dirty_now_incomplete", f.pending_lost);
  else o.add_null("dirty_now");
  if (s.last_error.empty()) o.add_null("last_error");
  else o.add("last_error", s.last_error).add("last_error_time", sys::utc_time(s.last_error_ns));
  if (f.holder) o.add("holder_pid", f.holder);
  else o.add_null("holder_pid");
  if (!f.lease.empty()) o.add("lease", f.lease);
  else o.add_null("lease");
  o.add_raw("tiers", JsonObject()
                         .add_raw("local_synced", tally_json(f.tiers.local_synced))
                         .add_raw("local_ignored", tally_json(f.tiers.local_ignored))
                         .add_raw("remote", tally_json(f.tiers.remote))
                         .add_raw("bundle", tally_json(f.tiers.bundle))
                         .str());
  std::printf("%s\n", o.str().c_str());
}

std::string tally(const TierCounts::Tally& t) {
  return fmt::format("{} file(s), {}", t.files, human_bytes(static_cast<double>(t.bytes)));
}

void print_text(Engine& engine, const Facts& f) {
  std::printf("root              %s\n", engine.cfg().root.c_str());
  std::printf("store             %s\n", engine.store().describe().c_str());
  if (f.current) {
    const Generation& g = *f.current;
    std::printf("generation        %llu, %s\n", static_cast<unsigned long long>(g.number), when(g.time_ns).c_str());
    std::printf("                  %s in %llu file(s), %llu director(ies), %llu symlink(s)\n",
                human_bytes(static_cast<double>(g.bytes)).c_str(), static_cast<unsigned long long>(g.files),
                static_cast<unsigned long long>(g.dirs), static_cast<unsigned long long>(g.symlinks));
  } else {
    std::printf("generation        none yet\n");
  }
  const Status& s = f.status;
  if (s.time_ns)
    std::printf(
        "last checkpoint   %s, took %.3f s%s\n", when(s.time_ns).c_str(), s.duration,
        s.dirty ? fmt::format(", {} file(s) kept at an older version (changing while read)", s.dirty).c_str() : "");
  for (const std::string& u : s.unsettled) std::printf("not consistent    %s\n", u.c_str());
  if (f.pending >= 0)
    std::printf("changed since     %ld path(s)%s\n", f.pending, f.pending_lost ? " or more (a full walk is due)" : "");
  if (!s.last_error.empty())
    std::printf("last error        %s: %s\n", when(s.last_error_ns).c_str(), s.last_error.c_str());
  if (f.holder)
    std::printf("holder            pid %ld%s\n", f.holder,
                s.holder_since_ns ? (", since " + when(s.holder_since_ns)).c_str() : "");
  else std::printf("holder            none (the app is not running)\n");
  if (!f.lease.empty()) std::printf("lease             %s\n", f.lease.c_str());
  std::printf("local_synced      %s\n", tally(f.tiers.local_synced).c_str());
  std::printf("local_ignored     %s\n", tally(f.tiers.local_ignored).c_str());
  std::printf("remote            %s\n", tally(f.tiers.remote).c_str());
  if (f.tiers.bundle.files) std::printf("bundle            %s (not checkpointed)\n", tally(f.tiers.bundle).c_str());
}

}  // namespace

int cmd_status(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"json", 0, false}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("status takes no arguments");
  auto engine = open_engine(args);
  Facts f = gather(*engine);
  args.has("json") ? print_json(*engine, f) : print_text(*engine, f);
  return kExitOk;
}

}  // namespace fractfs::cli
