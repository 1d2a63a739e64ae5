// The remote tier's physical half, behind one interface.
//
// The shim does not spell where a remote-tier path lives: it asks the half
// for the physical place of a root-relative path, makes its POSIX call
// there, and calls the half's hooks at the points where a half that is not
// a plain directory has work to do. Today's remote tier, a mounted
// directory, needs none. An object-store tier (the roadmap) is a cache
// directory of ours plus these hooks:
//
//   lookup   before a name in directory `dir` is looked up, or `dir` is
//            listed: make its listing known
//   open     before a file is opened or executed: make its content present
//   written  at fsync, at the last close in a process of a file it opened
//            for writing, and at exit for one still open: upload. Its error
//            reaches the app from fsync or close (the descriptor is closed
//            all the same). A descriptor closed where the shim cannot see
//            it (inherited across exec, kill -9) gets no call: a half that
//            uploads needs the helper's watch of open writers
//            (sync/open_writers) as well, as checkpoints do
//   changed  after a change to the names or attributes under `rel`
//
// A hook returns 0, or an errno value that fails the app's call. Hooks run
// on the app's thread, under the shim's fault guard; lookup and open also
// in a vfork child placing an exec's path, where they must not allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fractfs::shim {

class RemoteHalf {
 public:
  // What changed at a path: it was made (a directory, a node, a link), removed,
  // renamed (to `to`), had its attributes set, or its content (truncate).
  enum class Change : std::uint8_t { made, removed, renamed, attrs, content };

  RemoteHalf(std::string dir, bool hooks) : dir_(std::move(dir)), hooks_(hooks) {}
  virtual ~RemoteHalf() = default;
  RemoteHalf(const RemoteHalf&) = delete;
  RemoteHalf& operator=(const RemoteHalf&) = delete;

  // The directory the half's entries physically live in.
  const std::string& dir() const noexcept { return dir_; }
  // The physical place of `rel` into buf (NUL-terminated); false when it
  // does not fit. Never allocates.
  bool place(std::string_view rel, char* buf, std::size_t cap) const noexcept;
  // False when every hook is a no-op: the shim then skips them.
  bool hooks() const noexcept { return hooks_; }

  virtual int lookup(std::string_view dir) noexcept;
  virtual int open(std::string_view rel, int flags) noexcept;
  virtual int written(std::string_view rel, int fd) noexcept;
  virtual void changed(Change change, std::string_view rel, std::string_view to) noexcept;

 private:
  std::string dir_;
  bool hooks_;
};

// The half of this process's remote tier: chosen at start from the
// configuration (the mount), or from FRACTFS_HALF_TRACE / FRACTFS_HALF_FAULT.
RemoteHalf* make_remote_half(std::string dir);

}  // namespace fractfs::shim
