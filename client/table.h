// Aligned plain-text tables for the CLI's default output.
#ifndef CBX_CLIENT_TABLE_H_
#define CBX_CLIENT_TABLE_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cbx::client {

// A table of text cells rendered in aligned columns, two spaces apart, with
// a header row. A cell may hold several lines ('\n'); the row then spans as
// many lines and the other cells are blank below their first line. Widths
// count UTF-8 code points, so Cyrillic and Albanian text aligns. Not
// thread-safe.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Appends a row. Missing trailing cells are blank; extra cells are
  // dropped.
  void AddRow(std::vector<std::string> cells);

  size_t row_count() const { return rows_.size(); }

  // The columns (by index) a Render with a `max_width` shows; the others
  // only at full width (--wide). Default: all.
  void SetNarrowColumns(std::vector<size_t> columns) {
    narrow_columns_ = std::move(columns);
  }

  // The header and every row, each line ending in '\n', without trailing
  // spaces. With `max_width` (> 0) the widest columns are narrowed, one
  // character at a time, until a line fits in `max_width` characters (or
  // every column is down to 6); text cut short ends in an ellipsis '…'.
  std::string Render(size_t max_width = 0) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> narrow_columns_;
};

// "key   value" lines with the values aligned, each line prefixed with
// `indent` spaces; a multi-line value continues under its first line.
std::string RenderFields(
    const std::vector<std::pair<std::string, std::string>>& fields,
    size_t indent = 0);

}  // namespace cbx::client

#endif  // CBX_CLIENT_TABLE_H_
