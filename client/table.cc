#include "client/table.h"

#include <algorithm>

#include "client/strings.h"

namespace cbx::client {
namespace {

constexpr std::string_view kGap = "  ";

void AppendPadded(std::string& out, const std::string& text, size_t width) {
  out += text;
  size_t w = DisplayWidth(text);
  if (w < width) out.append(width - w, ' ');
}

// `text` cut to `width` code points, its last one an ellipsis if cut.
std::string Truncated(const std::string& text, size_t width) {
  if (DisplayWidth(text) <= width) return text;
  if (width == 0) return "";
  std::string out;
  size_t points = 0, i = 0;
  while (i < text.size() && points + 1 < width) {
    size_t len = 1;
    while (i + len < text.size() &&
           (static_cast<unsigned char>(text[i + len]) & 0xC0) == 0x80) {
      ++len;
    }
    out.append(text, i, len);
    i += len;
    ++points;
  }
  return out + "\u2026";
}

// Narrows the widest columns, one character at a time, until the row
// (columns and gaps) fits `max_width` or every column is at its floor
// (kMinColumn, or its own width if less).
void Fit(std::vector<size_t>& widths, size_t max_width) {
  constexpr size_t kMinColumn = 6;
  auto total = [&] {
    size_t t = widths.empty() ? 0 : kGap.size() * (widths.size() - 1);
    for (size_t w : widths) t += w;
    return t;
  };
  while (total() > max_width) {
    size_t widest = 0;
    for (size_t c = 1; c < widths.size(); ++c) {
      if (widths[c] > widths[widest]) widest = c;
    }
    if (widths.empty() || widths[widest] <= kMinColumn) return;
    --widths[widest];
  }
}

void TrimTrailingSpaces(std::string& line) {
  size_t end = line.find_last_not_of(' ');
  line.erase(end == std::string::npos ? 0 : end + 1);
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render(size_t max_width) const {
  if (max_width > 0 && !narrow_columns_.empty()) {
    Table narrow({});
    for (size_t c : narrow_columns_) {
      if (c < headers_.size()) narrow.headers_.push_back(headers_[c]);
    }
    for (const auto& row : rows_) {
      std::vector<std::string> cells;
      for (size_t c : narrow_columns_) {
        if (c < row.size()) cells.push_back(row[c]);
      }
      narrow.rows_.push_back(std::move(cells));
    }
    return narrow.Render(max_width);
  }
  // Split every cell into its lines once, then size the columns.
  std::vector<std::vector<std::vector<std::string>>> rows;
  rows.reserve(rows_.size() + 1);
  std::vector<std::vector<std::string>> header;
  for (const std::string& h : headers_) header.push_back({h});
  rows.push_back(std::move(header));
  for (const auto& row : rows_) {
    std::vector<std::vector<std::string>> split;
    for (const std::string& cell : row) split.push_back(SplitLines(cell));
    rows.push_back(std::move(split));
  }
  std::vector<size_t> widths(headers_.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      for (const std::string& line : row[c]) {
        widths[c] = std::max(widths[c], DisplayWidth(line));
      }
    }
  }
  std::vector<size_t> natural = widths;
  if (max_width > 0) Fit(widths, max_width);
  std::string out;
  for (const auto& row : rows) {
    size_t height = 1;
    for (const auto& cell : row) height = std::max(height, cell.size());
    for (size_t l = 0; l < height; ++l) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) {
        if (c > 0) line += kGap;
        static const std::string kEmpty;
        const std::string& text = l < row[c].size() ? row[c][l] : kEmpty;
        AppendPadded(line,
                     widths[c] < natural[c] ? Truncated(text, widths[c]) : text,
                     widths[c]);
      }
      TrimTrailingSpaces(line);
      out += line;
      out += '\n';
    }
  }
  return out;
}

std::string RenderFields(
    const std::vector<std::pair<std::string, std::string>>& fields,
    size_t indent) {
  size_t key_width = 0;
  for (const auto& [key, value] : fields) {
    key_width = std::max(key_width, DisplayWidth(key));
  }
  std::string out;
  for (const auto& [key, value] : fields) {
    std::vector<std::string> lines = SplitLines(value);
    for (size_t l = 0; l < lines.size(); ++l) {
      std::string line(indent, ' ');
      AppendPadded(line, l == 0 ? key : std::string(), key_width);
      line += kGap;
      line += lines[l];
      TrimTrailingSpaces(line);
      out += line;
      out += '\n';
    }
  }
  return out;
}

}  // namespace cbx::client
