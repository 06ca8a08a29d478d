#include "client/messages.h"

#include <set>
#include <string>

#include "client/offence_labels.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

bool HasCyrillic(const std::string& s) {
  for (unsigned char c : s) {
    if (c == 0xD0 || c == 0xD1) return true;  // U+0400-U+047F lead bytes
  }
  return false;
}

// Every message id has a text in every display language, the table is in
// the order of the ids, and names are unique.
TEST(MessagesTest, EveryMessageHasEveryLanguage) {
  std::set<std::string> names;
  size_t index = 0;
  for (Msg id : AllMessages()) {
    EXPECT_EQ(static_cast<size_t>(id), index++) << MessageName(id);
    EXPECT_TRUE(names.insert(std::string(MessageName(id))).second)
        << MessageName(id);
    const bool placeholder = Text(id, Lang::kEn).find("{1}") != std::string::npos;
    for (Lang lang : AllDisplayLangs()) {
      const std::string text = Text(id, lang);
      EXPECT_FALSE(text.empty()) << MessageName(id) << " " << LangCode(lang);
      EXPECT_NE(text, "?") << MessageName(id) << " " << LangCode(lang);
      EXPECT_EQ(text.find("{1}") != std::string::npos, placeholder)
          << MessageName(id) << " " << LangCode(lang);
    }
    EXPECT_FALSE(HasCyrillic(Text(id, Lang::kSrLatn))) << MessageName(id);
    EXPECT_EQ(Text(id, Lang::kSrLatn), SerbianLatin(Text(id, Lang::kSr)));
  }
  EXPECT_EQ(AllMessages().size(), static_cast<size_t>(Msg::kUnknownWindow) + 1);
  EXPECT_GE(AllDisplayLangs().size(), 9u);
}

// The words of hits in context and index ages were English in every
// language until issue 14's catalog; each language has its own now.
TEST(MessagesTest, HitsInContextAreTranslated) {
  for (Msg id : {Msg::kQuery, Msg::kQueries, Msg::kIndexAge,
                 Msg::kStaleIndexWarning, Msg::kDisjointNote, Msg::kNoValueKept,
                 Msg::kYours, Msg::kTheirs, Msg::kUnknownWindow}) {
    for (Lang lang : AllDisplayLangs()) {
      if (lang == Lang::kEn) continue;
      EXPECT_NE(Text(id, lang), Text(id, Lang::kEn))
          << MessageName(id) << " " << LangCode(lang);
    }
  }
  EXPECT_EQ(Text(Msg::kIndexAge, Lang::kHr, "4 min"), "indeks star 4 min");
  EXPECT_EQ(Text(Msg::kTheirs, Lang::kSrLatn), "njihov");
}

TEST(MessagesTest, PlaceholderAndLanguages) {
  EXPECT_EQ(Text(Msg::kErrNoAnswerIn, Lang::kEn, "400"),
            "the node did not answer within 400 ms");
  EXPECT_EQ(Text(Msg::kNoCases, Lang::kMk), "нема предмети");
  EXPECT_EQ(Text(Msg::kNoCases, Lang::kSr), "нема предмета");
  EXPECT_EQ(Text(Msg::kNoCases, Lang::kSrLatn), "nema predmeta");
  EXPECT_EQ(Text(Msg::kStatusClosed, Lang::kSq), "e mbyllur");
}

TEST(MessagesTest, SerbianLatinTransliteration) {
  EXPECT_EQ(SerbianLatin("Љубљана, Његош, џак, ђак, ћуфте"),
            "Ljubljana, Njegoš, džak, đak, ćufte");
  EXPECT_EQ(SerbianLatin("ЉУДИ ЏЕП Њ"), "LJUDI DŽEP Nj");
  EXPECT_EQ(SerbianLatin("abc 123"), "abc 123");
}

TEST(MessagesTest, UpperForHeaders) {
  EXPECT_EQ(Upper("24/7 contact"), "24/7 CONTACT");
  EXPECT_EQ(Upper("правни основ"), "ПРАВНИ ОСНОВ");
  EXPECT_EQ(Upper("ђак љуљашка џеп ћ ј њ"), "ЂАК ЉУЉАШКА ЏЕП Ћ Ј Њ");
  EXPECT_EQ(Upper("čćđšž ë ç"), "ČĆĐŠŽ Ë Ç");
}

// --lang and CBX_LANG take codes in any case, '_' or '-' (issue 14).
TEST(MessagesTest, LanguageCodesAnyCase) {
  for (auto [code, want] :
       std::initializer_list<std::pair<const char*, Lang>>{
           {"MK", Lang::kMk},
           {"mk", Lang::kMk},
           {"Sr", Lang::kSr},
           {"sr-Latn", Lang::kSrLatn},
           {"sr_latn", Lang::kSrLatn},
           {"SR-LATN", Lang::kSrLatn},
           {"CNR", Lang::kCnr}}) {
    absl::StatusOr<Lang> lang = ParseLang(code);
    ASSERT_TRUE(lang.ok()) << code;
    EXPECT_EQ(*lang, want) << code;
  }
  EXPECT_EQ(ParseLang("sr-Cyrl").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LangCode(Lang::kSrLatn), "sr-Latn");
  EXPECT_EQ(OffenceLabel(v1::OFFENCE_CODE_NCII_SHARING, Lang::kSrLatn),
            "Deljenje intimnog ili izmenjenog materijala bez pristanka");
}

}  // namespace
}  // namespace cbx::client
