// The catalog's file checks and its generator: what a translator is told
// when a file is not complete, and that a new file is a new language (the
// generator binary run on a copy of i18n/ with one more file).
#include "core/i18n/catalog_file.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/i18n/catalog_generator.h"
#include "gtest/gtest.h"

namespace cbx::i18n {
namespace {

constexpr char kEnglish[] =
    "# a comment\n"
    "language.code = en\n"
    "language.name = English\n"
    "\n"
    "case = case\n"
    "err.no_answer_in = no answer within {1} ms from {2}\n";

CatalogFile Parse(const std::string& path, const std::string& text) {
  absl::StatusOr<CatalogFile> f = ParseCatalogFile(path, text);
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *f : CatalogFile();
}

std::string ReadText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

TEST(CatalogFileTest, ParsesNamesTextsAndLines) {
  CatalogFile en = Parse("en.txt", kEnglish);
  EXPECT_EQ(en.code, "en");
  EXPECT_EQ(en.name, "English");
  ASSERT_EQ(en.entries.size(), 4u);
  EXPECT_EQ(en.entries[2].name, "case");
  EXPECT_EQ(en.entries[2].line, 5);
  EXPECT_EQ(en.entries[3].text, "no answer within {1} ms from {2}");
  EXPECT_EQ(Placeholders(en.entries[3].text),
            (std::vector<std::string>{"{1}", "{2}"}));
  // '=' in a text stays in it; only the first one separates.
  CatalogFile eq = Parse("x.txt",
                         "language.code = x\nlanguage.name = X\n"
                         "a = b = c\n");
  EXPECT_EQ(eq.Find("a")->text, "b = c");
}

TEST(CatalogFileTest, RefusesWhatIsNotAMessageNamingTheLine) {
  const std::string head = "language.code = mk\nlanguage.name = m\n";
  for (const auto& [text, want] :
       std::vector<std::pair<std::string, std::string>>{
           {head + "no equals sign\n", "mk.txt:3: expected `name = text`"},
           {head + "Case = x\n", "mk.txt:3: \"Case\" is not a message name"},
           {head + "case =\n", "mk.txt:3: message \"case\" has no text"},
           {head + "case = a\ncase = b\n",
            "mk.txt:4: message \"case\" is given a second time"},
           {head + "case = a\xff\n", "mk.txt:3: message \"case\" is not UTF-8"},
           {"case = a\n", "mk.txt: names no language.code"}}) {
    absl::StatusOr<CatalogFile> f = ParseCatalogFile("mk.txt", text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(f.status().message().find(want), std::string::npos)
        << f.status().message();
  }
}

TEST(CatalogFileTest, CheckNamesFileLineAndMessage) {
  CatalogFile en = Parse("i18n/en.txt", kEnglish);
  CatalogFile good =
      Parse("i18n/mk.txt",
            "language.code = mk\nlanguage.name = македонски\n"
            "case = предмет\n"
            "err.no_answer_in = од {2} нема одговор за {1} ms\n");
  EXPECT_TRUE(CheckAgainstEnglish(en, good, "mk").empty());

  CatalogFile bad = Parse("i18n/mk.txt",
                          "language.code = mk\nlanguage.name = m\n"
                          "err.no_answer_in = нема одговор за {1} ms\n"
                          "cases = предмети\n");
  const std::vector<std::string> problems = CheckAgainstEnglish(en, bad, "hr");
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0],
            "i18n/mk.txt:1: message \"language.code\": is \"mk\" but the file "
            "is named for \"hr\"");
  EXPECT_EQ(problems[1],
            "i18n/mk.txt:3: message \"err.no_answer_in\" has placeholders "
            "[{1}] but the English text has [{1} {2}] (i18n/en.txt:6)");
  EXPECT_EQ(problems[2],
            "i18n/mk.txt:4: message \"cases\" is not in the English file "
            "(i18n/en.txt); a message is added there first");
  EXPECT_EQ(problems[3],
            "i18n/mk.txt: lacks message \"case\" (i18n/en.txt:5: \"case\")");
}

TEST(CatalogGeneratorTest, DerivesSerbianLatinUnlessAFileGivesIt) {
  const std::string sr =
      "language.code = sr\nlanguage.name = српски\ncase = предмет\n"
      "err.no_answer_in = нема одговора за {1} ms од {2}\n";
  absl::StatusOr<GeneratedCatalog> c =
      GenerateCatalog({{"d/en.txt", kEnglish}, {"d/sr.txt", sr}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->codes, (std::vector<std::string>{"en", "sr", "sr-Latn"}));
  EXPECT_NE(c->source.find("\"predmet\""), std::string::npos);
  EXPECT_NE(c->source.find("\"srpski\""), std::string::npos);
  EXPECT_NE(c->header.find("inline constexpr MessageId kErrNoAnswerIn{3};"),
            std::string::npos);

  const std::string latin =
      "language.code = sr-Latn\nlanguage.name = srpski latinica\n"
      "case = predmet (latinica)\n"
      "err.no_answer_in = nema odgovora za {1} ms od {2}\n";
  c = GenerateCatalog(
      {{"d/en.txt", kEnglish}, {"d/sr.txt", sr}, {"d/sr-Latn.txt", latin}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->codes, (std::vector<std::string>{"en", "sr", "sr-Latn"}));
  EXPECT_NE(c->source.find("predmet (latinica)"), std::string::npos);
}

TEST(CatalogGeneratorTest, ReportsEveryProblemOfEveryFile) {
  absl::StatusOr<GeneratedCatalog> c = GenerateCatalog(
      {{"d/en.txt", kEnglish},
       {"d/hr.txt", "language.code = hr\nlanguage.name = hrvatski\n"},
       {"d/sl.txt", "language.code = sl\n"}});
  ASSERT_FALSE(c.ok());
  const std::string m(c.status().message());
  EXPECT_NE(m.find("d/hr.txt: lacks message \"case\""), std::string::npos) << m;
  EXPECT_NE(m.find("d/hr.txt: lacks message \"err.no_answer_in\""),
            std::string::npos);
  EXPECT_NE(m.find("d/sl.txt: names no language.code or language.name"),
            std::string::npos);
  EXPECT_EQ(GenerateCatalog({{"d/mk.txt",
                              "language.code = mk\n"
                              "language.name = m\n"}})
                .status()
                .message(),
            "no en.txt: English is the catalog's reference");
  // Two names one C++ constant would stand for.
  EXPECT_FALSE(GenerateCatalog({{"d/en.txt", std::string(kEnglish) +
                                                 "case.x = a\ncase_x = b\n"}})
                   .ok());
}

// The build's own step: cbx_i18n_gen over a copy of i18n/ with a file
// more is a catalog with a language more; the same file with a message
// missing fails, naming it.
TEST(CatalogGeneratorTest, AFileMoreIsALanguageMore) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "i18n_extra";
  fs::remove_all(dir);
  fs::create_directories(dir / "in");
  for (const auto& f : fs::directory_iterator(CBX_I18N_DIR)) {
    fs::copy_file(f.path(), dir / "in" / f.path().filename());
  }
  // German: the English texts, as a translator starts from them.
  std::string de = ReadText(dir / "in" / "en.txt");
  de.replace(de.find("language.code = en"), 18, "language.code = de");
  de.replace(de.find("language.name = English"), 23, "language.name = Deutsch");
  std::ofstream(dir / "in" / "de.txt") << de;
  const std::string run =
      std::string(CBX_I18N_GEN) + " " + (dir / "in").string() + " " +
      (dir / "ids.h").string() + " " + (dir / "data.cc").string() + " 2>" +
      (dir / "err.txt").string();
  ASSERT_EQ(std::system(run.c_str()), 0) << ReadText(dir / "err.txt");
  const std::string data = ReadText(dir / "data.cc");
  EXPECT_NE(data.find("{\"de\", \"Deutsch\", kTexts"), std::string::npos);
  EXPECT_NE(data.find("{\"sr-Latn\", \"srpski\", kTexts"), std::string::npos);
  EXPECT_NE(data.find("const size_t kLanguageCount = 10;"), std::string::npos);

  de.erase(de.find("console.nav.home = Home\n"), 24);
  std::ofstream(dir / "in" / "de.txt", std::ios::trunc) << de;
  EXPECT_NE(std::system(run.c_str()), 0);
  EXPECT_NE(ReadText(dir / "err.txt")
                .find("de.txt: lacks message \"console.nav.home\" ("),
            std::string::npos)
      << ReadText(dir / "err.txt");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cbx::i18n
