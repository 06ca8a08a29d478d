#include "core/i18n/catalog_generator.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/i18n/catalog_file.h"
#include "core/i18n/serbian_latin.h"

namespace cbx::i18n {
namespace {

// One language of the generated catalog: its code, name and the texts in
// the English file's order.
struct Language {
  std::string code;
  std::string name;
  std::vector<std::string> texts;
  bool transliterated = false;
};

// The language code of "dir/sr-Latn.txt": "sr-Latn".
std::string Stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = base.rfind('.');
  return dot == std::string::npos ? base : base.substr(0, dot);
}

// `text` as a C++ string literal: quotes, backslashes and anything below
// 0x20 escaped (octal: three digits, so the next character cannot join
// it); UTF-8 bytes as they are.
std::string Literal(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == '?') {  // '?': no trigraphs
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

Language FromFile(const CatalogFile& english, const CatalogFile& file) {
  Language lang{file.code, file.name, {}};
  for (const CatalogEntry& en : english.entries) {
    lang.texts.push_back(file.Find(en.name)->text);
  }
  return lang;
}

std::string Header(const CatalogFile& english) {
  std::string out =
      "// Generated from i18n/en.txt by cbx_i18n_gen "
      "(core/i18n/catalog_generator.cc): do not edit.\n"
      "#ifndef CBX_CORE_I18N_MESSAGE_IDS_H_\n"
      "#define CBX_CORE_I18N_MESSAGE_IDS_H_\n\n"
      "#include \"core/i18n/message_id.h\"\n\n"
      "namespace cbx::i18n::msg {\n\n";
  for (size_t i = 0; i < english.entries.size(); ++i) {
    absl::StrAppend(&out, "inline constexpr MessageId ",
                    ConstantName(english.entries[i].name), "{", i, "};  // ",
                    english.entries[i].name, "\n");
  }
  return out +
         "\n}  // namespace cbx::i18n::msg\n\n"
         "#endif  // CBX_CORE_I18N_MESSAGE_IDS_H_\n";
}

std::string Source(const CatalogFile& english,
                   const std::vector<Language>& langs) {
  std::string out =
      "// Generated from i18n/*.txt by cbx_i18n_gen "
      "(core/i18n/catalog_generator.cc): do not edit.\n"
      "#include \"core/i18n/catalog_data.h\"\n\n"
      "namespace cbx::i18n::internal {\nnamespace {\n\n";
  for (size_t l = 0; l < langs.size(); ++l) {
    absl::StrAppend(&out, "// ", langs[l].code,
                    "\nconstexpr std::string_view"
                    " kTexts",
                    l, "[] = {\n");
    for (const std::string& t : langs[l].texts) {
      absl::StrAppend(&out, "    ", Literal(t), ",\n");
    }
    out += "};\n\n";
  }
  out += "}  // namespace\n\nconst std::string_view kMessageNames[] = {\n";
  for (const CatalogEntry& e : english.entries) {
    absl::StrAppend(&out, "    ", Literal(e.name), ",\n");
  }
  absl::StrAppend(&out,
                  "};\nconst size_t kMessageCount = ", english.entries.size(),
                  ";\n\nconst LanguageData kLanguageData[] = {\n");
  for (size_t l = 0; l < langs.size(); ++l) {
    absl::StrAppend(&out, "    {", Literal(langs[l].code), ", ",
                    Literal(langs[l].name), ", kTexts", l, ", ",
                    langs[l].transliterated ? "true" : "false", "},\n");
  }
  absl::StrAppend(&out, "};\nconst size_t kLanguageCount = ", langs.size(),
                  ";\n\n}  // namespace cbx::i18n::internal\n");
  return out;
}

// Every file parsed and checked; the problems of all of them.
absl::StatusOr<std::map<std::string, CatalogFile>> ReadAll(
    const std::vector<LanguageFileText>& files) {
  std::vector<std::string> problems;
  std::map<std::string, CatalogFile> parsed;  // by the file's stem
  for (const LanguageFileText& f : files) {
    absl::StatusOr<CatalogFile> file = ParseCatalogFile(f.path, f.content);
    if (!file.ok()) {
      problems.emplace_back(file.status().message());
      continue;
    }
    parsed.emplace(Stem(f.path), *std::move(file));
  }
  auto en = parsed.find("en");
  if (en == parsed.end() && problems.empty()) {
    problems.push_back("no en.txt: English is the catalog's reference");
  }
  if (en != parsed.end()) {
    std::map<std::string, std::string> constants;  // constant → message
    for (const CatalogEntry& e : en->second.entries) {
      auto [it, fresh] = constants.emplace(ConstantName(e.name), e.name);
      if (!fresh) {
        problems.push_back(
            absl::StrCat(en->second.path, ":", e.line, ": message \"", e.name,
                         "\" has the same C++ name (", it->first, ") as \"",
                         it->second, "\"; rename one"));
      }
    }
    for (const auto& [stem, file] : parsed) {
      for (std::string& p : CheckAgainstEnglish(en->second, file, stem)) {
        problems.push_back(std::move(p));
      }
    }
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  return parsed;
}

}  // namespace

std::string ConstantName(const std::string& name) {
  std::string out = "k";
  bool upper = true;
  for (char c : name) {
    if (c == '.' || c == '_' || c == '-') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
    upper = false;
  }
  return out;
}

absl::StatusOr<GeneratedCatalog> GenerateCatalog(
    const std::vector<LanguageFileText>& files) {
  absl::StatusOr<std::map<std::string, CatalogFile>> parsed = ReadAll(files);
  if (!parsed.ok()) return parsed.status();
  const CatalogFile& english = parsed->at("en");
  std::vector<Language> langs = {FromFile(english, english)};
  for (const auto& [code, file] : *parsed) {
    if (code == "en") continue;
    langs.push_back(FromFile(english, file));
    if (code == "sr" && parsed->count("sr-Latn") == 0) {
      Language latin{"sr-Latn", SerbianLatin(file.name), {}, true};
      for (size_t i = 0; i < english.entries.size(); ++i) {
        latin.texts.push_back(english.entries[i].name == "language.code"
                                  ? std::string("sr-Latn")
                                  : SerbianLatin(langs.back().texts[i]));
      }
      langs.push_back(std::move(latin));
    }
  }
  GeneratedCatalog out;
  out.header = Header(english);
  out.source = Source(english, langs);
  for (const Language& l : langs) out.codes.push_back(l.code);
  return out;
}

}  // namespace cbx::i18n
