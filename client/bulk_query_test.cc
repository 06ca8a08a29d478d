#include "client/bulk_query.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

std::string Emails(int n, int from = 0) {
  std::string text;
  for (int i = from; i < from + n; ++i) {
    text += "email:contact" + std::to_string(i) + "@example.org\n";
  }
  return text;
}

QueryArgs Purpose() {
  QueryArgs a;
  a.case_number = "MK-2026-0142";
  a.legal_basis = "MLA-Convention-1959 Art.1";
  a.offence = "ncii-sharing";
  a.peers = {"RS", "AL"};
  return a;
}

TEST(IdentifierFileTest, KeepsEachIdentifierWithItsLine) {
  auto file = ParseIdentifierFile(
      "# contacts exported from the seized phone\n"
      "phone:+389 70 123 456\r\n"
      "\n"
      "   telegram_username:@smokva_admin   \n"
      "\t# another comment\n"
      "phone:+38970123456\n"  // the same number, normalized
      "phone@2025-01..2025-06:+38970999888\n"
      "email:a@b.mk",  // no newline at the end
      "contacts.txt");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->name, "contacts.txt");
  ASSERT_EQ(file->identifiers.size(), 4u);
  EXPECT_EQ(file->duplicates, 1);
  EXPECT_EQ(file->identifiers[0].line, 2);
  EXPECT_EQ(file->identifiers[0].identifier.type(), v1::IDENTIFIER_TYPE_PHONE);
  EXPECT_EQ(file->identifiers[0].identifier.value(), "+389 70 123 456");
  EXPECT_EQ(file->identifiers[1].line, 4);
  EXPECT_EQ(file->identifiers[1].identifier.value(), "@smokva_admin");
  EXPECT_EQ(file->identifiers[2].line, 7);
  EXPECT_NE(file->identifiers[2].identifier.observed_from_ms(), 0);
  EXPECT_EQ(file->identifiers[3].line, 8);
  EXPECT_EQ(file->identifiers[3].identifier.value(), "a@b.mk");
}

TEST(IdentifierFileTest, NamesEveryBadLineUpToTenThenCountsTheRest) {
  std::string text = "email:ok@example.org\n";
  for (int i = 0; i < 12; ++i) text += "username:@x" + std::to_string(i) + "\n";
  auto file = ParseIdentifierFile(text, "contacts.txt");
  ASSERT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(file.status().message());
  EXPECT_EQ(m.rfind("--ids-file 'contacts.txt': 12 lines do not hold an "
                    "identifier in the --id form",
                    0),
            0u)
      << m;
  EXPECT_NE(m.find("\n  contacts.txt:2: "), std::string::npos) << m;
  EXPECT_NE(m.find("\n  contacts.txt:11: "), std::string::npos) << m;
  EXPECT_EQ(m.find("contacts.txt:12:"), std::string::npos) << m;
  EXPECT_NE(m.find("\n  and 2 more"), std::string::npos) << m;

  auto one = ParseIdentifierFile("phone:12\n", "c.txt");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(std::string(one.status().message()).find("1 line does not hold"),
            std::string::npos)
      << one.status();
}

TEST(IdentifierFileTest, RefusesAFileWithoutIdentifiersOrWithTooMany) {
  for (const char* text : {"", "\n\n", "# only a comment\n  \r\n"}) {
    auto file = ParseIdentifierFile(text, "empty.txt");
    ASSERT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(file.status().message()).find("holds no identifier"),
              std::string::npos)
        << file.status();
  }
  auto full = ParseIdentifierFile(Emails(kMaxBulkIdentifiers), "full.txt");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->identifiers.size(), kMaxBulkIdentifiers);
  auto over = ParseIdentifierFile(Emails(kMaxBulkIdentifiers + 1), "big.txt");
  ASSERT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(over.status().message())
                .find("more than 65536 identifiers (at line 65537); split "
                      "the file"),
            std::string::npos)
      << over.status();
}

TEST(IdentifierFileTest, AControlCharacterInAnErrorCannotReachTheTerminal) {
  auto file = ParseIdentifierFile("bogus\x1b[2J:x\n", "c.txt");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(std::string(file.status().message()).find('\x1b'),
            std::string::npos)
      << file.status();
}

TEST(IdentifierFileTest, ReadsStandardInputAndRefusesADirectoryOrTooMuch) {
  std::istringstream piped("# piped\nemail:a@b.mk\nphone:+38970123456\n");
  std::streambuf* kept = std::cin.rdbuf(piped.rdbuf());
  auto file = ReadIdentifierFile("-");
  std::cin.rdbuf(kept);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->name, "standard input");
  ASSERT_EQ(file->identifiers.size(), 2u);
  EXPECT_EQ(file->identifiers[1].line, 3);

  auto dir = ReadIdentifierFile(::testing::TempDir());
  EXPECT_EQ(dir.status().message(),
            "--ids-file '" + ::testing::TempDir() +
                "': is a directory, not a file of identifiers");

  // A pipe has no size to ask: it is read up to the bound, then refused.
  std::istringstream flood(std::string(kMaxIdentifierFileBytes + 1, '#'));
  kept = std::cin.rdbuf(flood.rdbuf());
  auto big = ReadIdentifierFile("-");
  std::cin.rdbuf(kept);
  EXPECT_EQ(big.status().message(),
            "--ids-file '-': holds more than 67108864 bytes; split the file");
}

TEST(BulkPlanTest, SplitsIntoQueriesOfAtMost1024InFileOrder) {
  auto file = ParseIdentifierFile("# header\n" + Emails(2500), "c.txt");
  ASSERT_TRUE(file.ok()) << file.status();
  auto base = BuildQueryPurpose(Purpose());
  ASSERT_TRUE(base.ok()) << base.status();
  BulkQueryPlan plan = PlanBulkQuery(*file, *base, false);
  EXPECT_EQ(plan.identifiers, 2500u);
  ASSERT_EQ(plan.batches.size(), 3u);
  const size_t sizes[] = {1024, 1024, 452};
  int line = 2;
  for (size_t b = 0; b < 3; ++b) {
    const BulkBatch& batch = plan.batches[b];
    ASSERT_EQ(batch.request.identifiers_size(), static_cast<int>(sizes[b]));
    ASSERT_EQ(batch.lines.size(), sizes[b]);
    EXPECT_EQ(batch.request.purpose().case_number(), "MK-2026-0142");
    ASSERT_EQ(batch.request.peers_size(), 2);
    EXPECT_EQ(batch.request.peers(0), "RS");
    for (size_t i = 0; i < sizes[b]; ++i, ++line) {
      ASSERT_EQ(batch.lines[i], line);
      ASSERT_EQ(batch.request.identifiers(i).value(),
                "contact" + std::to_string(line - 2) + "@example.org");
    }
  }
}

TEST(BulkPlanTest, ATwinStaysInItsIdentifiersQuery) {
  // 1023 e-mail addresses, then a Telegram name valid as a username and a
  // chat: with --both-types it and its twin would make 1025, so both go to
  // the second query.
  auto file = ParseIdentifierFile(
      Emails(1023) + "telegram_username:smokva_grupa\n" +
          "telegram_chat:smokva_kanal\ntelegram_username:smokva_kanal\n",
      "c.txt");
  ASSERT_TRUE(file.ok()) << file.status();
  auto base = BuildQueryPurpose(Purpose());
  ASSERT_TRUE(base.ok());
  BulkQueryPlan plan = PlanBulkQuery(*file, *base, true);
  ASSERT_EQ(plan.batches.size(), 2u);
  EXPECT_EQ(plan.batches[0].lines.size(), 1023u);
  const BulkBatch& second = plan.batches[1];
  // smokva_grupa and its chat twin; smokva_kanal as a chat and as a
  // username (both in the file: no twin added).
  ASSERT_EQ(second.request.identifiers_size(), 4);
  EXPECT_EQ(second.request.identifiers(0).type(),
            v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  EXPECT_EQ(second.request.identifiers(1).type(),
            v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
  EXPECT_EQ(second.lines, (std::vector<int>{1024, 1024, 1025, 1026}));

  // Without twins smokva_grupa fits in the first query.
  BulkQueryPlan without = PlanBulkQuery(*file, *base, false);
  ASSERT_EQ(without.batches.size(), 2u);
  EXPECT_EQ(without.batches[0].lines.size(), 1024u);
  EXPECT_EQ(without.batches[1].lines, (std::vector<int>{1025, 1026}));
}

TEST(BulkPlanTest, BuildChecksThePurposeTheFileAndRefusesIdsBeside) {
  const std::string path =
      ::testing::TempDir() + "/bulk_plan_" + std::to_string(getpid()) + ".txt";
  {
    std::ofstream out(path);
    out << Emails(3);
  }
  QueryArgs a = Purpose();
  a.ids_file = path;
  auto plan = BuildBulkQuery(a);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->file, path);
  EXPECT_EQ(plan->batches.size(), 1u);

  QueryArgs both = a;
  both.ids = {"email:x@example.org"};
  EXPECT_EQ(BuildBulkQuery(both).status().message(),
            "--ids-file: give the identifiers either with --id or in the "
            "file, not both");

  QueryArgs no_basis = a;
  no_basis.legal_basis = "";
  EXPECT_EQ(BuildBulkQuery(no_basis).status().code(),
            absl::StatusCode::kInvalidArgument);

  QueryArgs missing = Purpose();
  missing.ids_file = path + ".missing";
  auto gone = BuildBulkQuery(missing);
  ASSERT_EQ(gone.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gone.status().message(), "--ids-file '" + missing.ids_file +
                                         "': cannot read: No such file or "
                                         "directory");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace cbx::client
