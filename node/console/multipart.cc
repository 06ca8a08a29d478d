#include "node/console/multipart.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace cbx::node::console {
namespace {

constexpr size_t kMaxHeaderBlock = 8 * 1024;
constexpr std::string_view kCrlf = "\r\n";

absl::Status Bad(const std::string& what) {
  return absl::InvalidArgumentError(what);
}

absl::Status BadPart(size_t part, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("part ", part, ": ", what));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

// RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space.
bool ValidBoundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  for (char c : b) {
    const bool ok =
        absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
        std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A header's `; key=value` parameters after its first token, each value
// quoted or a token. A browser percent-encodes a quote in a name, so a
// quoted value ends at the next quote. Keys lower case.
absl::StatusOr<std::map<std::string, std::string>> Parameters(
    std::string_view rest, const std::string& where) {
  std::map<std::string, std::string> out;
  while (!(rest = Trim(rest)).empty()) {
    if (rest.front() != ';') {
      return Bad(absl::StrCat(where, ": parameters must be separated by ';'"));
    }
    rest = Trim(rest.substr(1));
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) {
      return Bad(absl::StrCat(where, ": a parameter has no '='"));
    }
    std::string key = Lower(Trim(rest.substr(0, eq)));
    rest = Trim(rest.substr(eq + 1));
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      const size_t close = rest.find('"', 1);
      if (close == std::string_view::npos) {
        return Bad(absl::StrCat(where, ": an unterminated quoted value"));
      }
      value = std::string(rest.substr(1, close - 1));
      rest = rest.substr(close + 1);
    } else {
      const size_t end = rest.find(';');
      value = std::string(Trim(rest.substr(0, end)));
      rest = end == std::string_view::npos ? "" : rest.substr(end);
    }
    if (key.empty() || !out.emplace(key, std::move(value)).second) {
      return Bad(absl::StrCat(where, ": parameter '", key,
                              "' is empty or given twice"));
    }
  }
  return out;
}

absl::StatusOr<std::string> Boundary(std::string_view content_type) {
  if (MediaType(content_type) != "multipart/form-data") {
    return Bad("the Content-Type is not multipart/form-data");
  }
  const size_t semi = content_type.find(';');
  if (semi == std::string_view::npos)
    return Bad("the Content-Type has no boundary");
  absl::StatusOr<std::map<std::string, std::string>> params =
      Parameters(content_type.substr(semi), "the Content-Type");
  if (!params.ok()) return params.status();
  auto b = params->find("boundary");
  if (b == params->end()) return Bad("the Content-Type has no boundary");
  if (!ValidBoundary(b->second)) {
    return Bad("the Content-Type's boundary is not 1 to 70 valid characters");
  }
  return b->second;
}

struct PartHeaders {
  std::string name;
  std::string filename;
  bool has_filename = false;
  std::string content_type;
};

// The header block of part `n` (its lines, without the blank line).
absl::StatusOr<PartHeaders> ReadHeaders(size_t n, std::string_view block) {
  PartHeaders h;
  bool disposition = false, type = false;
  while (!block.empty()) {
    const size_t eol = block.find(kCrlf);
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? "" : block.substr(eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        line.substr(0, colon) != Trim(line.substr(0, colon))) {
      return BadPart(n, "a header line is not 'Name: value'");
    }
    const std::string field = Lower(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (absl::Status s = CheckText(value, false); !s.ok()) {
      return BadPart(n, absl::StrCat("header ", field, ": ", s.message()));
    }
    if (field == "content-type" && !type) {
      type = true;
      h.content_type = std::string(value);
      continue;
    }
    if (field != "content-disposition" || disposition) {
      return BadPart(n, absl::StrCat("header '", field,
                                     "' is not accepted here or given twice"));
    }
    disposition = true;
    const size_t semi = value.find(';');
    if (Lower(Trim(value.substr(0, semi))) != "form-data") {
      return BadPart(n, "the Content-Disposition is not form-data");
    }
    absl::StatusOr<std::map<std::string, std::string>> params =
        Parameters(semi == std::string_view::npos ? "" : value.substr(semi),
                   absl::StrCat("part ", n, ": Content-Disposition"));
    if (!params.ok()) return params.status();
    for (auto& [key, v] : *params) {
      if (key == "name") {
        h.name = std::move(v);
      } else if (key == "filename") {
        h.filename = std::move(v);
        h.has_filename = true;
      } else {
        return BadPart(n, absl::StrCat("unknown parameter '", key, "'"));
      }
    }
  }
  if (!disposition) return BadPart(n, "no Content-Disposition header");
  if (h.name.empty()) return BadPart(n, "no name");
  return h;
}

absl::Status Keep(size_t n, PartHeaders h, std::string_view content,
                  MultipartForm& form) {
  if (!h.has_filename) {
    if (absl::Status s = CheckText(content, true); !s.ok()) {
      return BadPart(n, absl::StrCat("field ", h.name, ": ", s.message()));
    }
    form.fields[h.name].emplace_back(content);
    return absl::OkStatus();
  }
  UploadedFile file{std::move(h.filename), std::move(h.content_type),
                    std::string(content)};
  if (!form.files.emplace(h.name, std::move(file)).second) {
    return BadPart(n, absl::StrCat("a second file named ", h.name));
  }
  return absl::OkStatus();
}

}  // namespace

std::string MediaType(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

absl::StatusOr<MultipartForm> ParseMultipart(std::string_view content_type,
                                             std::string_view body,
                                             size_t max_parts) {
  absl::StatusOr<std::string> boundary = Boundary(content_type);
  if (!boundary.ok()) return boundary.status();
  const std::string delimiter = "--" + *boundary;
  const std::string next_delimiter = "\r\n" + delimiter;
  if (body.substr(0, delimiter.size()) != delimiter) {
    return Bad("the body does not begin with the boundary");
  }
  MultipartForm form;
  size_t pos = delimiter.size();
  for (size_t n = 1;; ++n) {
    if (body.substr(pos, 2) == "--") {
      const std::string_view rest = body.substr(pos + 2);
      if (rest.empty() || rest == kCrlf) return form;
      return Bad("there is data after the closing boundary");
    }
    if (body.substr(pos, 2) != kCrlf) {
      return BadPart(n, "the boundary is not followed by CRLF");
    }
    pos += 2;
    if (n > max_parts) {
      return Bad(absl::StrCat("the form has more than ", max_parts, " parts"));
    }
    const size_t blank = body.substr(pos, kMaxHeaderBlock + 4).find("\r\n\r\n");
    if (blank == std::string_view::npos) {
      return BadPart(n, "its headers do not end in a blank line within 8 KiB");
    }
    absl::StatusOr<PartHeaders> headers =
        ReadHeaders(n, body.substr(pos, blank));
    if (!headers.ok()) return headers.status();
    const size_t start = pos + blank + 4;
    const size_t end = body.find(next_delimiter, start);
    if (end == std::string_view::npos) {
      return BadPart(n, "no boundary after its content");
    }
    if (absl::Status s =
            Keep(n, *std::move(headers), body.substr(start, end - start), form);
        !s.ok()) {
      return s;
    }
    pos = end + next_delimiter.size();
  }
}

}  // namespace cbx::node::console
