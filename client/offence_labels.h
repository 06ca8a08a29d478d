// Offence codes, their short names on the command line, and their display
// labels in the languages of the federation (spec/offence-codes.md; the
// texts are the message catalog's, core/i18n/catalog.h).
//
// Codes, never labels, cross the border: a label is how this CLI shows a code
// to its user, in the language the user chose with --lang.
#ifndef CBX_CLIENT_OFFENCE_LABELS_H_
#define CBX_CLIENT_OFFENCE_LABELS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/cases.pb.h"
#include "core/i18n/catalog.h"

namespace cbx::client {

// A display language: a language of the message catalog, by its BCP 47
// code (cnr: Montenegrin; sr-Latn: Serbian in Latin script, sr is
// Cyrillic). Which languages there are is the catalog's: one per file of
// i18n/.
using Lang = i18n::Lang;

// The languages that have a file of their own (the eight of
// spec/offence-codes.md, its columns, and any a translator added).
const std::vector<Lang>& AllLangs();
// Every display language: AllLangs() and those the catalog derives (sr-Latn,
// the Latin spelling of sr).
const std::vector<Lang>& AllDisplayLangs();
// "en", "mk", ..., "sr-Latn".
std::string_view LangCode(Lang lang);
// Parses a --lang or CBX_LANG value: any catalog language, case-insensitive,
// '_' as '-' ("MK", "sr_latn"); INVALID_ARGUMENT naming the accepted codes
// otherwise.
absl::StatusOr<Lang> ParseLang(std::string_view code);

// Every specified offence code (not OFFENCE_CODE_UNSPECIFIED).
const std::vector<v1::OffenceCode>& AllOffenceCodes();
// The command-line name of `code` ("ncii-sharing"); empty for
// OFFENCE_CODE_UNSPECIFIED and for values this CLI does not know.
std::string_view OffenceCodeName(v1::OffenceCode code);
// Parses a command-line name; INVALID_ARGUMENT listing the names otherwise.
absl::StatusOr<v1::OffenceCode> ParseOffenceCodeName(std::string_view name);
// The label of `code` in `lang`; "offence #N" for codes this CLI does not
// know (a newer node may send them).
std::string OffenceLabel(v1::OffenceCode code, Lang lang);

// The parameters an offence may carry.
enum class Qualifier { kAttempted, kAiManipulated, kMinorVictim };
const std::vector<Qualifier>& AllQualifiers();
// The command-line suffix ("attempted", "ai", "minor").
std::string_view QualifierName(Qualifier q);
std::string_view QualifierLabel(Qualifier q, Lang lang);
// Inverse of QualifierName; nullopt for anything else.
std::optional<Qualifier> ParseQualifierName(std::string_view name);
// Whether `offence` carries `q`, and setting it.
bool HasQualifier(const v1::Offence& offence, Qualifier q);
void SetQualifier(v1::Offence& offence, Qualifier q);

// "ncii-sharing+attempted+ai": the command-line form of `offence`.
std::string OffenceArgForm(const v1::Offence& offence);
// "<label> (attempted, AI-manipulated)" in `lang`.
std::string DescribeOffence(const v1::Offence& offence, Lang lang);

}  // namespace cbx::client

#endif  // CBX_CLIENT_OFFENCE_LABELS_H_
