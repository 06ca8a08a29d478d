#include "core/i18n/catalog_file.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cbx::i18n {
namespace {

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Whether `s` is well-formed UTF-8 without control characters.
bool CleanUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (extra > 0 && i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

absl::Status LineError(std::string_view path, int line, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(A(path), ":", line, ": ", A(what)));
}

}  // namespace

const CatalogEntry* CatalogFile::Find(std::string_view name) const {
  for (const CatalogEntry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

absl::StatusOr<CatalogFile> ParseCatalogFile(std::string_view path,
                                             std::string_view content) {
  CatalogFile file;
  file.path = std::string(path);
  std::set<std::string, std::less<>> seen;
  int number = 0;
  size_t start = 0;
  if (content.substr(0, 3) == "\xEF\xBB\xBF") start = 3;  // a BOM
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = Trim(content.substr(start, end - start));
    start = end + 1;
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return LineError(path, number, "expected `name = text` (or a # comment)");
    }
    const std::string_view name = Trim(line.substr(0, eq));
    const std::string_view text = Trim(line.substr(eq + 1));
    if (!ValidName(name)) {
      return LineError(path, number,
                       absl::StrCat("\"", A(name),
                                    "\" is not a message name (a-z, 0-9, "
                                    "'.', '_', '-')"));
    }
    if (text.empty()) {
      return LineError(path, number,
                       absl::StrCat("message \"", A(name), "\" has no text"));
    }
    if (!CleanUtf8(text)) {
      return LineError(path, number,
                       absl::StrCat("message \"", A(name),
                                    "\" is not UTF-8 text without control "
                                    "characters"));
    }
    if (!seen.emplace(name).second) {
      return LineError(
          path, number,
          absl::StrCat("message \"", A(name), "\" is given a second time"));
    }
    file.entries.push_back({std::string(name), std::string(text), number});
  }
  const CatalogEntry* code = file.Find("language.code");
  const CatalogEntry* name = file.Find("language.name");
  if (code == nullptr || name == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(A(path),
                     ": names no language.code or language.name (the "
                     "file's language code and its name in itself)"));
  }
  file.code = code->text;
  file.name = name->text;
  return file;
}

std::vector<std::string> Placeholders(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] == '{' && text[i + 1] >= '1' && text[i + 1] <= '9' &&
        text[i + 2] == '}') {
      out.emplace_back(text.substr(i, 3));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> CheckAgainstEnglish(const CatalogFile& english,
                                             const CatalogFile& file,
                                             std::string_view expected_code) {
  std::vector<std::string> problems;
  if (file.code != expected_code) {
    problems.push_back(absl::StrCat(
        file.path, ":", file.Find("language.code")->line,
        ": message \"language.code\": is \"", file.code,
        "\" but the file is named for \"", A(expected_code), "\""));
  }
  for (const CatalogEntry& e : file.entries) {
    const CatalogEntry* en = english.Find(e.name);
    if (en == nullptr) {
      problems.push_back(absl::StrCat(file.path, ":", e.line, ": message \"",
                                      e.name, "\" is not in the English file (",
                                      english.path,
                                      "); a message is added there first"));
      continue;
    }
    const std::vector<std::string> want = Placeholders(en->text);
    const std::vector<std::string> have = Placeholders(e.text);
    if (have != want) {
      problems.push_back(
          absl::StrCat(file.path, ":", e.line, ": message \"", e.name,
                       "\" has placeholders [", absl::StrJoin(have, " "),
                       "] but the English text has [", absl::StrJoin(want, " "),
                       "] (", english.path, ":", en->line, ")"));
    }
  }
  for (const CatalogEntry& en : english.entries) {
    if (file.Find(en.name) == nullptr) {
      problems.push_back(absl::StrCat(file.path, ": lacks message \"", en.name,
                                      "\" (", english.path, ":", en.line,
                                      ": \"", en.text, "\")"));
    }
  }
  return problems;
}

}  // namespace cbx::i18n
