// Which checkpointed files some process of the app holds open for writing.
// Such a file changes without telling anyone (a write(2) through a
// long-lived descriptor records nothing), so every checkpoint looks at it
// again until its last writer has closed it or is gone.
//
// The journal says who opened and who closed (per process; events are
// deduplicated, so they cannot be counted). A close is checked against
// /proc/PID/fd: the process may hold the file open through another
// descriptor (two SQLite connections to one database). A process that
// exited, even killed, no longer counts.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fractfs {

class OpenWriters {
 public:
  // `root`: the app root, to find a root-relative path among /proc/PID/fd.
  explicit OpenWriters(std::string root) : root_(std::move(root)) {}

  void opened(const std::string& rel, pid_t pid);
  void closed(const std::string& rel, pid_t pid);
  // Forgets processes that are gone. Once per checkpoint. Returns the files
  // whose last writer went: a writer that exits (or execs) leaves no close
  // in the journal, and what it wrote after the last look must still be
  // looked at once more.
  std::vector<std::string> prune();
  std::vector<std::string> paths() const;
  std::size_t size() const noexcept { return open_.size(); }

 private:
  bool still_writing(pid_t pid, const std::string& rel) const;

  std::string root_;
  std::map<std::string, std::set<pid_t>> open_;
};

// Whether process `pid` holds `path` (absolute, as /proc shows it) open for
// writing. true when /proc cannot tell (not ours to read): keep looking.
bool holds_for_writing(pid_t pid, const std::string& path);

}  // namespace fractfs
