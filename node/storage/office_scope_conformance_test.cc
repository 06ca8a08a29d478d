// Offices see their own (spec/cooperation.md §6): Storage's office-scoped
// listings, the same suite on every backend; and the SQLite migration
// 6 -> 7 that fills the cases' office column.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage.h"
#include "node/storage/storage_test_util.h"
#include "node/storage/testing/storage_backends.h"

namespace cbx::node {
namespace {

using testing::Ident;
using testing::MakeCase;
using testing::TempDir;

constexpr char kSkopje[] = "MK/PPO-Skopje";
constexpr char kBitola[] = "MK/PPO-Bitola";

StoredCase CaseOf(const std::string& number, const std::string& office,
                  bool open, int seed) {
  StoredCase c = MakeCase(number, open, {Ident("u" + number, seed)});
  c.record.set_office(office);
  c.record.set_case_token(Bytes(16, static_cast<char>(seed)));
  return c;
}

template <typename Backend>
class OfficeScopeConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_STORAGE_BACKEND_OR_SKIP(Backend);
    storage_ = Backend::Make(dir_);
    ASSERT_NE(storage_, nullptr);
    ASSERT_OK(storage_->AddCase(CaseOf("BT-1", kBitola, true, 1)));
    ASSERT_OK(storage_->AddCase(CaseOf("BT-2", kBitola, false, 2)));
    ASSERT_OK(storage_->AddCase(CaseOf("SK-1", kSkopje, true, 3)));
    int64_t at = 1'750'000'000'000;
    for (const char* number : {"SK-1", "BT-1", "BT-2", "SK-1", "GONE"}) {
      v1::Hit h;
      h.set_case_number(number);
      h.set_received_at_ms(at);
      ASSERT_OK(storage_->AddHit(h));
      v1::Notification n;
      n.set_case_number(number);
      n.set_at_ms(at++);
      ASSERT_OK(storage_->AddNotification(n));
    }
  }
  Storage& s() { return *storage_; }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TYPED_TEST_SUITE(OfficeScopeConformanceTest, testing::StorageBackends,
                 testing::StorageBackendNames);

template <typename T>
std::vector<std::string> Numbers(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const T& i : items) out.push_back(i.case_number());
  return out;
}

TYPED_TEST(OfficeScopeConformanceTest, CasesOfOneOffice) {
  ASSERT_OK_AND_ASSIGN(auto open,
                       this->s().ListOfficeCases(kBitola, false, {}));
  ASSERT_EQ(open.items.size(), 1u);
  EXPECT_EQ(open.items[0].record.case_number(), "BT-1");
  EXPECT_EQ(open.items[0].identifiers.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto all, this->s().ListOfficeCases(kBitola, true, {}));
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[1].record.case_number(), "BT-2");
  // Paged: one at a time, never another office's.
  ASSERT_OK_AND_ASSIGN(auto first,
                       this->s().ListOfficeCases(kBitola, true, {"", 1}));
  ASSERT_EQ(first.items.size(), 1u);
  ASSERT_FALSE(first.next.empty());
  ASSERT_OK_AND_ASSIGN(
      auto second, this->s().ListOfficeCases(kBitola, true, {first.next, 1}));
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_EQ(second.items[0].record.case_number(), "BT-2");
  EXPECT_TRUE(second.next.empty());
  ASSERT_OK_AND_ASSIGN(auto none,
                       this->s().ListOfficeCases("MK/Other", true, {}));
  EXPECT_TRUE(none.items.empty());
  EXPECT_EQ(this->s().ListOfficeCases("", true, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(OfficeScopeConformanceTest, HitsAndNotificationsThroughTheirCase) {
  ASSERT_OK_AND_ASSIGN(auto hits, this->s().ListOfficeHits(kSkopje, "", {}));
  EXPECT_EQ(Numbers(hits.items), (std::vector<std::string>{"SK-1", "SK-1"}));
  ASSERT_OK_AND_ASSIGN(auto bitola, this->s().ListOfficeHits(kBitola, "", {}));
  // Newest first; a hit of a case the node does not hold is no office's.
  EXPECT_EQ(Numbers(bitola.items), (std::vector<std::string>{"BT-2", "BT-1"}));
  ASSERT_OK_AND_ASSIGN(auto one,
                       this->s().ListOfficeHits(kBitola, "BT-1", {}));
  EXPECT_EQ(Numbers(one.items), (std::vector<std::string>{"BT-1"}));
  ASSERT_OK_AND_ASSIGN(auto foreign,
                       this->s().ListOfficeHits(kBitola, "SK-1", {}));
  EXPECT_TRUE(foreign.items.empty());
  ASSERT_OK_AND_ASSIGN(auto paged,
                       this->s().ListOfficeHits(kBitola, "", {"", 1}));
  ASSERT_EQ(paged.items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto rest,
                       this->s().ListOfficeHits(kBitola, "", {paged.next, 1}));
  EXPECT_EQ(Numbers(rest.items), (std::vector<std::string>{"BT-1"}));

  ASSERT_OK_AND_ASSIGN(auto notes,
                       this->s().ListOfficeNotifications(kSkopje, "", {}));
  EXPECT_EQ(Numbers(notes.items), (std::vector<std::string>{"SK-1", "SK-1"}));
  EXPECT_EQ(this->s().ListOfficeHits("", "", {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// node.db of schema 6: the migration to 7 fills each case's office column
// from its record, so that the office listings see the old cases.
TEST(OfficeScopeMigrationTest, Schema6CasesGetTheirOffice) {
  TempDir dir;
  const std::string path = dir.File("node.db");
  std::filesystem::copy_file(
      std::string(CBX_SCHEMA_FIXTURES_DIR) + "/node-v6.db", path);
  auto opened = SqliteStorage::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_OK_AND_ASSIGN(auto all, (*opened)->ListCases(true, {}));
  ASSERT_FALSE(all.items.empty());
  for (const StoredCase& c : all.items) {
    ASSERT_OK_AND_ASSIGN(
        auto own, (*opened)->ListOfficeCases(c.record.office(), true, {}));
    bool found = false;
    for (const StoredCase& o : own.items) {
      found |= o.record.case_number() == c.record.case_number();
    }
    EXPECT_TRUE(found) << c.record.case_number();
  }
}

}  // namespace
}  // namespace cbx::node
