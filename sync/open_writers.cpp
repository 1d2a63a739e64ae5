#include "sync/open_writers.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string_view>

#include "sync/sys.hpp"

namespace fractfs {
namespace {

bool alive(pid_t pid) noexcept { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// The "flags:" line of /proc/PID/fdinfo/FD says how the descriptor was opened.
bool opened_for_writing(const std::string& fdinfo) {
  std::string text;
  if (sys::read_file(fdinfo, text) != 0) return false;
  std::size_t at = text.find("flags:");
  if (at == std::string::npos) return false;
  unsigned long flags = std::strtoul(text.c_str() + at + 6, nullptr, 8);
  return (flags & O_ACCMODE) != O_RDONLY;
}

}  // namespace

bool holds_for_writing(pid_t pid, const std::string& path) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return errno != ENOENT;  // gone: no; not allowed to look: assume yes
  bool found = false;
  char target[4096];
  while (const struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string fd = dir + "/" + e->d_name;
    ssize_t n = ::readlink(fd.c_str(), target, sizeof target);
    if (n <= 0 || std::string_view(target, static_cast<std::size_t>(n)) != path) continue;
    std::string info = "/proc/" + std::to_string(pid) + "/fdinfo/" + e->d_name;
    if ((found = opened_for_writing(info))) break;
  }
  ::closedir(d);
  return found;
}

void OpenWriters::opened(const std::string& rel, pid_t pid) { open_[rel].insert(pid); }

void OpenWriters::closed(const std::string& rel, pid_t pid) {
  auto it = open_.find(rel);
  if (it == open_.end() || !it->second.count(pid) || still_writing(pid, rel)) return;
  it->second.erase(pid);
  if (it->second.empty()) open_.erase(it);
}

bool OpenWriters::still_writing(pid_t pid, const std::string& rel) const {
  return alive(pid) && holds_for_writing(pid, root_ + "/" + rel);
}

std::vector<std::string> OpenWriters::prune() {
  std::vector<std::string> released;
  for (auto it = open_.begin(); it != open_.end();) {
    std::erase_if(it->second, [](pid_t pid) { return !alive(pid); });
    if (!it->second.empty()) {
      ++it;
      continue;
    }
    released.push_back(it->first);
    it = open_.erase(it);
  }
  return released;
}

std::vector<std::string> OpenWriters::paths() const {
  std::vector<std::string> out;
  out.reserve(open_.size());
  for (const auto& [rel, pids] : open_) out.push_back(rel);
  return out;
}

}  // namespace fractfs
