#include "resolver/config_snapshot.hpp"

#include <charconv>
#include <cstdlib>

namespace fractfs {
namespace {

constexpr std::string_view kMagic = "fractfs-snapshot-1";

// One field per line: key, '=', value with '\' and newline escaped.
void put(std::string& out, std::string_view key, std::string_view value) {
  out.append(key).push_back('=');
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  out.push_back('\n');
}

std::string unescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      ++i;
      out.push_back(v[i] == 'n' ? '\n' : v[i]);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

template <typename T>
bool number(std::string_view v, T& out) {
  auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

bool assign(Config& c, std::string_view key, std::string v) {
  if (key == "root") c.root = std::move(v);
  else if (key == "root_real") c.root_real = std::move(v);
  else if (key == "file") c.file = std::move(v);
  else if (key == "backend") c.backend = v == "s3" ? Backend::s3 : v == "webdav" ? Backend::webdav : Backend::mount;
  else if (key == "remote_root") c.remote_root = std::move(v);
  else if (key == "scratch") c.scratch = std::move(v);
  else if (key == "sync_interval") c.sync_interval = std::strtod(v.c_str(), nullptr);
  else if (key == "exit_timeout") c.exit_timeout = std::strtod(v.c_str(), nullptr);
  else if (key == "lease_seconds") c.lease_seconds = std::strtod(v.c_str(), nullptr);
  else if (key == "node_id") c.node_id = std::move(v);
  else if (key == "take_over") c.take_over = v == "1";
  else if (key == "checkpoint_subdir") c.checkpoint_subdir = std::move(v);
  else if (key == "content_hash") c.content_hash = v == "1";
  else if (key == "auto_ignore_bundle") c.auto_ignore_bundle = v == "1";
  else if (key == "keep_generations") return number(v, c.keep_generations);
  else if (key == "reconcile_every") return number(v, c.reconcile_every);
  else if (key == "max_parallel") return number(v, c.max_parallel);
  else if (key == "s3_endpoint") c.s3_endpoint = std::move(v);
  else if (key == "s3_addressing") c.s3_addressing = std::move(v);
  else if (key == "dir") c.dirs.push_back({std::move(v), "snapshot"});
  else if (key == "ignore") c.ignore.push_back({std::move(v), "snapshot"});
  else if (key == "local") c.local.push_back({std::move(v), "snapshot"});
  else return false;
  return true;
}

}  // namespace

std::string to_snapshot(const Config& c) {
  std::string out(kMagic);
  out.push_back('\n');
  put(out, "root", c.root);
  put(out, "root_real", c.root_real);
  put(out, "file", c.file);
  put(out, "backend", backend_name(c.backend));
  put(out, "remote_root", c.remote_root);
  put(out, "scratch", c.scratch);
  char num[32];
  auto r = std::to_chars(num, num + sizeof num, c.sync_interval);
  put(out, "sync_interval", std::string_view(num, static_cast<std::size_t>(r.ptr - num)));
  r = std::to_chars(num, num + sizeof num, c.exit_timeout);
  put(out, "exit_timeout", std::string_view(num, static_cast<std::size_t>(r.ptr - num)));
  r = std::to_chars(num, num + sizeof num, c.lease_seconds);
  put(out, "lease_seconds", std::string_view(num, static_cast<std::size_t>(r.ptr - num)));
  put(out, "node_id", c.node_id);
  put(out, "take_over", c.take_over ? "1" : "0");
  put(out, "checkpoint_subdir", c.checkpoint_subdir);
  put(out, "content_hash", c.content_hash ? "1" : "0");
  put(out, "auto_ignore_bundle", c.auto_ignore_bundle ? "1" : "0");
  put(out, "keep_generations", std::to_string(c.keep_generations));
  put(out, "reconcile_every", std::to_string(c.reconcile_every));
  put(out, "max_parallel", std::to_string(c.max_parallel));
  put(out, "s3_endpoint", c.s3_endpoint);
  put(out, "s3_addressing", c.s3_addressing);
  for (const auto& d : c.dirs) put(out, "dir", d.text);
  for (const auto& p : c.ignore) put(out, "ignore", p.text);
  for (const auto& p : c.local) put(out, "local", p.text);
  return out;
}

std::optional<Config> from_snapshot(std::string_view text) {
  if (!text.starts_with(kMagic) || text.size() == kMagic.size() || text[kMagic.size()] != '\n') return std::nullopt;
  Config c;
  text.remove_prefix(kMagic.size() + 1);
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || !assign(c, line.substr(0, eq), unescape(line.substr(eq + 1))))
      return std::nullopt;
  }
  if (c.root.empty()) return std::nullopt;
  c.origins["root"] = "snapshot";
  return c;
}

}  // namespace fractfs
