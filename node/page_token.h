// Paging of the Office's listings (spec/office-api.md §2.4): the opaque
// page_token an office is given, which carries the storage's cursor with
// the listing and filter it was made for, so that a token is never applied
// to another listing. Stateless functions; thread-safe.
#ifndef CBX_NODE_PAGE_TOKEN_H_
#define CBX_NODE_PAGE_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "node/storage/storage.h"

namespace cbx::node {

// Page size when the office gives none, and the most one page holds.
inline constexpr uint32_t kDefaultPageSize = 100;
inline constexpr uint32_t kMaxPageSize = 1000;

// The token for the page after storage cursor `cursor` of `listing`
// (e.g. "ListCases") under `filter`; empty when `cursor` is (last page).
std::string PageToken(const std::string& listing, const std::string& filter,
                      const std::string& cursor);

// The storage page an office's request asks for: page_size 0 is the
// default, larger than the maximum is the maximum. INVALID_ARGUMENT for a
// token this node did not give for `listing`, or gave for another filter.
absl::StatusOr<PageRequest> ReadPage(const std::string& listing,
                                     const std::string& filter,
                                     uint32_t page_size,
                                     const std::string& page_token);

}  // namespace cbx::node

#endif  // CBX_NODE_PAGE_TOKEN_H_
