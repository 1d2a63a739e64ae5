#include "sync/adopt.hpp"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "resolver/remote_place.hpp"
#include "sync/fileops.hpp"

namespace fractfs {
namespace {

struct Walker {
  const Config& cfg;
  const Resolver& resolver;
  AdoptReport& report;

  std::string local(const std::string& rel) const { return cfg.root + "/" + rel; }
  std::string remote(const std::string& rel) const { return remote_place(cfg.remote_root, rel); }

  void problem(const std::string& what) { report.problems.push_back(what); }

  // A remote-tier directory at `rel` whose local half exists.
  void walk(const std::string& rel, mode_t mode) {
    std::string r = remote(rel);
    struct stat st;
    if (::lstat(r.c_str(), &st) != 0) {
      if (::mkdir(r.c_str(), mode & 07777) != 0) return problem(r + ": " + strerror(errno));
      ++report.dirs_created;
    } else if (!S_ISDIR(st.st_mode)) {
      return problem(r + " is not a directory, but " + local(rel) + " is");
    }
    DIR* d = ::opendir(local(rel).c_str());
    if (!d) return problem(local(rel) + ": " + strerror(errno));
    std::vector<std::pair<std::string, unsigned char>> entries;
    while (const struct dirent* e = ::readdir(d))
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries.emplace_back(e->d_name, e->d_type);
    ::closedir(d);
    for (const auto& [name, type] : entries) visit(rel + "/" + name);
  }

  void visit(const std::string& rel) {
    struct stat st;
    if (::lstat(local(rel).c_str(), &st) != 0) return;
    bool is_dir = S_ISDIR(st.st_mode);
    if (S_ISSOCK(st.st_mode)) return;  // node-local by nature: sockets stay in the local half
    if (resolver.decide(rel, is_dir).tier != Tier::remote) return;  // stays local, whole
    if (is_dir) return walk(rel, st.st_mode);
    std::string dst = remote(rel);
    if (::lstat(dst.c_str(), &st) == 0) return problem(local(rel) + " also exists as " + dst + "; left in place");
    if (fileops::move_node(local(rel), dst, true) != 0) return problem(local(rel) + ": " + strerror(errno));
    ++report.files_moved;
    report.bytes_moved += static_cast<std::uint64_t>(st.st_size);
  }
};

}  // namespace

AdoptReport adopt_layout(const Config& cfg, const Resolver& resolver) {
  AdoptReport report;
  if (cfg.passthrough() || cfg.backend != Backend::mount) return report;
  Walker w{cfg, resolver, report};
  for (const std::string& d : resolver.dirs()) {
    struct stat st;
    if (::lstat(w.local(d).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) w.walk(d, st.st_mode);
  }
  return report;
}

std::string summary(const AdoptReport& r) {
  if (!r.files_moved && !r.dirs_created) return {};
  return "adopted the existing layout: moved " + std::to_string(r.files_moved) + " file(s), " +
         std::to_string(r.bytes_moved) + " bytes, to the remote store; created " + std::to_string(r.dirs_created) +
         " remote director" + (r.dirs_created == 1 ? "y" : "ies");
}

}  // namespace fractfs
