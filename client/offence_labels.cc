#include "client/offence_labels.h"

#include <array>
#include <cstddef>

#include "absl/status/status.h"
#include "client/strings.h"

namespace cbx::client {
namespace {

struct OffenceEntry {
  v1::OffenceCode code;
  std::string_view name;
  i18n::MessageId label;
};

// Keep in step with spec/offence-codes.md (its labels are the catalog's).
constexpr std::array<OffenceEntry, 7> kOffences = {{
    {v1::OFFENCE_CODE_NCII_SHARING, "ncii-sharing",
     i18n::msg::kOffenceNciiSharing},
    {v1::OFFENCE_CODE_NCII_THREAT, "ncii-threat",
     i18n::msg::kOffenceNciiThreat},
    {v1::OFFENCE_CODE_CYBER_STALKING, "cyber-stalking",
     i18n::msg::kOffenceCyberStalking},
    {v1::OFFENCE_CODE_CYBER_HARASSMENT, "cyber-harassment",
     i18n::msg::kOffenceCyberHarassment},
    {v1::OFFENCE_CODE_CYBER_INCITEMENT, "cyber-incitement",
     i18n::msg::kOffenceCyberIncitement},
    {v1::OFFENCE_CODE_CSAM, "csam", i18n::msg::kOffenceCsam},
    {v1::OFFENCE_CODE_GROUP_ADMINISTRATION, "group-admin",
     i18n::msg::kOffenceGroupAdministration},
}};

struct QualifierEntry {
  Qualifier qualifier;
  std::string_view name;
  i18n::MessageId label;
};

constexpr std::array<QualifierEntry, 3> kQualifiers = {{
    {Qualifier::kAttempted, "attempted", i18n::msg::kQualifierAttempted},
    {Qualifier::kAiManipulated, "ai", i18n::msg::kQualifierAi},
    {Qualifier::kMinorVictim, "minor", i18n::msg::kQualifierMinor},
}};

const OffenceEntry* FindOffence(v1::OffenceCode code) {
  for (const OffenceEntry& e : kOffences) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

const QualifierEntry& FindQualifier(Qualifier q) {
  for (const QualifierEntry& e : kQualifiers) {
    if (e.qualifier == q) return e;
  }
  return kQualifiers[0];  // unreachable: every Qualifier is in the table
}

}  // namespace

const std::vector<Lang>& AllLangs() {
  static const std::vector<Lang> langs = [] {
    std::vector<Lang> v;
    for (Lang lang : i18n::Languages()) {
      if (!i18n::IsTransliteration(lang)) v.push_back(lang);
    }
    return v;
  }();
  return langs;
}

const std::vector<Lang>& AllDisplayLangs() { return i18n::Languages(); }

std::string_view LangCode(Lang lang) { return lang.code(); }

absl::StatusOr<Lang> ParseLang(std::string_view code) {
  if (std::optional<Lang> lang = i18n::FindLanguage(code)) return *lang;
  return absl::InvalidArgumentError("unknown language \"" +
                                    SanitizeForTerminal(code) +
                                    "\"; use one of " + i18n::LanguageList());
}

const std::vector<v1::OffenceCode>& AllOffenceCodes() {
  static const std::vector<v1::OffenceCode> codes = [] {
    std::vector<v1::OffenceCode> v;
    for (const OffenceEntry& e : kOffences) v.push_back(e.code);
    return v;
  }();
  return codes;
}

std::string_view OffenceCodeName(v1::OffenceCode code) {
  const OffenceEntry* e = FindOffence(code);
  return e == nullptr ? std::string_view() : e->name;
}

absl::StatusOr<v1::OffenceCode> ParseOffenceCodeName(std::string_view name) {
  for (const OffenceEntry& e : kOffences) {
    if (e.name == name) return e.code;
  }
  std::vector<std::string_view> names;
  for (const OffenceEntry& e : kOffences) names.push_back(e.name);
  return absl::InvalidArgumentError("unknown offence code \"" +
                                    std::string(name) + "\"; use one of " +
                                    Join(names, ", "));
}

std::string OffenceLabel(v1::OffenceCode code, Lang lang) {
  const OffenceEntry* e = FindOffence(code);
  if (e == nullptr) {
    return "offence #" + std::to_string(static_cast<int>(code));
  }
  return std::string(i18n::Text(e->label, lang));
}

const std::vector<Qualifier>& AllQualifiers() {
  static const std::vector<Qualifier> qualifiers = {Qualifier::kAttempted,
                                                    Qualifier::kAiManipulated,
                                                    Qualifier::kMinorVictim};
  return qualifiers;
}

std::string_view QualifierName(Qualifier q) { return FindQualifier(q).name; }

std::string_view QualifierLabel(Qualifier q, Lang lang) {
  return i18n::Text(FindQualifier(q).label, lang);
}

std::optional<Qualifier> ParseQualifierName(std::string_view name) {
  for (const QualifierEntry& e : kQualifiers) {
    if (e.name == name) return e.qualifier;
  }
  return std::nullopt;
}

bool HasQualifier(const v1::Offence& offence, Qualifier q) {
  switch (q) {
    case Qualifier::kAttempted:
      return offence.attempted();
    case Qualifier::kAiManipulated:
      return offence.ai_manipulated();
    case Qualifier::kMinorVictim:
      return offence.minor_victim();
  }
  return false;
}

void SetQualifier(v1::Offence& offence, Qualifier q) {
  switch (q) {
    case Qualifier::kAttempted:
      offence.set_attempted(true);
      break;
    case Qualifier::kAiManipulated:
      offence.set_ai_manipulated(true);
      break;
    case Qualifier::kMinorVictim:
      offence.set_minor_victim(true);
      break;
  }
}

std::string OffenceArgForm(const v1::Offence& offence) {
  std::string out(OffenceCodeName(offence.code()));
  if (out.empty()) out = "#" + std::to_string(static_cast<int>(offence.code()));
  for (Qualifier q : AllQualifiers()) {
    if (HasQualifier(offence, q)) {
      out += "+";
      out += QualifierName(q);
    }
  }
  return out;
}

std::string DescribeOffence(const v1::Offence& offence, Lang lang) {
  std::string out = OffenceLabel(offence.code(), lang);
  std::vector<std::string_view> parts;
  for (Qualifier q : AllQualifiers()) {
    if (HasQualifier(offence, q)) parts.push_back(QualifierLabel(q, lang));
  }
  if (!parts.empty()) out += " (" + Join(parts, ", ") + ")";
  return out;
}

}  // namespace cbx::client
