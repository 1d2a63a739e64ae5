#include "shim/move.hpp"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "shim/fs_ops.hpp"
#include "shim/real.hpp"
#include "sync/fileops.hpp"

namespace fractfs::shim {
namespace {

std::vector<std::string> names_in(const char* dir) {
  std::vector<std::string> out;
  DIR* d = REAL(opendir)(dir);
  if (!d) return out;
  while (const struct dirent64* e = REAL(readdir64)(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) out.emplace_back(e->d_name);
  REAL(closedir)(d);
  return out;
}

std::string join(const char* dir, const std::string& name) { return std::string(dir) + "/" + name; }

// Moves one raw entry of a union directory half into the other half.
int move_child(const char* from_dir, const char* to_dir, const std::string& name) {
  return fileops::move_node(join(from_dir, name), join(to_dir, name), false);
}

}  // namespace

int settle_tree(const Target& dir) noexcept {
  try {
    std::set<std::string> unions;
    auto child_rel = [&](const std::string& name) {
      return dir.rel.empty() ? name : std::string(dir.rel) + "/" + name;
    };
    auto settle_child = [&](const std::string& name) {
      auto child = std::make_unique<Target>();
      std::string p = join(dir.natural(), name);
      return place(AT_FDCWD, p.c_str(), Kind::dir, *child) && child->remote() ? settle_tree(*child) : 0;
    };
    for (const std::string& name : names_in(dir.natural())) {
      bool is_dir = kind_at(join(dir.natural(), name).c_str()) == 'd';
      bool remote = decide(child_rel(name), is_dir).tier == Tier::remote;
      if (is_dir && remote) {
        unions.insert(name);
        if (settle_child(name) != 0) return -1;
      } else if (!is_dir && remote && move_child(dir.natural(), dir.remote_path(), name) != 0) {
        return -1;
      }
    }
    for (const std::string& name : names_in(dir.remote_path())) {
      bool is_dir = kind_at(join(dir.remote_path(), name).c_str()) == 'd';
      bool remote = decide(child_rel(name), is_dir).tier == Tier::remote;
      if (is_dir && remote) {
        if (!unions.count(name) && settle_child(name) != 0) return -1;
      } else if (!remote && move_child(dir.remote_path(), dir.natural(), name) != 0) {
        return -1;
      }
    }
    return 0;
  } catch (const std::bad_alloc&) {
    return errno = ENOMEM, -1;
  }
}

}  // namespace fractfs::shim
