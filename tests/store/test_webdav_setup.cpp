// WebDAV set-up against nginx: Basic auth, TLS with a CA of our own, and
// the messages for what the user must fix.
#include <stdlib.h>
#include <catch2/catch.hpp>

#include "tests/store/store_env.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

std::string dav_origin() { return "http://127.0.0.1:8081"; }

}  // namespace

TEST_CASE("Basic auth: right and wrong password", "[davsetup]") {
  net::WebDavOptions o = dav_test_options(unique_name("auth"), dav_origin() + "/authdav/");
  o.user = "test";
  o.password = "secret";
  auto s = net::open_webdav_store(o);
  s->put("a/b", "hello");
  CHECK(*s->get("a/b") == "hello");
  o.password = "wrong";
  CHECK_THAT(error_of([&] { net::open_webdav_store(o)->get("a/b"); }),
             Catch::Contains("refused the credentials (HTTP 401): check FRACTFS_HTTP_USER and FRACTFS_HTTP_PASSWORD") &&
                 !Catch::Contains("wrong"));
}

TEST_CASE("TLS: trusted through a CA bundle, refused without it", "[davsetup]") {
  std::string port = env_or("STORE_TEST_TLS_PORT");
  REQUIRE_FALSE(port.empty());
  std::string base = "https://127.0.0.1:" + port + "/dav/";
  net::WebDavOptions o = dav_test_options(unique_name("tls"), base);
  o.http.max_attempts = 1;
  CHECK_THAT(error_of([&] { net::open_webdav_store(o)->get("k"); }),
             Catch::StartsWith("TLS: the certificate of https://127.0.0.1:" + port + " is not trusted") &&
                 Catch::Contains("AWS_CA_BUNDLE"));
  o.http.ca_bundle = env_or("STORE_TEST_CA");
  auto s = net::open_webdav_store(o);
  s->put("k", "over TLS");
  CHECK(*s->get("k") == "over TLS");
}

TEST_CASE("an unreachable server and a missing collection", "[davsetup]") {
  net::WebDavOptions o = dav_test_options(unique_name("away"), "http://127.0.0.1:9/dav/");
  o.http.max_attempts = 2;
  CHECK_THAT(error_of([&] { net::open_webdav_store(o)->put("k", "v"); }),
             Catch::StartsWith("cannot reach http://127.0.0.1:9"));
  net::WebDavOptions p = dav_test_options(unique_name("nodav"), dav_origin() + "/not-dav/");
  CHECK_THAT(error_of([&] { net::open_webdav_store(p)->put("k", "v"); }), Catch::Contains("HTTP"));
}
