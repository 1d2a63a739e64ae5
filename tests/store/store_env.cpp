#include "tests/store/store_env.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include <fmt/format.h>

#include "sync/net/http.hpp"

namespace fractfs::test {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = ::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string backend() { return env_or("STORE_TEST_BACKEND", "mount"); }

std::string unique_name(const std::string& what) {
  static std::atomic<unsigned> n{0};
  return fmt::format("t{}-{}-{}", ::getpid(), n++, what);
}

static net::HttpOptions quick_http() {
  net::HttpOptions h;
  h.connect_timeout_ms = 2000;
  h.request_timeout_ms = 10000;
  h.low_speed_s = 5;
  h.max_attempts = 5;
  h.backoff_base_ms = 20;
  h.backoff_max_ms = 200;
  h.retry_deadline_ms = 20000;
  return h;
}

net::S3Options s3_test_options(const std::string& name, const std::string& endpoint) {
  net::S3Options o;
  o.endpoint = endpoint.empty() ? env_or("STORE_TEST_S3", "http://127.0.0.1:7480") : endpoint;
  o.region = "us-east-1";
  o.path_style = true;
  o.bucket = env_or("STORE_TEST_BUCKET", "fractfs-test");
  o.prefix = name + "/";
  o.http = quick_http();
  o.part_size = 5 << 20;
  o.multipart_threshold = 6 << 20;
  return o;
}

net::WebDavOptions dav_test_options(const std::string& name, const std::string& base) {
  net::WebDavOptions o;
  o.base_url = (base.empty() ? env_or("STORE_TEST_DAV", "http://127.0.0.1:8081/dav/") : base) + name + "/";
  o.http = quick_http();
  return o;
}

static std::string proxy_port(int which) {
  std::string ports = env_or("STORE_TEST_PROXY");
  if (ports.empty()) throw StoreError("STORE_TEST_PROXY is not set: run through tests/store/run.sh");
  std::size_t sp = ports.find(' ');
  return which == 0 ? ports.substr(0, sp) : ports.substr(sp + 1);
}

std::unique_ptr<Store> open_test_store(const std::string& name, bool proxied, net::HttpOptions* http) {
  std::string b = backend();
  std::string via = proxied ? "http://127.0.0.1:" + proxy_port(0) : "";
  if (b == "s3") {
    net::S3Options o = s3_test_options(name, via);
    if (http) o.http = *http;
    return net::open_s3_store(o);
  }
  if (b == "webdav") {
    std::string base = env_or("STORE_TEST_DAV", "http://127.0.0.1:8081/dav/");
    if (proxied) base = via + base.substr(base.find('/', 8));
    net::WebDavOptions o = dav_test_options(name, base);
    if (http) o.http = *http;
    return net::open_webdav_store(o);
  }
  return open_mount_store(env_or("STORE_TEST_DIR", "/tmp") + "/mount/" + name);
}

std::string local_get(const std::string& url) {
  net::HttpOptions h;
  h.max_attempts = 1;
  net::HttpClient client(h);
  std::string out;
  Sink sink = [&](std::string_view b) { out.append(b); };
  net::Request req;
  req.url = url;
  req.sink = &sink;
  net::Response r = client.perform(req);
  if (r.status != 200) throw StoreError(fmt::format("{}: HTTP {}", url, r.status));
  return out;
}

void inject(const std::string& query) { local_get("http://127.0.0.1:" + proxy_port(1) + "/fault?" + query); }
std::string proxy_stats() { return local_get("http://127.0.0.1:" + proxy_port(1) + "/stats"); }

}  // namespace fractfs::test
