// `fractfs log`: the generations kept in the store.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/json.hpp"
#include "cli/sync_cli.hpp"
#include "sync/progress.hpp"
#include "sync/sys.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs log [--root DIR] [--json]\n"
    "\n"
    "Lists the generations kept in the checkpoint store, newest first: time,\n"
    "files, bytes, what the checkpoint uploaded, and how long it took.\n"
    "\n"
    "  --root DIR  the app root (default: FRACTFS_ROOT, the nearest\n"
    "              .fractfs.toml upwards, then the current directory)\n"
    "  --json      one JSON array instead of text\n";

}  // namespace

int cmd_log(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"json", 0, false}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("log takes no arguments");
  auto engine = open_engine(args);
  Store& store = engine->store();
  auto cur = read_current(store);
  // The history from CURRENT back: records of writers that lost a race are not in it.
  std::vector<RecordKey> gens = cur ? chain(store, *cur, list_generations(store), 1) : std::vector<RecordKey>();
  bool json = args.has("json");
  std::string array;
  if (!json)
    std::printf("%-10s %-20s %10s %10s %10s %9s\n", "generation", "time (UTC)", "files", "bytes", "uploaded",
                "seconds");
  for (const RecordKey& k : gens) {
    Generation g = read_generation(store, k.number, k.tag);
    bool current = cur && g.number == cur->generation;
    if (json) {
      JsonObject o;
      o.add("generation", g.number)
          .add("current", current)
          .add("time", sys::utc_time(g.time_ns))
          .add("files", g.files)
          .add("dirs", g.dirs)
          .add("symlinks", g.symlinks)
          .add("bytes", g.bytes)
          .add("new_bytes", g.new_bytes)
          .add("duration", g.duration)
          .add("full", g.full)
          .add("dirty", g.dirty)
          .add("host", g.host);
      array += (array.empty() ? "" : ", ") + o.str();
      continue;
    }
    std::printf("%-10llu %-20s %10llu %10s %10s %9.3f%s\n", static_cast<unsigned long long>(g.number),
                sys::utc_time(g.time_ns).c_str(), static_cast<unsigned long long>(g.files),
                human_bytes(static_cast<double>(g.bytes)).c_str(),
                human_bytes(static_cast<double>(g.new_bytes)).c_str(), g.duration, current ? "  (current)" : "");
  }
  if (json) std::printf("[%s]\n", array.c_str());
  else if (gens.empty()) std::printf("(no generations yet)\n");
  return kExitOk;
}

}  // namespace fractfs::cli
