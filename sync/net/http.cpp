#include "sync/net/http.hpp"

#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <exception>
#include <random>
#include <thread>

#include <fmt/format.h>

namespace fractfs::net {
namespace {

constexpr std::size_t kMaxErrorBody = 1 << 20;

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::optional<double> parse_http_date(const std::string& v) {
  struct tm tm = {};
  const char* end = ::strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return std::nullopt;
  return static_cast<double>(::timegm(&tm));
}

// Curl errors that no retry can fix.
bool permanent(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_LOGIN_DENIED:
    case CURLE_OUT_OF_MEMORY: return true;
    default: return false;
  }
}

// Errors after which the request may have reached the server.
bool maybe_sent(CURLcode rc) {
  return rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST && rc != CURLE_COULDNT_RESOLVE_PROXY;
}

std::string describe_failure(CURLcode rc, const std::string& url, const char* detail) {
  std::string origin = origin_of(url);
  std::string what = *detail ? detail : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return fmt::format("cannot resolve the host of {} ({}): check the endpoint URL", origin, what);
    case CURLE_COULDNT_CONNECT:
      return fmt::format("cannot reach {} ({}): check the endpoint URL and that the server is up", origin, what);
    case CURLE_OPERATION_TIMEDOUT: return fmt::format("{} did not answer in time ({})", origin, what);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return fmt::format(
          "TLS: the certificate of {} is not trusted ({}): for a private CA, set AWS_CA_BUNDLE "
          "(or CURL_CA_BUNDLE, SSL_CERT_FILE) to its PEM file",
          origin, what);
    case CURLE_SSL_CONNECT_ERROR: return fmt::format("TLS handshake with {} failed ({})", origin, what);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return fmt::format("bad URL '{}' ({})", url, what);
    default: return fmt::format("request to {} failed ({})", origin, what);
  }
}

}  // namespace

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string origin_of(const std::string& url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One try's state, shared with curl's callbacks.
struct HttpClient::Attempt {
  const Request* req = nullptr;
  CURL* h = nullptr;
  Response resp;
  std::uint64_t read_pos = 0;
  static constexpr std::uint64_t kUnknown = ~std::uint64_t{0};
  std::uint64_t delivered = 0;                // bytes given to the sink, over all tries
  std::uint64_t want_from = 0, want_end = 0;  // the object's bytes still wanted
  std::uint64_t body_pos = kUnknown;          // object offset of this response's next byte
  bool resuming = false;
  std::string etag;          // of the body being streamed, to resume it
  std::exception_ptr error;  // what a Source or Sink threw
  char errbuf[CURL_ERROR_SIZE] = {};

  long status() const {
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    auto* a = static_cast<Attempt*>(self);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      a->resp.headers.clear();
    } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
      a->resp.headers[lower(std::string(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    return size * n;
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self) {
    auto* a = static_cast<Attempt*>(self);
    std::size_t len = size * n;
    long code = a->status();
    if (!a->req->sink || code < 200 || code >= 300) {
      if (a->resp.body.size() < kMaxErrorBody) a->resp.body.append(data, std::min(len, kMaxErrorBody));
      return len;
    }
    if (a->body_pos == kUnknown) {  // first bytes: a 206 starts where we asked, a 200 at 0
      a->body_pos = code == 206 ? a->want_from : 0;
      if (!a->resuming) a->etag = a->resp.header("etag");
    }
    // Deliver the part of [body_pos, body_pos + len) inside [want_from, want_end).
    std::uint64_t lo = std::max(a->body_pos, a->want_from);
    std::uint64_t hi = std::min(a->body_pos + len, a->want_end);
    a->body_pos += len;
    if (lo >= hi) return len;
    std::string_view chunk(data + (lo - (a->body_pos - len)), hi - lo);
    try {
      (*a->req->sink)(chunk);
    } catch (...) {
      a->error = std::current_exception();
      return 0;
    }
    a->delivered += chunk.size();
    a->want_from += chunk.size();
    return len;
  }

  static size_t on_read(char* buf, size_t size, size_t n, void* self) {
    auto* a = static_cast<Attempt*>(self);
    try {
      std::size_t got = a->req->body->read_at(a->read_pos, buf, size * n);
      a->read_pos += got;
      return got;
    } catch (...) {
      a->error = std::current_exception();
      return CURL_READFUNC_ABORT;
    }
  }

  static int on_seek(void* self, curl_off_t offset, int origin) {
    auto* a = static_cast<Attempt*>(self);
    if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
    a->read_pos = static_cast<std::uint64_t>(offset);
    return CURL_SEEKFUNC_OK;
  }
};

HttpClient::HttpClient(HttpOptions opt) : opt_(std::move(opt)) {
  global_init();
  if (opt_.max_parallel == 0) opt_.max_parallel = 1;
}

HttpClient::~HttpClient() {
  for (CURL* h : idle_) curl_easy_cleanup(h);
}

// A handle (and so a kept-alive connection) for one request; waits while
// max_parallel requests are in flight.
CURL* HttpClient::take() {
  std::unique_lock<std::mutex> lock(mu_);
  slot_free_.wait(lock, [&] { return in_flight_ < opt_.max_parallel; });
  ++in_flight_;
  if (!idle_.empty()) {
    CURL* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  lock.unlock();
  CURL* h = curl_easy_init();
  if (!h) {
    std::lock_guard<std::mutex> relock(mu_);
    --in_flight_;
    slot_free_.notify_one();
    throw StoreError("cannot create an HTTP handle (out of memory)");
  }
  return h;
}

void HttpClient::give(CURL* h) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(h);
  --in_flight_;
  slot_free_.notify_one();
}

std::optional<double> HttpClient::clock_skew() const {
  std::lock_guard<std::mutex> lock(mu_);
  return skew_;
}

void HttpClient::backoff(int attempt) const {
  thread_local std::minstd_rand rng(std::random_device{}());
  long cap = std::min(opt_.backoff_max_ms, opt_.backoff_base_ms << std::min(attempt, 20));
  long ms = cap / 2 + static_cast<long>(rng() % static_cast<unsigned long>(cap / 2 + 1));  // "equal jitter"
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

Response HttpClient::once(const Request& req, Attempt& a) {
  CURL* h = take();
  struct Give {
    HttpClient* c;
    CURL* h;
    ~Give() { c->give(h); }
  } give_back{this, h};
  curl_easy_reset(h);
  a.h = h;
  a.resp = Response{};
  a.read_pos = 0;
  a.errbuf[0] = '\0';

  std::vector<std::string> headers = req.headers;
  if (req.sink) {
    const Range& r = req.range;
    a.want_from = r.offset + a.delivered;
    a.want_end = r.length == Range::kToEnd ? Range::kToEnd : r.offset + r.length;
    a.body_pos = Attempt::kUnknown;
    if (a.want_from > 0 || a.want_end != Range::kToEnd) {
      std::string last = a.want_end == Range::kToEnd ? "" : std::to_string(a.want_end - 1);
      headers.push_back(fmt::format("Range: bytes={}-{}", a.want_from, last));
    }
    a.resuming = a.delivered > 0;
    if (a.resuming) headers.push_back("If-Match: " + a.etag);
  }
  if (req.authorize) req.authorize(h, headers);

  curl_slist* list = nullptr;
  for (const std::string& line : headers) list = curl_slist_append(list, line.c_str());
  struct Free {
    curl_slist* l;
    ~Free() { curl_slist_free_all(l); }
  } free_list{list};

  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a.errbuf);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, opt_.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, opt_.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, opt_.low_speed_s);
  if (!req.body && !req.sink) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, opt_.request_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!opt_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opt_.ca_bundle.c_str());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Attempt::on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Attempt::on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
  if (req.no_body) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (req.body) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body->size()));
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &Attempt::on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &a);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &Attempt::on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &a);
  }
  if (req.method != "GET" || req.body) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());

  CURLcode rc = curl_easy_perform(h);
  if (a.error) std::rethrow_exception(a.error);
  if (auto date = a.resp.headers.find("date"); date != a.resp.headers.end()) {
    if (auto server = parse_http_date(date->second)) {
      double ours = static_cast<double>(::time(nullptr));
      std::lock_guard<std::mutex> lock(mu_);
      skew_ = *server - ours;
    }
  }
  if (rc != CURLE_OK) throw TransportError(describe_failure(rc, req.url, a.errbuf), permanent(rc), maybe_sent(rc));
  a.resp.status = a.status();
  return a.resp;
}

Response HttpClient::perform(const Request& req) {
  Attempt a;
  a.req = &req;
  double start = now_s();
  for (int attempt = 1;; ++attempt) {
    bool last = attempt >= opt_.max_attempts || (now_s() - start) * 1000 >= static_cast<double>(opt_.retry_deadline_ms);
    try {
      Response r = once(req, a);
      if (a.resuming && r.status == 412)
        throw StoreError(fmt::format("{}: the object changed while it was read", req.url));
      Verdict v = req.classify                                              ? req.classify(r)
                  : (r.status >= 500 || r.status == 429 || r.status == 408) ? Verdict::retry
                                                                            : Verdict::done;
      if (v == Verdict::done || last || !req.idempotent) return r;
      if (v == Verdict::refresh_and_retry && req.refresh) req.refresh();
    } catch (const TransportError& e) {
      if (e.permanent || last || (!req.idempotent && e.maybe_sent)) {
        if (attempt == 1) throw;
        throw TransportError(fmt::format("{} (after {} attempts over {:.1f} s)", e.what(), attempt, now_s() - start),
                             e.permanent, e.maybe_sent);
      }
      if (req.sink && a.delivered > 0 && a.etag.empty())
        throw StoreError(std::string(e.what()) + " (mid-body, and the object has no ETag to resume it safely)");
    }
    ++retries_;
    backoff(attempt - 1);
  }
}

}  // namespace fractfs::net
