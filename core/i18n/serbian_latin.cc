#include "core/i18n/serbian_latin.h"

#include <cstddef>
#include <utility>

namespace cbx::i18n {
namespace {

// Serbian Cyrillic letters (UTF-8) and their Latin spelling.
constexpr std::pair<std::string_view, std::string_view> kSerbian[] = {
    {"А", "A"}, {"Б", "B"},  {"В", "V"}, {"Г", "G"}, {"Д", "D"},  {"Ђ", "Đ"},
    {"Е", "E"}, {"Ж", "Ž"},  {"З", "Z"}, {"И", "I"}, {"Ј", "J"},  {"К", "K"},
    {"Л", "L"}, {"Љ", "Lj"}, {"М", "M"}, {"Н", "N"}, {"Њ", "Nj"}, {"О", "O"},
    {"П", "P"}, {"Р", "R"},  {"С", "S"}, {"Т", "T"}, {"Ћ", "Ć"},  {"У", "U"},
    {"Ф", "F"}, {"Х", "H"},  {"Ц", "C"}, {"Ч", "Č"}, {"Џ", "Dž"}, {"Ш", "Š"},
    {"а", "a"}, {"б", "b"},  {"в", "v"}, {"г", "g"}, {"д", "d"},  {"ђ", "đ"},
    {"е", "e"}, {"ж", "ž"},  {"з", "z"}, {"и", "i"}, {"ј", "j"},  {"к", "k"},
    {"л", "l"}, {"љ", "lj"}, {"м", "m"}, {"н", "n"}, {"њ", "nj"}, {"о", "o"},
    {"п", "p"}, {"р", "r"},  {"с", "s"}, {"т", "t"}, {"ћ", "ć"},  {"у", "u"},
    {"ф", "f"}, {"х", "h"},  {"ц", "c"}, {"ч", "č"}, {"џ", "dž"}, {"ш", "š"},
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

}  // namespace cbx::i18n
