// `fractfs restore`: a generation back into the root, by hand.
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/sync_cli.hpp"
#include "sync/holder.hpp"
#include "sync/progress.hpp"
#include "sync/sys.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs restore [--root DIR] [--generation N] [--overwrite] [--dry-run]\n"
    "\n"
    "Restores a generation (default: the current one) into the app root. A\n"
    "local file newer than the checkpoint's copy is kept unless --overwrite;\n"
    "local files the generation does not have are left alone. Restoring an\n"
    "older generation makes it current again, as a new generation. The app\n"
    "must not be running (its files would change under it), except with\n"
    "--dry-run, which only says what would be done.\n"
    "\n"
    "  --root DIR        the app root (default: FRACTFS_ROOT, the nearest\n"
    "                    .fractfs.toml upwards, then the current directory)\n"
    "  --generation N    restore generation N ('fractfs log' lists them)\n"
    "  --overwrite       replace local files even when they are newer\n"
    "  -n, --dry-run     print what would be restored, change nothing\n";

void print_report(const RestoreReport& r, bool dry) {
  const char* verb = dry ? "would restore" : "restored";
  if (!r.generation && !r.legacy) return (void)std::printf("nothing to restore: no checkpoint yet\n");
  std::printf("%s %s: %llu file(s), %s, %llu director(ies), %llu symlink(s)%s\n", verb,
              r.legacy ? "the Python package's checkpoint" : fmt::format("generation {}", r.generation).c_str(),
              static_cast<unsigned long long>(r.files), human_bytes(static_cast<double>(r.bytes)).c_str(),
              static_cast<unsigned long long>(r.dirs), static_cast<unsigned long long>(r.symlinks),
              dry ? "" : fmt::format(" in {:.2f} s", r.seconds).c_str());
  std::printf("unchanged %llu, newer local kept %llu, skipped (tier changed) %llu, conflicts %llu\n",
              static_cast<unsigned long long>(r.unchanged), static_cast<unsigned long long>(r.kept_newer),
              static_cast<unsigned long long>(r.skipped), static_cast<unsigned long long>(r.conflicts));
  for (const std::string& n : r.notes) std::printf("  %s\n", n.c_str());
}

std::uint64_t parse_generation(const std::string& text) {
  // Digits only: strtoull would take "-1" as the largest number.
  bool digits = !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string::npos;
  std::uint64_t n = digits ? std::stoull(text) : 0;
  if (n == 0) throw UsageError("--generation wants a generation number, got '" + text + "'");
  return n;
}

}  // namespace

int cmd_restore(int argc, char** argv) {
  Args args =
      parse_args(argc, argv, 1,
                 {kRootOption, kHelpOption, {"generation", 0, true}, {"overwrite", 0, false}, {"dry-run", 'n', false}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("restore takes no arguments");
  RestoreOptions opt;
  if (args.has("generation")) opt.generation = parse_generation(args.get("generation"));
  opt.overwrite = args.has("overwrite");
  opt.dry_run = args.has("dry-run");
  auto engine = open_engine(args);
  auto say = [](bool error, const std::string& msg) {
    std::fprintf(stderr, "fractfs: %s%s\n", error ? "error: " : "", msg.c_str());
  };
  Holder holder(*engine, say);
  if (!opt.dry_run && !holder.try_acquire())
    throw std::runtime_error(
        fmt::format("the app is running (holder pid {}): stop it before restoring", holder_pid(engine->state())));
  if (!engine->state().ensure()) throw std::runtime_error("cannot create " + engine->state().dir());
  FileLock lock;
  if (!lock.acquire(engine->state().path("restore.lock")))
    throw std::runtime_error("cannot lock " + engine->state().path("restore.lock"));
  Progress progress("restore", true);
  opt.progress = &progress;
  Snapshot snap;
  RestoreReport r = restore_node(*engine, opt, &snap);
  progress.finish();
  print_report(r, opt.dry_run);
  if (opt.dry_run) return kExitOk;
  if (r.generation) {
    if (snap.current.number != r.generation) {  // an older one: current again
      holder.adopt(std::move(snap));
      CheckpointReport c = holder.checkpoint_here(true, nullptr);
      std::printf("generation %llu is current again, as generation %llu\n",
                  static_cast<unsigned long long>(r.generation), static_cast<unsigned long long>(c.generation.number));
    }
  }
  return kExitOk;
}

}  // namespace fractfs::cli
