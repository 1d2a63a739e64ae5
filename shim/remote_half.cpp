#include "shim/remote_half.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/remote_place.hpp"
#include "shim/log.hpp"

namespace fractfs::shim {

bool RemoteHalf::place(std::string_view rel, char* buf, std::size_t cap) const noexcept {
  return remote_place(dir_, rel, buf, cap);
}

int RemoteHalf::lookup(std::string_view) noexcept { return 0; }
int RemoteHalf::open(std::string_view, int) noexcept { return 0; }
int RemoteHalf::written(std::string_view, int) noexcept { return 0; }
void RemoteHalf::changed(Change, std::string_view, std::string_view) noexcept {}

namespace {

// A mounted directory: every hook a no-op.
class MountHalf final : public RemoteHalf {
 public:
  explicit MountHalf(std::string dir) : RemoteHalf(std::move(dir), false) {}
};

// The mount with every hook logged (FRACTFS_HALF_TRACE=1) or failing with
// EIO (FRACTFS_HALF_FAULT=lookup,open,written): how tests and a developer
// of a new half see that each hook is reached, and that its error reaches
// the app.
class CheckedHalf final : public RemoteHalf {
 public:
  CheckedHalf(std::string dir, bool trace, const char* faults)
      : RemoteHalf(std::move(dir), true), trace_(trace), faults_(faults ? faults : "") {}

  int lookup(std::string_view dir) noexcept override { return hook("lookup", dir, {}); }
  int open(std::string_view rel, int flags) noexcept override {
    return hook((flags & O_ACCMODE) == O_RDONLY ? "open r" : "open w", rel, {});
  }
  int written(std::string_view rel, int) noexcept override { return hook("written", rel, {}); }
  void changed(Change c, std::string_view rel, std::string_view to) noexcept override {
    static constexpr const char* kNames[] = {"changed made", "changed removed", "changed renamed", "changed attrs",
                                             "changed content"};
    hook(kNames[static_cast<int>(c)], rel, to);
  }

 private:
  int hook(const char* what, std::string_view rel, std::string_view to) noexcept {
    if (trace_) {
      int nr = static_cast<int>(rel.size()), nt = static_cast<int>(to.size());
      const char* r = nr ? rel.data() : "";
      if (to.empty()) log::write(log::Level::warn, "half: %s '%.*s'", what, nr, r);
      else log::write(log::Level::warn, "half: %s '%.*s' -> '%.*s'", what, nr, r, nt, to.data());
    }
    return selected(what) ? EIO : 0;
  }
  // `what` begins with a name in the comma-separated list.
  bool selected(const char* what) const noexcept {
    std::size_t n = strcspn(what, " ");
    for (const char* p = faults_.c_str(); *p;) {
      std::size_t len = strcspn(p, ",");
      if (len == n && strncmp(p, what, n) == 0) return true;
      p += len + (p[len] == ',');
    }
    return false;
  }

  bool trace_;
  std::string faults_;
};

}  // namespace

RemoteHalf* make_remote_half(std::string dir) {
  const char* trace = ::getenv("FRACTFS_HALF_TRACE");
  const char* faults = ::getenv("FRACTFS_HALF_FAULT");
  bool tracing = trace && *trace && strcmp(trace, "0") != 0;
  if (tracing || (faults && *faults)) return new CheckedHalf(std::move(dir), tracing, faults);
  return new MountHalf(std::move(dir));
}

}  // namespace fractfs::shim
