// open_store()'s network half: options from the configuration and the
// environment, and the hook that lets a fractfs program open S3 and WebDAV
// stores. Not linked into libfractfs.so.
#include <sys/stat.h>

#include <cstdlib>

#include <fmt/format.h>

#include "sync/net/aws_credentials.hpp"
#include "sync/net/net.hpp"
#include "sync/net/url.hpp"

namespace fractfs::net {

std::vector<Finding> diagnose_s3(const S3Options& o);
std::vector<Finding> diagnose_webdav(const WebDavOptions& o);

namespace {

std::string env(const char* name) {
  const char* v = ::getenv(name);
  return v ? std::string(v) : std::string();
}

// The first CA bundle variable set, checked to name a readable file.
std::string ca_bundle(std::initializer_list<const char*> vars) {
  for (const char* var : vars) {
    std::string path = env(var);
    if (path.empty()) continue;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      throw StoreError(fmt::format("{}: CA bundle '{}' is not a readable file", var, path));
    return path;
  }
  return {};
}

HttpOptions http_options(const Config& cfg) {
  HttpOptions h;
  h.max_parallel = static_cast<unsigned>(cfg.max_parallel);
  return h;
}

std::string store_prefix(const Config& cfg, std::string_view path) {
  std::string p(path);
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return (p.empty() ? "" : p + "/") + cfg.checkpoint_subdir + "/.fractfs/";
}

std::unique_ptr<Store> open_network_store(const Config& cfg) {
  if (cfg.backend == Backend::s3) return open_s3_store(s3_options(cfg));
  if (cfg.backend == Backend::webdav) return open_webdav_store(webdav_options(cfg));
  throw StoreError("not a network backend");
}

}  // namespace

void install() {
  global_init();
  g_network_store_opener = &open_network_store;
}

S3Options s3_options(const Config& cfg) {
  S3Options o;
  std::string_view root = cfg.remote_root;
  root.remove_prefix(5);  // "s3://", checked by the configuration
  std::size_t slash = root.find('/');
  o.bucket = std::string(root.substr(0, slash));
  o.prefix = store_prefix(cfg, slash == std::string_view::npos ? std::string_view() : root.substr(slash));
  o.region = aws_region();
  std::string from = "s3_endpoint";
  o.endpoint = cfg.s3_endpoint;
  for (const char* var : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (!o.endpoint.empty()) break;
    o.endpoint = env(var);
    from = var;
  }
  bool custom = !o.endpoint.empty();
  if (!custom) o.endpoint = "https://s3." + o.region + ".amazonaws.com";
  while (o.endpoint.size() > 8 && o.endpoint.back() == '/') o.endpoint.pop_back();
  auto url = parse_url(o.endpoint);
  if (!url || (url->path != "" && url->path != "/"))
    throw StoreError(fmt::format("{}: endpoint '{}' must be http(s)://HOST[:PORT], without a path", from, o.endpoint));
  // Path-style for custom endpoints (MinIO, Ceph, …: no wildcard DNS), virtual
  // hosts on AWS, except for bucket names with dots (TLS names cannot match).
  if (cfg.s3_addressing == "path") o.path_style = true;
  else if (cfg.s3_addressing == "virtual") o.path_style = false;
  else o.path_style = custom || o.bucket.find('.') != std::string::npos;
  o.http = http_options(cfg);
  o.http.ca_bundle = ca_bundle({"AWS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"});
  return o;
}

WebDavOptions webdav_options(const Config& cfg) {
  WebDavOptions o;
  auto url = parse_url(cfg.remote_root);
  if (!url) throw StoreError(fmt::format("remote_root '{}' is not an http(s) URL", cfg.remote_root));
  std::string path = url->path;
  o.base_url = url->origin() + "/" + store_prefix(cfg, path);
  o.http = http_options(cfg);
  o.http.ca_bundle = ca_bundle({"CURL_CA_BUNDLE", "SSL_CERT_FILE"});
  o.user = env("FRACTFS_HTTP_USER");
  o.password = env("FRACTFS_HTTP_PASSWORD");
  o.bearer = env("FRACTFS_HTTP_BEARER");
  if (o.user.empty() != o.password.empty())
    throw StoreError(o.user.empty() ? "FRACTFS_HTTP_PASSWORD is set but FRACTFS_HTTP_USER is not"
                                    : "FRACTFS_HTTP_USER is set but FRACTFS_HTTP_PASSWORD is not");
  if (!o.bearer.empty() && !o.user.empty())
    throw StoreError("set FRACTFS_HTTP_BEARER or FRACTFS_HTTP_USER/FRACTFS_HTTP_PASSWORD, not both");
  return o;
}

std::vector<Finding> diagnose(const Config& cfg) {
  try {
    if (cfg.backend == Backend::s3) return diagnose_s3(s3_options(cfg));
    if (cfg.backend == Backend::webdav) return diagnose_webdav(webdav_options(cfg));
  } catch (const StoreError& e) {
    return {Finding{"settings", false, e.what()}};
  }
  return {};
}

}  // namespace fractfs::net
