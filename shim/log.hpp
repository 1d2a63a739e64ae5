// The shim's logging: one line per message to stderr, or appended to
// FRACTFS_LOG_FILE; level from FRACTFS_LOG (error, warn, info, debug;
// default warn). Never allocates; safe before the constructor has run.
#pragma once

namespace fractfs::shim::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// Reads FRACTFS_LOG and FRACTFS_LOG_FILE.
void init() noexcept;

bool enabled(Level level) noexcept;

void write(Level level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

// An internal fault in `where`: logged once per process, after which the
// caller passes the call through to libc.
void fault(const char* where, const char* what) noexcept;

}  // namespace fractfs::shim::log
