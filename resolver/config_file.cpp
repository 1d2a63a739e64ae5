// Reading `.fractfs.toml` into a Config, with file:line:column diagnostics.
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <cerrno>
#include <cstring>
#include <vector>

#include "resolver/config.hpp"
#include "resolver/config_internal.hpp"

namespace fractfs {
namespace {

struct FileReader {
  const std::string& file;
  Config& cfg;
  bool has_remote_root = false;

  std::string where(const toml::source_region& r) const {
    return fmt::format("{}:{}:{}", file, r.begin.line, r.begin.column);
  }
  [[noreturn]] void fail(const toml::node& n, std::string_view msg) const {
    throw ConfigError(fmt::format("{}: {}", where(n.source()), msg));
  }
  void warn(const toml::source_region& r, std::string_view msg) const {
    cfg.warnings.push_back(fmt::format("{}: {}", where(r), msg));
  }

  std::string str(const toml::node& n, std::string_view key) const {
    if (!n.is_string()) fail(n, fmt::format("'{}' must be a string, not {}", key, type_name(n)));
    return std::string(*n.value<std::string_view>());
  }
  bool boolean(const toml::node& n, std::string_view key) const {
    if (!n.is_boolean()) fail(n, fmt::format("'{}' must be true or false, not {}", key, type_name(n)));
    return *n.value<bool>();
  }
  double number(const toml::node& n, std::string_view key) const {
    if (!n.is_number()) fail(n, fmt::format("'{}' must be a number, not {}", key, type_name(n)));
    return *n.value<double>();
  }
  long integer(const toml::node& n, std::string_view key) const {
    if (!n.is_integer()) fail(n, fmt::format("'{}' must be an integer, not {}", key, type_name(n)));
    return static_cast<long>(*n.value<std::int64_t>());
  }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a number";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date/time";
    }
  }

  void scalar(std::string_view key, const toml::node& n) {
    std::string k(key);
    if (key == "backend") cfg.backend = parse_backend(str(n, key), where(n.source()));
    else if (key == "remote_root") cfg.remote_root = str(n, key);
    else if (key == "volume_root") {  // the Python package's older name: remote_root wins
      if (has_remote_root) return warn(n.source(), "'volume_root' is ignored: 'remote_root' is set too");
      k = "remote_root", cfg.remote_root = str(n, key);
    } else if (key == "scratch") cfg.scratch = str(n, key);
    else if (key == "sync_interval") cfg.sync_interval = number(n, key);
    else if (key == "exit_timeout") cfg.exit_timeout = number(n, key);
    else if (key == "lease_seconds") cfg.lease_seconds = number(n, key);
    else if (key == "checkpoint_subdir") cfg.checkpoint_subdir = str(n, key);
    else if (key == "content_hash") cfg.content_hash = boolean(n, key);
    else if (key == "auto_ignore_bundle") cfg.auto_ignore_bundle = boolean(n, key);
    else if (key == "keep_generations") cfg.keep_generations = integer(n, key);
    else if (key == "reconcile_every") cfg.reconcile_every = integer(n, key);
    else if (key == "max_parallel") cfg.max_parallel = integer(n, key);
    else if (key == "s3_endpoint") cfg.s3_endpoint = str(n, key);
    else if (key == "s3_addressing") cfg.s3_addressing = str(n, key);
    else return unknown(key, n, kScalarKeys);
    cfg.origins[k] = where(n.source());
  }

  void list(const toml::node& n, std::string_view table, std::string_view key, std::vector<ConfigEntry>& out) const {
    const toml::array* arr = n.as_array();
    if (!arr) fail(n, fmt::format("[{}] {} must be an array of strings, not {}", table, key, type_name(n)));
    for (const toml::node& item : *arr) {
      if (!item.is_string())
        fail(item, fmt::format("[{}] {} entries must be strings, not {}", table, key, type_name(item)));
      out.push_back({std::string(*item.value<std::string_view>()), where(item.source())});
    }
  }

  void section(std::string_view name, const toml::node& n) {
    const toml::table* t = n.as_table();
    if (!t) fail(n, fmt::format("'{}' must be a table ([{}]), not {}", name, name, type_name(n)));
    std::string_view want = name == "dirs" ? "paths" : "patterns";
    auto& dest = name == "dirs" ? cfg.dirs : name == "ignore" ? cfg.ignore : cfg.local;
    for (auto&& [k, v] : *t) {
      if (k.str() == want) list(v, name, want, dest);
      else unknown(k.str(), v, std::span(&want, 1), name);
    }
  }

  void unknown(std::string_view key, const toml::node& n, std::span<const std::string_view> known,
               std::string_view table = {}) const {
    bool is_table = n.is_table();
    std::string msg = is_table        ? fmt::format("unknown table [{}] is ignored", key)
                      : table.empty() ? fmt::format("unknown key '{}' is ignored", key)
                                      : fmt::format("unknown key '{}' in [{}] is ignored", key, table);
    if (auto near = closest(key, known); !near.empty())
      msg += is_table ? fmt::format(" (did you mean [{}]?)", near) : fmt::format(" (did you mean '{}'?)", near);
    warn(n.source(), msg);
  }

  void read(const toml::table& root) {
    has_remote_root = root.contains("remote_root");
    static const std::vector<std::string_view> kAll = [] {
      std::vector<std::string_view> v(kScalarKeys.begin(), kScalarKeys.end());
      v.insert(v.end(), {"dirs", "ignore", "local"});
      return v;
    }();
    for (auto&& [k, v] : root) {
      std::string_view key = k.str();
      if (key == "dirs" || key == "ignore" || key == "local") section(key, v);
      else if (v.is_table()) unknown(key, v, kAll);
      else scalar(key, v);
    }
  }
};

// POSIX reads, not iostreams: the preloaded library reads this at every
// first process start, and iostreams would set up locales for it.
std::string slurp(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ConfigError(fmt::format("{}: cannot read: {}", file, std::strerror(errno)));
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      if (n < 0) throw ConfigError(fmt::format("{}: cannot read: {}", file, std::strerror(err)));
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

void read_config_file(const std::string& file, Config& cfg) {
  std::string text = slurp(file);
  try {
    toml::table root = toml::parse(text, file);
    FileReader{file, cfg}.read(root);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: TOML syntax error: {}", file, b.line, b.column, e.description()));
  }
}

}  // namespace fractfs
