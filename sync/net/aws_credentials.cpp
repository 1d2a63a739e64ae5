#include "sync/net/aws_credentials.hpp"

#include <time.h>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sync/net/http.hpp"
#include "sync/store.hpp"

namespace fractfs::net {
namespace {

using Section = std::map<std::string, std::string>;
using Ini = std::map<std::string, Section>;

std::string env(const char* name) {
  const char* v = ::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(std::string s) {
  std::size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return {};
  std::size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// The INI dialect of ~/.aws files: [section], key = value, # and ; comments.
std::optional<Ini> read_ini(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Ini ini;
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      ini[section];
      continue;
    }
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    ini[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return ini;
}

std::string home_file(const char* var, const char* leaf) {
  std::string v = env(var);
  if (!v.empty()) return v;
  std::string home = env("HOME");
  return home.empty() ? std::string() : home + "/.aws/" + leaf;
}

std::string profile_name() {
  std::string p = env("AWS_PROFILE");
  return p.empty() ? "default" : p;
}

// The profile's section: "[NAME]" in the credentials file, "[profile NAME]"
// (or "[default]") in the config file.
const Section* find_profile(const std::optional<Ini>& ini, const std::string& name, bool config_file) {
  if (!ini) return nullptr;
  for (const std::string& s : {config_file && name != "default" ? "profile " + name : name}) {
    auto it = ini->find(s);
    if (it != ini->end()) return &it->second;
  }
  return nullptr;
}

std::optional<std::int64_t> parse_iso_time(const std::string& s) {
  struct tm tm = {};
  if (!::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return static_cast<std::int64_t>(::timegm(&tm));
}

AwsCredentials from_json(const std::string& body, const std::string& source) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("AccessKeyId") || !j.contains("SecretAccessKey"))
    throw StoreError(source + " answered without AccessKeyId/SecretAccessKey");
  if (j.contains("Code") && j["Code"].is_string() && j["Code"] != "Success")
    throw StoreError(fmt::format("{} answered Code '{}'", source, j["Code"].get<std::string>()));
  AwsCredentials c;
  c.key = j.value("AccessKeyId", "");
  c.secret = j.value("SecretAccessKey", "");
  c.token = j.value("Token", "");
  if (j.contains("Expiration") && j["Expiration"].is_string()) {
    c.expires = parse_iso_time(j["Expiration"].get<std::string>());
    if (!c.expires) throw StoreError(source + " answered an Expiration that is not a date");
  }
  c.source = source;
  return c;
}

std::optional<AwsCredentials> from_environment() {
  std::string key = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (key.empty() && secret.empty()) return std::nullopt;
  if (key.empty() || secret.empty())
    throw StoreError(std::string(key.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                                             : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"));
  return AwsCredentials{key, secret, env("AWS_SESSION_TOKEN"), std::nullopt, "environment (AWS_ACCESS_KEY_ID)"};
}

std::optional<AwsCredentials> from_shared_files(std::vector<std::string>& tried) {
  std::string name = profile_name();
  std::string cred_path = home_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  std::string conf_path = home_file("AWS_CONFIG_FILE", "config");
  auto creds = read_ini(cred_path), conf = read_ini(conf_path);
  for (auto [section, path] :
       {std::pair{find_profile(creds, name, false), cred_path}, std::pair{find_profile(conf, name, true), conf_path}}) {
    if (!section) continue;
    auto get = [&](const char* k) {
      auto it = section->find(k);
      return it == section->end() ? std::string() : it->second;
    };
    std::string key = get("aws_access_key_id"), secret = get("aws_secret_access_key");
    if (!key.empty() && !secret.empty())
      return AwsCredentials{key, secret, get("aws_session_token"), std::nullopt,
                            fmt::format("profile '{}' ({})", name, path)};
    for (const char* other :
         {"role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"})
      if (!get(other).empty())
        throw StoreError(
            fmt::format("profile '{}' ({}) gets its credentials through {}, which fractfs does "
                        "not support: give it aws_access_key_id and aws_secret_access_key, or "
                        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                        name, path, other));
  }
  if (!env("AWS_PROFILE").empty())
    throw StoreError(fmt::format("AWS_PROFILE '{}' has no aws_access_key_id/aws_secret_access_key in {} or {}", name,
                                 cred_path.empty() ? "~/.aws/credentials" : cred_path,
                                 conf_path.empty() ? "~/.aws/config" : conf_path));
  tried.push_back(fmt::format("profile '{}' in {}", name, cred_path.empty() ? "~/.aws/credentials" : cred_path));
  return std::nullopt;
}

std::string describe_status(const Response& r) { return fmt::format("HTTP {}", r.status); }

std::optional<AwsCredentials> from_container(HttpClient& http, std::vector<std::string>& tried) {
  std::string full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  std::string rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  if (full.empty() && rel.empty()) {
    tried.push_back("container endpoint (AWS_CONTAINER_CREDENTIALS_*_URI not set)");
    return std::nullopt;
  }
  Request req;
  req.url = !rel.empty() ? "http://169.254.170.2" + rel : full;
  std::string token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (std::string file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    std::ifstream in(file);
    if (!in) throw StoreError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + file);
    std::stringstream ss;
    ss << in.rdbuf();
    token = trim(ss.str());
  }
  if (!token.empty()) req.headers.push_back("Authorization: " + token);
  std::string source = "container endpoint " + origin_of(req.url);
  Response r = http.perform(req);
  if (r.status != 200) throw StoreError(fmt::format("{} answered {}", source, describe_status(r)));
  return from_json(r.body, source);
}

std::optional<AwsCredentials> from_instance_metadata(HttpClient& http, std::vector<std::string>& tried) {
  std::string off = env("AWS_EC2_METADATA_DISABLED");
  for (char& c : off) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (off == "true" || off == "1") {
    tried.push_back("instance metadata (AWS_EC2_METADATA_DISABLED)");
    return std::nullopt;
  }
  std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = "http://169.254.169.254";
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string token;
  try {
    Request put;
    put.method = "PUT";
    put.url = base + "/latest/api/token";
    put.headers.push_back("X-aws-ec2-metadata-token-ttl-seconds: 21600");
    BytesSource empty("");
    put.body = &empty;
    Response r = http.perform(put);
    if (r.status == 200) token = trim(r.body);
    else if (r.status != 403 && r.status != 404 && r.status != 405)  // IMDSv1 only: go on without a token
      throw StoreError(fmt::format("instance metadata {} answered {} for a token", base, describe_status(r)));
  } catch (const TransportError&) {
    tried.push_back("instance metadata (no answer from " + base + ")");
    return std::nullopt;
  }
  auto get = [&](const std::string& path) {
    Request req;
    req.url = base + path;
    if (!token.empty()) req.headers.push_back("X-aws-ec2-metadata-token: " + token);
    Response r = http.perform(req);
    if (r.status != 200)
      throw StoreError(fmt::format("instance metadata {} answered {} for {}", base, describe_status(r), path));
    return r.body;
  };
  std::string roles = get("/latest/meta-data/iam/security-credentials/");
  std::string role = trim(roles.substr(0, roles.find('\n')));
  if (role.empty()) throw StoreError("instance metadata " + base + ": the instance has no IAM role");
  return from_json(get("/latest/meta-data/iam/security-credentials/" + role),
                   fmt::format("instance metadata {} (role {})", base, role));
}

}  // namespace

CredentialProvider::CredentialProvider(long margin_s) : margin_s_(margin_s) {
  HttpOptions o;
  o.connect_timeout_ms = 1000;
  o.request_timeout_ms = 3000;
  o.max_attempts = 3;
  o.backoff_base_ms = 100;
  o.retry_deadline_ms = 5000;
  o.max_parallel = 2;
  http_ = std::make_unique<HttpClient>(o);
}

CredentialProvider::~CredentialProvider() = default;

AwsCredentials CredentialProvider::resolve() {
  ++fetches_;
  std::vector<std::string> tried{"environment (AWS_ACCESS_KEY_ID not set)"};
  if (auto c = from_environment()) return *c;
  if (auto c = from_shared_files(tried)) return *c;
  if (auto c = from_container(*http_, tried)) return *c;
  if (auto c = from_instance_metadata(*http_, tried)) return *c;
  std::string list;
  for (const std::string& t : tried) list += (list.empty() ? "" : "; ") + t;
  throw StoreError(
      "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
      "(tried: " +
      list + ")");
}

AwsCredentials CredentialProvider::get() {
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t now = ::time(nullptr);
  if (cached_ && (!cached_->expires || now < *cached_->expires - margin_s_)) return *cached_;
  try {
    cached_ = resolve();
  } catch (const StoreError&) {
    if (cached_ && cached_->expires && now < *cached_->expires) return *cached_;  // still valid: try later
    throw;
  }
  return *cached_;
}

void CredentialProvider::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && cached_->expires) cached_.reset();
}

unsigned CredentialProvider::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

std::string aws_region() {
  for (const char* v : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (std::string r = env(v); !r.empty()) return r;
  auto conf = read_ini(home_file("AWS_CONFIG_FILE", "config"));
  if (const Section* s = find_profile(conf, profile_name(), true)) {
    auto it = s->find("region");
    if (it != s->end() && !it->second.empty()) return it->second;
  }
  return "us-east-1";
}

}  // namespace fractfs::net
