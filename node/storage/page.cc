#include "node/storage/page.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cbx::node {

std::string FormatTimeIdCursor(const TimeIdCursor& cursor) {
  return absl::StrCat(cursor.time, ":", cursor.id);
}

absl::StatusOr<TimeIdCursor> ParseTimeIdCursor(const std::string& text) {
  const size_t colon = text.find(':');
  TimeIdCursor cursor;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(text.substr(0, colon), &cursor.time) ||
      !absl::SimpleAtoi(text.substr(colon + 1), &cursor.id)) {
    return absl::InvalidArgumentError(
        "not a cursor of this listing: expected <time>:<id>");
  }
  return cursor;
}

std::string FormatIdentifierCursor(const IdentifierCursor& cursor) {
  return absl::StrCat(cursor.type, ":", cursor.normalized_value);
}

absl::StatusOr<IdentifierCursor> ParseIdentifierCursor(
    const std::string& text) {
  const size_t colon = text.find(':');
  IdentifierCursor cursor;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(text.substr(0, colon), &cursor.type)) {
    return absl::InvalidArgumentError(
        "not a cursor of this listing: expected <type>:<value>");
  }
  cursor.normalized_value = text.substr(colon + 1);
  return cursor;
}

}  // namespace cbx::node
