// One language's file of the message catalog (i18n/<code>.txt): reading it
// and checking it against the English reference. Used by the generator
// that embeds the catalog at build time (generate_catalog.cc) and by its
// tests; the running binaries only see the generated tables (catalog.h).
//
// The format, for translators (client/README.md "Adding a language"):
//   - UTF-8 text, one message per line: `name = text`. The name is the
//     message's stable id (lower case, digits, '.', '_', '-'); the text is
//     everything after the first '=', without the spaces around it.
//   - Lines that are empty or start with '#' are ignored (comments).
//   - `{1}`, `{2}`, ... in a text are replaced by values at run time; a
//     translation has the same placeholders as the English text, in any
//     order.
//   - `language.code` is the file's language code (BCP 47, as its file
//     name) and `language.name` its name in itself ("македонски"), which
//     the console's language chooser shows.
//
// Threading: pure functions.
#ifndef CBX_CORE_I18N_CATALOG_FILE_H_
#define CBX_CORE_I18N_CATALOG_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cbx::i18n {

struct CatalogEntry {
  std::string name;
  std::string text;
  int line = 0;  // 1-based, for messages
};

struct CatalogFile {
  std::string path;                   // as given; names the file in messages
  std::string code;                   // its language.code
  std::string name;                   // its language.name
  std::vector<CatalogEntry> entries;  // in file order

  // The entry named `name`, or nullptr.
  const CatalogEntry* Find(std::string_view name) const;
};

// Parses `content`, the file at `path`. INVALID_ARGUMENT
// "<path>:<line>: ..." for a line that is not `name = text`, a bad name,
// an empty text, a name given twice, text that is not UTF-8 or holds a
// control character, or a file without language.code or language.name.
absl::StatusOr<CatalogFile> ParseCatalogFile(std::string_view path,
                                             std::string_view content);

// The placeholders of `text` ("{1}", "{2}"), sorted.
std::vector<std::string> Placeholders(std::string_view text);

// What is wrong with `file` measured against `english`, one line each,
// every line naming the file, the line and the message: a message English
// has that the file lacks, one English does not have, placeholders that
// differ, and a language.code other than `expected_code` (the file's
// name). Empty if nothing is.
std::vector<std::string> CheckAgainstEnglish(const CatalogFile& english,
                                             const CatalogFile& file,
                                             std::string_view expected_code);

}  // namespace cbx::i18n

#endif  // CBX_CORE_I18N_CATALOG_FILE_H_
