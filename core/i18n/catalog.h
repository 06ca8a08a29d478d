// The message catalog: every text an office reads, from the cbx CLI and
// the web console alike, in every language of the federation. One file
// per language in i18n/ (catalog_file.h has the format), checked against
// English and embedded into the binaries at build time (cbx_i18n_gen), so
// a translator adds a language by adding one file and rebuilding.
//
// Serbian comes in Cyrillic (sr) and Latin (sr-Latn) script: sr-Latn is
// sr's file transliterated (serbian_latin.h), so the two never drift,
// unless a file sr-Latn.txt exists.
//
// Threading: immutable tables; thread-safe.
#ifndef CBX_CORE_I18N_CATALOG_H_
#define CBX_CORE_I18N_CATALOG_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/i18n/message_id.h"
#include "core/i18n/message_ids.h"  // generated: msg::kCase, ...

namespace cbx::i18n {

// A language, by its BCP 47 code as the catalog spells it ("mk",
// "sr-Latn"). Which languages exist is the catalog's (Languages()), not
// this type's: the constants below name the federation's languages for
// code and tests that need one; a language the catalog lacks reads as
// English.
class Lang {
 public:
  constexpr Lang() = default;  // English
  // `code` must outlive the Lang: a literal, or a code from the catalog
  // (FindLanguage, ParseLang, Languages).
  constexpr explicit Lang(std::string_view code) : code_(code) {}
  constexpr std::string_view code() const { return code_; }
  friend bool operator==(Lang a, Lang b) { return a.code_ == b.code_; }
  friend bool operator!=(Lang a, Lang b) { return a.code_ != b.code_; }

  static const Lang kEn, kMk, kSr, kSrLatn, kBs, kHr, kCnr, kSq, kSl;

 private:
  std::string_view code_ = "en";
};
inline constexpr Lang Lang::kEn{"en"};
inline constexpr Lang Lang::kMk{"mk"};
inline constexpr Lang Lang::kSr{"sr"};
inline constexpr Lang Lang::kSrLatn{"sr-Latn"};
inline constexpr Lang Lang::kBs{"bs"};
inline constexpr Lang Lang::kHr{"hr"};
inline constexpr Lang Lang::kCnr{"cnr"};
inline constexpr Lang Lang::kSq{"sq"};
inline constexpr Lang Lang::kSl{"sl"};

// Every language of the catalog: English first, then the files' languages
// by code, sr-Latn right after sr.
const std::vector<Lang>& Languages();
// Whether `lang` is one of Languages().
bool InCatalog(Lang lang);
// Whether the catalog derives `lang` from another language's file rather
// than from a file of its own (sr-Latn from sr).
bool IsTransliteration(Lang lang);
// The language of `code` in the catalog, case-insensitive, '_' as '-'
// ("MK", "sr_latn"); nullopt if the catalog has none.
std::optional<Lang> FindLanguage(std::string_view code);
// FindLanguage, or INVALID_ARGUMENT "unknown language ..." listing the
// catalog's codes and names. `code` is quoted as given: a caller that
// prints to a terminal sanitizes the message.
absl::StatusOr<Lang> ParseLang(std::string_view code);
// The language's name in itself ("македонски"), for a chooser.
std::string_view LanguageName(Lang lang);
// "en (English), bs (bosanski), ...": every language, for messages.
std::string LanguageList();

// The best language for an HTTP Accept-Language header: the catalog's
// language of the highest q-value tag (RFC 9110 §12.5.4), a tag matching
// exactly (case-insensitive) or by dropping subtags from its end ("sr-RS"
// → sr, "sr-Latn-RS" → sr-Latn); tags with q=0, "*" and tags the catalog
// has no language for are skipped. English if none matches.
Lang BestLanguage(std::string_view accept_language);

// The text of `id` in `lang` (in English if the catalog lacks `lang`).
std::string_view Text(MessageId id, Lang lang);
// Text with "{1}", "{2}", ... replaced by args[0], args[1], ...
std::string Format(MessageId id, Lang lang,
                   std::initializer_list<std::string_view> args);
// `text` with "{1}", "{2}", ... replaced by args[0], args[1], ...; a
// placeholder without an argument is left as it is.
std::string Substitute(std::string_view text,
                       std::initializer_list<std::string_view> args);
// The message's name in the files ("case_token").
std::string_view MessageName(MessageId id);
// How many messages the catalog has (English's).
size_t MessageCount();

}  // namespace cbx::i18n

#endif  // CBX_CORE_I18N_CATALOG_H_
