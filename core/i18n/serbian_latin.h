// Serbian Cyrillic in Latin script: the standard one-to-one mapping of
// Serbian's two alphabets (Ђ→Đ, Љ→Lj, Џ→Dž, ...). The catalog derives its
// sr-Latn language from sr's file with it, so the two scripts never drift.
//
// Threading: pure function.
#ifndef CBX_CORE_I18N_SERBIAN_LATIN_H_
#define CBX_CORE_I18N_SERBIAN_LATIN_H_

#include <string>
#include <string_view>

namespace cbx::i18n {

// Serbian Cyrillic `text` (UTF-8) in Latin script; every other character
// unchanged. Љ, Њ, Џ in an all-capital word give LJ, NJ, DŽ.
std::string SerbianLatin(std::string_view text);

}  // namespace cbx::i18n

#endif  // CBX_CORE_I18N_SERBIAN_LATIN_H_
