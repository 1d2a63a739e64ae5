// The network stores (S3 and WebDAV) and what the fractfs programs need to
// use them. Linked into `fractfs`, `fractfs-run` and the tests; never into
// libfractfs.so, which must not load libcurl or OpenSSL into an app.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resolver/config.hpp"
#include "sync/net/http.hpp"
#include "sync/store.hpp"

namespace fractfs::net {

// Lets open_store() open network backends in this program. Call once at
// start, before any thread.
void install();

struct S3Options {
  std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:7480"
  std::string region;
  bool path_style = true;  // https://host/bucket/key, else https://bucket.host/key
  std::string bucket;
  std::string prefix;  // key prefix, "" or ending in '/'
  HttpOptions http;
  std::uint64_t part_size = 8 << 20;             // multipart part size (S3's minimum: 5 MiB)
  std::uint64_t multipart_threshold = 16 << 20;  // objects this big go in parts
  long credential_margin_s = 300;                // refresh temporary credentials this early
};

struct WebDavOptions {
  std::string base_url;  // the collection of the store, ending in '/'
  HttpOptions http;
  std::string user, password, bearer;  // from FRACTFS_HTTP_USER/_PASSWORD, FRACTFS_HTTP_BEARER
};

std::unique_ptr<Store> open_s3_store(const S3Options& o);
std::unique_ptr<Store> open_webdav_store(const WebDavOptions& o);

// Options from a configuration and the environment (AWS_*, FRACTFS_HTTP_*,
// CA bundle variables). Throw StoreError naming the variable at fault.
S3Options s3_options(const Config& cfg);
WebDavOptions webdav_options(const Config& cfg);

// One network-level check for `fractfs doctor`.
struct Finding {
  std::string check;  // "endpoint reachable", "credentials", …
  bool ok = false;
  std::string detail;  // what was found, or what is wrong and how to fix it
};

// Endpoint, TLS, credentials, bucket/collection, clock: what can be told
// before any object is written. Empty for the mount backend.
std::vector<Finding> diagnose(const Config& cfg);

}  // namespace fractfs::net
