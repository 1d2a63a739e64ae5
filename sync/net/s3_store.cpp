// The S3 backend: keys are objects below a prefix of a bucket. Requests are
// signed by libcurl (CURLOPT_AWS_SIGV4); the payload is declared
// UNSIGNED-PAYLOAD, so bodies stream (TLS protects them in transit, and
// every object's content is checked against its id when it is read).
// Large objects go up in parts, in parallel. The generation pointer is
// switched with If-None-Match: * (create) and If-Match (compare-and-swap).
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "sync/net/aws_credentials.hpp"
#include "sync/net/http.hpp"
#include "sync/net/net.hpp"
#include "sync/net/s3_xml.hpp"
#include "sync/net/url.hpp"
#include "sync/parallel.hpp"

namespace fractfs::net {
namespace {

// A slice of another source: one part of a multipart upload.
class SliceSource final : public Source {
 public:
  SliceSource(const Source& s, std::uint64_t off, std::uint64_t len) : s_(s), off_(off), len_(len) {}
  std::uint64_t size() const override { return len_; }
  std::size_t read_at(std::uint64_t offset, char* buf, std::size_t n) const override {
    if (offset >= len_) return 0;
    return s_.read_at(off_ + offset, buf, static_cast<std::size_t>(std::min<std::uint64_t>(n, len_ - offset)));
  }

 private:
  const Source& s_;
  std::uint64_t off_, len_;
};

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// "a=1&b=2" from pairs already in order, values encoded as SigV4 wants.
std::string query(std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (!q.empty()) q += '&';
    q += k;
    q += '=';
    q += percent_encode(v, false);
  }
  return q;
}

class S3Store final : public Store {
 public:
  explicit S3Store(S3Options o) : o_(std::move(o)), http_(o_.http), creds_(o_.credential_margin_s) {
    Url u = *parse_url(o_.endpoint);
    bucket_url_ = o_.path_style ? u.origin() + "/" + percent_encode(o_.bucket, false)
                                : u.scheme + "://" + o_.bucket + "." + u.authority;
    endpoint_ = u.origin();
  }

  std::string describe() const override { return "s3://" + o_.bucket + "/" + trimmed_prefix(); }

  Capabilities caps() const override { return {true, true, o_.http.max_parallel, o_.multipart_threshold}; }

  bool load(const std::string& key, const Sink& sink, Range range) override {
    if (range.length == 0) return stat(key).has_value();
    Request req = request("GET", key);
    req.sink = &sink;
    req.range = range;
    Response r = http_.perform(req);
    if (r.status == 200 || r.status == 206 || r.status == 416) return true;
    if (r.status == 404 && code(r) != "NoSuchBucket") return false;
    fail(r, "read", key);
  }

  void save(const std::string& key, const Source& data) override {
    if (o_.multipart_threshold > 0 && data.size() >= o_.multipart_threshold && data.size() > o_.part_size)
      return save_in_parts(key, data);
    Request req = request("PUT", key);
    req.body = &data;
    Response r = http_.perform(req);
    if (r.status != 200) fail(r, "write", key);
  }

  std::optional<ObjectInfo> stat(const std::string& key) override {
    Request req = request("HEAD", key);
    req.no_body = true;
    Response r = http_.perform(req);
    if (r.status == 404) return std::nullopt;
    if (r.status != 200) fail(r, "stat", key);
    return ObjectInfo{key, std::strtoull(r.header("content-length").c_str(), nullptr, 10), unquote(r.header("etag"))};
  }

  void remove(const std::string& key) override {
    Response r = http_.perform(request("DELETE", key));
    if (r.status == 204 || r.status == 200 || (r.status == 404 && code(r) != "NoSuchBucket")) return;
    fail(r, "delete", key);
  }

  void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) override {
    std::string full = o_.prefix + (prefix.empty() ? "" : prefix + "/");
    std::string token;
    do {
      std::string q = token.empty() ? query({{"list-type", "2"}, {"prefix", full}})
                                    : query({{"continuation-token", token}, {"list-type", "2"}, {"prefix", full}});
      Request req = bucket_request("GET", q);
      Response r = http_.perform(req);
      if (r.status != 200) fail(r, "list", prefix);
      s3xml::ListPage page = s3xml::parse_list(r.body);
      for (ObjectInfo& info : page.objects) {
        if (!info.key.starts_with(o_.prefix)) continue;
        info.key.erase(0, o_.prefix.size());
        each(info);
      }
      token = page.next_token;
    } while (!token.empty());
  }

  std::optional<Pointer> read_pointer(const std::string& key) override {
    std::string value;
    Sink sink = [&](std::string_view b) { value.append(b); };
    Request req = request("GET", key);
    req.sink = &sink;
    Response r = http_.perform(req);
    if (r.status == 404 && code(r) != "NoSuchBucket") return std::nullopt;
    if (r.status != 200) fail(r, "read", key);
    return Pointer{std::move(value), unquote(r.header("etag"))};
  }

  SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                          std::string_view value) override {
    BytesSource body(value);
    bool other_quoting_tried = false;
    for (int attempt = 0;; ++attempt) {
      Request req = request("PUT", key);
      req.body = &body;
      req.idempotent = false;
      bool quoted = quoted_if_match_.load();
      if (!expected) req.headers.push_back("If-None-Match: *");
      else req.headers.push_back(quoted ? "If-Match: \"" + *expected + "\"" : "If-Match: " + *expected);
      std::optional<Response> r;
      try {
        r = http_.perform(req);
      } catch (const TransportError& e) {
        if (e.permanent || attempt >= 3) throw;
      }
      if (r && r->status == 200) return {true, Pointer{std::string(value), unquote(r->header("etag"))}};
      if (r && r->status != 412 && r->status != 409 && r->status < 500) fail(*r, "switch", key);
      // Lost, or unsure (5xx, a cut connection): what the key holds decides.
      std::optional<Pointer> now = read_pointer(key);
      if (now && now->value == value) return {true, now};
      bool unchanged = expected ? (now && now->version == *expected) : !now;
      if (!unchanged) return {false, now};
      if (r && r->status == 412 && expected && !other_quoting_tried) {
        // The version matched, the condition did not: this server wants the
        // other form of If-Match (RGW takes the ETag without quotes).
        other_quoting_tried = true;
        quoted_if_match_.store(!quoted);
        continue;
      }
      if (attempt >= 3) {
        if (r && r->status == 412) return {false, now};
        fail(*r, "switch", key);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    }
  }

  void remove_pointer(const std::string& key) override { remove(key); }

  void flush() override {}  // a PUT is durable when S3 answers 200

  std::uint64_t discard_abandoned(std::int64_t older_than_s) override {
    std::int64_t cutoff = ::time(nullptr) - older_than_s;
    std::uint64_t n = 0;
    std::string key_marker, id_marker;
    do {
      std::string q = key_marker.empty() ? query({{"prefix", o_.prefix}, {"uploads", ""}})
                                         : query({{"key-marker", key_marker},
                                                  {"prefix", o_.prefix},
                                                  {"upload-id-marker", id_marker},
                                                  {"uploads", ""}});
      Response r = http_.perform(bucket_request("GET", q));
      if (r.status != 200) fail(r, "list the uploads of", "");
      s3xml::UploadsPage page = s3xml::parse_uploads(r.body);
      for (const s3xml::Upload& u : page.uploads) {
        if (u.initiated > cutoff || !u.key.starts_with(o_.prefix)) continue;
        abort_upload(u.key.substr(o_.prefix.size()), u.upload_id);
        ++n;
      }
      key_marker = page.next_key;
      id_marker = page.next_upload_id;
    } while (!key_marker.empty());
    return n;
  }

  // Endpoint-level checks for `fractfs doctor`.
  std::vector<Finding> diagnose() {
    std::vector<Finding> out;
    AwsCredentials c;
    try {
      c = creds_.get();
      std::string expiry = c.expires ? fmt::format(", temporary, expire in {} s", *c.expires - ::time(nullptr)) : "";
      out.push_back({"credentials", true, fmt::format("found: {}{}", c.source, expiry)});
    } catch (const StoreError& e) {
      out.push_back({"credentials", false, e.what()});
      return out;
    }
    // A listing of one key rather than a HEAD: errors come with a body that says why.
    Request req = bucket_request("GET", query({{"list-type", "2"}, {"max-keys", "1"}, {"prefix", o_.prefix}}));
    try {
      Response r = http_.perform(req);
      out.push_back({"endpoint reachable", true,
                     fmt::format("{} answered (region {}, {} addressing)", endpoint_, o_.region,
                                 o_.path_style ? "path" : "virtual-host")});
      if (endpoint_.starts_with("https://")) out.push_back({"TLS", true, "certificate trusted"});
      if (r.status == 200)
        out.push_back({"bucket", true, fmt::format("bucket '{}' exists and is readable", o_.bucket)});
      else out.push_back({"bucket", false, wording(r, "list", "")});
    } catch (const TransportError& e) {
      bool tls = std::string(e.what()).starts_with("TLS");
      out.push_back({tls ? "TLS" : "endpoint reachable", false, e.what()});
      return out;
    }
    if (auto skew = http_.clock_skew()) {
      bool ok = std::abs(*skew) < 300;
      out.push_back({"clock", ok,
                     ok ? fmt::format("within {:.0f} s of the server's", std::abs(*skew))
                        : fmt::format("this machine's clock is {:.0f} s {} the server's: S3 refuses "
                                      "requests beyond 15 minutes; fix the time (NTP)",
                                      std::abs(*skew), *skew > 0 ? "behind" : "ahead of")});
    }
    return out;
  }

 private:
  std::string trimmed_prefix() const {
    return o_.prefix.ends_with('/') ? o_.prefix.substr(0, o_.prefix.size() - 1) : o_.prefix;
  }

  std::string object_url(const std::string& key, const std::string& q = {}) const {
    return bucket_url_ + "/" + percent_encode(o_.prefix + key, true) + (q.empty() ? "" : "?" + q);
  }

  void sign(Request& req) {
    req.headers.push_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
    req.authorize = [this](CURL* h, std::vector<std::string>& headers) {
      AwsCredentials c = creds_.get();
      std::string sigv4 = "aws:amz:" + o_.region + ":s3";
      curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(h, CURLOPT_USERNAME, c.key.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, c.secret.c_str());
      if (!c.token.empty()) headers.push_back("x-amz-security-token: " + c.token);
    };
    req.classify = [](const Response& r) {
      if (r.status >= 500 || r.status == 429) return Verdict::retry;
      if (r.status == 400 || r.status == 403) {
        std::string c = s3xml::parse_error(r.body).value_or(s3xml::Error{}).code;
        if (c == "RequestTimeout" || c == "SlowDown") return Verdict::retry;
        if (c == "ExpiredToken" || c == "TokenRefreshRequired") return Verdict::refresh_and_retry;
      }
      return Verdict::done;
    };
    req.refresh = [this] { creds_.invalidate(); };
  }

  Request request(const char* method, const std::string& key, const std::string& q = {}) {
    Request req;
    req.method = method;
    req.url = object_url(key, q);
    sign(req);
    return req;
  }

  Request bucket_request(const char* method, const std::string& q) {
    Request req;
    req.method = method;
    req.url = bucket_url_ + "/" + (q.empty() ? "" : "?" + q);
    sign(req);
    return req;
  }

  void save_in_parts(const std::string& key, const Source& data) {
    BytesSource none("");
    Request init = request("POST", key, query({{"uploads", ""}}));
    init.body = &none;
    Response r = http_.perform(init);
    if (r.status != 200) fail(r, "start a multipart upload of", key);
    std::string id = s3xml::parse_upload_id(r.body);
    try {
      std::uint64_t size = data.size(), part = o_.part_size;
      std::size_t parts = static_cast<std::size_t>((size + part - 1) / part);
      std::vector<std::string> etags(parts);
      parallel_for(
          parts, std::min<unsigned>(o_.http.max_parallel, static_cast<unsigned>(parts)), [&](std::size_t i, unsigned) {
            SliceSource slice(data, i * part, std::min(part, size - i * part));
            Request put = request("PUT", key, query({{"partNumber", std::to_string(i + 1)}, {"uploadId", id}}));
            put.body = &slice;
            Response pr = http_.perform(put);
            if (pr.status != 200) fail(pr, fmt::format("write part {} of", i + 1).c_str(), key);
            etags[i] = pr.header("etag");
          });
      std::string xml = s3xml::complete_body(etags);
      BytesSource body(xml);
      Request done = request("POST", key, query({{"uploadId", id}}));
      done.body = &body;
      Response dr = http_.perform(done);
      // A 200 may still carry an <Error> (the server failed while answering).
      if (dr.status != 200 || s3xml::parse_error(dr.body)) fail(dr, "complete the multipart upload of", key);
    } catch (...) {
      try {
        abort_upload(key, id);
      } catch (const StoreError&) {
        // left for discard_abandoned()
      }
      throw;
    }
  }

  void abort_upload(const std::string& key, const std::string& id) {
    Response r = http_.perform(request("DELETE", key, query({{"uploadId", id}})));
    if (r.status != 204 && r.status != 200 && r.status != 404) fail(r, "abort the upload of", key);
  }

  static std::string code(const Response& r) {
    auto e = s3xml::parse_error(r.body);
    return e ? e->code : std::string();
  }

  std::string credentials_source() {
    try {
      return creds_.get().source;
    } catch (const StoreError&) {
      return "unknown";
    }
  }

  // What went wrong, in words that say what to fix.
  std::string wording(const Response& r, const char* op, const std::string& key) {
    auto e = s3xml::parse_error(r.body).value_or(s3xml::Error{});
    std::string where = key.empty() ? describe() : describe() + "/" + key;
    const std::string& c = e.code;
    if (c == "NoSuchBucket" || (r.status == 404 && key.empty()))
      return fmt::format("bucket '{}' does not exist at {}: create it, or fix remote_root", o_.bucket, endpoint_);
    if (c == "SignatureDoesNotMatch")
      return fmt::format(
          "signature mismatch at {}: check AWS_SECRET_ACCESS_KEY (credentials from {}) and the "
          "region ('{}')",
          endpoint_, credentials_source(), o_.region);
    if (c == "InvalidAccessKeyId")
      return fmt::format("{} does not know the access key: check AWS_ACCESS_KEY_ID (credentials from {})", endpoint_,
                         credentials_source());
    if (c == "RequestTimeTooSkewed")
      return fmt::format("this machine's clock is too far from {}'s: fix the time (NTP)", endpoint_);
    if (c == "AuthorizationHeaderMalformed" && !e.region.empty())
      return fmt::format("bucket '{}' is in region '{}', not '{}': set AWS_REGION={}", o_.bucket, e.region, o_.region,
                         e.region);
    if (c == "PermanentRedirect" || r.status == 301) {
      std::string region = r.header("x-amz-bucket-region");
      return fmt::format("bucket '{}' is in another region{}: set AWS_REGION{}", o_.bucket,
                         region.empty() ? "" : " ('" + region + "')", region.empty() ? "" : "=" + region);
    }
    if (c == "ExpiredToken")
      return fmt::format("the session token (from {}) has expired: renew the credentials", credentials_source());
    if (c == "AccessDenied" || (r.status == 403 && c.empty()))
      return fmt::format(
          "access denied: cannot {} {} with the credentials from {} (check their permissions, and "
          "AWS_SECRET_ACCESS_KEY)",
          op, where, credentials_source());
    if (c == "NotImplemented")
      return fmt::format("{} does not implement what '{}' needs ({}): this S3 server cannot hold fractfs checkpoints",
                         endpoint_, op, e.message);
    return fmt::format("cannot {} {}: HTTP {}{}{}", op, where, r.status, c.empty() ? "" : " " + c,
                       e.message.empty() ? "" : ": " + e.message);
  }

  [[noreturn]] void fail(const Response& r, const char* op, const std::string& key) {
    throw StoreError(wording(r, op, key));
  }

  S3Options o_;
  HttpClient http_;
  CredentialProvider creds_;
  std::string bucket_url_, endpoint_;
  std::atomic<bool> quoted_if_match_{false};
};

}  // namespace

std::unique_ptr<Store> open_s3_store(const S3Options& o) { return std::make_unique<S3Store>(o); }

std::vector<Finding> diagnose_s3(const S3Options& o) { return S3Store(o).diagnose(); }

}  // namespace fractfs::net
