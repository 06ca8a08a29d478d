#include "client/offence_labels.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

// Well-formed UTF-8 without control characters.
bool IsCleanUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    if (len == 1 && (c < 0x20 || c == 0x7f)) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

TEST(OffenceLabelsTest, EveryCodeHasANameAndALabelInEveryLanguage) {
  ASSERT_EQ(AllOffenceCodes().size(), 7u);
  // The eight of the federation, and any a translator added (a file of
  // i18n/; the spec page's table then needs its column, below).
  ASSERT_GE(AllLangs().size(), 8u);
  for (v1::OffenceCode code : AllOffenceCodes()) {
    std::string_view name = OffenceCodeName(code);
    ASSERT_FALSE(name.empty()) << code;
    auto parsed = ParseOffenceCodeName(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, code);
    std::set<std::string> labels;
    for (Lang lang : AllLangs()) {
      std::string label = OffenceLabel(code, lang);
      EXPECT_FALSE(label.empty()) << name << " " << LangCode(lang);
      EXPECT_TRUE(IsCleanUtf8(label)) << name << " " << LangCode(lang);
      EXPECT_EQ(label.find("offence #"), std::string::npos);
      labels.insert(label);
    }
    // Each language has its own text; some close languages (bs, hr, cnr)
    // share a wording, but never all eight.
    EXPECT_GE(labels.size(), 4u) << name;
  }
}

TEST(OffenceLabelsTest, CodesAreDistinctWithinEachLanguage) {
  for (Lang lang : AllLangs()) {
    std::set<std::string> labels;
    for (v1::OffenceCode code : AllOffenceCodes()) {
      EXPECT_TRUE(labels.insert(OffenceLabel(code, lang)).second)
          << LangCode(lang) << " " << OffenceCodeName(code);
    }
  }
}

TEST(OffenceLabelsTest, EveryProtoCodeIsCovered) {
  for (int c = v1::OffenceCode_MIN; c <= v1::OffenceCode_MAX; ++c) {
    auto code = static_cast<v1::OffenceCode>(c);
    if (code == v1::OFFENCE_CODE_UNSPECIFIED) continue;
    EXPECT_FALSE(OffenceCodeName(code).empty()) << c;
  }
}

TEST(OffenceLabelsTest, QualifiersHaveLabelsInEveryLanguage) {
  ASSERT_EQ(AllQualifiers().size(), 3u);
  for (Qualifier q : AllQualifiers()) {
    auto parsed = ParseQualifierName(QualifierName(q));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, q);
    for (Lang lang : AllLangs()) {
      EXPECT_FALSE(QualifierLabel(q, lang).empty());
      EXPECT_TRUE(IsCleanUtf8(QualifierLabel(q, lang)));
    }
  }
  EXPECT_FALSE(ParseQualifierName("minor-victim").has_value());
}

TEST(OffenceLabelsTest, ParsesLanguages) {
  for (Lang lang : AllLangs()) {
    auto parsed = ParseLang(LangCode(lang));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, lang);
  }
  EXPECT_EQ(ParseLang("de").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Codes are case-insensitive since issue 14 ("EN" was refused before).
  ASSERT_TRUE(ParseLang("EN").ok());
  EXPECT_EQ(*ParseLang("EN"), Lang::kEn);
  EXPECT_EQ(ParseLang("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OffenceLabelsTest, RejectsUnknownNamesListingTheValidOnes) {
  auto bad = ParseOffenceCodeName("ncii");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("ncii-sharing"),
            absl::string_view::npos);
  EXPECT_EQ(ParseOffenceCodeName("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseOffenceCodeName("CSAM").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OffenceLabelsTest, DescribesOffencesWithTheirParameters) {
  v1::Offence o;
  o.set_code(v1::OFFENCE_CODE_NCII_SHARING);
  o.set_ai_manipulated(true);
  o.set_minor_victim(true);
  EXPECT_EQ(OffenceArgForm(o), "ncii-sharing+ai+minor");
  EXPECT_EQ(DescribeOffence(o, Lang::kEn),
            "Non-consensual sharing of intimate or manipulated material "
            "(AI-manipulated, minor victim)");
  EXPECT_EQ(DescribeOffence(o, Lang::kSl),
            "Deljenje intimnega ali prirejenega gradiva brez privolitve "
            "(prirejeno z UI, mladoletna žrtev)");
  v1::Offence plain;
  plain.set_code(v1::OFFENCE_CODE_CSAM);
  EXPECT_EQ(DescribeOffence(plain, Lang::kMk),
            "Материјал со сексуална злоупотреба на деца");
  EXPECT_EQ(OffenceArgForm(plain), "csam");
}

TEST(OffenceLabelsTest, UnknownCodesStillShow) {
  auto future = static_cast<v1::OffenceCode>(42);
  EXPECT_EQ(OffenceCodeName(future), "");
  EXPECT_EQ(OffenceLabel(future, Lang::kHr), "offence #42");
  v1::Offence o;
  o.set_code(future);
  o.set_attempted(true);
  EXPECT_EQ(OffenceArgForm(o), "#42+attempted");
}

// spec/offence-codes.md carries the same table: every code and every label
// must appear there verbatim, so that the two cannot drift apart.
TEST(OffenceLabelsTest, SpecPageHasEveryCodeAndLabel) {
  std::ifstream in(CBX_OFFENCE_CODES_MD);
  ASSERT_TRUE(in.good()) << CBX_OFFENCE_CODES_MD;
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string spec = buf.str();
  for (v1::OffenceCode code : AllOffenceCodes()) {
    EXPECT_NE(spec.find("`" + std::string(OffenceCodeName(code)) + "`"),
              std::string::npos)
        << OffenceCodeName(code);
    EXPECT_NE(spec.find(v1::OffenceCode_Name(code)), std::string::npos)
        << v1::OffenceCode_Name(code);
    for (Lang lang : AllLangs()) {
      EXPECT_NE(spec.find(OffenceLabel(code, lang)), std::string::npos)
          << LangCode(lang) << ": " << OffenceLabel(code, lang);
    }
  }
  for (Qualifier q : AllQualifiers()) {
    for (Lang lang : AllLangs()) {
      EXPECT_NE(spec.find(std::string(QualifierLabel(q, lang))),
                std::string::npos)
          << LangCode(lang) << ": " << QualifierLabel(q, lang);
    }
  }
}

}  // namespace
}  // namespace cbx::client
