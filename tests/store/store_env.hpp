// What the store tests run against, from tests/store/run.sh's variables:
//   STORE_TEST_BACKEND   mount | s3 | webdav
//   STORE_TEST_DIR       a scratch directory
//   STORE_TEST_S3        the S3 endpoint (RGW), STORE_TEST_BUCKET its bucket
//   STORE_TEST_DAV       the WebDAV collection URL (ending in '/')
//   STORE_TEST_PROXY     "DATA CONTROL": ports of the fault proxy in front of the server
//   STORE_TEST_CREDS     the port of the credentials stand-in
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sync/net/net.hpp"
#include "sync/store.hpp"

namespace fractfs::test {

std::string env_or(const char* name, const std::string& fallback = {});
std::string backend();
// A fresh, empty place for one test: its own prefix, collection or directory.
std::string unique_name(const std::string& what);

// Options for the S3 and WebDAV stores of the tests: small parts, quick retries.
net::S3Options s3_test_options(const std::string& name, const std::string& endpoint = {});
net::WebDavOptions dav_test_options(const std::string& name, const std::string& base = {});

// A store of the backend under test; through the fault proxy when `proxied`.
std::unique_ptr<Store> open_test_store(const std::string& name, bool proxied = false, net::HttpOptions* http = nullptr);

// The fault proxy's control: "kind=503&count=2".
void inject(const std::string& query);
std::string proxy_stats();

// A plain HTTP GET on 127.0.0.1 (control endpoints of the test servers).
std::string local_get(const std::string& url);

}  // namespace fractfs::test
