// The effective configuration as TOML (`fractfs config`).
#include <fmt/format.h>

#include <toml++/toml.h>
#include <sstream>

#include "resolver/config.hpp"

namespace fractfs {
namespace {

toml::array strings(const std::vector<ConfigEntry>& entries) {
  toml::array a;
  for (const auto& e : entries) a.push_back(e.text);
  return a;
}

// A whole number of seconds prints as one (300, not 300.0).
void seconds(toml::table& t, std::string_view key, double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) t.insert(key, static_cast<std::int64_t>(v));
  else t.insert(key, v);
}

toml::table as_table(const Config& cfg) {
  toml::table t;
  t.insert("backend", std::string(backend_name(cfg.backend)));
  t.insert("remote_root", cfg.remote_root);
  t.insert("scratch", cfg.scratch);
  seconds(t, "sync_interval", cfg.sync_interval);
  seconds(t, "exit_timeout", cfg.exit_timeout);
  seconds(t, "lease_seconds", cfg.lease_seconds);
  t.insert("checkpoint_subdir", cfg.checkpoint_subdir);
  t.insert("content_hash", cfg.content_hash);
  t.insert("auto_ignore_bundle", cfg.auto_ignore_bundle);
  t.insert("keep_generations", static_cast<std::int64_t>(cfg.keep_generations));
  t.insert("reconcile_every", static_cast<std::int64_t>(cfg.reconcile_every));
  if (cfg.backend != Backend::mount) {
    t.insert("max_parallel", static_cast<std::int64_t>(cfg.max_parallel));
    if (cfg.backend == Backend::s3) {
      t.insert("s3_endpoint", cfg.s3_endpoint);
      t.insert("s3_addressing", cfg.s3_addressing);
    }
  }
  t.insert("dirs", toml::table{{"paths", strings(cfg.dirs)}});
  t.insert("ignore", toml::table{{"patterns", strings(cfg.ignore)}});
  t.insert("local", toml::table{{"patterns", strings(cfg.local)}});
  return t;
}

}  // namespace

std::string to_toml(const Config& cfg) {
  std::ostringstream out;
  out << "# fractfs effective configuration\n";
  out << "# root: " << cfg.root << "\n";
  out << "# file: " << (cfg.file.empty() ? "(none)" : cfg.file) << "\n";
  for (const auto& [key, origin] : cfg.origins)
    if (key != "root") out << fmt::format("# {} from {}\n", key, origin);
  if (cfg.passthrough()) out << "# mode: passthrough (no remote_root)\n";
  out << "\n" << toml::toml_formatter(as_table(cfg), toml::format_flags::none) << "\n";
  return out.str();
}

}  // namespace fractfs
