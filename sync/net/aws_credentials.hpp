// AWS credentials found the way AWS's own tools find them, in this order:
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN; the shared
// credentials and config files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
// ~/.aws/…) with AWS_PROFILE; the container credentials endpoint
// (AWS_CONTAINER_CREDENTIALS_FULL_URI/_RELATIVE_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); the instance metadata service
// (IMDSv2: a session token first; AWS_EC2_METADATA_DISABLED,
// AWS_EC2_METADATA_SERVICE_ENDPOINT). Temporary credentials are fetched
// again before they expire. Secrets never appear in a message.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace fractfs::net {

class HttpClient;

struct AwsCredentials {
  std::string key, secret, token;
  std::optional<std::int64_t> expires;  // seconds since the epoch
  std::string source;                   // "environment", "profile 'x' (FILE)", …
};

class CredentialProvider {
 public:
  // Refreshes temporary credentials `margin_s` seconds before they expire.
  explicit CredentialProvider(long margin_s = 300);
  ~CredentialProvider();

  // The current credentials, found or refreshed as needed. Throws StoreError.
  AwsCredentials get();
  // Forgets temporary credentials (the server said they expired).
  void invalidate();
  // How many times the chain was walked (for tests).
  unsigned fetches() const;

 private:
  AwsCredentials resolve();

  long margin_s_;
  mutable std::mutex mu_;
  std::optional<AwsCredentials> cached_;
  unsigned fetches_ = 0;
  std::unique_ptr<HttpClient> http_;  // short timeouts, for the endpoints
};

// The region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in
// the config file, else "us-east-1".
std::string aws_region();

}  // namespace fractfs::net
