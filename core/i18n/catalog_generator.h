// The catalog's generator: the language files of i18n/ in, C++ out (a
// header of message ids and a source of tables), run by CMake at build
// time (generate_catalog_main.cc) so that the catalog is part of each
// binary and a new file is a new language after a rebuild.
//
// Languages: every file, English first, then the others by code; Serbian
// Latin (sr-Latn) is derived from the Cyrillic file (sr) by
// SerbianLatin, right after it, unless a file sr-Latn.txt exists.
//
// Threading: pure functions.
#ifndef CBX_CORE_I18N_CATALOG_GENERATOR_H_
#define CBX_CORE_I18N_CATALOG_GENERATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cbx::i18n {

struct LanguageFileText {
  std::string path;     // "i18n/mk.txt"; its stem is the language code
  std::string content;  // UTF-8
};

struct GeneratedCatalog {
  std::string header;              // core/i18n/message_ids.h
  std::string source;              // the tables (catalog_data.h's definitions)
  std::vector<std::string> codes;  // the languages, in catalog order
};

// The catalog of `files`. INVALID_ARGUMENT with every problem, one per
// line, each naming the file, the line and the message (catalog_file.h's
// checks against en.txt, which must be there), if there is any.
absl::StatusOr<GeneratedCatalog> GenerateCatalog(
    const std::vector<LanguageFileText>& files);

// The C++ constant for message `name`: "err.no_answer_in" → "kErrNoAnswerIn".
std::string ConstantName(const std::string& name);

}  // namespace cbx::i18n

#endif  // CBX_CORE_I18N_CATALOG_GENERATOR_H_
