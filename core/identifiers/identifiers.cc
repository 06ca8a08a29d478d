#include "core/identifiers/identifiers.h"

#include <array>
#include <utility>

#include "core/crypto/sha256.h"
#include "core/identifiers/rules.h"
#include "core/identifiers/text.h"
#include "core/util/status_macros.h"

namespace cbx::identifiers {
namespace {

constexpr std::string_view kOprfInputPrefix = "cbx/v1/id";
constexpr std::string_view kTagPrefix = "cbx/v1/tag";

constexpr std::array<std::pair<v1::IdentifierType, std::string_view>, 7>
    kTypeNames = {{
        {v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID, "telegram_user_id"},
        {v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "telegram_username"},
        {v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, "telegram_chat"},
        {v1::IDENTIFIER_TYPE_PHONE, "phone"},
        {v1::IDENTIFIER_TYPE_EMAIL, "email"},
        {v1::IDENTIFIER_TYPE_PLATFORM_HANDLE, "platform_handle"},
        {v1::IDENTIFIER_TYPE_CONTENT_SHA256, "content_sha256"},
    }};

}  // namespace

std::string_view TypeName(v1::IdentifierType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "";
}

absl::StatusOr<v1::IdentifierType> ParseType(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  std::string valid;
  for (const auto& [t, n] : kTypeNames) {
    if (!valid.empty()) valid += ", ";
    valid += n;
  }
  return absl::InvalidArgumentError(internal::Quote(name) +
                                    " is not an identifier type; the types "
                                    "are " +
                                    valid);
}

absl::StatusOr<std::string> Normalize(v1::IdentifierType type,
                                      std::string_view value,
                                      std::string_view home_member) {
  std::string_view name = TypeName(type);
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "identifier type " + std::to_string(static_cast<int>(type)) +
        " is unspecified or unknown; choose one of telegram_user_id, "
        "telegram_username, telegram_chat, phone, email, platform_handle, "
        "content_sha256");
  }
  ASSIGN_OR_RETURN(std::string cleaned, internal::Clean(name, value));
  switch (type) {
    case v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID:
      return internal::NormalizeTelegramUserId(cleaned);
    case v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME:
      return internal::NormalizeTelegramUsername(cleaned);
    case v1::IDENTIFIER_TYPE_TELEGRAM_CHAT:
      return internal::NormalizeTelegramChat(cleaned);
    case v1::IDENTIFIER_TYPE_PHONE:
      return internal::NormalizePhone(cleaned, home_member);
    case v1::IDENTIFIER_TYPE_EMAIL:
      return internal::NormalizeEmail(cleaned);
    case v1::IDENTIFIER_TYPE_PLATFORM_HANDLE:
      return internal::NormalizePlatformHandle(cleaned);
    case v1::IDENTIFIER_TYPE_CONTENT_SHA256:
      return internal::NormalizeContentSha256(cleaned);
    default:
      // Unreachable: TypeName() named the type above.
      return absl::InvalidArgumentError("unknown identifier type");
  }
}

Bytes OprfInput(v1::IdentifierType type, std::string_view normalized_value) {
  std::string_view name = TypeName(type);
  Bytes out;
  out.reserve(kOprfInputPrefix.size() + name.size() + normalized_value.size() +
              2);
  out += kOprfInputPrefix;
  out.push_back('\0');
  out += name;
  out.push_back('\0');
  out += normalized_value;
  return out;
}

absl::StatusOr<Bytes> NormalizedOprfInput(v1::IdentifierType type,
                                          std::string_view value,
                                          std::string_view home_member) {
  ASSIGN_OR_RETURN(std::string normalized, Normalize(type, value, home_member));
  return OprfInput(type, normalized);
}

uint64_t TagOf(std::string_view y) {
  return ReadUint64BE(crypto::Sha256Concat({kTagPrefix, y}));
}

Bytes TagBytes(uint64_t tag) {
  Bytes out;
  AppendUint64BE(out, tag);
  return out;
}

absl::StatusOr<uint64_t> TagFromBytes(std::string_view bytes) {
  if (bytes.size() != kTagSize) {
    return absl::InvalidArgumentError("a tag is 8 bytes, got " +
                                      std::to_string(bytes.size()));
  }
  return ReadUint64BE(bytes);
}

absl::Status ValidateObservedWindow(int64_t from_ms, int64_t to_ms) {
  if (from_ms < 0 || to_ms < 0) {
    return absl::InvalidArgumentError(
        "observed window bounds are milliseconds since 1970 (0 = unknown); "
        "got a negative bound");
  }
  if (from_ms != 0 && to_ms != 0 && from_ms > to_ms) {
    return absl::InvalidArgumentError(
        "observed window ends (" + std::to_string(to_ms) +
        " ms) before it starts (" + std::to_string(from_ms) + " ms)");
  }
  return absl::OkStatus();
}

bool ObservedWindowsOverlap(int64_t a_from_ms, int64_t a_to_ms,
                            int64_t b_from_ms, int64_t b_to_ms) {
  // [a_from, a_to] and [b_from, b_to] overlap unless one ends before the
  // other starts; an unknown (0) bound never ends or starts anything.
  if (a_to_ms != 0 && b_from_ms != 0 && a_to_ms < b_from_ms) return false;
  if (b_to_ms != 0 && a_from_ms != 0 && b_to_ms < a_from_ms) return false;
  return true;
}

std::vector<PhoneCountry> PhoneCountries() {
  std::vector<PhoneCountry> out;
  for (internal::PhoneCountryRule& r : internal::PhoneCountryRules()) {
    out.push_back({std::move(r.member), std::move(r.country_code)});
  }
  return out;
}

std::string InternationalPhone(std::string_view value,
                               std::string_view member) {
  return internal::InNationalForm(value, member);
}

}  // namespace cbx::identifiers
