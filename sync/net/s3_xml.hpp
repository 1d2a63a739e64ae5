// The S3 XML documents fractfs reads and writes, through pugixml.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sync/store.hpp"

namespace fractfs::net::s3xml {

struct Error {
  std::string code, message, region;  // region: AuthorizationHeaderMalformed's hint
};
// The <Error> document in a body, if it is one.
std::optional<Error> parse_error(const std::string& body);

struct ListPage {
  std::vector<ObjectInfo> objects;  // keys as stored (with the store's prefix)
  std::string next_token;           // "" on the last page
};
ListPage parse_list(const std::string& body);  // ListObjectsV2; throws StoreError

struct Upload {
  std::string key, upload_id;
  std::int64_t initiated = 0;  // seconds since the epoch
};
struct UploadsPage {
  std::vector<Upload> uploads;
  std::string next_key, next_upload_id;  // both "" on the last page
};
UploadsPage parse_uploads(const std::string& body);    // ListMultipartUploads
std::string parse_upload_id(const std::string& body);  // InitiateMultipartUploadResult

// CompleteMultipartUpload from the parts' ETags, in part order.
std::string complete_body(const std::vector<std::string>& etags);

}  // namespace fractfs::net::s3xml
