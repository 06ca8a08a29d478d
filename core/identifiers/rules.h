// The normalization rule of each identifier type (spec/identifiers.md,
// "Rules"). Internal to core/identifiers: Normalize applies the common steps
// (text.h, Clean) and then one of these to the cleaned value, which is
// non-empty, valid UTF-8, trimmed and free of controls and invisible
// formatting characters. Each returns the normalized value or
// INVALID_ARGUMENT worded for the office that entered it.
#ifndef CBX_CORE_IDENTIFIERS_RULES_H_
#define CBX_CORE_IDENTIFIERS_RULES_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cbx::identifiers::internal {

// telegram_rules.cc
absl::StatusOr<std::string> NormalizeTelegramUserId(std::string_view value);
absl::StatusOr<std::string> NormalizeTelegramUsername(std::string_view value);
absl::StatusOr<std::string> NormalizeTelegramChat(std::string_view value);

// account_rules.cc
// `home_member`: the member whose office entered the value ("" unknown); a
// number in national form is refused with that country's fix.
// See PhoneCountries and InternationalPhone (identifiers.h).
struct PhoneCountryRule {
  std::string member;
  std::string country_code;
};
std::vector<PhoneCountryRule> PhoneCountryRules();
std::string InNationalForm(std::string_view value, std::string_view member);

absl::StatusOr<std::string> NormalizePhone(std::string_view value,
                                           std::string_view home_member);
absl::StatusOr<std::string> NormalizeEmail(std::string_view value);
absl::StatusOr<std::string> NormalizePlatformHandle(std::string_view value);

// content_rules.cc
absl::StatusOr<std::string> NormalizeContentSha256(std::string_view value);

}  // namespace cbx::identifiers::internal

#endif  // CBX_CORE_IDENTIFIERS_RULES_H_
