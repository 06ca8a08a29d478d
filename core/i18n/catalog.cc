#include "core/i18n/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/i18n/catalog_data.h"

namespace cbx::i18n {
namespace {

// This Abseil's string_view is its own type, not std::string_view.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

std::string Fold(std::string_view code) {
  std::string out;
  for (char c : code) {
    out += c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
  }
  return out;
}

// The catalog's data of `lang`, or English's.
const internal::LanguageData& Data(Lang lang) {
  for (size_t i = 0; i < internal::kLanguageCount; ++i) {
    if (internal::kLanguageData[i].code == lang.code()) {
      return internal::kLanguageData[i];
    }
  }
  return internal::kLanguageData[0];
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// The q-value of a tag's parameters (";q=0.5"); 1 without one, -1 if it
// does not parse (the tag is then skipped).
double QValue(std::string_view params) {
  const size_t q = params.find("q=");
  if (q == std::string_view::npos) return 1.0;
  const std::string text(Trim(params.substr(q + 2)));
  if (text.empty() || text.size() > 5) return -1;
  double value = 0;
  double scale = 1;
  bool point = false;
  for (char c : text) {
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      if (point) {
        scale /= 10;
        value += (c - '0') * scale;
      } else {
        value = value * 10 + (c - '0');
      }
    } else {
      return -1;
    }
  }
  return value > 1 ? -1 : value;
}

// The catalog language for one tag, dropping subtags from its end.
std::optional<Lang> MatchTag(std::string_view tag) {
  std::string folded = Fold(tag);
  while (!folded.empty()) {
    if (std::optional<Lang> lang = FindLanguage(folded)) return lang;
    const size_t dash = folded.rfind('-');
    if (dash == std::string::npos) break;
    folded.resize(dash);
  }
  return std::nullopt;
}

}  // namespace

const std::vector<Lang>& Languages() {
  static const std::vector<Lang> langs = [] {
    std::vector<Lang> v;
    for (size_t i = 0; i < internal::kLanguageCount; ++i) {
      v.emplace_back(internal::kLanguageData[i].code);
    }
    return v;
  }();
  return langs;
}

bool InCatalog(Lang lang) {
  const std::vector<Lang>& all = Languages();
  return std::find(all.begin(), all.end(), lang) != all.end();
}

bool IsTransliteration(Lang lang) {
  return InCatalog(lang) && Data(lang).transliterated;
}

std::optional<Lang> FindLanguage(std::string_view code) {
  const std::string folded = Fold(code);
  for (Lang lang : Languages()) {
    if (Fold(lang.code()) == folded) return lang;
  }
  return std::nullopt;
}

absl::StatusOr<Lang> ParseLang(std::string_view code) {
  if (std::optional<Lang> lang = FindLanguage(code)) return *lang;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown language \"", A(code), "\"; use one of ", LanguageList()));
}

std::string_view LanguageName(Lang lang) { return Data(lang).name; }

std::string LanguageList() {
  std::string known;
  for (Lang lang : Languages()) {
    absl::StrAppend(&known, known.empty() ? "" : ", ", A(lang.code()), " (",
                    A(LanguageName(lang)), ")");
  }
  return known;
}

Lang BestLanguage(std::string_view accept_language) {
  std::optional<Lang> best;
  double best_q = 0;
  size_t start = 0;
  while (start <= accept_language.size()) {
    size_t end = accept_language.find(',', start);
    if (end == std::string_view::npos) end = accept_language.size();
    const std::string_view item = accept_language.substr(start, end - start);
    start = end + 1;
    const size_t semi = item.find(';');
    const std::string_view tag = Trim(item.substr(0, semi));
    const double q =
        semi == std::string_view::npos ? 1.0 : QValue(item.substr(semi + 1));
    if (tag.empty() || tag == "*" || q <= best_q) continue;  // first wins ties
    if (std::optional<Lang> lang = MatchTag(tag)) {
      best = lang;
      best_q = q;
    }
  }
  return best.value_or(Lang::kEn);
}

std::string_view Text(MessageId id, Lang lang) {
  if (id.index >= internal::kMessageCount) return "?";
  return Data(lang).texts[id.index];
}

std::string Format(MessageId id, Lang lang,
                   std::initializer_list<std::string_view> args) {
  return Substitute(Text(id, lang), args);
}

std::string Substitute(std::string_view text,
                       std::initializer_list<std::string_view> args) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' && i + 2 < text.size() && text[i + 2] == '}' &&
        text[i + 1] >= '1' && text[i + 1] <= '9') {
      const size_t n = static_cast<size_t>(text[i + 1] - '1');
      if (n < args.size()) {
        out.append(*(args.begin() + n));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string_view MessageName(MessageId id) {
  return id.index < internal::kMessageCount ? internal::kMessageNames[id.index]
                                            : std::string_view("?");
}

size_t MessageCount() { return internal::kMessageCount; }

}  // namespace cbx::i18n
