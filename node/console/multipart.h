// A strict reader of multipart/form-data bodies (RFC 7578), for the console
// routes that take file uploads (spec/web-console.md §3): only what a
// browser's form sends is accepted, and anything else is refused naming
// what is wrong, so that a body is either read exactly or not at all.
//
// Accepted: the boundary from the Content-Type's `boundary` parameter
// (1 to 70 characters of RFC 2046's bchars, quoted or not); the body opens
// with the first delimiter (no preamble) and ends with the close delimiter,
// optionally followed by one CRLF (no other epilogue); each part has a
// `Content-Disposition: form-data; name="..."` header, optionally with
// `filename="..."`, and optionally a `Content-Type` header, nothing else;
// header lines end in CRLF. A part without filename is a text field: UTF-8
// without control characters other than tab, CR and LF (as ParseForm's
// values). A part with a filename is a file, kept byte for byte.
//
// Threading: pure functions.
#ifndef CBX_NODE_CONSOLE_MULTIPART_H_
#define CBX_NODE_CONSOLE_MULTIPART_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/console/html.h"

namespace cbx::node::console {

// One uploaded file. A browser sends an empty part with an empty filename
// for a file input left empty.
struct UploadedFile {
  std::string filename;      // as the browser sent it
  std::string content_type;  // the part's Content-Type, or ""
  std::string content;
};

// Uploaded files by their input's name.
using UploadedFiles = std::map<std::string, UploadedFile>;

struct MultipartForm {
  Form fields;          // the text parts
  UploadedFiles files;  // the file parts
};

// Reads `body` sent with Content-Type `content_type`. INVALID_ARGUMENT
// naming what is wrong ("part 2: no name"): a Content-Type that is not
// multipart/form-data with a valid boundary, a missing or misplaced
// delimiter, a header other than the two above or without CRLF, a header
// block over 8 KiB, a name or filename that is not UTF-8 text, two files
// of one name, a text field that is not text, or more than `max_parts`
// parts.
absl::StatusOr<MultipartForm> ParseMultipart(std::string_view content_type,
                                             std::string_view body,
                                             size_t max_parts = 64);

// The Content-Type's media type, lower case, without parameters
// ("multipart/form-data").
std::string MediaType(std::string_view content_type);

}  // namespace cbx::node::console

#endif  // CBX_NODE_CONSOLE_MULTIPART_H_
