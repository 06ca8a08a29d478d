// Small string helpers for the CLI's arguments and output.
//
// Debian's Abseil has its own absl::string_view, distinct from
// std::string_view, so absl::StrCat/StrJoin do not take the std::string_view
// values this code works with; these few helpers avoid converting at every
// call site.
#ifndef CBX_CLIENT_STRINGS_H_
#define CBX_CLIENT_STRINGS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cbx::client {

// Concatenates `parts` with `sep` between them.
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string Join(const std::vector<std::string_view>& parts,
                 std::string_view sep);

// Display width of UTF-8 text in a terminal: one column per code point
// (Latin, Cyrillic and Albanian text are all single-width). Invalid bytes
// count one column each.
size_t DisplayWidth(std::string_view utf8);

// ASCII upper-casing (member codes).
std::string AsciiUpper(std::string_view s);

// "1 hit", "3 hits": `n` and the word for that many.
std::string Plural(size_t n, std::string_view one, std::string_view many);

// `s` quoted for an error message: 'value'.
std::string Quoted(std::string_view s);

// `s` with every control character (C0, DEL, and C1 when encoded as UTF-8)
// replaced by '?', so that text from the node or a peer cannot move the
// cursor or change the terminal. Printable UTF-8 passes unchanged.
std::string SanitizeForTerminal(std::string_view s);

// Splits on '\n'; "" gives one empty line.
std::vector<std::string> SplitLines(std::string_view s);

}  // namespace cbx::client

#endif  // CBX_CLIENT_STRINGS_H_
