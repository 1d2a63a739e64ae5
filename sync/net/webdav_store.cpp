// The WebDAV backend: keys are files below a collection (RFC 4918: PUT,
// GET, DELETE, MKCOL, MOVE, COPY, PROPFIND). Parent collections are made
// on demand (a PUT into a missing one answers 409). Listing walks level by
// level with PROPFIND Depth: 1, since many servers refuse Depth: infinity.
//
// The pointer scheme (swap_pointer). WebDAV has no conditional PUT that
// servers agree on, but a MOVE of a collection with "Overwrite: F" never
// replaces an existing collection: the server answers 412, and a server
// that moves with rename(2) (nginx, Apache) cannot replace a non-empty
// directory even when two MOVEs race past its existence check. So:
//
//   KEY.pointer/0/                  genesis, never deleted
//   KEY.pointer/N/value             version N's value
//   KEY.pointer/N/next/value        the claim of version N+1 (its value)
//
// To replace version N (or create: N = 0), a writer stages a collection
// holding its value and MOVEs it to KEY.pointer/N/next with Overwrite: F:
// only one MOVE can succeed, so only one writer wins. The winner then
// COPYs N/next to N+1 (Overwrite: F; anyone who finds N/next without N+1
// finishes that copy, so a crash between the two steps loses nothing) and
// deletes versions below N. A writer still holding an old version either
// finds its N/next taken (412) or its N gone (409): it cannot win. Readers
// take the highest N, and N/next when it is there.
#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "sync/net/http.hpp"
#include "sync/net/net.hpp"
#include "sync/net/url.hpp"
#include "sync/parallel.hpp"

namespace fractfs::net {
namespace {

constexpr std::string_view kPointerSuffix = ".pointer";

std::string slot_name(std::uint64_t n) { return fmt::format("{:020}", n); }

std::optional<std::uint64_t> parse_slot(std::string_view name) {
  if (name.size() != 20 || name.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::strtoull(std::string(name).c_str(), nullptr, 10);
}

std::string process_tag() {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{:x}-{}-{}", std::chrono::steady_clock::now().time_since_epoch().count(), ::getpid(), counter++);
}

struct Entry {
  std::string name;  // the leaf, decoded
  bool collection = false;
  std::uint64_t size = 0;
  std::string etag;
  std::int64_t mtime = 0;
};

// An HTTP date (RFC 9110, "Sun, 06 Nov 1994 08:49:37 GMT") in seconds since
// the epoch; 0 when it is not one.
std::int64_t http_time(const char* s) {
  struct tm tm = {};
  return ::strptime(s, "%a, %d %b %Y %H:%M:%S", &tm) ? static_cast<std::int64_t>(::timegm(&tm)) : 0;
}

// The entries of a PROPFIND Depth: 1 answer, the collection itself left out.
std::vector<Entry> parse_propfind(const std::string& body, const std::string& self_path) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size()))
    throw StoreError("the WebDAV server answered a PROPFIND with something that is not XML");
  std::vector<Entry> out;
  // Elements are namespaced ("D:response", "d:response", "response"): match on local names.
  auto local = [](const pugi::xml_node& n) {
    std::string_view name = n.name();
    std::size_t colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
  };
  auto child = [&](const pugi::xml_node& n, std::string_view want) {
    for (pugi::xml_node c : n.children())
      if (local(c) == want) return c;
    return pugi::xml_node();
  };
  pugi::xml_node root = doc.first_child();
  if (local(root) != "multistatus") throw StoreError("the WebDAV server's PROPFIND answer has no multistatus");
  for (pugi::xml_node resp : root.children()) {
    if (local(resp) != "response") continue;
    std::string href = child(resp, "href").text().as_string();
    if (std::size_t scheme = href.find("://"); scheme != std::string::npos)
      href = href.substr(std::min(href.size(), href.find('/', scheme + 3)));
    auto decoded = percent_decode(href);
    if (!decoded) continue;
    std::string path = *decoded;
    bool trailing = path.ends_with('/');
    if (trailing) path.pop_back();
    std::string self = self_path.ends_with('/') ? self_path.substr(0, self_path.size() - 1) : self_path;
    if (path == self || !path.starts_with(self + "/")) continue;
    Entry e;
    e.name = path.substr(self.size() + 1);
    if (e.name.empty() || e.name.find('/') != std::string::npos) continue;
    e.collection = trailing;
    for (pugi::xml_node ps : resp.children()) {
      if (local(ps) != "propstat") continue;
      pugi::xml_node prop = child(ps, "prop");
      if (child(child(prop, "resourcetype"), "collection")) e.collection = true;
      if (pugi::xml_node len = child(prop, "getcontentlength")) e.size = len.text().as_ullong();
      if (pugi::xml_node tag = child(prop, "getetag")) e.etag = tag.text().as_string();
      if (pugi::xml_node m = child(prop, "getlastmodified")) e.mtime = http_time(m.text().as_string());
    }
    out.push_back(std::move(e));
  }
  return out;
}

class WebDavStore final : public Store {
 public:
  explicit WebDavStore(WebDavOptions o) : o_(std::move(o)), http_(o_.http) {
    Url u = *parse_url(o_.base_url);
    origin_ = u.origin();
    base_path_ = u.path.empty() ? "/" : u.path;
    if (!base_path_.ends_with('/')) base_path_ += '/';
  }

  std::string describe() const override { return origin_ + base_path_.substr(0, base_path_.size() - 1); }

  Capabilities caps() const override { return {true, true, o_.http.max_parallel, 0}; }

  bool load(const std::string& key, const Sink& sink, Range range) override {
    if (range.length == 0) return stat(key).has_value();
    Request req = request("GET", path_of(key));
    req.sink = &sink;
    req.range = range;
    Response r = http_.perform(req);
    if (r.status == 200 || r.status == 206 || r.status == 416) return true;
    if (r.status == 404) return false;
    fail(r, "read", key);
  }

  void save(const std::string& key, const Source& data) override { put_path(path_of(key), data, key); }

  std::optional<ObjectInfo> stat(const std::string& key) override {
    Request req = request("HEAD", path_of(key));
    req.no_body = true;
    Response r = http_.perform(req);
    if (r.status == 404) return std::nullopt;
    if (r.status != 200) fail(r, "stat", key);
    return ObjectInfo{key, std::strtoull(r.header("content-length").c_str(), nullptr, 10), r.header("etag")};
  }

  void remove(const std::string& key) override {
    Response r = http_.perform(request("DELETE", path_of(key)));
    if (r.status == 204 || r.status == 200 || r.status == 404) return;
    fail(r, "delete", key);
  }

  void walk(const std::string& prefix, const std::function<void(const ObjectInfo&)>& each) override {
    std::mutex mu;
    std::vector<std::string> level{prefix};
    while (!level.empty()) {
      std::vector<std::string> next;
      for_each_parallel(*this, level.size(), [&](std::size_t i) {
        const std::string& dir = level[i];
        auto entries = propfind(dir.empty() ? base_path_ : path_of(dir) + "/");
        std::lock_guard<std::mutex> lock(mu);
        for (const Entry& e : entries) {
          std::string key = dir.empty() ? e.name : dir + "/" + e.name;
          if (e.collection) {
            if (!e.name.ends_with(kPointerSuffix)) next.push_back(key);
          } else {
            each(ObjectInfo{key, e.size, e.etag, e.mtime});
          }
        }
      });
      level = std::move(next);
    }
  }

  std::optional<Pointer> read_pointer(const std::string& key) override {
    for (int attempt = 0; attempt < 5; ++attempt) {
      std::string dir = path_of(key) + std::string(kPointerSuffix) + "/";
      std::optional<std::vector<Entry>> entries = propfind_or_none(dir);
      if (!entries) return std::nullopt;
      std::uint64_t top = 0;
      for (const Entry& e : *entries)
        if (auto n = parse_slot(e.name)) top = std::max(top, *n);
      if (auto v = get_small(dir + slot_name(top) + "/next/value")) {
        promote(dir, top);
        return Pointer{std::move(*v), std::to_string(top + 1)};
      }
      if (top == 0) return std::nullopt;
      if (auto v = get_small(dir + slot_name(top) + "/value")) return Pointer{std::move(*v), std::to_string(top)};
      // Moved on while we looked: look again.
    }
    throw StoreError(fmt::format("{}/{}: the pointer kept changing while it was read", describe(), key));
  }

  SwapResult swap_pointer(const std::string& key, const std::optional<std::string>& expected,
                          std::string_view value) override {
    std::string dir = path_of(key) + std::string(kPointerSuffix) + "/";
    std::uint64_t base = 0;
    if (expected) {
      auto n = parse_slot(fmt::format("{:0>20}", *expected));
      if (!n || *n == 0) return {false, read_pointer(key)};
      base = *n;
    } else {
      make_collections(dir + slot_name(0) + "/");
    }
    std::string stage = dir + "stage-" + process_tag() + "/";
    mkcol(stage, key);
    BytesSource body(value);
    put_path(stage + "value", body, key);
    std::string claim = dir + slot_name(base) + "/next";
    Request mv = request("MOVE", stage);
    mv.headers.push_back("Destination: " + origin_ + percent_encode(claim + "/", true));
    mv.headers.push_back("Overwrite: F");
    mv.idempotent = false;
    std::optional<Response> r;
    try {
      r = http_.perform(mv);
    } catch (const TransportError& e) {
      if (e.permanent) throw;
    }
    bool won = r && (r->status == 201 || r->status == 204);
    if (!won) {
      // Lost (412: taken; 409: that version is gone), or unsure: the claim decides.
      auto claimed = get_small(claim + "/value");
      won = claimed && *claimed == value;
      delete_path(stage);
      if (!won && r && r->status != 412 && r->status != 409 && r->status != 404 && r->status != 403 && r->status < 500)
        fail(*r, "switch", key);
    }
    if (!won) return {false, read_pointer(key)};
    promote(dir, base);
    for (std::uint64_t old : old_slots(dir, base)) delete_path(dir + slot_name(old) + "/");
    return {true, Pointer{std::string(value), std::to_string(base + 1)}};
  }

  void remove_pointer(const std::string& key) override {
    Response r = http_.perform(request("DELETE", path_of(key) + std::string(kPointerSuffix) + "/"));
    if (r.status != 204 && r.status != 200 && r.status != 404) fail(r, "delete", key);
  }

  void flush() override {}  // a PUT is stored when the server answers

  std::uint64_t discard_abandoned(std::int64_t older_than_s) override {
    // Staged pointer values of writers that died before their MOVE. (A PUT
    // that is cut off leaves nothing: servers store the body first.)
    std::uint64_t n = 0;
    std::vector<std::string> pointers;
    std::function<void(const std::string&)> scan = [&](const std::string& dir) {
      for (const Entry& e : propfind_or_none(dir).value_or(std::vector<Entry>{})) {
        if (!e.collection) continue;
        if (e.name.ends_with(kPointerSuffix)) pointers.push_back(dir + e.name + "/");
        else scan(dir + e.name + "/");
      }
    };
    scan(base_path_);
    for (const std::string& p : pointers) {
      for (const Entry& e : propfind_or_none(p).value_or(std::vector<Entry>{})) {
        if (!e.name.starts_with("stage-")) continue;
        if (older_than_s > 0 && !older_than(p + e.name + "/", older_than_s)) continue;
        delete_path(p + e.name + "/");
        ++n;
      }
    }
    return n;
  }

  std::vector<Finding> diagnose() {
    std::vector<Finding> out;
    Request req = request("PROPFIND", base_path_);
    req.headers.push_back("Depth: 0");
    try {
      Response r = http_.perform(req);
      out.push_back({"endpoint reachable", true, origin_ + " answered"});
      if (origin_.starts_with("https://")) out.push_back({"TLS", true, "certificate trusted"});
      if (r.status == 401 || r.status == 403) out.push_back({"credentials", false, wording(r, "open", "")});
      else if (r.status == 404)
        out.push_back({"collection", true, fmt::format("{} is not there yet: the first write makes it", describe())});
      else if (r.status == 207) out.push_back({"collection", true, describe() + " exists"});
      else out.push_back({"collection", false, wording(r, "open", "")});
    } catch (const TransportError& e) {
      bool tls = std::string(e.what()).starts_with("TLS");
      out.push_back({tls ? "TLS" : "endpoint reachable", false, e.what()});
    }
    if (auto skew = http_.clock_skew()) {
      bool ok = std::abs(*skew) < 300;
      out.push_back({"clock", ok,
                     fmt::format("{:.0f} s from the server's{}", std::abs(*skew),
                                 ok ? "" : ": fix the time (NTP); leases rely on it")});
    }
    return out;
  }

 private:
  std::string path_of(const std::string& key) const {
    if (key.empty() || key.front() == '/' || key.find("..") != std::string::npos)
      throw StoreError("invalid store key '" + key + "'");
    return base_path_ + key;
  }

  Request request(const char* method, const std::string& path) {
    Request req;
    req.method = method;
    req.url = origin_ + percent_encode(path, true);
    if (!o_.bearer.empty()) {
      req.headers.push_back("Authorization: Bearer " + o_.bearer);
    } else if (!o_.user.empty()) {
      req.authorize = [this](CURL* h, std::vector<std::string>&) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, o_.user.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, o_.password.c_str());
      };
    }
    return req;
  }

  // A PUT into a missing collection answers 409 (RFC 4918), or 404, or 500
  // (nginx without create_full_put_path): the first try is not retried on
  // those; MKCOLs follow, then PUTs retried as any request.
  void put_path(const std::string& path, const Source& data, const std::string& key) {
    for (int tries = 0;; ++tries) {
      Request req = request("PUT", path);
      req.body = &data;
      if (tries == 0)
        req.classify = [](const Response& r) {
          return (r.status > 500 || r.status == 429) ? Verdict::retry : Verdict::done;
        };
      Response r = http_.perform(req);
      if (r.status == 200 || r.status == 201 || r.status == 204) return;
      if ((r.status == 409 || r.status == 404 || r.status == 500) && tries < 2) {  // a parent collection is missing?
        if (tries == 1) {  // made once and removed since: forget what we knew
          std::lock_guard<std::mutex> lock(mu_);
          made_.clear();
        }
        make_collections(path.substr(0, path.rfind('/') + 1));
        continue;
      }
      fail(r, "write", key);
    }
  }

  // MKCOL of every collection from the store's base down to `dir` (ending in '/').
  void make_collections(const std::string& dir) {
    std::size_t from = 1;
    while (true) {
      std::size_t slash = dir.find('/', from);
      if (slash == std::string::npos) break;
      std::string col = dir.substr(0, slash + 1);
      from = slash + 1;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (made_.count(col)) continue;
      }
      mkcol(col, "");
    }
  }

  void mkcol(const std::string& col, const std::string& key) {
    Response r = http_.perform(request("MKCOL", col));
    // 405: it exists already. 409 for a parent above the store we may not see.
    if (r.status == 201 || r.status == 405 || r.status == 200) {
      std::lock_guard<std::mutex> lock(mu_);
      made_.insert(col);
      return;
    }
    if (r.status == 409 && col.size() <= base_path_.size()) return;
    if (r.status == 403 && col.size() < base_path_.size()) return;
    fail(r, "create the collection for", key.empty() ? col : key);
  }

  std::vector<Entry> propfind(const std::string& dir) {
    auto e = propfind_or_none(dir);
    return e ? *e : std::vector<Entry>{};
  }

  std::optional<std::vector<Entry>> propfind_or_none(const std::string& dir) {
    Request req = request("PROPFIND", dir);
    req.headers.push_back("Depth: 1");
    req.headers.push_back("Content-Type: application/xml");
    static const std::string kBody =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/>"
        "<D:getcontentlength/><D:getetag/><D:getlastmodified/></D:prop></D:propfind>";
    BytesSource body(kBody);
    req.body = &body;
    Response r = http_.perform(req);
    if (r.status == 404) return std::nullopt;
    if (r.status != 207) fail(r, "list", dir);
    return parse_propfind(r.body, dir);
  }

  std::optional<std::string> get_small(const std::string& path) {
    std::string out;
    Sink sink = [&](std::string_view b) { out.append(b); };
    Request req = request("GET", path);
    req.sink = &sink;
    Response r = http_.perform(req);
    if (r.status == 404 || r.status == 409) return std::nullopt;
    if (r.status != 200) fail(r, "read", path);
    return out;
  }

  bool older_than(const std::string& path, std::int64_t seconds) {
    Request req = request("PROPFIND", path);
    req.headers.push_back("Depth: 0");
    Response r = http_.perform(req);
    pugi::xml_document doc;
    if (r.status != 207 || !doc.load_buffer(r.body.data(), r.body.size())) return false;
    for (pugi::xpath_node n : doc.select_nodes("//*[local-name()='getlastmodified']"))
      if (std::int64_t t = http_time(n.node().text().as_string())) return ::time(nullptr) - t > seconds;
    return false;
  }

  void delete_path(const std::string& path) {
    try {
      http_.perform(request("DELETE", path));
    } catch (const StoreError&) {
      // garbage, left for the next cleanup
    }
  }

  // Copies the claim N/next to version N+1 (Overwrite: F: never over a newer state).
  void promote(const std::string& dir, std::uint64_t n) {
    Request cp = request("COPY", dir + slot_name(n) + "/next/");
    cp.headers.push_back("Destination: " + origin_ + percent_encode(dir + slot_name(n + 1) + "/", true));
    cp.headers.push_back("Overwrite: F");
    cp.headers.push_back("Depth: infinity");
    Response r = http_.perform(cp);
    if (r.status != 201 && r.status != 204 && r.status != 412) fail(r, "switch", dir);
  }

  std::vector<std::uint64_t> old_slots(const std::string& dir, std::uint64_t below) {
    std::vector<std::uint64_t> out;
    for (const Entry& e : propfind(dir))
      if (auto n = parse_slot(e.name); n && *n > 0 && *n < below) out.push_back(*n);
    return out;
  }

  std::string wording(const Response& r, const char* op, const std::string& key) const {
    std::string where = key.empty() ? describe() : describe() + "/" + key;
    if (r.status == 401)
      return fmt::format(
          "{} refused the credentials (HTTP 401): check FRACTFS_HTTP_USER and FRACTFS_HTTP_PASSWORD, "
          "or FRACTFS_HTTP_BEARER",
          origin_);
    if (r.status == 403) return fmt::format("access denied: cannot {} {} (HTTP 403)", op, where);
    if (r.status == 405 || r.status == 501)
      return fmt::format(
          "{} does not allow {} here (HTTP {}): is it a WebDAV server, with PUT, DELETE, MKCOL, "
          "MOVE, COPY and PROPFIND enabled?",
          origin_, op, r.status);
    if (r.status == 413)
      return fmt::format(
          "{} refused the size of {} (HTTP 413): raise its upload limit "
          "(nginx: client_max_body_size 0)",
          origin_, where);
    if (r.status == 507) return fmt::format("cannot {} {}: the server is out of space (HTTP 507)", op, where);
    return fmt::format("cannot {} {}: HTTP {}", op, where, r.status);
  }

  [[noreturn]] void fail(const Response& r, const char* op, const std::string& key) const {
    throw StoreError(wording(r, op, key));
  }

  WebDavOptions o_;
  HttpClient http_;
  std::string origin_, base_path_;
  std::mutex mu_;
  std::set<std::string> made_;
};

}  // namespace

std::unique_ptr<Store> open_webdav_store(const WebDavOptions& o) { return std::make_unique<WebDavStore>(o); }

std::vector<Finding> diagnose_webdav(const WebDavOptions& o) { return WebDavStore(o).diagnose(); }

}  // namespace fractfs::net
