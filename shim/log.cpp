#include "shim/log.hpp"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

#include "shim/real.hpp"

namespace fractfs::shim::log {
namespace {

int g_level = static_cast<int>(Level::warn);
char g_file[512];  // "" means stderr
std::atomic<bool> g_faulted{false};

constexpr const char* kNames[] = {"error", "warning", "info", "debug"};

void emit(const char* line, size_t len) noexcept {
  if (!g_file[0]) {
    (void)!::write(2, line, len);
    return;
  }
  // Opened per message: an app that closes stray descriptors cannot break it.
  int fd = REAL(open)(g_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    (void)!::write(2, line, len);
    return;
  }
  (void)!::write(fd, line, len);
  REAL(close)(fd);
}

}  // namespace

void init() noexcept {
  const char* lvl = ::getenv("FRACTFS_LOG");
  if (!lvl) lvl = ::getenv("fractfs_log");
  if (lvl) {
    for (int i = 0; i < 4; ++i)
      if (!strcasecmp(lvl, kNames[i]) || (i == 1 && !strcasecmp(lvl, "warn"))) g_level = i;
  }
  const char* file = ::getenv("FRACTFS_LOG_FILE");
  if (!file) file = ::getenv("fractfs_log_file");
  if (file && strlen(file) < sizeof g_file) strcpy(g_file, file);
}

bool enabled(Level level) noexcept { return static_cast<int>(level) <= g_level; }

void write(Level level, const char* fmt, ...) noexcept {
  if (!enabled(level)) return;
  char line[1024];
  int n =
      snprintf(line, sizeof line, "fractfs[%d]: %s: ", static_cast<int>(::getpid()), kNames[static_cast<int>(level)]);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  size_t len = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m));
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  emit(line, len);
}

void fault(const char* where, const char* what) noexcept {
  if (g_faulted.exchange(true)) return;
  write(Level::error, "internal fault in %s (%s); passing such calls through to libc", where, what);
}

}  // namespace fractfs::shim::log
