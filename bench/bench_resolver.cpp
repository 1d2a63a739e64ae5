// Resolver cost per path: ns per decide() for 20 and 200 patterns, on short,
// 60-character and deep paths. Prints a markdown table.
//
// Target (issue #2): under 200 ns for a 60-character path with 20 patterns.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "resolver/resolver.hpp"

using namespace fractfs;

namespace {

// A realistic mix: extensions, directory names, anchored paths, '**' forms,
// brackets and a negation, split between [ignore] and [local].
std::vector<std::string> patterns(int n) {
  static const char* kShapes[] = {
      "*.tmp%d",    "cache%d/",    "/build%d",          "logs%d/*.log",    "**/node_modules%d",
      "*.sw[op]%d", "!keep%d.tmp", "data/**/scratch%d", "manifest%d.json", "*.sqlite%d",
  };
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, kShapes[i % 10], i / 10);
    out.push_back(buf);
  }
  return out;
}

Resolver make_resolver(int n) {
  PatternList ignore, local;
  auto all = patterns(n);
  for (std::size_t i = 0; i < all.size(); ++i) (i % 2 ? local : ignore).add(all[i]);
  return Resolver({"data/blobs", "exports"}, std::move(ignore), std::move(local));
}

double ns_per_call(const Resolver& r, const std::vector<std::string>& paths) {
  const int kIters = 50000;
  std::vector<double> runs;
  volatile int sink = 0;
  for (int rep = 0; rep < 7; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kIters; ++i) {
      const std::string& p = paths[static_cast<std::size_t>(i) % paths.size()];
      sink = sink + static_cast<int>(r.decide(p, false).tier);
    }
    auto t1 = std::chrono::steady_clock::now();
    runs.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / kIters);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main() {
  const std::vector<std::pair<const char*, std::vector<std::string>>> sets = {
      {"short (~20 chars)", {"src/app/main.py", "data/blobs/a.bin", "README.md", "x/y.tmp0"}},
      {"60 chars",
       {"data/blobs/2024/11/21/part-00001-of-00064.snappy.parquet",
        "services/api/handlers/v2/orders/create_order_handler.py", "data/blobs/tables/events/manifest3.json.bak.tmp0"}},
      {"deep (~200 chars)",
       {"data/blobs/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/aa/bb/cc/dd/ee/ff/gg/hh/ii/jj/kk/"
        "ll/mm/nn/oo/pp/qq/rr/ss/tt/uu/vv/ww/xx/yy/zz/file-with-a-rather-long-name.parquet"}},
  };
  std::printf("## Resolver: ns per decide()\n\n");
  std::printf("| path | 20 patterns | 200 patterns |\n|---|---:|---:|\n");
  Resolver r20 = make_resolver(20), r200 = make_resolver(200);
  double target = 0;
  for (const auto& [name, paths] : sets) {
    double a = ns_per_call(r20, paths), b = ns_per_call(r200, paths);
    if (std::string(name) == "60 chars") target = a;
    std::printf("| %s | %.0f | %.0f |\n", name, a, b);
  }
  std::printf("\nTarget: under 200 ns for a 60-character path with 20 patterns: %.0f ns (%s)\n", target,
              target < 200 ? "met" : "NOT met");
  return 0;
}
