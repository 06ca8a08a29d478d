// The catalog as the binaries have it: the files of i18n/ embedded, every
// language complete, and the lookups over them.
#include "core/i18n/catalog.h"

#include <set>

#include "core/i18n/serbian_latin.h"
#include "gtest/gtest.h"

namespace cbx::i18n {
namespace {

bool HasCyrillic(std::string_view s) {
  for (unsigned char c : s) {
    if (c == 0xD0 || c == 0xD1) return true;  // U+0400-U+047F lead bytes
  }
  return false;
}

TEST(CatalogTest, HasTheFederationsLanguagesAndSerbianLatin) {
  // The federation's, in catalog order; a translator's new file adds one
  // (CatalogGeneratorTest.AFileMoreIsALanguageMore), so not "only these".
  std::vector<std::string> codes;
  for (Lang l : Languages()) {
    if (std::set<std::string_view>{"en", "bs", "cnr", "hr", "mk", "sl", "sq",
                                   "sr", "sr-Latn"}
            .count(l.code()) > 0) {
      codes.emplace_back(l.code());
    }
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"en", "bs", "cnr", "hr", "mk",
                                             "sl", "sq", "sr", "sr-Latn"}));
  EXPECT_EQ(Languages().front(), Lang::kEn);
  EXPECT_TRUE(IsTransliteration(Lang::kSrLatn));
  EXPECT_FALSE(IsTransliteration(Lang::kSr));
  EXPECT_EQ(LanguageName(Lang::kMk), "македонски");
  EXPECT_EQ(LanguageName(Lang::kSr), "српски");
  EXPECT_EQ(LanguageName(Lang::kSrLatn), "srpski");
  EXPECT_EQ(LanguageName(Lang::kSq), "shqip");
}

TEST(CatalogTest, EveryLanguageHasEveryMessageItsOwnWay) {
  for (size_t i = 0; i < MessageCount(); ++i) {
    const MessageId id{static_cast<uint16_t>(i)};
    for (Lang l : Languages()) {
      EXPECT_FALSE(Text(id, l).empty()) << MessageName(id) << " " << l.code();
    }
    EXPECT_EQ(Text(id, Lang::kSrLatn) ==
                  SerbianLatin(std::string(Text(id, Lang::kSr))),
              id.index != msg::kLanguageCode.index)
        << MessageName(id);
    EXPECT_FALSE(HasCyrillic(Text(id, Lang::kSrLatn))) << MessageName(id);
  }
  // The console's words were translated, not copied: most differ from
  // English in every language.
  for (Lang l : Languages()) {
    if (l == Lang::kEn) continue;
    size_t same = 0;
    for (size_t i = 0; i < MessageCount(); ++i) {
      const MessageId id{static_cast<uint16_t>(i)};
      same += Text(id, l) == Text(id, Lang::kEn);
    }
    EXPECT_LT(same, MessageCount() / 10) << l.code();
  }
}

TEST(CatalogTest, TextsAndPlaceholders) {
  EXPECT_EQ(Text(msg::kNoCases, Lang::kMk), "нема предмети");
  EXPECT_EQ(Text(msg::kNoCases, Lang::kSrLatn), "nema predmeta");
  EXPECT_EQ(Format(msg::kConsoleCaseTitle, Lang::kSq, {"AL-7"}),
            "Çështja AL-7");
  EXPECT_EQ(Format(msg::kErrNoAnswerIn, Lang::kEn, {"400"}),
            "the node did not answer within 400 ms");
  EXPECT_EQ(Substitute("{2} and {1}, {3}", {"a", "b"}), "b and a, {3}");
  // A language the catalog lacks reads as English.
  EXPECT_FALSE(InCatalog(Lang("de")));
  EXPECT_EQ(Text(msg::kNoCases, Lang("de")), "no cases");
  EXPECT_EQ(MessageName(msg::kCaseToken), "case_token");
}

TEST(CatalogTest, FindsLanguagesAnyCase) {
  EXPECT_EQ(FindLanguage("MK"), Lang::kMk);
  EXPECT_EQ(FindLanguage("sr_latn"), Lang::kSrLatn);
  EXPECT_EQ(FindLanguage("CNR"), Lang::kCnr);
  EXPECT_FALSE(FindLanguage("de").has_value());
  EXPECT_FALSE(FindLanguage("").has_value());
  absl::StatusOr<Lang> bad = ParseLang("xx");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("sr-Latn (srpski)"), std::string::npos);
}

TEST(CatalogTest, AcceptLanguageBestMatch) {
  for (const auto& [header, want] : std::vector<std::pair<std::string, Lang>>{
           {"", Lang::kEn},
           {"de-DE,de;q=0.9,fr;q=0.8", Lang::kEn},  // none known
           {"sr-RS", Lang::kSr},
           {"sr-Latn", Lang::kSrLatn},
           {"sr-latn-RS,sr;q=0.5", Lang::kSrLatn},
           {"de;q=1, hr;q=0.4, sl;q=0.8", Lang::kSl},  // by q, not order
           {"sq-AL, mk;q=0.9", Lang::kSq},
           {"mk;q=0, en;q=0.1", Lang::kEn},    // q=0: not wanted
           {"mk;q=0.5, bs;q=0.5", Lang::kMk},  // a tie: the first
           {"*, cnr;q=0.2", Lang::kCnr},
           {"hr;q=abc, bs;q=0.1", Lang::kBs},  // a bad q skips
           {" MK-mk ; q=0.7 ", Lang::kMk}}) {
    EXPECT_EQ(BestLanguage(header).code(), want.code()) << header;
  }
}

TEST(CatalogTest, SerbianLatinTransliteration) {
  EXPECT_EQ(SerbianLatin("Љубљана, Његош, џак, ђак, ћуфте"),
            "Ljubljana, Njegoš, džak, đak, ćufte");
  EXPECT_EQ(SerbianLatin("ЉУДИ ЏЕП Њ"), "LJUDI DŽEP Nj");
}

}  // namespace
}  // namespace cbx::i18n
