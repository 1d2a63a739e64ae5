#include "sync/progress.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "sync/sys.hpp"

namespace fractfs {

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) bytes /= 1000, ++u;
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

Progress::Progress(std::string what, bool enabled)
    : what_(std::move(what)), on_(enabled && ::isatty(2)), start_(sys::seconds_now()) {
  next_draw_ = start_ + 0.5;  // short runs print nothing
}

Progress::~Progress() { finish(); }

void Progress::add(std::uint64_t files, std::uint64_t bytes) noexcept {
  files_ += files;
  bytes_ += bytes;
  if (!on_) return;
  double now = sys::seconds_now();
  if (now < next_draw_.load(std::memory_order_relaxed)) return;
  if (drawing_.exchange(true)) return;
  next_draw_ = now + 0.25;
  draw(false);
  drawing_ = false;
}

void Progress::draw(bool final) noexcept {
  try {
    double secs = sys::seconds_now() - start_;
    double bytes = static_cast<double>(bytes_.load());
    std::string line = fmt::format("\r{}: {} files, {}, {}/s{}", what_, files_.load(), human_bytes(bytes),
                                   human_bytes(secs > 0 ? bytes / secs : 0), final ? "" : "   ");
    ssize_t rc = ::write(2, line.data(), line.size());
    (void)rc;
    drawn_ = true;
  } catch (...) {
  }
}

void Progress::finish() noexcept {
  if (!on_ || !drawn_) return;
  static const char clear[] = "\r\033[K";
  ssize_t rc = ::write(2, clear, sizeof clear - 1);
  (void)rc;
  drawn_ = false;
}

}  // namespace fractfs
