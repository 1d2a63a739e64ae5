// Bringing the physical layout in line with the configuration before an
// app starts: every directory in a [dirs] tree's local half gets its remote
// half, and files found in a local half although their tier is remote (left
// from before fractfs was used, or by a change of configuration) move to
// the remote store, where the app will look for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"

namespace fractfs {

struct AdoptReport {
  std::size_t dirs_created = 0;
  std::size_t files_moved = 0;
  std::uint64_t bytes_moved = 0;
  std::vector<std::string> problems;  // e.g. a file on both sides: left alone
};

// Plain libc calls on physical paths: fractfs-run and the helper call it,
// never an app process.
AdoptReport adopt_layout(const Config& cfg, const Resolver& resolver);

// One line for the log, or "" when nothing was done.
std::string summary(const AdoptReport& r);

}  // namespace fractfs
