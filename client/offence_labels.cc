#include "client/offence_labels.h"

#include <array>
#include <cstddef>

#include "absl/status/status.h"
#include "client/messages.h"
#include "client/strings.h"

namespace cbx::client {
namespace {

constexpr size_t kLangCount = 8;
using Labels = std::array<std::string_view, kLangCount>;

// Indexed by Lang; keep in step with spec/offence-codes.md.
constexpr std::array<std::string_view, kLangCount> kLangCodes = {
    "en", "mk", "sr", "bs", "hr", "cnr", "sq", "sl"};

struct OffenceEntry {
  v1::OffenceCode code;
  std::string_view name;
  // en, mk, sr (Cyrillic), bs, hr, cnr, sq, sl.
  Labels labels;
};

constexpr std::array<OffenceEntry, 7> kOffences = {{
    {v1::OFFENCE_CODE_NCII_SHARING,
     "ncii-sharing",
     {"Non-consensual sharing of intimate or manipulated material",
      "Споделување интимен или изменет материјал без согласност",
      "Дељење интимног или измењеног материјала без пристанка",
      "Dijeljenje intimnog ili izmijenjenog materijala bez pristanka",
      "Dijeljenje intimnog ili izmijenjenog materijala bez privole",
      "Dijeljenje intimnog ili izmijenjenog materijala bez pristanka",
      "Shpërndarje pa pëlqim e materialit intim ose të manipuluar",
      "Deljenje intimnega ali prirejenega gradiva brez privolitve"}},
    {v1::OFFENCE_CODE_NCII_THREAT,
     "ncii-threat",
     {"Threat to share intimate or manipulated material (sextortion)",
      "Закана со споделување интимен или изменет материјал (сексуална "
      "изнуда)",
      "Претња дељењем интимног или измењеног материјала (сексуална изнуда)",
      "Prijetnja dijeljenjem intimnog ili izmijenjenog materijala "
      "(seksualna iznuda)",
      "Prijetnja dijeljenjem intimnog ili izmijenjenog materijala "
      "(seksualna iznuda)",
      "Prijetnja dijeljenjem intimnog ili izmijenjenog materijala "
      "(seksualna iznuda)",
      "Kërcënim për shpërndarjen e materialit intim ose të manipuluar "
      "(zhvatje seksuale)",
      "Grožnja z deljenjem intimnega ali prirejenega gradiva (spolno "
      "izsiljevanje)"}},
    {v1::OFFENCE_CODE_CYBER_STALKING,
     "cyber-stalking",
     {"Cyber stalking", "Сајбер демнење", "Сајбер прогањање",
      "Kibernetičko proganjanje", "Kibernetičko uhođenje", "Sajber proganjanje",
      "Përndjekje kibernetike", "Kibernetsko zalezovanje"}},
    {v1::OFFENCE_CODE_CYBER_HARASSMENT,
     "cyber-harassment",
     {"Cyber harassment, including doxing",
      "Сајбер вознемирување, вклучително објавување лични податоци "
      "(доксинг)",
      "Сајбер узнемиравање, укључујући објављивање личних података "
      "(доксинг)",
      "Kibernetičko uznemiravanje, uključujući objavljivanje ličnih "
      "podataka (doxing)",
      "Kibernetičko uznemiravanje, uključujući objavljivanje osobnih "
      "podataka (doxing)",
      "Sajber uznemiravanje, uključujući objavljivanje ličnih podataka "
      "(doxing)",
      "Ngacmim kibernetik, përfshirë publikimin e të dhënave personale "
      "(doxing)",
      "Kibernetsko nadlegovanje, vključno z razkritjem osebnih podatkov "
      "(doxing)"}},
    {v1::OFFENCE_CODE_CYBER_INCITEMENT,
     "cyber-incitement",
     {"Cyber incitement to violence or hatred",
      "Сајбер поттикнување на насилство или омраза",
      "Сајбер подстицање на насиље или мржњу",
      "Kibernetičko podsticanje na nasilje ili mržnju",
      "Kibernetičko poticanje na nasilje ili mržnju",
      "Sajber podsticanje na nasilje ili mržnju",
      "Nxitje kibernetike për dhunë ose urrejtje",
      "Kibernetsko spodbujanje k nasilju ali sovraštvu"}},
    {v1::OFFENCE_CODE_CSAM,
     "csam",
     {"Child sexual abuse material",
      "Материјал со сексуална злоупотреба на деца",
      "Материјал који приказује сексуално злостављање деце",
      "Materijal koji prikazuje seksualno zlostavljanje djece",
      "Materijal koji prikazuje seksualno zlostavljanje djece",
      "Materijal koji prikazuje seksualno zlostavljanje djece",
      "Material i abuzimit seksual të fëmijëve",
      "Gradivo o spolni zlorabi otrok"}},
    {v1::OFFENCE_CODE_GROUP_ADMINISTRATION,
     "group-admin",
     {"Running or administering a group or channel for such material",
      "Водење или администрирање група или канал за таков материјал",
      "Вођење или администрирање групе или канала за такав материјал",
      "Vođenje ili administriranje grupe ili kanala za takav materijal",
      "Vođenje ili administriranje grupe ili kanala za takav materijal",
      "Vođenje ili administriranje grupe ili kanala za takav materijal",
      "Drejtimi ose administrimi i një grupi ose kanali për një material "
      "të tillë",
      "Vodenje ali upravljanje skupine ali kanala za takšno gradivo"}},
}};

struct QualifierEntry {
  Qualifier qualifier;
  std::string_view name;
  Labels labels;
};

constexpr std::array<QualifierEntry, 3> kQualifiers = {{
    {Qualifier::kAttempted,
     "attempted",
     {"attempted", "обид", "покушај", "pokušaj", "pokušaj", "pokušaj",
      "tentativë", "poskus"}},
    {Qualifier::kAiManipulated,
     "ai",
     {"AI-manipulated", "изменето со ВИ", "измењено помоћу ВИ",
      "izmijenjeno pomoću UI", "izmijenjeno pomoću UI", "izmijenjeno pomoću VI",
      "manipuluar me IA", "prirejeno z UI"}},
    {Qualifier::kMinorVictim,
     "minor",
     {"minor victim", "малолетна жртва", "малолетна жртва", "maloljetna žrtva",
      "maloljetna žrtva", "maloljetna žrtva", "viktimë e mitur",
      "mladoletna žrtev"}},
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
  static const std::vector<Lang> langs = {Lang::kEn, Lang::kMk, Lang::kSr,
                                          Lang::kBs, Lang::kHr, Lang::kCnr,
                                          Lang::kSq, Lang::kSl};
  return langs;
}

std::string_view LangCode(Lang lang) {
  if (lang == Lang::kSrLatn) return "sr-Latn";
  return kLangCodes[static_cast<size_t>(lang)];
}

const std::vector<Lang>& AllDisplayLangs() {
  static const std::vector<Lang> langs = [] {
    std::vector<Lang> v = AllLangs();
    v.push_back(Lang::kSrLatn);
    return v;
  }();
  return langs;
}

absl::StatusOr<Lang> ParseLang(std::string_view code) {
  std::string folded;
  for (char c : code) {
    folded += c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
  }
  for (Lang lang : AllDisplayLangs()) {
    std::string want(LangCode(lang));
    for (char& c : want) c = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
    if (want == folded) return lang;
  }
  return absl::InvalidArgumentError(
      "unknown language \"" + SanitizeForTerminal(code) +
      "\"; use one of en, mk, sr (Cyrillic), sr-Latn (Latin), bs, hr, cnr, "
      "sq, sl");
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
  if (lang == Lang::kSrLatn) {
    return SerbianLatin(e->labels[static_cast<size_t>(Lang::kSr)]);
  }
  return std::string(e->labels[static_cast<size_t>(lang)]);
}

const std::vector<Qualifier>& AllQualifiers() {
  static const std::vector<Qualifier> qualifiers = {Qualifier::kAttempted,
                                                    Qualifier::kAiManipulated,
                                                    Qualifier::kMinorVictim};
  return qualifiers;
}

std::string_view QualifierName(Qualifier q) { return FindQualifier(q).name; }

std::string_view QualifierLabel(Qualifier q, Lang lang) {
  if (lang == Lang::kSrLatn) {
    // Transliterated once; the views stay valid for the process.
    static const std::vector<std::string> latin = [] {
      std::vector<std::string> v;
      for (Qualifier each : AllQualifiers()) {
        v.push_back(SerbianLatin(
            FindQualifier(each).labels[static_cast<size_t>(Lang::kSr)]));
      }
      return v;
    }();
    return latin[static_cast<size_t>(q)];
  }
  return FindQualifier(q).labels[static_cast<size_t>(lang)];
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
