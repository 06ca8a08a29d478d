// The generated tables of the catalog (written by catalog_generator.cc
// into the build folder); read only by catalog.cc.
#ifndef CBX_CORE_I18N_CATALOG_DATA_H_
#define CBX_CORE_I18N_CATALOG_DATA_H_

#include <cstddef>
#include <string_view>

namespace cbx::i18n::internal {

struct LanguageData {
  std::string_view code;          // "sr-Latn"
  std::string_view name;          // "srpski": its name in itself
  const std::string_view* texts;  // kMessageCount texts, in English's order
  bool transliterated;            // derived from another file (sr-Latn from sr)
};

extern const std::string_view kMessageNames[];
extern const size_t kMessageCount;
extern const LanguageData kLanguageData[];
extern const size_t kLanguageCount;

}  // namespace cbx::i18n::internal

#endif  // CBX_CORE_I18N_CATALOG_DATA_H_
