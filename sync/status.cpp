#include "sync/status.hpp"

#include <fmt/format.h>

#include "sync/kv.hpp"
#include "sync/tree.hpp"

namespace fractfs {
namespace {
constexpr std::string_view kHeader = "fractfs-status 1";

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

}  // namespace

std::string serialize(const Status& s) {
  std::string out = fmt::format(
      "{}\ngeneration {}\ntime_ns {}\nduration {:.6f}\nfiles {}\ndirs {}\nsymlinks {}\nbytes {}\nnew_bytes {}\n"
      "dirty {}\ntorn {}\ncloned {}\ncheckpoints {}\nlast_error_ns {}\nholder_pid {}\nholder_since_ns {}\nlast_error "
      "{}\n"
      "unsettled {}\n",
      kHeader, s.generation, s.time_ns, s.duration, s.files, s.dirs, s.symlinks, s.bytes, s.new_bytes, s.dirty, s.torn,
      s.cloned, s.checkpoints, s.last_error_ns, s.holder_pid, s.holder_since_ns, one_line(s.last_error),
      s.unsettled.size());
  for (std::size_t i = 0; i < s.unsettled.size(); ++i)
    out += fmt::format("unsettled.{} {}\n", i, one_line(s.unsettled[i]));
  return out;
}

Status parse_status(std::string_view text) {
  Status s;
  try {
    kv::Fields f(text, kHeader, "status");
    s.generation = f.num<std::uint64_t>("generation", false);
    s.time_ns = f.num<std::int64_t>("time_ns", false);
    s.duration = f.num<double>("duration", false);
    s.files = f.num<std::uint64_t>("files", false);
    s.dirs = f.num<std::uint64_t>("dirs", false);
    s.symlinks = f.num<std::uint64_t>("symlinks", false);
    s.bytes = f.num<std::uint64_t>("bytes", false);
    s.new_bytes = f.num<std::uint64_t>("new_bytes", false);
    s.dirty = f.num<std::uint64_t>("dirty", false);
    s.checkpoints = f.num<std::uint64_t>("checkpoints", false);
    s.last_error_ns = f.num<std::int64_t>("last_error_ns", false);
    s.holder_pid = f.num<long>("holder_pid", false);
    s.holder_since_ns = f.num<std::int64_t>("holder_since_ns", false);
    s.last_error = f.str("last_error");
    s.torn = f.num<std::uint64_t>("torn", false);
    s.cloned = f.num<std::uint64_t>("cloned", false);
    auto n = f.num<std::size_t>("unsettled", false);
    for (std::size_t i = 0; i < n && i < 1000; ++i) s.unsettled.push_back(f.str(fmt::format("unsettled.{}", i)));
  } catch (const FormatError&) {
    return Status{};
  }
  return s;
}

}  // namespace fractfs
