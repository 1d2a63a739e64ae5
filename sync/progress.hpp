// Progress of a long restore or checkpoint on stderr, when it is a
// terminal: files, bytes and rate, redrawn at most four times a second.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace fractfs {

class Progress {
 public:
  // Quiet unless `enabled` and stderr is a terminal.
  Progress(std::string what, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Thread-safe.
  void add(std::uint64_t files, std::uint64_t bytes) noexcept;
  // Clears the line (the caller prints its own summary).
  void finish() noexcept;

 private:
  void draw(bool final) noexcept;

  std::string what_;
  bool on_;
  double start_;
  std::atomic<std::uint64_t> files_{0}, bytes_{0};
  std::atomic<double> next_draw_{0};
  std::atomic<bool> drawing_{false};
  bool drawn_ = false;
};

// "12.3 MB" style sizes and rates for messages.
std::string human_bytes(double bytes);

}  // namespace fractfs
