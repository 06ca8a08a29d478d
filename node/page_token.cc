#include "node/page_token.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cbx::node {

// Opaque to offices: URL-safe base64 of "<listing>\n<filter>\n<cursor>".
std::string PageToken(const std::string& listing, const std::string& filter,
                      const std::string& cursor) {
  if (cursor.empty()) return "";
  return absl::WebSafeBase64Escape(
      absl::StrCat(listing, "\n", filter, "\n", cursor));
}

absl::StatusOr<PageRequest> ReadPage(const std::string& listing,
                                     const std::string& filter,
                                     uint32_t page_size,
                                     const std::string& page_token) {
  PageRequest page;
  page.limit =
      page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
  if (page_token.empty()) return page;
  std::string raw;
  std::vector<std::string> parts;
  if (absl::WebSafeBase64Unescape(page_token, &raw)) {
    parts = absl::StrSplit(raw, absl::MaxSplits('\n', 2));
  }
  if (parts.size() != 3 || parts[0] != listing || parts[2].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: not a token this node gave for ", listing));
  }
  if (parts[1] != filter) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: made for another filter of ", listing,
        "; repeat the first request's filter or start again without a token"));
  }
  page.after = parts[2];
  return page;
}

}  // namespace cbx::node
