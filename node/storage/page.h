// Cursors of the storage's newest-first listings (hits, notifications):
// "<time>:<id>" of the last item of a page, where id orders items added at
// the same time (the row id, or the insertion position in memory).
#ifndef CBX_NODE_STORAGE_PAGE_H_
#define CBX_NODE_STORAGE_PAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace cbx::node {

struct TimeIdCursor {
  int64_t time = 0;
  int64_t id = 0;
};

std::string FormatTimeIdCursor(const TimeIdCursor& cursor);
// INVALID_ARGUMENT for anything FormatTimeIdCursor did not make.
absl::StatusOr<TimeIdCursor> ParseTimeIdCursor(const std::string& text);

// The cursor of ListUnstagedIdentifiers: "<type>:<normalized value>" of the
// last identifier value of a page.
struct IdentifierCursor {
  int64_t type = 0;
  std::string normalized_value;
};
std::string FormatIdentifierCursor(const IdentifierCursor& cursor);
// INVALID_ARGUMENT for anything FormatIdentifierCursor did not make.
absl::StatusOr<IdentifierCursor> ParseIdentifierCursor(const std::string& text);

}  // namespace cbx::node

#endif  // CBX_NODE_STORAGE_PAGE_H_
