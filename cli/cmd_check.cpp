// `fractfs check`: the tier of each path, like `git check-ignore`.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "resolver/path.hpp"
#include "resolver/resolver.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs check [--root DIR] [-v] [--stdin] PATH...\n"
    "\n"
    "Prints TIER<TAB>PATH for each PATH: remote, local_synced, local_ignored,\n"
    "or outside (not under the app root). With -v, TIER<TAB>SOURCE<TAB>PATH,\n"
    "where SOURCE is the deciding rule, e.g. [ignore] '*.tmp' or default.\n"
    "A PATH is absolute or relative to the current directory; one ending in '/'\n"
    "or naming an existing directory is treated as a directory.\n"
    "\n"
    "  --root DIR     the app root (default: FRACTFS_ROOT, the nearest\n"
    "                 .fractfs.toml upwards, then the current directory)\n"
    "  -v, --verbose  also print the deciding source\n"
    "  --stdin        read further paths from standard input, one per line\n";

struct Checker {
  const Config& cfg;
  Resolver resolver;
  std::string cwd;
  bool verbose;

  void print(const std::string& given) const {
    std::string abs = path::normalized(cwd, given);
    auto rel = path::relative_to(cfg.root, abs);
    if (!rel && !cfg.root_real.empty()) rel = path::relative_to(cfg.root_real, abs);
    Decision d{Tier::outside, Rule::outside, -1, 0};
    if (rel) {
      struct stat st;
      bool is_dir = given.ends_with('/') || (::stat(abs.c_str(), &st) == 0 && S_ISDIR(st.st_mode));
      d = resolver.decide(*rel, is_dir);
    }
    std::string line(tier_name(d.tier));
    if (verbose) line += "\t" + resolver.describe(d, rel ? *rel : std::string_view{});
    line += "\t" + given + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
};

std::string current_dir() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) ? buf : "/";
}

}  // namespace

int cmd_check(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"verbose", 'v'}, {"stdin"}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (args.positional.empty() && !args.has("stdin")) throw UsageError("check needs at least one PATH");
  Config cfg = load_for_cli(args);
  Checker c{cfg, Resolver(cfg), current_dir(), args.has("verbose")};
  for (const std::string& p : args.positional) c.print(p);
  if (args.has("stdin")) {
    for (std::string line; std::getline(std::cin, line);)
      if (!line.empty()) c.print(line);
  }
  return kExitOk;
}

}  // namespace fractfs::cli
