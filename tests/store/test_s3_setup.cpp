// S3 set-up against RGW and the credentials stand-in: the credential chain
// (environment, shared files with a profile, container endpoint, IMDSv2),
// refresh before expiry, and the messages for what the user must fix.
#include <stdlib.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "sync/net/aws_credentials.hpp"
#include "tests/store/store_env.hpp"

using namespace fractfs;
using namespace fractfs::test;

namespace {

const char* const kAwsVars[] = {"AWS_ACCESS_KEY_ID",
                                "AWS_SECRET_ACCESS_KEY",
                                "AWS_SESSION_TOKEN",
                                "AWS_PROFILE",
                                "AWS_SHARED_CREDENTIALS_FILE",
                                "AWS_CONFIG_FILE",
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                "AWS_EC2_METADATA_DISABLED",
                                "AWS_REGION",
                                "AWS_DEFAULT_REGION",
                                "HOME"};

// Clears every AWS variable for one test and puts them back after. IMDS
// stays disabled unless a test points it at the stand-in: nothing here may
// reach a real metadata address.
struct CleanAwsEnv {
  std::map<std::string, std::string> saved;
  CleanAwsEnv() {
    for (const char* v : kAwsVars) {
      if (const char* old = ::getenv(v)) saved[v] = old;
      ::unsetenv(v);
    }
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("HOME", (env_or("STORE_TEST_DIR", "/tmp") + "/nohome").c_str(), 1);
  }
  ~CleanAwsEnv() {
    for (const char* v : kAwsVars) ::unsetenv(v);
    for (auto& [k, v] : saved) ::setenv(k.c_str(), v.c_str(), 1);
  }
};

std::string creds_url(const std::string& path) { return "http://127.0.0.1:" + env_or("STORE_TEST_CREDS") + path; }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// A put and a get through a fresh store: the credentials work against RGW.
void round_trip(const std::string& what) {
  auto s = net::open_s3_store(s3_test_options(unique_name(what)));
  s->put("k", what);
  CHECK(*s->get("k") == what);
}

}  // namespace

TEST_CASE("credentials from the environment", "[s3setup]") {
  CleanAwsEnv clean;
  ::setenv("AWS_ACCESS_KEY_ID", "ACCESS", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
  net::CredentialProvider p;
  CHECK(p.get().source == "environment (AWS_ACCESS_KEY_ID)");
  round_trip("env");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  CHECK(error_of([] { net::CredentialProvider().get(); }) ==
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
}

TEST_CASE("credentials and region from the shared files, with AWS_PROFILE", "[s3setup]") {
  CleanAwsEnv clean;
  std::string dir = env_or("STORE_TEST_DIR", "/tmp");
  std::ofstream(dir + "/aws-credentials") << "[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n"
                                             "\n[ci]  \n# a comment\naws_access_key_id=ACCESS\n"
                                             "aws_secret_access_key = SECRET\n";
  std::ofstream(dir + "/aws-config") << "[default]\nregion = eu-west-1\n[profile ci]\nregion = us-east-1\n"
                                        "[profile sso]\nsso_start_url = https://example.invalid/start\n";
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir + "/aws-credentials").c_str(), 1);
  ::setenv("AWS_CONFIG_FILE", (dir + "/aws-config").c_str(), 1);
  CHECK(net::aws_region() == "eu-west-1");
  ::setenv("AWS_PROFILE", "ci", 1);
  CHECK(net::aws_region() == "us-east-1");
  net::CredentialProvider p;
  CHECK(p.get().key == "ACCESS");
  CHECK(p.get().source == "profile 'ci' (" + dir + "/aws-credentials)");
  round_trip("profile");
  ::setenv("AWS_PROFILE", "sso", 1);
  CHECK_THAT(error_of([] { net::CredentialProvider().get(); }),
             Catch::Contains("profile 'sso'") && Catch::Contains("sso_start_url") && Catch::Contains("not support"));
  ::setenv("AWS_PROFILE", "nosuch", 1);
  CHECK_THAT(error_of([] { net::CredentialProvider().get(); }), Catch::Contains("AWS_PROFILE 'nosuch' has no"));
}

TEST_CASE("credentials from the container endpoint, refreshed before they expire", "[s3setup]") {
  CleanAwsEnv clean;
  local_get(creds_url("/config?ttl=3600&token=session-xyz"));
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", creds_url("/container/creds").c_str(), 1);
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "test-token", 1);
  {
    net::CredentialProvider p;
    net::AwsCredentials c = p.get();
    CHECK(c.key == "ACCESS");
    CHECK(c.token == "session-xyz");
    REQUIRE(c.expires);
    CHECK(*c.expires > ::time(nullptr) + 3000);
    p.get();
    CHECK(p.fetches() == 1);  // an hour left: no refresh
  }
  {
    local_get(creds_url("/config?ttl=120&token=session-xyz"));
    net::CredentialProvider p(300);  // refreshes 5 minutes before expiry
    p.get();
    p.get();
    CHECK(p.fetches() == 2);  // 2 minutes left: fetched again
  }
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
  CHECK_THAT(error_of([] { net::CredentialProvider().get(); }),
             Catch::Contains("container endpoint") && Catch::Contains("HTTP 403"));
  // The token from a file; and against RGW (which knows no session tokens: none sent).
  std::string file = env_or("STORE_TEST_DIR", "/tmp") + "/container-token";
  std::ofstream(file) << "test-token\n";
  ::unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.c_str(), 1);
  local_get(creds_url("/config?ttl=3600&token="));
  round_trip("container");
}

TEST_CASE("credentials from the instance metadata service, IMDSv2 token first", "[s3setup]") {
  CleanAwsEnv clean;
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", creds_url("").c_str(), 1);
  local_get(creds_url("/config?ttl=3600&token="));
  std::string before = local_get(creds_url("/stats"));
  net::CredentialProvider p;
  net::AwsCredentials c = p.get();
  CHECK(c.key == "ACCESS");
  CHECK_THAT(c.source, Catch::Contains("instance metadata") && Catch::Contains("role test-role"));
  std::string after = local_get(creds_url("/stats"));
  CHECK_THAT(after, Catch::Contains("\"imds-token\"") && Catch::Contains("\"imds-creds\""));
  round_trip("imds");
}

TEST_CASE("no credentials anywhere says what was tried", "[s3setup]") {
  CleanAwsEnv clean;
  CHECK_THAT(error_of([] { net::CredentialProvider().get(); }),
             Catch::StartsWith("no AWS credentials found: set AWS_ACCESS_KEY_ID") &&
                 Catch::Contains("container endpoint (AWS_CONTAINER_CREDENTIALS_*_URI not set)") &&
                 Catch::Contains("instance metadata (AWS_EC2_METADATA_DISABLED)"));
}

TEST_CASE("what the user must fix is said plainly", "[s3setup]") {
  CleanAwsEnv clean;
  ::setenv("AWS_ACCESS_KEY_ID", "ACCESS", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "NOT-THE-SECRET", 1);
  std::string name = unique_name("errors");
  CHECK_THAT(error_of([&] { net::open_s3_store(s3_test_options(name))->put("k", "v"); }),
             Catch::StartsWith("signature mismatch at http://127.0.0.1:7480: check AWS_SECRET_ACCESS_KEY") &&
                 Catch::Contains("region ('us-east-1')") && !Catch::Contains("NOT-THE-SECRET"));
  ::setenv("AWS_ACCESS_KEY_ID", "NOBODY", 1);
  CHECK_THAT(error_of([&] { net::open_s3_store(s3_test_options(name))->get("k"); }),
             Catch::Contains("does not know the access key: check AWS_ACCESS_KEY_ID"));
  ::setenv("AWS_ACCESS_KEY_ID", "ACCESS", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
  net::S3Options o = s3_test_options(name);
  o.bucket = "no-such-bucket-here";
  CHECK(error_of([&] { net::open_s3_store(o)->put("k", "v"); }) ==
        "bucket 'no-such-bucket-here' does not exist at http://127.0.0.1:7480: create it, or fix remote_root");
  net::S3Options away = s3_test_options(name, "http://127.0.0.1:9");  // discard: nothing listens
  away.http.max_attempts = 2;
  CHECK_THAT(error_of([&] { net::open_s3_store(away)->get("k"); }),
             Catch::StartsWith("cannot reach http://127.0.0.1:9") && Catch::Contains("after 2 attempts"));
}
