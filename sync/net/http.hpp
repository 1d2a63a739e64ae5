// HTTP for the network stores, through libcurl: a pool of reused
// connections, a timeout on every request, bounded retries with
// exponential backoff and jitter for what may pass (connect errors, 5xx,
// 429, a body cut mid-way), and at once a plain error for what cannot.
// Never linked into libfractfs.so.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sync/store.hpp"

typedef void CURL;

namespace fractfs::net {

struct HttpOptions {
  long connect_timeout_ms = 10000;
  long request_timeout_ms = 60000;  // a request without a body to stream
  long low_speed_bytes = 1024;      // a transfer slower than this ...
  long low_speed_s = 30;            // ... for this long is cut and retried
  int max_attempts = 6;             // first try included
  long backoff_base_ms = 200;       // doubles each retry, with jitter
  long backoff_max_ms = 8000;
  long retry_deadline_ms = 120000;  // no new attempt after this (from the first)
  unsigned max_parallel = 8;        // requests in flight at once
  std::string ca_bundle;            // CURLOPT_CAINFO when set
};

// Requests are retried unless one of them says otherwise.
enum class Verdict { done, retry, refresh_and_retry };

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // unless a sink took it
  std::string header(const std::string& name) const;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  const Source* body = nullptr;      // read again on a retry
  const Sink* sink = nullptr;        // takes a 2xx body; others go to Response::body
  Range range;                       // for GET into a sink: resumed after a cut
  bool idempotent = true;            // false: no retry once the request may have been sent
  bool no_body = false;              // HEAD
  // Sets the credentials on the handle, per attempt (they may be refreshed).
  std::function<void(CURL*, std::vector<std::string>& headers)> authorize;
  // Decides on an HTTP status: the default retries 5xx and 429.
  std::function<Verdict(const Response&)> classify;
  std::function<void()> refresh;  // called before a refresh_and_retry
};

// A transport failure (no HTTP status): what and where, already worded.
class TransportError : public StoreError {
 public:
  TransportError(const std::string& msg, bool permanent, bool maybe_sent)
      : StoreError(msg), permanent(permanent), maybe_sent(maybe_sent) {}
  bool permanent;   // no retry can help (TLS trust, a bad URL)
  bool maybe_sent;  // the server may have acted on the request
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions opt);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Runs the request with retries. Returns the last response (any status:
  // the caller words HTTP errors); throws TransportError when no response
  // came, or what a Source or Sink threw.
  Response perform(const Request& req);

  const HttpOptions& options() const noexcept { return opt_; }
  // The server's clock (Date header) minus ours, in seconds, from the last response.
  std::optional<double> clock_skew() const;
  // Attempts that were retried so far (for tests and status).
  std::uint64_t retries() const noexcept { return retries_.load(); }

 private:
  struct Attempt;
  CURL* take();
  void give(CURL* h);
  Response once(const Request& req, Attempt& a);
  void backoff(int attempt) const;

  HttpOptions opt_;
  mutable std::mutex mu_;
  std::vector<CURL*> idle_;
  unsigned in_flight_ = 0;
  std::condition_variable slot_free_;
  std::optional<double> skew_;
  std::atomic<std::uint64_t> retries_{0};
};

// Once per program, before any thread: curl_global_init.
void global_init();

// "https://host:port" of a URL, for messages.
std::string origin_of(const std::string& url);

}  // namespace fractfs::net
