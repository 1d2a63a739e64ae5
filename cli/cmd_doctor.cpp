// `fractfs doctor`: the configuration and the store, end to end, in plain
// words. Network checks first (endpoint, TLS, credentials, bucket, clock);
// then, through the Store interface as checkpoints use it, a probe object
// written, read, read in part and deleted, and the conditional write that
// switches generations.
#include <unistd.h>

#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/json.hpp"
#include "sync/generation.hpp"
#include "sync/lease.hpp"
#include "sync/net/net.hpp"
#include "sync/store.hpp"

namespace fractfs::cli {
namespace {

constexpr const char* kHelp =
    "usage: fractfs doctor [--root DIR] [--json]\n"
    "\n"
    "Checks the configuration and the checkpoint store end to end: the\n"
    "endpoint is reachable, TLS is trusted, the credentials are valid, the\n"
    "bucket or collection exists, a probe object can be written, read and\n"
    "deleted, the clock agrees with the server's, and conditional writes\n"
    "(which switch generations safely) work. Says what is wrong in plain\n"
    "words. Exit status 0 only when all is well.\n"
    "\n"
    "  --root DIR  the app root (default: FRACTFS_ROOT, the nearest\n"
    "              .fractfs.toml upwards, then the current directory)\n"
    "  --json      one JSON array of {check, ok, detail} instead of text\n";

using net::Finding;

std::string probe_name(const char* what) {
  char host[64] = {};
  ::gethostname(host, sizeof host - 1);
  return fmt::format(".doctor/{}-{}-{}", what, host, ::getpid());
}

// Write, stat, read, ranged read, delete of a probe object.
void probe_objects(Store& store, std::vector<Finding>& out) {
  std::string key = probe_name("probe");
  std::string data(64 * 1024, '\0');
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  for (char& c : data) c = static_cast<char>(rng());
  auto step = [&](const char* check, auto fn) {
    try {
      std::string detail = fn();
      out.push_back({check, detail.empty(), detail.empty() ? "ok" : detail});
    } catch (const std::exception& e) {
      out.push_back({check, false, e.what()});
    }
    return out.back().ok;
  };
  if (!step("write", [&] {
        store.put(key, data);
        return std::string();
      }))
    return;
  step("read", [&]() -> std::string {
    auto back = store.get(key);
    if (!back) return "the probe object written a moment ago is missing";
    if (*back != data)
      return fmt::format("the probe object came back different ({} bytes of {})", back->size(), data.size());
    std::string part;
    store.load(
        key, [&](std::string_view b) { part.append(b); }, Range{1000, 5000});
    if (part != data.substr(1000, 5000)) return "a ranged read of the probe object came back wrong";
    return {};
  });
  step("delete", [&]() -> std::string {
    store.remove(key);
    if (store.stat(key)) return "the probe object is still there after it was deleted";
    return {};
  });
}

// Create-only twice (the second must lose), a stale swap (must lose), a
// current one (must win).
void probe_conditional(Store& store, std::vector<Finding>& out) {
  std::string key = probe_name("pointer");
  std::string detail;
  try {
    SwapResult a = store.swap_pointer(key, std::nullopt, "first " + key);
    SwapResult b = store.swap_pointer(key, std::nullopt, "second " + key);
    if (!a.won) detail = "creating a new pointer failed";
    else if (b.won)
      detail =
          "a second create-only write also won: the server ignores If-None-Match, so two nodes "
          "could both think they switched the generation; use a store with conditional writes";
    if (detail.empty()) {
      SwapResult c = store.swap_pointer(key, a.current->version, "third " + key);
      SwapResult d = store.swap_pointer(key, a.current->version, "fourth " + key);
      auto now = store.read_pointer(key);
      if (!c.won) detail = "a compare-and-swap with the current version lost";
      else if (d.won) detail = "a compare-and-swap with a stale version won: the server ignores If-Match";
      else if (!now || now->value != "third " + key) detail = "the pointer does not hold what the winner wrote";
    }
    store.remove_pointer(key);
  } catch (const std::exception& e) {
    detail = e.what();
  }
  out.push_back(
      {"conditional write", detail.empty(), detail.empty() ? "create-only and compare-and-swap work" : detail});
}

void print(const std::vector<Finding>& all, bool json) {
  if (json) {
    std::string array;
    for (const Finding& f : all) {
      JsonObject o;
      o.add("check", f.check).add("ok", f.ok).add("detail", f.detail);
      array += (array.empty() ? "" : ", ") + o.str();
    }
    std::printf("[%s]\n", array.c_str());
    return;
  }
  for (const Finding& f : all) std::printf("%-5s %-19s %s\n", f.ok ? "ok" : "FAIL", f.check.c_str(), f.detail.c_str());
}

}  // namespace

int cmd_doctor(int argc, char** argv) {
  Args args = parse_args(argc, argv, 1, {kRootOption, kHelpOption, {"json", 0, false}});
  if (args.has("help")) return std::fputs(kHelp, stdout), kExitOk;
  if (!args.positional.empty()) throw UsageError("doctor takes no arguments");
  Config cfg = load_for_cli(args);
  std::vector<Finding> all;
  all.push_back({"configuration", !cfg.passthrough(),
                 cfg.passthrough() ? "no remote_root is configured: nothing is checkpointed"
                                   : fmt::format("{} (backend {}, remote_root {})",
                                                 cfg.file.empty() ? "from the environment" : cfg.file,
                                                 backend_name(cfg.backend), cfg.remote_root)});
  bool reachable = !cfg.passthrough();
  if (reachable) {
    for (Finding& f : net::diagnose(cfg)) {
      reachable = reachable && (f.ok || f.check == "clock");
      all.push_back(std::move(f));
    }
  }
  if (reachable) {
    try {
      std::unique_ptr<Store> store = open_store(cfg);
      all.push_back({"store", true, store->describe()});
      probe_objects(*store, all);
      probe_conditional(*store, all);
      auto cur = read_current(*store);
      all.push_back({"checkpoints", true,
                     cur ? fmt::format("generation {} is current", cur->generation) : std::string("none yet")});
      std::string holder = cfg.lease_seconds > 0 ? Lease::describe_holder(*store) : "no lease (lease_seconds = 0)";
      all.push_back({"lease", true, holder.empty() ? std::string("nobody holds it") : holder});
    } catch (const std::exception& e) {
      all.push_back({"store", false, e.what()});
    }
  }
  print(all, args.has("json"));
  for (const Finding& f : all)
    if (!f.ok) return kExitFailure;
  return kExitOk;
}

}  // namespace fractfs::cli
