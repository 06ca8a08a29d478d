#include "client/messages.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace cbx::client {
namespace {

// en, mk, sr (Cyrillic), bs, hr, cnr, sq, sl: the columns of the offence
// table (offence_labels.cc); sr-Latn is derived (SerbianLatin).
constexpr size_t kColumns = 8;

struct Entry {
  Msg id;
  std::string_view name;
  std::array<std::string_view, kColumns> text;
};

// Hits in context and index ages (issue 14): English in every column until
// translated (client/README.md).
constexpr std::string_view kQueryEn = "query";
constexpr std::string_view kQueriesEn = "queries";
constexpr std::string_view kIndexAgeEn = "index {1} old";
constexpr std::string_view kStaleIndexWarningEn =
    "warning: misses from index copies older than expected: {1}; a case "
    "registered since may be missing, ask again after the next sync ('cbx "
    "peers' shows it)";
constexpr std::string_view kDisjointNoteEn =
    "the two windows do not overlap: usernames and numbers get reused, so it "
    "may be another person";
constexpr std::string_view kNoValueKeptEn = "a watch keeps no value";
constexpr std::string_view kYoursEn = "yours";
constexpr std::string_view kTheirsEn = "theirs";
constexpr std::string_view kUnknownWindowEn = "unknown";

// Keep in declaration order of Msg (checked by messages_test).
constexpr Entry kTable[] = {
    {Msg::kCase, "case",
     {"case", "предмет", "предмет", "predmet", "predmet", "predmet",
      "çështja", "zadeva"}},
    {Msg::kStatus, "status",
     {"status", "статус", "статус", "status", "status", "status", "statusi",
      "stanje"}},
    {Msg::kOpened, "opened",
     {"opened", "отворен", "отворен", "otvoren", "otvoren", "otvoren",
      "hapur", "odprta"}},
    {Msg::kRole, "role",
     {"role", "улога", "улога", "uloga", "uloga", "uloga", "roli", "vloga"}},
    {Msg::kOffences, "offences",
     {"offences", "кривични дела", "кривична дела", "krivična djela",
      "kaznena djela", "krivična djela", "veprat penale",
      "kazniva dejanja"}},
    {Msg::kIdentifiers, "identifiers",
     {"identifiers", "идентификатори", "идентификатори", "identifikatori",
      "identifikatori", "identifikatori", "identifikuesit",
      "identifikatorji"}},
    {Msg::kUpdated, "updated",
     {"updated", "изменет", "измењен", "izmijenjen", "izmijenjen",
      "izmijenjen", "përditësuar", "posodobljeno"}},
    {Msg::kReceived, "received",
     {"received", "примено", "примљено", "primljeno", "primljeno",
      "primljeno", "marrë", "prejeto"}},
    {Msg::kMember, "member",
     {"member", "членка", "чланица", "članica", "članica", "članica",
      "anëtari", "članica"}},
    {Msg::kOffice, "office",
     {"office", "обвинителство", "тужилаштво", "tužilaštvo", "odvjetništvo",
      "tužilaštvo", "prokuroria", "tožilstvo"}},
    {Msg::kMatched, "matched",
     {"matched", "совпаѓање", "подударање", "podudaranje", "podudaranje",
      "podudaranje", "përputhja", "ujemanje"}},
    {Msg::kContact, "contact",
     {"24/7 contact", "контакт 24/7", "контакт 24/7", "kontakt 24/7",
      "kontakt 24/7", "kontakt 24/7", "kontakt 24/7", "stik 24/7"}},
    {Msg::kCaseToken, "case_token",
     {"case token", "токен на предметот", "токен предмета", "token predmeta",
      "token predmeta", "token predmeta", "tokeni i çështjes",
      "žeton zadeve"}},
    {Msg::kAt, "at",
     {"at", "време", "време", "vrijeme", "vrijeme", "vrijeme", "koha",
      "čas"}},
    {Msg::kOurCase, "our_case",
     {"our case", "наш предмет", "наш предмет", "naš predmet", "naš predmet",
      "naš predmet", "çështja jonë", "naša zadeva"}},
    {Msg::kFrom, "from",
     {"from", "од", "од", "od", "od", "od", "nga", "od"}},
    {Msg::kTheirCase, "their_case",
     {"their case", "нивен предмет", "њихов предмет", "njihov predmet",
      "njihov predmet", "njihov predmet", "çështja e tyre",
      "njihova zadeva"}},
    {Msg::kOffence, "offence",
     {"offence", "кривично дело", "кривично дело", "krivično djelo",
      "kazneno djelo", "krivično djelo", "vepra penale",
      "kaznivo dejanje"}},
    {Msg::kLegalBasis, "legal_basis",
     {"legal basis", "правна основа", "правни основ", "pravni osnov",
      "pravna osnova", "pravni osnov", "baza ligjore", "pravna podlaga"}},
    {Msg::kToken, "token",
     {"token", "токен", "токен", "token", "token", "token", "tokeni",
      "žeton"}},
    {Msg::kCreated, "created",
     {"created", "создаден", "направљен", "kreiran", "stvoren", "kreiran",
      "krijuar", "ustvarjeno"}},
    {Msg::kStatusOpen, "status.open",
     {"open", "отворен", "отворен", "otvoren", "otvoren", "otvoren",
      "e hapur", "odprta"}},
    {Msg::kStatusClosed, "status.closed",
     {"closed", "затворен", "затворен", "zatvoren", "zatvoren", "zatvoren",
      "e mbyllur", "zaprta"}},
    {Msg::kRoleCreator, "role.creator",
     {"creator", "креатор", "креатор", "kreator", "autor", "kreator",
      "krijuesi", "ustvarjalec"}},
    {Msg::kRoleAdministrator, "role.administrator",
     {"administrator", "администратор", "администратор", "administrator",
      "administrator", "administrator", "administratori", "skrbnik"}},
    {Msg::kRolePoster, "role.poster",
     {"poster", "објавувач", "објављивач", "objavljivač", "objavljivač",
      "objavljivač", "postuesi", "objavljalec"}},
    {Msg::kRoleResharer, "role.resharer",
     {"resharer", "препраќач", "прослеђивач", "prosljeđivač", "prosljeđivač",
      "prosljeđivač", "rishpërndarësi", "posredovalec"}},
    {Msg::kRoleRequester, "role.requester",
     {"requester", "барател", "тражилац", "tražilac", "tražitelj",
      "tražilac", "kërkuesi", "naročnik"}},
    {Msg::kOutcomeHit, "outcome.hit",
     {"HIT", "ПОГОДОК", "ПОГОДАК", "POGODAK", "POGODAK", "POGODAK", "GJETJE",
      "ZADETEK"}},
    {Msg::kOutcomeMiss, "outcome.miss",
     {"MISS", "НЕМА", "НЕМА", "NEMA", "NEMA", "NEMA", "ASGJË", "NIČ"}},
    {Msg::kOutcomeError, "outcome.error",
     {"ERROR", "ГРЕШКА", "ГРЕШКА", "GREŠKA", "POGREŠKA", "GREŠKA", "GABIM",
      "NAPAKA"}},
    {Msg::kOutcomePhantom, "outcome.phantom",
     {"PHANTOM", "ФАНТОМ", "ФАНТОМ", "FANTOM", "FANTOM", "FANTOM",
      "FANTAZMË", "FANTOM"}},
    {Msg::kNoCases, "no_cases",
     {"no cases", "нема предмети", "нема предмета", "nema predmeta",
      "nema predmeta", "nema predmeta", "nuk ka çështje", "ni zadev"}},
    {Msg::kNoHits, "no_hits",
     {"no hits", "нема погодоци", "нема погодака", "nema pogodaka",
      "nema pogodaka", "nema pogodaka", "nuk ka gjetje", "ni zadetkov"}},
    {Msg::kWithdrawn, "withdrawn",
     {"withdrawn", "повлечен", "повучен", "povučen", "povučen", "povučen",
      "tërhequr", "umaknjen"}},
    {Msg::kNoNotifications, "no_notifications",
     {"no notifications", "нема известувања", "нема обавештења",
      "nema obavještenja", "nema obavijesti", "nema obavještenja",
      "nuk ka njoftime", "ni obvestil"}},
    {Msg::kWhatToDo, "what_to_do",
     {"what to do", "што да направите", "шта да урадите", "šta uraditi",
      "što učiniti", "šta uraditi", "çfarë të bëni", "kaj storiti"}},
    {Msg::kNothingWasSent, "nothing_was_sent",
     {"nothing was sent", "ништо не е испратено", "ништа није послато",
      "ništa nije poslano", "ništa nije poslano", "ništa nije poslato",
      "asgjë nuk u dërgua", "nič ni bilo poslano"}},
    {Msg::kErrNodeRefused, "err.node_refused",
     {"the node refused the request", "јазолот го одби барањето",
      "чвор је одбио захтев", "čvor je odbio zahtjev",
      "čvor je odbio zahtjev", "čvor je odbio zahtjev",
      "nyja e refuzoi kërkesën", "vozlišče je zavrnilo zahtevo"}},
    {Msg::kErrCannotNow, "err.cannot_now",
     {"the node cannot do this now", "јазолот не може да го направи ова сега",
      "чвор то сада не може да уради", "čvor to sada ne može uraditi",
      "čvor to sada ne može učiniti", "čvor to sada ne može uraditi",
      "nyja nuk mund ta bëjë këtë tani",
      "vozlišče tega zdaj ne more storiti"}},
    {Msg::kErrNotAllowed, "err.not_allowed",
     {"your certificate may not do this",
      "вашиот сертификат не дозволува ова",
      "ваш сертификат то не дозвољава", "vaš certifikat to ne dozvoljava",
      "vaš certifikat to ne dopušta", "vaš sertifikat to ne dozvoljava",
      "certifikata juaj nuk e lejon këtë",
      "vaše potrdilo tega ne dovoljuje"}},
    {Msg::kErrNoAnswerIn, "err.no_answer_in",
     {"the node did not answer within {1} ms",
      "јазолот не одговори во рок од {1} ms",
      "чвор није одговорио у року од {1} ms",
      "čvor nije odgovorio u roku od {1} ms",
      "čvor nije odgovorio u roku od {1} ms",
      "čvor nije odgovorio u roku od {1} ms",
      "nyja nuk u përgjigj brenda {1} ms",
      "vozlišče ni odgovorilo v {1} ms"}},
    {Msg::kErrNotReached, "err.not_reached",
     {"the node at {1} could not be reached",
      "јазолот на {1} не е достапен", "чвор на {1} није доступан",
      "čvor na {1} nije dostupan", "čvor na {1} nije dostupan",
      "čvor na {1} nije dostupan", "nyja në {1} nuk u arrit",
      "vozlišče na {1} ni dosegljivo"}},
    {Msg::kErrRefusedConn, "err.refused_connection",
     {"nothing answers at {1}: the connection was refused",
      "ништо не одговара на {1}: врската е одбиена",
      "ништа не одговара на {1}: веза је одбијена",
      "ništa ne odgovara na {1}: veza je odbijena",
      "ništa ne odgovara na {1}: veza je odbijena",
      "ništa ne odgovara na {1}: veza je odbijena",
      "askush nuk përgjigjet në {1}: lidhja u refuzua",
      "na {1} se nihče ne odziva: povezava je bila zavrnjena"}},
    // English in every column until translated (issue 14: hits in
    // context; the texts are above kTable).
    {Msg::kQuery, "query",
     {kQueryEn, kQueryEn, kQueryEn,
      kQueryEn, kQueryEn, kQueryEn,
      kQueryEn, kQueryEn}},
    {Msg::kQueries, "queries",
     {kQueriesEn, kQueriesEn, kQueriesEn,
      kQueriesEn, kQueriesEn, kQueriesEn,
      kQueriesEn, kQueriesEn}},
    {Msg::kIndexAge, "index_age",
     {kIndexAgeEn, kIndexAgeEn, kIndexAgeEn,
      kIndexAgeEn, kIndexAgeEn, kIndexAgeEn,
      kIndexAgeEn, kIndexAgeEn}},
    {Msg::kStaleIndexWarning, "warn.stale_index",
     {kStaleIndexWarningEn, kStaleIndexWarningEn, kStaleIndexWarningEn,
      kStaleIndexWarningEn, kStaleIndexWarningEn, kStaleIndexWarningEn,
      kStaleIndexWarningEn, kStaleIndexWarningEn}},
    {Msg::kDisjointNote, "note.disjoint_windows",
     {kDisjointNoteEn, kDisjointNoteEn, kDisjointNoteEn,
      kDisjointNoteEn, kDisjointNoteEn, kDisjointNoteEn,
      kDisjointNoteEn, kDisjointNoteEn}},
    {Msg::kNoValueKept, "no_value_kept",
     {kNoValueKeptEn, kNoValueKeptEn, kNoValueKeptEn,
      kNoValueKeptEn, kNoValueKeptEn, kNoValueKeptEn,
      kNoValueKeptEn, kNoValueKeptEn}},
    {Msg::kYours, "yours",
     {kYoursEn, kYoursEn, kYoursEn,
      kYoursEn, kYoursEn, kYoursEn,
      kYoursEn, kYoursEn}},
    {Msg::kTheirs, "theirs",
     {kTheirsEn, kTheirsEn, kTheirsEn,
      kTheirsEn, kTheirsEn, kTheirsEn,
      kTheirsEn, kTheirsEn}},
    {Msg::kUnknownWindow, "window_unknown",
     {kUnknownWindowEn, kUnknownWindowEn, kUnknownWindowEn,
      kUnknownWindowEn, kUnknownWindowEn, kUnknownWindowEn,
      kUnknownWindowEn, kUnknownWindowEn}},
};

constexpr size_t kMessageCount = sizeof(kTable) / sizeof(kTable[0]);

// The column of `lang`; sr-Latn reads sr's.
size_t Column(Lang lang) {
  return lang == Lang::kSrLatn ? static_cast<size_t>(Lang::kSr)
                               : static_cast<size_t>(lang);
}

// Serbian Cyrillic letters (UTF-8) and their Latin spelling.
constexpr std::pair<std::string_view, std::string_view> kSerbian[] = {
    {"А", "A"},  {"Б", "B"},  {"В", "V"},  {"Г", "G"},  {"Д", "D"},
    {"Ђ", "Đ"},  {"Е", "E"},  {"Ж", "Ž"},  {"З", "Z"},  {"И", "I"},
    {"Ј", "J"},  {"К", "K"},  {"Л", "L"},  {"Љ", "Lj"}, {"М", "M"},
    {"Н", "N"},  {"Њ", "Nj"}, {"О", "O"},  {"П", "P"},  {"Р", "R"},
    {"С", "S"},  {"Т", "T"},  {"Ћ", "Ć"},  {"У", "U"},  {"Ф", "F"},
    {"Х", "H"},  {"Ц", "C"},  {"Ч", "Č"},  {"Џ", "Dž"}, {"Ш", "Š"},
    {"а", "a"},  {"б", "b"},  {"в", "v"},  {"г", "g"},  {"д", "d"},
    {"ђ", "đ"},  {"е", "e"},  {"ж", "ž"},  {"з", "z"},  {"и", "i"},
    {"ј", "j"},  {"к", "k"},  {"л", "l"},  {"љ", "lj"}, {"м", "m"},
    {"н", "n"},  {"њ", "nj"}, {"о", "o"},  {"п", "p"},  {"р", "r"},
    {"с", "s"},  {"т", "t"},  {"ћ", "ć"},  {"у", "u"},  {"ф", "f"},
    {"х", "h"},  {"ц", "c"},  {"ч", "č"},  {"џ", "dž"}, {"ш", "š"},
};

// Whether a capital Cyrillic letter starts at `at` (the table's first 30
// entries are the capitals): an all-capital word keeps its digraphs capital
// ("ЉУДИ" → "LJUDI"), a capital before a small letter gives "Lj".
bool NextIsCapital(std::string_view text, size_t at) {
  for (size_t k = 0; k < 30; ++k) {
    const std::string_view cyr = kSerbian[k].first;
    if (text.substr(at, cyr.size()) == cyr) return true;
  }
  return false;
}

}  // namespace

const std::vector<Msg>& AllMessages() {
  static const std::vector<Msg> all = [] {
    std::vector<Msg> v;
    for (const Entry& e : kTable) v.push_back(e.id);
    return v;
  }();
  return all;
}

std::string_view MessageName(Msg id) {
  const size_t i = static_cast<size_t>(id);
  return i < kMessageCount ? kTable[i].name : std::string_view("?");
}

std::string Text(Msg id, Lang lang, std::string_view arg) {
  const size_t i = static_cast<size_t>(id);
  if (i >= kMessageCount) return "?";
  std::string text(kTable[i].text[Column(lang)]);
  if (lang == Lang::kSrLatn) text = SerbianLatin(text);
  if (size_t at = text.find("{1}"); at != std::string::npos) {
    text.replace(at, 3, arg);
  }
  return text;
}

std::string Upper(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : text[i];
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0 && i + 1 < text.size()) {
      uint32_t cp = ((c & 0x1F) << 6) |
                    (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) ||  // Latin-1
          (cp >= 0x430 && cp <= 0x44F)) {             // Cyrillic а-я
        cp -= 0x20;
      } else if (cp >= 0x450 && cp <= 0x45F) {  // ѐ-џ (ђ, ј, љ, њ, ћ, џ)
        cp -= 0x50;
      } else if (cp >= 0x100 && cp <= 0x17E && cp != 0x138 && cp != 0x131 &&
                 cp != 0x149) {
        // Latin Extended-A: capital and small in pairs; the small one is
        // the odd code point but in 0x139-0x148 and 0x179-0x17E.
        const bool small_is_even = (cp >= 0x139 && cp <= 0x148) ||
                                   (cp >= 0x179 && cp <= 0x17E);
        if ((cp % 2 == 0) == small_is_even) cp -= 1;
      }
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
      i += 2;
      continue;
    }
    out += text[i++];
  }
  return out;
}

std::string SerbianLatin(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool done = false;
    for (const auto& [cyr, lat] : kSerbian) {
      if (text.substr(i, cyr.size()) != cyr) continue;
      i += cyr.size();
      std::string latin(lat);
      // Љ, Њ, Џ in an all-capital word: LJ, NJ, DŽ.
      if (latin.size() > 1 && latin[0] >= 'A' && latin[0] <= 'Z' &&
          NextIsCapital(text, i)) {
        latin = latin == "Lj" ? "LJ" : latin == "Nj" ? "NJ" : "DŽ";
      }
      out += latin;
      done = true;
      break;
    }
    if (!done) out += text[i++];
  }
  return out;
}

}  // namespace cbx::client
