#include "sync/net/s3_xml.hpp"

#include <time.h>

#include <sstream>

#include <pugixml.hpp>

namespace fractfs::net::s3xml {
namespace {

pugi::xml_document load(const std::string& body, const char* what) {
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(body.data(), body.size());
  if (!r) throw StoreError(std::string("S3 answered a ") + what + " that is not XML (" + r.description() + ")");
  return doc;
}

std::string text(const pugi::xml_node& n, const char* child) { return n.child(child).text().as_string(); }

std::int64_t iso_time(const std::string& s) {
  struct tm tm = {};
  if (!::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<std::int64_t>(::timegm(&tm));
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

std::optional<Error> parse_error(const std::string& body) {
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node e = doc.child("Error");
  if (!e) return std::nullopt;
  return Error{text(e, "Code"), text(e, "Message"), text(e, "Region")};
}

ListPage parse_list(const std::string& body) {
  pugi::xml_document doc = load(body, "listing");
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) throw StoreError("S3 answered a listing without ListBucketResult");
  ListPage page;
  for (pugi::xml_node c : root.children("Contents"))
    page.objects.push_back({text(c, "Key"), c.child("Size").text().as_ullong(), unquote(text(c, "ETag")),
                            iso_time(text(c, "LastModified"))});
  if (root.child("IsTruncated").text().as_bool()) {
    page.next_token = text(root, "NextContinuationToken");
    if (page.next_token.empty()) throw StoreError("S3 listing is truncated but has no NextContinuationToken");
  }
  return page;
}

UploadsPage parse_uploads(const std::string& body) {
  pugi::xml_document doc = load(body, "list of uploads");
  pugi::xml_node root = doc.child("ListMultipartUploadsResult");
  if (!root) throw StoreError("S3 answered a list of uploads without ListMultipartUploadsResult");
  UploadsPage page;
  for (pugi::xml_node u : root.children("Upload"))
    page.uploads.push_back({text(u, "Key"), text(u, "UploadId"), iso_time(text(u, "Initiated"))});
  if (root.child("IsTruncated").text().as_bool()) {
    page.next_key = text(root, "NextKeyMarker");
    page.next_upload_id = text(root, "NextUploadIdMarker");
  }
  return page;
}

std::string parse_upload_id(const std::string& body) {
  pugi::xml_document doc = load(body, "multipart upload");
  std::string id = text(doc.child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) throw StoreError("S3 started a multipart upload without an UploadId");
  return id;
}

std::string complete_body(const std::vector<std::string>& etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node p = root.append_child("Part");
    p.append_child("PartNumber").text().set(static_cast<unsigned long long>(i + 1));
    p.append_child("ETag").text().set(etags[i].c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace fractfs::net::s3xml
