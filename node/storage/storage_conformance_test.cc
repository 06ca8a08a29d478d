// The Storage contract (storage.h), run against every backend.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/storage/memory_storage.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage.h"
#include "node/storage/storage_test_util.h"
#include "node/storage/testing/storage_backends.h"

namespace cbx::node {
namespace {

using testing::ExpectSameCase;
using testing::Ident;
using testing::MakeCase;
using testing::TempDir;
using testing::Y;

template <typename Backend>
class StorageConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_STORAGE_BACKEND_OR_SKIP(Backend);
    storage_ = Backend::Make(dir_);
    ASSERT_NE(storage_, nullptr);
  }

  Storage& s() { return *storage_; }

  std::vector<Tag> Tags() {
    auto tags = storage_->OwnIndexTags();
    EXPECT_TRUE(tags.ok()) << tags.status();
    return tags.ok() ? *tags : std::vector<Tag>{};
  }
  uint64_t Version() {
    auto version = storage_->OwnIndexVersion();
    EXPECT_TRUE(version.ok()) << version.status();
    return version.ok() ? *version : ~uint64_t{0};
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TYPED_TEST_SUITE(StorageConformanceTest, testing::StorageBackends,
                 testing::StorageBackendNames);

std::vector<std::tuple<uint64_t, Tag, bool>> Flatten(
    const std::vector<IndexChange>& changes) {
  std::vector<std::tuple<uint64_t, Tag, bool>> out;
  for (const IndexChange& c : changes) {
    out.emplace_back(c.version, c.tag, c.added);
  }
  return out;
}

// --- Cases -------------------------------------------------------------------

TYPED_TEST(StorageConformanceTest, AddThenGetReturnsTheCase) {
  StoredCase c =
      MakeCase("MK-2026-0142", true,
               {Ident("mallory", 30), Ident("eve", 10),
                Ident("+38970123456", 20, v1::IDENTIFIER_TYPE_PHONE)});
  ASSERT_OK(this->s().AddCase(c));
  ASSERT_OK_AND_ASSIGN(StoredCase got, this->s().GetCase("MK-2026-0142"));
  ExpectSameCase(got, c);  // identifiers keep their order
}

TYPED_TEST(StorageConformanceTest, DuplicateCaseNumberIsAlreadyExists) {
  StoredCase first = MakeCase("MK-1", true, {Ident("a", 1)});
  ASSERT_OK(this->s().AddCase(first));
  StoredCase second = MakeCase("MK-1", true, {Ident("b", 2)});
  second.record.set_office("other");
  EXPECT_EQ(CodeOf(this->s().AddCase(second)),
            absl::StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(StoredCase got, this->s().GetCase("MK-1"));
  ExpectSameCase(got, first);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({1}));
  EXPECT_EQ(this->Version(), 1u);
}

TYPED_TEST(StorageConformanceTest, MissingCaseIsNotFound) {
  EXPECT_EQ(CodeOf(this->s().GetCase("nope")), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      CodeOf(this->s().UpdateCase(MakeCase("nope", true, {Ident("a", 1)}))),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(this->s().GetCase("nope")), absl::StatusCode::kNotFound);
  EXPECT_TRUE(this->Tags().empty());
  EXPECT_EQ(this->Version(), 0u);
}

TYPED_TEST(StorageConformanceTest, InvalidCasesAreRefusedAndChangeNothing) {
  StoredCase no_number = MakeCase("", true, {Ident("a", 1)});
  StoredCase no_status = MakeCase("MK-1", true, {Ident("a", 1)});
  no_status.record.set_status(v1::CASE_STATUS_UNSPECIFIED);
  StoredCase short_y = MakeCase("MK-1", true, {Ident("a", 1)});
  short_y.identifiers[0].y = "short";
  StoredCase twice = MakeCase("MK-1", true, {Ident("a", 1), Ident("a", 2)});
  for (const StoredCase& bad : {no_number, no_status, short_y, twice}) {
    EXPECT_EQ(CodeOf(this->s().AddCase(bad)),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(CodeOf(this->s().GetCase("MK-1")), absl::StatusCode::kNotFound);

  // The same value under another type is another identifier.
  StoredCase ok = MakeCase(
      "MK-1", true,
      {Ident("123", 1), Ident("123", 2, v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID)});
  ASSERT_OK(this->s().AddCase(ok));
  for (StoredCase bad : {no_status, short_y, twice}) {
    bad.record.set_case_number("MK-1");
    EXPECT_EQ(CodeOf(this->s().UpdateCase(bad)),
              absl::StatusCode::kInvalidArgument);
  }
  ASSERT_OK_AND_ASSIGN(StoredCase got, this->s().GetCase("MK-1"));
  ExpectSameCase(got, ok);
  EXPECT_EQ(this->Version(), 2u);
}

TYPED_TEST(StorageConformanceTest, UpdateReplacesRecordAndIdentifiers) {
  ASSERT_OK(this->s().AddCase(
      MakeCase("MK-1", true, {Ident("a", 1), Ident("b", 2)})));
  StoredCase updated = MakeCase("MK-1", true, {Ident("c", 3), Ident("b", 2)});
  updated.record.set_contact_point("+389 2 111 111");
  updated.record.set_updated_at_ms(1'760'000'000'000);
  ASSERT_OK(this->s().UpdateCase(updated));
  ASSERT_OK_AND_ASSIGN(StoredCase got, this->s().GetCase("MK-1"));
  ExpectSameCase(got, updated);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({2, 3}));
  // Only the set's changes count: tag 2 stayed, 1 left, 3 came.
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(2));
  EXPECT_EQ(Flatten(changes), (std::vector<std::tuple<uint64_t, Tag, bool>>{
                                  {3, 1, false}, {4, 3, true}}));
}

TYPED_TEST(StorageConformanceTest, ListCasesOrdersByNumberAndFiltersClosed) {
  ASSERT_OK(this->s().AddCase(MakeCase("MK-3", true, {Ident("c", 3)})));
  ASSERT_OK(this->s().AddCase(MakeCase("MK-1", false, {Ident("a", 1)})));
  ASSERT_OK(this->s().AddCase(
      MakeCase("MK-2", true, {Ident("b", 2), Ident("bb", 22)})));
  ASSERT_OK(this->s().AddCase(MakeCase("MK-0", true, {})));

  ASSERT_OK_AND_ASSIGN(auto open_page, this->s().ListCases(false));
  EXPECT_EQ(open_page.next, "");
  const std::vector<StoredCase>& open = open_page.items;
  ASSERT_EQ(open.size(), 3u);
  EXPECT_EQ(open[0].record.case_number(), "MK-0");
  EXPECT_EQ(open[1].record.case_number(), "MK-2");
  EXPECT_EQ(open[2].record.case_number(), "MK-3");
  EXPECT_TRUE(open[0].identifiers.empty());
  ASSERT_EQ(open[1].identifiers.size(), 2u);
  EXPECT_EQ(open[1].identifiers[0].normalized_value, "b");
  EXPECT_EQ(open[1].identifiers[1].normalized_value, "bb");

  ASSERT_OK_AND_ASSIGN(auto all_page, this->s().ListCases(true));
  const std::vector<StoredCase>& all = all_page.items;
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].record.case_number(), "MK-1");
  EXPECT_EQ(all[1].record.status(), v1::CASE_STATUS_CLOSED);
  ASSERT_EQ(all[1].identifiers.size(), 1u);
  EXPECT_EQ(all[1].identifiers[0].tag, 1u);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(StoredCase one,
                         this->s().GetCase(all[i].record.case_number()));
    ExpectSameCase(all[i], one);
  }
}

// --- Own index ---------------------------------------------------------------

TYPED_TEST(StorageConformanceTest, OwnIndexCountsSharedTagsOnce) {
  EXPECT_EQ(this->Version(), 0u);
  ASSERT_OK(this->s().AddCase(
      MakeCase("A", true, {Ident("a1", 10), Ident("shared", 20)})));
  EXPECT_EQ(this->Version(), 2u);
  ASSERT_OK(this->s().AddCase(
      MakeCase("B", true, {Ident("shared", 20), Ident("b1", 30)})));
  EXPECT_EQ(this->Version(), 3u);  // only tag 30 is new
  EXPECT_EQ(this->Tags(), std::vector<Tag>({10, 20, 30}));

  // Closing A: 10 leaves, 20 stays (B still has it).
  ASSERT_OK(this->s().UpdateCase(
      MakeCase("A", false, {Ident("a1", 10), Ident("shared", 20)})));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({20, 30}));
  EXPECT_EQ(this->Version(), 4u);
  // Closing B: the last holders of 20 and 30 go.
  ASSERT_OK(this->s().UpdateCase(
      MakeCase("B", false, {Ident("shared", 20), Ident("b1", 30)})));
  EXPECT_TRUE(this->Tags().empty());
  EXPECT_EQ(this->Version(), 6u);
  // Reopening A brings its tags back.
  ASSERT_OK(this->s().UpdateCase(
      MakeCase("A", true, {Ident("a1", 10), Ident("shared", 20)})));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({10, 20}));

  ASSERT_OK_AND_ASSIGN(auto all, this->s().OwnIndexChangesSince(0));
  EXPECT_EQ(Flatten(all),
            (std::vector<std::tuple<uint64_t, Tag, bool>>{{1, 10, true},
                                                          {2, 20, true},
                                                          {3, 30, true},
                                                          {4, 10, false},
                                                          {5, 20, false},
                                                          {6, 30, false},
                                                          {7, 10, true},
                                                          {8, 20, true}}));
  ASSERT_OK_AND_ASSIGN(auto since5, this->s().OwnIndexChangesSince(5));
  EXPECT_EQ(Flatten(since5),
            (std::vector<std::tuple<uint64_t, Tag, bool>>{
                {6, 30, false}, {7, 10, true}, {8, 20, true}}));
  ASSERT_OK_AND_ASSIGN(auto none, this->s().OwnIndexChangesSince(8));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(9)),
            absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST(StorageConformanceTest, SameTagTwiceInOneCase) {
  ASSERT_OK(this->s().AddCase(MakeCase(
      "A", true,
      {Ident("x", 5), Ident("x", 5, v1::IDENTIFIER_TYPE_PLATFORM_HANDLE)})));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({5}));
  EXPECT_EQ(this->Version(), 1u);
  ASSERT_OK(this->s().UpdateCase(MakeCase("A", true, {Ident("x", 5)})));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({5}));
  EXPECT_EQ(this->Version(), 1u);
  ASSERT_OK(this->s().UpdateCase(MakeCase("A", true, {})));
  EXPECT_TRUE(this->Tags().empty());
  EXPECT_EQ(this->Version(), 2u);
}

TYPED_TEST(StorageConformanceTest, ClosedCaseNeverEntersTheIndex) {
  ASSERT_OK(this->s().AddCase(MakeCase("A", false, {Ident("a", 1)})));
  EXPECT_TRUE(this->Tags().empty());
  EXPECT_EQ(this->Version(), 0u);
  // Changing a closed case's identifiers leaves the index alone.
  ASSERT_OK(this->s().UpdateCase(MakeCase("A", false, {Ident("b", 2)})));
  EXPECT_TRUE(this->Tags().empty());
  EXPECT_EQ(this->Version(), 0u);
}

TYPED_TEST(StorageConformanceTest, OwnIndexTagsAscendAsUnsigned) {
  const Tag high = 0xF000000000000001u, mid = 0x8000000000000000u,
            low = 0x7FFFFFFFFFFFFFFFu;
  ASSERT_OK(this->s().AddCase(MakeCase(
      "A", true,
      {Ident("h", high), Ident("z", 0), Ident("m", mid), Ident("l", low)})));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({0, low, mid, high}));
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(0));
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[3].tag, high);
  EXPECT_TRUE(changes[3].added);
}

TYPED_TEST(StorageConformanceTest, CompactionForgetsOldChanges) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_OK(this->s().AddCase(
        MakeCase("C" + std::to_string(i), true, {Ident("v", i * 100)})));
  }
  ASSERT_OK(this->s().CompactIndexChanges(3));
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(0)),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(2)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto since3, this->s().OwnIndexChangesSince(3));
  EXPECT_EQ(Flatten(since3), (std::vector<std::tuple<uint64_t, Tag, bool>>{
                                 {4, 400, true}, {5, 500, true}}));
  // Compacting to an older point does nothing; past the version clamps.
  ASSERT_OK(this->s().CompactIndexChanges(1));
  ASSERT_OK_AND_ASSIGN(auto again, this->s().OwnIndexChangesSince(3));
  EXPECT_EQ(again.size(), 2u);
  ASSERT_OK(this->s().CompactIndexChanges(1000));
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(4)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto at5, this->s().OwnIndexChangesSince(5));
  EXPECT_TRUE(at5.empty());
  EXPECT_EQ(this->Version(), 5u);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({100, 200, 300, 400, 500}));
  // New changes after a compaction are served.
  ASSERT_OK(this->s().AddCase(MakeCase("C6", true, {Ident("v", 600)})));
  ASSERT_OK_AND_ASSIGN(auto at6, this->s().OwnIndexChangesSince(5));
  EXPECT_EQ(Flatten(at6),
            (std::vector<std::tuple<uint64_t, Tag, bool>>{{6, 600, true}}));
}

// --- Outputs -----------------------------------------------------------------

TYPED_TEST(StorageConformanceTest, FindByOutputsMatchesOpenCasesOnly) {
  StoredIdentifier shared = Ident("shared", 1);
  StoredIdentifier only_a = Ident("only-a", 2);
  StoredIdentifier only_closed = Ident("only-closed", 3);
  ASSERT_OK(this->s().AddCase(MakeCase("B", true, {shared})));
  ASSERT_OK(this->s().AddCase(MakeCase("A", true, {only_a, shared})));
  ASSERT_OK(this->s().AddCase(MakeCase("Z", false, {shared, only_closed})));

  ASSERT_OK_AND_ASSIGN(
      auto matches, this->s().FindByOutputs(
                        {only_closed.y, shared.y, Y(999), "short", only_a.y}));
  ASSERT_EQ(matches.size(), 3u);
  EXPECT_EQ(matches[0].y, shared.y);
  EXPECT_EQ(matches[0].case_number, "A");
  EXPECT_TRUE(testing::SameIdentifier(matches[0].identifier, shared));
  EXPECT_EQ(matches[1].y, shared.y);
  EXPECT_EQ(matches[1].case_number, "B");
  EXPECT_EQ(matches[2].y, only_a.y);
  EXPECT_EQ(matches[2].case_number, "A");
  EXPECT_TRUE(testing::SameIdentifier(matches[2].identifier, only_a));

  // Closing A drops its matches.
  ASSERT_OK(this->s().UpdateCase(MakeCase("A", false, {only_a, shared})));
  ASSERT_OK_AND_ASSIGN(auto after,
                       this->s().FindByOutputs({only_a.y, shared.y}));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].case_number, "B");
  ASSERT_OK_AND_ASSIGN(auto nothing, this->s().FindByOutputs({}));
  EXPECT_TRUE(nothing.empty());
}

TYPED_TEST(StorageConformanceTest, ReplaceAllOutputsRewritesTheIndex) {
  ASSERT_OK(this->s().AddCase(
      MakeCase("A", true, {Ident("a", 1), Ident("shared", 2)})));
  ASSERT_OK(this->s().AddCase(MakeCase("B", true, {Ident("shared", 2)})));
  ASSERT_OK(this->s().AddCase(MakeCase("C", false, {Ident("c", 3)})));
  ASSERT_EQ(this->Version(), 2u);

  auto rekeyed = [](const std::string& value, Tag tag,
                    v1::IdentifierType type =
                        v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME) {
    StoredIdentifier id = Ident(value, tag, type);
    id.y = Y(tag + 1'000'000);
    id.observed_from_ms = 42;  // ignored: only y and tag are written
    return id;
  };
  std::vector<std::pair<std::string, StoredIdentifier>> outputs = {
      {"C", rekeyed("c", 13)},
      {"A", rekeyed("shared", 12)},
      {"B", rekeyed("shared", 22)},
      {"A", rekeyed("a", 11)}};
  ASSERT_OK(this->s().ReplaceAllOutputs(outputs));
  EXPECT_EQ(this->Version(), 3u);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({11, 12, 22}));
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(2)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto none, this->s().OwnIndexChangesSince(3));
  EXPECT_TRUE(none.empty());

  ASSERT_OK_AND_ASSIGN(StoredCase a, this->s().GetCase("A"));
  ASSERT_EQ(a.identifiers.size(), 2u);
  EXPECT_EQ(a.identifiers[0].normalized_value, "a");
  EXPECT_EQ(a.identifiers[0].tag, 11u);
  EXPECT_EQ(a.identifiers[0].y, Y(1'000'011));
  EXPECT_EQ(a.identifiers[0].observed_from_ms, 1'700'000'000'000);
  ASSERT_OK_AND_ASSIGN(auto old_match,
                       this->s().FindByOutputs({Ident("a", 1).y}));
  EXPECT_TRUE(old_match.empty());
  ASSERT_OK_AND_ASSIGN(auto new_match, this->s().FindByOutputs({Y(1'000'022)}));
  ASSERT_EQ(new_match.size(), 1u);
  EXPECT_EQ(new_match[0].case_number, "B");

  // Later changes continue from the new version.
  ASSERT_OK(
      this->s().UpdateCase(MakeCase("B", false, {rekeyed("shared", 22)})));
  ASSERT_OK_AND_ASSIGN(auto after, this->s().OwnIndexChangesSince(3));
  EXPECT_EQ(Flatten(after),
            (std::vector<std::tuple<uint64_t, Tag, bool>>{{4, 22, false}}));
}

StagedOutput Staged(
    const std::string& value, Tag tag,
    v1::IdentifierType type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME) {
  return StagedOutput{{type, value}, Y(tag + 1'000'000), tag};
}

std::vector<std::string> Values(const Page<IdentifierKey>& page) {
  std::vector<std::string> out;
  for (const IdentifierKey& k : page.items) out.push_back(k.normalized_value);
  return out;
}

TYPED_TEST(StorageConformanceTest, UnstagedIdentifiersPageByValue) {
  ASSERT_OK(this->s().AddCase(
      MakeCase("A", true, {Ident("b", 1), Ident("shared", 2)})));
  ASSERT_OK(this->s().AddCase(MakeCase("B", true, {Ident("shared", 2)})));
  ASSERT_OK(this->s().AddCase(MakeCase("C", false, {Ident("a", 3)})));
  // Distinct values of open and closed cases, in (type, value) order.
  ASSERT_OK_AND_ASSIGN(auto all, this->s().ListUnstagedIdentifiers({}));
  EXPECT_EQ(Values(all), std::vector<std::string>({"a", "b", "shared"}));
  EXPECT_TRUE(all.next.empty());
  ASSERT_OK_AND_ASSIGN(auto first, this->s().ListUnstagedIdentifiers({"", 2}));
  EXPECT_EQ(Values(first), std::vector<std::string>({"a", "b"}));
  ASSERT_FALSE(first.next.empty());
  // A value staged meanwhile is skipped; the progress setting commits with
  // the outputs.
  ASSERT_OK(this->s().StageOutputs({Staged("shared", 12)},
                                   {{"oprf/test", "cursor"}}));
  ASSERT_OK_AND_ASSIGN(auto rest,
                       this->s().ListUnstagedIdentifiers({first.next, 2}));
  EXPECT_TRUE(rest.items.empty());
  EXPECT_TRUE(rest.next.empty());
  ASSERT_OK_AND_ASSIGN(auto setting, this->s().GetSetting("oprf/test"));
  EXPECT_EQ(setting, std::optional<Bytes>("cursor"));
  ASSERT_OK_AND_ASSIGN(uint64_t staged, this->s().CountStagedOutputs());
  EXPECT_EQ(staged, 1u);
  // Refusals.
  EXPECT_EQ(CodeOf(this->s().ListUnstagedIdentifiers({"no cursor", 2})),
            absl::StatusCode::kInvalidArgument);
  StagedOutput bad = Staged("a", 1);
  bad.y = Bytes(31, 'x');
  EXPECT_EQ(CodeOf(this->s().StageOutputs({Staged("b", 11), bad}, {})),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(staged, this->s().CountStagedOutputs());
  EXPECT_EQ(staged, 1u);
  ASSERT_OK(this->s().ClearStagedOutputs());
  ASSERT_OK_AND_ASSIGN(staged, this->s().CountStagedOutputs());
  EXPECT_EQ(staged, 0u);
}

TYPED_TEST(StorageConformanceTest, PromoteStagedOutputsSwitchesAtOnce) {
  const StoredIdentifier a = Ident("a", 1), shared = Ident("shared", 2);
  ASSERT_OK(this->s().AddCase(MakeCase("A", true, {a, shared})));
  ASSERT_OK(this->s().AddCase(MakeCase("B", true, {shared})));
  ASSERT_OK(this->s().AddCase(MakeCase("C", false, {Ident("c", 3)})));
  ASSERT_EQ(this->Version(), 2u);
  ASSERT_OK(
      this->s().StageOutputs({Staged("a", 11), Staged("shared", 12)}, {}));
  // "c" has no staged output yet: nothing changes.
  EXPECT_EQ(CodeOf(this->s().PromoteStagedOutputs({})),
            absl::StatusCode::kAborted);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({1, 2}));
  ASSERT_OK(this->s().StageOutputs({Staged("c", 13)}, {}));
  ASSERT_OK(this->s().PromoteStagedOutputs({{"oprf/epoch", "2"}}));
  EXPECT_EQ(this->Version(), 3u);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({11, 12}));
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(2)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto epoch, this->s().GetSetting("oprf/epoch"));
  EXPECT_EQ(epoch, std::optional<Bytes>("2"));
  ASSERT_OK_AND_ASSIGN(uint64_t staged, this->s().CountStagedOutputs());
  EXPECT_EQ(staged, 0u);
  // Only the new outputs match; the old ones translate to them.
  ASSERT_OK_AND_ASSIGN(auto old_match, this->s().FindByOutputs({a.y}));
  EXPECT_TRUE(old_match.empty());
  ASSERT_OK_AND_ASSIGN(auto new_match, this->s().FindByOutputs({Y(1'000'012)}));
  ASSERT_EQ(new_match.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto translated, this->s().TranslatePreviousOutputs(
                                            {shared.y, Y(99), a.y, "short"}));
  EXPECT_EQ(translated,
            std::vector<Bytes>({Y(1'000'012), "", Y(1'000'011), ""}));
  // Every identifier is now unstaged again for the next rotation.
  ASSERT_OK_AND_ASSIGN(auto unstaged, this->s().ListUnstagedIdentifiers({}));
  EXPECT_EQ(Values(unstaged), std::vector<std::string>({"a", "c", "shared"}));
  // Later changes continue from the new version.
  ASSERT_OK(this->s().UpdateCase(MakeCase("B", false, {Ident("shared", 12)})));
  ASSERT_OK_AND_ASSIGN(auto after, this->s().OwnIndexChangesSince(3));
  EXPECT_TRUE(after.empty());  // A still holds tag 12
  // The grace window ends.
  ASSERT_OK(this->s().DropPreviousOutputs({{"oprf/previous", ""}}));
  ASSERT_OK_AND_ASSIGN(translated, this->s().TranslatePreviousOutputs({a.y}));
  EXPECT_EQ(translated, std::vector<Bytes>({""}));
  ASSERT_OK_AND_ASSIGN(auto previous, this->s().GetSetting("oprf/previous"));
  EXPECT_EQ(previous, std::optional<Bytes>(""));
}

// While the next key's outputs are staged, every read still sees the
// current ones; a refused switch changes nothing.
TYPED_TEST(StorageConformanceTest, ReadsDuringStagingSeeTheCurrentOutputs) {
  const StoredIdentifier a = Ident("a", 1), b = Ident("b", 2);
  ASSERT_OK(this->s().AddCase(MakeCase("A", true, {a, b})));
  ASSERT_OK(this->s().StageOutputs({Staged("a", 11)}, {}));
  ASSERT_OK_AND_ASSIGN(auto old_match, this->s().FindByOutputs({a.y}));
  ASSERT_EQ(old_match.size(), 1u);
  EXPECT_TRUE(testing::SameIdentifier(old_match[0].identifier, a));
  ASSERT_OK_AND_ASSIGN(auto staged_match,
                       this->s().FindByOutputs({Y(1'000'011)}));
  EXPECT_TRUE(staged_match.empty());
  ASSERT_OK_AND_ASSIGN(StoredCase got, this->s().GetCase("A"));
  ExpectSameCase(got, MakeCase("A", true, {a, b}));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({1, 2}));
  EXPECT_EQ(this->Version(), 2u);
  // "b" is not staged: the switch is refused and nothing moved.
  EXPECT_EQ(CodeOf(this->s().PromoteStagedOutputs({{"oprf/epoch", "2"}})),
            absl::StatusCode::kAborted);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({1, 2}));
  EXPECT_EQ(this->Version(), 2u);
  ASSERT_OK_AND_ASSIGN(auto epoch, this->s().GetSetting("oprf/epoch"));
  EXPECT_EQ(epoch, std::nullopt);
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(0));
  EXPECT_EQ(changes.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto translated,
                       this->s().TranslatePreviousOutputs({a.y}));
  EXPECT_EQ(translated, std::vector<Bytes>({""}));
}

// Cases added, amended and closed while the outputs are staged: a value
// staged already is staged for the new rows too; a new value is listed as
// unstaged (even below the pass's cursor, from the start) and blocks the
// switch until it is staged; the switched index is exactly the open cases'
// new tags.
TYPED_TEST(StorageConformanceTest, CasesChangedDuringStagingSwitchRight) {
  ASSERT_OK(this->s().AddCase(
      MakeCase("A", true, {Ident("m", 1), Ident("shared", 2)})));
  ASSERT_OK(this->s().AddCase(MakeCase("B", true, {Ident("x", 3)})));
  ASSERT_OK(this->s().StageOutputs(
      {Staged("m", 11), Staged("shared", 12), Staged("x", 13)}, {}));
  ASSERT_OK_AND_ASSIGN(auto none, this->s().ListUnstagedIdentifiers({}));
  EXPECT_TRUE(none.items.empty());
  // Mid-rotation: a new case with a staged value and a new one (below "m"),
  // B amended (x kept, "d" added), A closed.
  ASSERT_OK(this->s().AddCase(
      MakeCase("C", true, {Ident("shared", 2), Ident("c", 4)})));
  ASSERT_OK(this->s().UpdateCase(
      MakeCase("B", true, {Ident("d", 5), Ident("x", 3)})));
  ASSERT_OK(this->s().UpdateCase(
      MakeCase("A", false, {Ident("m", 1), Ident("shared", 2)})));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({2, 3, 4, 5}));
  ASSERT_OK_AND_ASSIGN(auto late, this->s().ListUnstagedIdentifiers({}));
  EXPECT_EQ(Values(late), std::vector<std::string>({"c", "d"}));
  EXPECT_EQ(CodeOf(this->s().PromoteStagedOutputs({})),
            absl::StatusCode::kAborted);
  ASSERT_OK(this->s().StageOutputs({Staged("c", 14), Staged("d", 15)}, {}));
  const uint64_t before = this->Version();
  ASSERT_OK(this->s().PromoteStagedOutputs({}));
  EXPECT_EQ(this->Version(), before + 1);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({12, 13, 14, 15}));
  ASSERT_OK_AND_ASSIGN(auto c_match, this->s().FindByOutputs({Y(1'000'014)}));
  ASSERT_EQ(c_match.size(), 1u);
  EXPECT_EQ(c_match[0].case_number, "C");
  ASSERT_OK_AND_ASSIGN(auto shared_match,
                       this->s().FindByOutputs({Y(1'000'012)}));
  ASSERT_EQ(shared_match.size(), 1u);  // A is closed
  EXPECT_EQ(shared_match[0].case_number, "C");
  ASSERT_OK_AND_ASSIGN(StoredCase b, this->s().GetCase("B"));
  ASSERT_EQ(b.identifiers.size(), 2u);
  EXPECT_EQ(b.identifiers[0].y, Y(1'000'015));
  EXPECT_EQ(b.identifiers[1].tag, 13u);
  // Reopening A brings its new tags; the change log continues.
  ASSERT_OK(this->s().UpdateCase(
      MakeCase("A", true, {Ident("m", 11), Ident("shared", 12)})));
  ASSERT_OK_AND_ASSIGN(auto after, this->s().OwnIndexChangesSince(before + 1));
  EXPECT_EQ(
      Flatten(after),
      (std::vector<std::tuple<uint64_t, Tag, bool>>{{before + 2, 11, true}}));
}

// A second rotation: the outputs the first switch replaced are forgotten,
// the second's previous outputs translate, and a case amended during the
// grace window still translates its kept identifiers.
TYPED_TEST(StorageConformanceTest, TwoRotationsKeepOnlyTheLastPrevious) {
  const StoredIdentifier a = Ident("a", 1);
  ASSERT_OK(this->s().AddCase(MakeCase("A", true, {a, Ident("b", 2)})));
  ASSERT_OK(this->s().StageOutputs({Staged("a", 11), Staged("b", 12)}, {}));
  ASSERT_OK(this->s().PromoteStagedOutputs({}));
  StoredIdentifier a_now = Ident("a", 11);  // as the node stores it now
  a_now.y = Y(1'000'011);
  ASSERT_OK(this->s().UpdateCase(MakeCase("A", true, {Ident("q", 5), a_now})));
  ASSERT_OK_AND_ASSIGN(auto translated,
                       this->s().TranslatePreviousOutputs({a.y}));
  EXPECT_EQ(translated, std::vector<Bytes>({Y(1'000'011)}));
  ASSERT_OK(this->s().StageOutputs({Staged("a", 21), Staged("q", 25)}, {}));
  ASSERT_OK(this->s().PromoteStagedOutputs({}));
  EXPECT_EQ(this->Tags(), std::vector<Tag>({21, 25}));
  ASSERT_OK_AND_ASSIGN(translated, this->s().TranslatePreviousOutputs(
                                       {a.y, Y(1'000'011), Ident("q", 5).y}));
  EXPECT_EQ(translated, std::vector<Bytes>({"", Y(1'000'021), Y(1'000'025)}));
  // A next key replaced before its switch: its staged outputs are gone.
  ASSERT_OK(this->s().StageOutputs({Staged("a", 31)}, {}));
  ASSERT_OK(this->s().ClearStagedOutputs());
  ASSERT_OK_AND_ASSIGN(auto unstaged, this->s().ListUnstagedIdentifiers({}));
  EXPECT_EQ(Values(unstaged), std::vector<std::string>({"a", "q"}));
  ASSERT_OK(this->s().DropPreviousOutputs({}));
  ASSERT_OK_AND_ASSIGN(translated,
                       this->s().TranslatePreviousOutputs({Y(1'000'011)}));
  EXPECT_EQ(translated, std::vector<Bytes>({""}));
  ASSERT_OK_AND_ASSIGN(auto current, this->s().FindByOutputs({Y(1'000'021)}));
  EXPECT_EQ(current.size(), 1u);
}

TYPED_TEST(StorageConformanceTest, ReplaceAllOutputsRefusesBadSets) {
  ASSERT_OK(
      this->s().AddCase(MakeCase("A", true, {Ident("a", 1), Ident("b", 2)})));
  StoredIdentifier a2 = Ident("a", 11);
  StoredIdentifier b2 = Ident("b", 12);

  // Not every identifier named: the cases changed since they were read.
  EXPECT_EQ(CodeOf(this->s().ReplaceAllOutputs({{"A", a2}})),
            absl::StatusCode::kAborted);
  // An identifier that is not stored.
  EXPECT_EQ(CodeOf(this->s().ReplaceAllOutputs(
                {{"A", a2}, {"A", b2}, {"A", Ident("c", 13)}})),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(this->s().ReplaceAllOutputs({{"A", a2}, {"Q", b2}})),
            absl::StatusCode::kNotFound);
  StoredIdentifier wrong_type = b2;
  wrong_type.type = v1::IDENTIFIER_TYPE_EMAIL;
  EXPECT_EQ(CodeOf(this->s().ReplaceAllOutputs({{"A", a2}, {"A", wrong_type}})),
            absl::StatusCode::kNotFound);
  // Named twice, or a bad y.
  EXPECT_EQ(CodeOf(this->s().ReplaceAllOutputs({{"A", a2}, {"A", a2}})),
            absl::StatusCode::kInvalidArgument);
  StoredIdentifier short_y = b2;
  short_y.y = Bytes(31, 'x');
  EXPECT_EQ(CodeOf(this->s().ReplaceAllOutputs({{"A", a2}, {"A", short_y}})),
            absl::StatusCode::kInvalidArgument);

  // Nothing changed.
  EXPECT_EQ(this->Version(), 2u);
  EXPECT_EQ(this->Tags(), std::vector<Tag>({1, 2}));
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(0));
  EXPECT_EQ(changes.size(), 2u);
  ASSERT_OK_AND_ASSIGN(StoredCase a, this->s().GetCase("A"));
  EXPECT_EQ(a.identifiers[0].tag, 1u);
  EXPECT_EQ(a.identifiers[0].y, Ident("a", 1).y);
}

// --- Peer indexes ------------------------------------------------------------

std::vector<Tag> SortedTags(size_t n, uint64_t seed) {
  std::vector<Tag> tags;
  tags.reserve(n);
  uint64_t x = seed;
  Tag t = 0;
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    t += 1 + (x >> 16);  // strictly ascending, ends past 2^63
    tags.push_back(t);
  }
  return tags;
}

TYPED_TEST(StorageConformanceTest, PeerIndexRoundTripsAHundredThousandTags) {
  PeerIndex rs{"RS", 3, 77, SortedTags(100'000, 1), 1'760'000'000'000};
  ASSERT_GT(rs.tags.back(), 0x8000000000000000u);
  ASSERT_OK(this->s().SavePeerIndex(rs));
  ASSERT_OK_AND_ASSIGN(PeerIndex got, this->s().LoadPeerIndex("RS"));
  EXPECT_EQ(got.member, "RS");
  EXPECT_EQ(got.oprf_epoch, 3u);
  EXPECT_EQ(got.version, 77u);
  EXPECT_EQ(got.synced_at_ms, 1'760'000'000'000);
  EXPECT_TRUE(got.tags == rs.tags);

  // Saving again replaces the copy.
  PeerIndex rs2{"RS", 4, 1, {5, 6, 7}, 1'760'000'100'000};
  ASSERT_OK(this->s().SavePeerIndex(rs2));
  PeerIndex al{"AL", 1, 9, {}, 5};
  ASSERT_OK(this->s().SavePeerIndex(al));
  ASSERT_OK_AND_ASSIGN(PeerIndex got2, this->s().LoadPeerIndex("RS"));
  EXPECT_EQ(got2.oprf_epoch, 4u);
  EXPECT_EQ(got2.version, 1u);
  EXPECT_EQ(got2.tags, std::vector<Tag>({5, 6, 7}));

  ASSERT_OK_AND_ASSIGN(auto all, this->s().LoadAllPeerIndexes());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].member, "AL");
  EXPECT_TRUE(all[0].tags.empty());
  EXPECT_EQ(all[0].version, 9u);
  EXPECT_EQ(all[1].member, "RS");
  EXPECT_EQ(all[1].tags, std::vector<Tag>({5, 6, 7}));

  EXPECT_EQ(CodeOf(this->s().LoadPeerIndex("XK")), absl::StatusCode::kNotFound);
}

TYPED_TEST(StorageConformanceTest, PeerIndexMustBeStrictlyAscending) {
  ASSERT_OK(this->s().SavePeerIndex(PeerIndex{"RS", 1, 1, {1, 2}, 0}));
  EXPECT_EQ(CodeOf(this->s().SavePeerIndex(PeerIndex{"RS", 1, 2, {2, 1}, 0})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().SavePeerIndex(PeerIndex{"RS", 1, 2, {1, 1}, 0})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().SavePeerIndex(PeerIndex{"", 1, 2, {1}, 0})),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(PeerIndex got, this->s().LoadPeerIndex("RS"));
  EXPECT_EQ(got.version, 1u);
  EXPECT_EQ(got.tags, std::vector<Tag>({1, 2}));
  ASSERT_OK_AND_ASSIGN(auto all, this->s().LoadAllPeerIndexes());
  EXPECT_EQ(all.size(), 1u);
}

TYPED_TEST(StorageConformanceTest, PeerIndexKeepsItsGrowthBaseline) {
  PeerIndex rs{"RS", 1, 7, {1, 2, 3}, 1'760'000'000'000};
  rs.baseline_day = 20'371;
  rs.baseline_count = 2;
  ASSERT_OK(this->s().SavePeerIndex(rs));
  ASSERT_OK(this->s().SavePeerIndex(PeerIndex{"AL", 1, 1, {4}, 5}));
  ASSERT_OK_AND_ASSIGN(PeerIndex got, this->s().LoadPeerIndex("RS"));
  EXPECT_EQ(got.baseline_day, 20'371);
  EXPECT_EQ(got.baseline_count, 2u);
  ASSERT_OK_AND_ASSIGN(auto all, this->s().LoadAllPeerIndexes());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].member, "AL");
  EXPECT_EQ(all[0].baseline_day, 0);
  EXPECT_EQ(all[0].baseline_count, 0u);
  EXPECT_EQ(all[1].baseline_count, 2u);
  // Replacing the copy replaces its baseline.
  rs.baseline_day = 20'372;
  rs.baseline_count = 3;
  ASSERT_OK(this->s().SavePeerIndex(rs));
  ASSERT_OK_AND_ASSIGN(PeerIndex again, this->s().LoadPeerIndex("RS"));
  EXPECT_EQ(again.baseline_day, 20'372);
  EXPECT_EQ(again.baseline_count, 3u);
}

TYPED_TEST(StorageConformanceTest, IndexEvidenceIsKeptBoundedPerMember) {
  auto evidence = [](const std::string& member, uint64_t version) {
    IndexEvidence e;
    e.member = member;
    e.version = version;
    e.count = 1'000'000 + version;
    e.received_at_ms = 1'760'000'000'000 + static_cast<int64_t>(version);
    e.status_code = static_cast<int32_t>(absl::StatusCode::kFailedPrecondition);
    e.reason = "over the cap";
    e.manifest = Bytes("\x0a\x00signed", 8);
    return e;
  };
  ASSERT_OK(this->s().AddIndexEvidence(evidence("AL", 1)));
  for (uint64_t v = 1; v <= kMaxIndexEvidencePerMember + 3; ++v) {
    ASSERT_OK(this->s().AddIndexEvidence(evidence("RS", v)));
  }
  ASSERT_OK_AND_ASSIGN(auto rs, this->s().ListIndexEvidence("RS"));
  ASSERT_EQ(rs.size(), kMaxIndexEvidencePerMember);
  EXPECT_EQ(rs.front().version, 4u);  // the three oldest were dropped
  EXPECT_EQ(rs.back().version, kMaxIndexEvidencePerMember + 3);
  EXPECT_EQ(rs.back().count, 1'000'000 + kMaxIndexEvidencePerMember + 3);
  EXPECT_EQ(rs.back().status_code,
            static_cast<int32_t>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(rs.back().reason, "over the cap");
  EXPECT_EQ(rs.back().manifest, Bytes("\x0a\x00signed", 8));
  ASSERT_OK_AND_ASSIGN(auto al, this->s().ListIndexEvidence("AL"));
  ASSERT_EQ(al.size(), 1u);  // another member's evidence is not dropped
  EXPECT_EQ(al[0].received_at_ms, 1'760'000'000'001);
  ASSERT_OK_AND_ASSIGN(auto everyone, this->s().ListIndexEvidence(""));
  EXPECT_EQ(everyone.size(), kMaxIndexEvidencePerMember + 1);

  IndexEvidence no_member = evidence("", 1);
  EXPECT_EQ(CodeOf(this->s().AddIndexEvidence(no_member)),
            absl::StatusCode::kInvalidArgument);
  IndexEvidence no_manifest = evidence("AL", 2);
  no_manifest.manifest.clear();
  EXPECT_EQ(CodeOf(this->s().AddIndexEvidence(no_manifest)),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto al_after, this->s().ListIndexEvidence("AL"));
  EXPECT_EQ(al_after.size(), 1u);
}

TYPED_TEST(StorageConformanceTest, DeletePeerIndexDropsTheCopy) {
  ASSERT_OK(this->s().SavePeerIndex(PeerIndex{"RS", 1, 2, {5, 6}, 7}));
  ASSERT_OK(this->s().SavePeerIndex(PeerIndex{"AL", 1, 3, {8}, 9}));
  ASSERT_OK(this->s().DeletePeerIndex("RS"));
  EXPECT_EQ(CodeOf(this->s().LoadPeerIndex("RS").status()),
            absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto all, this->s().LoadAllPeerIndexes());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].member, "AL");
  ASSERT_OK(this->s().DeletePeerIndex("RS"));  // none held: still OK
}

TYPED_TEST(StorageConformanceTest, DirectoryEvidenceIsKeptOncePerVersion) {
  DirectoryEvidence e;
  e.version = 4;
  e.served_by = "RS";
  e.received_at_ms = 1'760'000'000'000;
  e.adopted = Bytes("\x0a\x01a", 3);
  e.conflicting = Bytes("\x0a\x01b", 3);
  ASSERT_OK(this->s().AddDirectoryEvidence(e));
  // The same conflicting version again (from another peer, or after a
  // restart) is not new evidence.
  DirectoryEvidence again = e;
  again.served_by = "AL";
  EXPECT_EQ(CodeOf(this->s().AddDirectoryEvidence(again)),
            absl::StatusCode::kAlreadyExists);
  DirectoryEvidence third = e;
  third.conflicting = Bytes("\x0a\x01c", 3);
  ASSERT_OK(this->s().AddDirectoryEvidence(third));
  DirectoryEvidence empty = e;
  empty.adopted.clear();
  EXPECT_EQ(CodeOf(this->s().AddDirectoryEvidence(empty)),
            absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto kept, this->s().ListDirectoryEvidence());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].version, 4u);
  EXPECT_EQ(kept[0].served_by, "RS");
  EXPECT_EQ(kept[0].received_at_ms, 1'760'000'000'000);
  EXPECT_EQ(kept[0].adopted, e.adopted);
  EXPECT_EQ(kept[0].conflicting, e.conflicting);
  EXPECT_EQ(kept[1].conflicting, third.conflicting);
}

// --- Replay cache and quotas -------------------------------------------------

TYPED_TEST(StorageConformanceTest, ReplayCacheRecordsRefusesAndSweeps) {
  const Bytes id1("\x01\x00\x02", 3), id2 = "m2";
  ASSERT_OK(this->s().RecordMessageId("RS", id1, 1000));
  EXPECT_EQ(CodeOf(this->s().RecordMessageId("RS", id1, 5000)),
            absl::StatusCode::kAlreadyExists);
  ASSERT_OK(this->s().RecordMessageId("AL", id1, 2000));  // other sender
  ASSERT_OK(this->s().RecordMessageId("RS", id2, 3000));
  ASSERT_OK(this->s().RecordMessageId("RS", Bytes("\x01\x00\x03", 3), 500));

  // Only ids that expired before `now` go: 500 and 1000, not 2000 at 2000.
  ASSERT_OK_AND_ASSIGN(int64_t swept, this->s().SweepMessageIds(2000));
  EXPECT_EQ(swept, 2);
  EXPECT_EQ(CodeOf(this->s().RecordMessageId("AL", id1, 9000)),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CodeOf(this->s().RecordMessageId("RS", id2, 9000)),
            absl::StatusCode::kAlreadyExists);
  ASSERT_OK(this->s().RecordMessageId("RS", id1, 9000));  // swept: new again
  ASSERT_OK_AND_ASSIGN(int64_t none, this->s().SweepMessageIds(2000));
  EXPECT_EQ(none, 0);
  ASSERT_OK_AND_ASSIGN(int64_t rest, this->s().SweepMessageIds(10'000));
  EXPECT_EQ(rest, 3);
}

TYPED_TEST(StorageConformanceTest, QuotaChargesUpToTheLimit) {
  ASSERT_OK_AND_ASSIGN(uint32_t used,
                       this->s().ChargeQuota("RS", 20000, 60, 100));
  EXPECT_EQ(used, 60u);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 20000, 40, 100));
  EXPECT_EQ(used, 100u);  // exactly at the limit is allowed
  EXPECT_EQ(CodeOf(this->s().ChargeQuota("RS", 20000, 1, 100)),
            absl::StatusCode::kResourceExhausted);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 20000, 0, 100));
  EXPECT_EQ(used, 100u);  // unchanged by the refusal
  // A higher limit lets more through.
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 20000, 5, 105));
  EXPECT_EQ(used, 105u);

  // A new day starts from zero; members are counted apart.
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 20001, 7, 100));
  EXPECT_EQ(used, 7u);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("AL", 20000, 3, 100));
  EXPECT_EQ(used, 3u);
  // One request larger than the whole limit is refused and records nothing.
  EXPECT_EQ(CodeOf(this->s().ChargeQuota("ME", 20000, 101, 100)),
            absl::StatusCode::kResourceExhausted);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("ME", 20000, 0, 100));
  EXPECT_EQ(used, 0u);
  // No overflow near the top of the range.
  ASSERT_OK_AND_ASSIGN(
      used, this->s().ChargeQuota("XK", 1, 0xFFFFFFF0u, 0xFFFFFFFFu));
  EXPECT_EQ(CodeOf(this->s().ChargeQuota("XK", 1, 0xFFFFFFF0u, 0xFFFFFFFFu)),
            absl::StatusCode::kResourceExhausted);
}

// --- Hits and notifications
// ----------------------------------------------------

v1::Hit MakeHit(const std::string& query_id, const std::string& case_number,
                int64_t at_ms) {
  v1::Hit hit;
  hit.set_query_id(query_id);
  hit.set_member("RS");
  hit.set_case_number(case_number);
  hit.set_received_at_ms(at_ms);
  hit.mutable_reference()->set_case_token("token-" + query_id);
  hit.mutable_reference()->set_member("RS");
  hit.set_envelope_sha256(Bytes(32, '\x5a'));
  return hit;
}

std::vector<std::string> QueryIds(const std::vector<v1::Hit>& hits) {
  std::vector<std::string> ids;
  for (const v1::Hit& h : hits) ids.push_back(h.query_id());
  return ids;
}

TYPED_TEST(StorageConformanceTest, HitsNewestFirstAndByCase) {
  ASSERT_OK(this->s().AddHit(MakeHit("q1", "MK-1", 100)));
  ASSERT_OK(this->s().AddHit(MakeHit("q2", "MK-2", 300)));
  ASSERT_OK(this->s().AddHit(MakeHit("q3", "MK-1", 200)));
  ASSERT_OK(this->s().AddHit(MakeHit("q4", "MK-1", 200)));  // tie: added last
  ASSERT_OK_AND_ASSIGN(auto all_page, this->s().ListHits(""));
  const std::vector<v1::Hit>& all = all_page.items;
  EXPECT_EQ(QueryIds(all), (std::vector<std::string>{"q2", "q4", "q3", "q1"}));
  EXPECT_EQ(all[0].SerializeAsString(),
            MakeHit("q2", "MK-2", 300).SerializeAsString());
  ASSERT_OK_AND_ASSIGN(auto mk1, this->s().ListHits("MK-1"));
  EXPECT_EQ(QueryIds(mk1.items), (std::vector<std::string>{"q4", "q3", "q1"}));
  ASSERT_OK_AND_ASSIGN(auto none, this->s().ListHits("MK-9"));
  EXPECT_TRUE(none.items.empty());
}

// A hit keeps its context (spec/office-api.md §4.6): the matched value,
// both windows and the overlap, byte for byte; a hit stored without it
// (before the fields existed) reads UNKNOWN with no matches.
TYPED_TEST(StorageConformanceTest, HitsKeepTheirContext) {
  v1::Hit with = MakeHit("q1", "MK-1", 200);
  v1::HitMatch* m = with.add_matches();
  m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  m->set_value("t.me/Smokva_Admin");
  m->set_normalized("smokva_admin");
  m->set_input_index(2);
  m->set_querier_from_ms(1000);
  m->set_querier_to_ms(2000);
  m->set_peer_from_ms(3000);
  m->set_peer_to_ms(4000);
  m->set_windows_overlap(v1::WINDOWS_OVERLAP_DISJOINT);
  with.set_windows_overlap(v1::WINDOWS_OVERLAP_DISJOINT);
  ASSERT_OK(this->s().AddHit(with));
  ASSERT_OK(this->s().AddHit(MakeHit("q0", "MK-1", 100)));
  ASSERT_OK_AND_ASSIGN(auto page, this->s().ListHits("MK-1"));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].SerializeAsString(), with.SerializeAsString());
  EXPECT_EQ(page.items[0].matches(0).value(), "t.me/Smokva_Admin");
  EXPECT_EQ(page.items[1].windows_overlap(), v1::WINDOWS_OVERLAP_UNKNOWN);
  EXPECT_EQ(page.items[1].matches_size(), 0);
}

v1::Notification MakeNotification(const std::string& from,
                                  const std::string& case_number,
                                  int64_t at_ms) {
  v1::Notification n;
  n.set_at_ms(at_ms);
  n.set_from_member(from);
  n.set_from_office(from + "/office");
  n.set_case_number(case_number);
  n.mutable_purpose()->set_case_number("THEIRS-1");
  n.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
  n.mutable_purpose()->set_offence(v1::OFFENCE_CODE_CYBER_STALKING);
  return n;
}

TYPED_TEST(StorageConformanceTest, NotificationsNewestFirstAndByCase) {
  ASSERT_OK(this->s().AddNotification(MakeNotification("RS", "MK-1", 50)));
  ASSERT_OK(this->s().AddNotification(MakeNotification("AL", "MK-2", 10)));
  ASSERT_OK(this->s().AddNotification(MakeNotification("HR", "MK-1", 70)));
  ASSERT_OK(this->s().AddNotification(MakeNotification("SI", "MK-1", 50)));
  ASSERT_OK_AND_ASSIGN(auto all_page, this->s().ListNotifications(""));
  const std::vector<v1::Notification>& all = all_page.items;
  std::vector<std::string> from;
  for (const auto& n : all) from.push_back(n.from_member());
  EXPECT_EQ(from, (std::vector<std::string>{"HR", "SI", "RS", "AL"}));
  EXPECT_EQ(all[3].SerializeAsString(),
            MakeNotification("AL", "MK-2", 10).SerializeAsString());
  ASSERT_OK_AND_ASSIGN(auto mk2, this->s().ListNotifications("MK-2"));
  ASSERT_EQ(mk2.items.size(), 1u);
  EXPECT_EQ(mk2.items[0].from_member(), "AL");
  ASSERT_OK_AND_ASSIGN(auto none, this->s().ListNotifications("MK-9"));
  EXPECT_TRUE(none.items.empty());
}

// Pages of `limit` items, following each page's cursor, give the whole
// listing in order, each item once, and the last page says it is the last.
TYPED_TEST(StorageConformanceTest, ListingsPageWithCursors) {
  for (int i = 0; i < 7; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_OK(this->s().AddCase(
        MakeCase("MK-" + n, i != 3, {Ident("p" + n, 100 + i)})));
    // Two at each time: the tie is broken by the order they were added.
    ASSERT_OK(this->s().AddHit(MakeHit("q" + n, "MK-1", 10 * (i / 2))));
    ASSERT_OK(this->s().AddNotification(
        MakeNotification("R" + n, i % 2 ? "MK-1" : "MK-2", 10 * (i / 2))));
  }
  for (size_t limit : {1u, 2u, 3u, 6u, 7u, 8u}) {
    SCOPED_TRACE(limit);
    std::vector<std::string> cases, hits, inbox, inbox_mk1;
    size_t pages = 0;
    for (PageRequest page{"", limit};; ++pages) {
      ASSERT_OK_AND_ASSIGN(auto got, this->s().ListCases(false, page));
      ASSERT_LE(got.items.size(), limit);
      for (const auto& c : got.items) cases.push_back(c.record.case_number());
      if (got.next.empty()) break;
      page.after = got.next;
    }
    EXPECT_EQ(pages, (6 - 1) / limit);
    for (PageRequest page{"", limit};;) {
      ASSERT_OK_AND_ASSIGN(auto got, this->s().ListHits("", page));
      for (const auto& h : got.items) hits.push_back(h.query_id());
      if (got.next.empty()) break;
      page.after = got.next;
    }
    for (PageRequest page{"", limit};;) {
      ASSERT_OK_AND_ASSIGN(auto got, this->s().ListNotifications("", page));
      for (const auto& n : got.items) inbox.push_back(n.from_member());
      if (got.next.empty()) break;
      page.after = got.next;
    }
    for (PageRequest page{"", limit};;) {
      ASSERT_OK_AND_ASSIGN(auto got, this->s().ListNotifications("MK-1", page));
      for (const auto& n : got.items) inbox_mk1.push_back(n.from_member());
      if (got.next.empty()) break;
      page.after = got.next;
    }
    EXPECT_EQ(cases, (std::vector<std::string>{"MK-0", "MK-1", "MK-2", "MK-4",
                                               "MK-5", "MK-6"}));
    EXPECT_EQ(hits, (std::vector<std::string>{"q6", "q5", "q4", "q3", "q2",
                                              "q1", "q0"}));
    EXPECT_EQ(inbox, (std::vector<std::string>{"R6", "R5", "R4", "R3", "R2",
                                               "R1", "R0"}));
    EXPECT_EQ(inbox_mk1, (std::vector<std::string>{"R5", "R3", "R1"}));
  }
  EXPECT_EQ(CodeOf(this->s().ListHits("", PageRequest{"not a cursor", 2})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().ListNotifications("", PageRequest{"12:x", 2})),
            absl::StatusCode::kInvalidArgument);
}

// --- Settings ----------------------------------------------------------------

TYPED_TEST(StorageConformanceTest, SettingsPutGetOverwrite) {
  ASSERT_OK_AND_ASSIGN(auto missing, this->s().GetSetting("oprf_epoch"));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK(this->s().PutSetting("oprf_epoch", Bytes("\x00\x00\x00\x03", 4)));
  ASSERT_OK(this->s().PutSetting("empty", ""));
  ASSERT_OK_AND_ASSIGN(auto epoch, this->s().GetSetting("oprf_epoch"));
  ASSERT_TRUE(epoch.has_value());
  EXPECT_EQ(*epoch, Bytes("\x00\x00\x00\x03", 4));
  ASSERT_OK_AND_ASSIGN(auto empty, this->s().GetSetting("empty"));
  ASSERT_TRUE(empty.has_value());  // empty, not missing
  EXPECT_EQ(*empty, "");
  ASSERT_OK(this->s().PutSetting("oprf_epoch", "4"));
  ASSERT_OK_AND_ASSIGN(epoch, this->s().GetSetting("oprf_epoch"));
  EXPECT_EQ(epoch.value_or("none"), "4");
}

TYPED_TEST(StorageConformanceTest, RecordAndChargeIsChecksSixAndSevenB) {
  using Outcome = Storage::AdmitOutcome;
  const Storage::QuotaCharge two{20000, 2, 5};
  ASSERT_OK_AND_ASSIGN(Outcome outcome, this->s().RecordMessageIdAndCharge(
                                            "RS", "m1", 1000, two));
  EXPECT_EQ(outcome, Outcome::kAccepted);
  // A recorded pair: refused, nothing charged.
  ASSERT_OK_AND_ASSIGN(
      outcome, this->s().RecordMessageIdAndCharge("RS", "m1", 1000, two));
  EXPECT_EQ(outcome, Outcome::kAlreadyRecorded);
  EXPECT_EQ(CodeOf(this->s().RecordMessageId("RS", "m1", 1000)),
            absl::StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(uint32_t used, this->s().ChargeQuota("RS", 20000, 0, 5));
  EXPECT_EQ(used, 2u);
  // No charge: only the record.
  ASSERT_OK_AND_ASSIGN(outcome, this->s().RecordMessageIdAndCharge(
                                    "RS", "m2", 1000, std::nullopt));
  EXPECT_EQ(outcome, Outcome::kAccepted);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 20000, 0, 5));
  EXPECT_EQ(used, 2u);
  ASSERT_OK_AND_ASSIGN(
      outcome, this->s().RecordMessageIdAndCharge("RS", "m3", 1000, two));
  EXPECT_EQ(outcome, Outcome::kAccepted);
  // 4 + 2 > 5: the id is used up, the quota is not charged.
  ASSERT_OK_AND_ASSIGN(
      outcome, this->s().RecordMessageIdAndCharge("RS", "m4", 1000, two));
  EXPECT_EQ(outcome, Outcome::kOverQuota);
  EXPECT_EQ(CodeOf(this->s().RecordMessageId("RS", "m4", 1000)),
            absl::StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 20000, 0, 5));
  EXPECT_EQ(used, 4u);
  // Another sender has its own pairs and its own quota.
  ASSERT_OK_AND_ASSIGN(
      outcome, this->s().RecordMessageIdAndCharge("AL", "m4", 1000, two));
  EXPECT_EQ(outcome, Outcome::kAccepted);
  // Swept like RecordMessageId's pairs.
  ASSERT_OK_AND_ASSIGN(int64_t swept, this->s().SweepMessageIds(2000));
  EXPECT_EQ(swept, 5);
}

// Concurrent callers (a group commit in SQLite) get the outcomes of the
// calls made one after another: each pair is accepted once, and the quota
// lets exactly `limit` charges through.
TYPED_TEST(StorageConformanceTest, ConcurrentRecordAndChargeIsExact) {
  constexpr int kThreads = 8, kIds = 40;
  constexpr uint32_t kLimit = 25;
  std::atomic<int> accepted{0}, replays{0}, over{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // Every thread sends every id: only one of each may pass check 6.
      for (int i = 0; i < kIds; ++i) {
        auto outcome = this->s().RecordMessageIdAndCharge(
            "RS", "id" + std::to_string(i), 1000,
            Storage::QuotaCharge{7, 1, kLimit});
        ASSERT_OK(outcome.status());
        switch (*outcome) {
          case Storage::AdmitOutcome::kAccepted:
            ++accepted;
            break;
          case Storage::AdmitOutcome::kAlreadyRecorded:
            ++replays;
            break;
          case Storage::AdmitOutcome::kOverQuota:
            ++over;
            break;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), static_cast<int>(kLimit));
  EXPECT_EQ(over.load(), kIds - static_cast<int>(kLimit));
  EXPECT_EQ(replays.load(), (kThreads - 1) * kIds);
  ASSERT_OK_AND_ASSIGN(uint32_t used,
                       this->s().ChargeQuota("RS", 7, 0, kLimit));
  EXPECT_EQ(used, kLimit);
}

// --- Threads -----------------------------------------------------------------

TYPED_TEST(StorageConformanceTest, ConcurrentCallsStayConsistent) {
  constexpr int kThreads = 4, kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        // Every case shares tag 1 and has one tag of its own.
        EXPECT_OK(this->s().AddCase(
            MakeCase("C" + std::to_string(1000 + n), true,
                     {Ident("shared", 1), Ident("own", 10 + n)})));
        EXPECT_OK(this->s().ChargeQuota("RS", 1, 1, 1'000'000).status());
        EXPECT_OK(this->s().RecordMessageId("RS", std::to_string(n), 1));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const int total = kThreads * kPerThread;
  EXPECT_EQ(this->Tags().size(), static_cast<size_t>(total + 1));
  EXPECT_EQ(this->Version(), static_cast<uint64_t>(total + 1));
  ASSERT_OK_AND_ASSIGN(uint32_t used,
                       this->s().ChargeQuota("RS", 1, 0, 1'000'000));
  EXPECT_EQ(used, static_cast<uint32_t>(total));
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(0));
  ASSERT_EQ(changes.size(), static_cast<size_t>(total + 1));
  for (size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].version, i + 1);
  }
  ASSERT_OK_AND_ASSIGN(int64_t swept, this->s().SweepMessageIds(2));
  EXPECT_EQ(swept, total);
}

// --- ReadWriteTransaction ------------------------------------------------

v1::Notification Note(const std::string& case_number, int64_t at_ms) {
  v1::Notification n;
  n.set_case_number(case_number);
  n.set_at_ms(at_ms);
  n.set_from_member("RS");
  return n;
}

TYPED_TEST(StorageConformanceTest, TransactionCommitsEverythingTogether) {
  ASSERT_OK(this->s().ReadWriteTransaction([](StorageTransaction& txn) {
    RETURN_IF_ERROR(txn.AddCase(MakeCase("A-1", true, {Ident("a", 1)})));
    RETURN_IF_ERROR(txn.AddNotification(Note("A-1", 5)));
    v1::Hit hit;
    hit.set_case_number("A-1");
    RETURN_IF_ERROR(txn.AddHit(hit));
    return txn.PutSetting("k", "v");
  }));
  ASSERT_OK_AND_ASSIGN(StoredCase got, this->s().GetCase("A-1"));
  EXPECT_EQ(got.record.case_number(), "A-1");
  EXPECT_EQ(this->Tags(), std::vector<Tag>{1});
  EXPECT_EQ(this->Version(), 1u);
  ASSERT_OK_AND_ASSIGN(auto notes, this->s().ListNotifications(""));
  EXPECT_EQ(notes.items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto hits, this->s().ListHits(""));
  EXPECT_EQ(hits.items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto setting, this->s().GetSetting("k"));
  EXPECT_EQ(setting, std::optional<Bytes>("v"));
}

TYPED_TEST(StorageConformanceTest, TransactionBodyErrorRollsBackEverything) {
  ASSERT_OK(this->s().AddCase(MakeCase("OLD", true, {Ident("old", 7)})));
  ASSERT_OK(this->s().PutSetting("k", "before"));
  const absl::Status refused = absl::UnavailableError("the audit log failed");
  absl::Status status =
      this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
        RETURN_IF_ERROR(txn.AddCase(MakeCase("NEW", true, {Ident("n", 1)})));
        StoredCase old = MakeCase("OLD", false, {Ident("old", 7)});
        RETURN_IF_ERROR(txn.UpdateCase(old));
        RETURN_IF_ERROR(txn.AddNotification(Note("OLD", 9)));
        RETURN_IF_ERROR(txn.PutSetting("k", "after"));
        return refused;
      });
  EXPECT_EQ(status, refused);
  EXPECT_EQ(CodeOf(this->s().GetCase("NEW")), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(StoredCase old, this->s().GetCase("OLD"));
  EXPECT_EQ(old.record.status(), v1::CASE_STATUS_OPEN);
  EXPECT_EQ(this->Tags(), std::vector<Tag>{7});
  EXPECT_EQ(this->Version(), 1u);
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(0));
  EXPECT_EQ(changes.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto notes, this->s().ListNotifications(""));
  EXPECT_TRUE(notes.items.empty());
  ASSERT_OK_AND_ASSIGN(auto cases, this->s().ListCases(true));
  EXPECT_EQ(cases.items.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto setting, this->s().GetSetting("k"));
  EXPECT_EQ(setting, std::optional<Bytes>("before"));
}

// The Resolve quota (node/lookup_responder.h) is charged inside the
// transaction that stores the notifications: it commits with them, or not
// at all.
TYPED_TEST(StorageConformanceTest, TransactionChargesQuotaWithItsWrites) {
  ASSERT_OK(this->s().ReadWriteTransaction([](StorageTransaction& txn) {
    ASSIGN_OR_RETURN(uint32_t used, txn.ChargeQuota("RS/resolve", 9, 60, 100));
    EXPECT_EQ(used, 60u);
    // Past the limit: refused, the usage unchanged, the body may go on.
    EXPECT_EQ(CodeOf(txn.ChargeQuota("RS/resolve", 9, 41, 100)),
              absl::StatusCode::kResourceExhausted);
    ASSIGN_OR_RETURN(used, txn.ChargeQuota("RS/resolve", 9, 40, 100));
    EXPECT_EQ(used, 100u);
    return txn.AddNotification(Note("A-1", 5));
  }));
  ASSERT_OK_AND_ASSIGN(uint32_t used,
                       this->s().ChargeQuota("RS/resolve", 9, 0, 100));
  EXPECT_EQ(used, 100u);
  // A separate row from the member's evaluation quota.
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("RS", 9, 0, 100));
  EXPECT_EQ(used, 0u);
  // Rolled back with the body.
  const absl::Status refused = absl::UnavailableError("the audit log failed");
  EXPECT_EQ(this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
    RETURN_IF_ERROR(txn.ChargeQuota("AL/resolve", 9, 7, 100).status());
    return refused;
  }),
            refused);
  ASSERT_OK_AND_ASSIGN(used, this->s().ChargeQuota("AL/resolve", 9, 0, 100));
  EXPECT_EQ(used, 0u);
}

TYPED_TEST(StorageConformanceTest, TransactionReadsItsOwnWrites) {
  ASSERT_OK(this->s().ReadWriteTransaction([](StorageTransaction& txn) {
    EXPECT_EQ(CodeOf(txn.GetCase("A-1")), absl::StatusCode::kNotFound);
    RETURN_IF_ERROR(txn.AddCase(MakeCase("A-1", true, {Ident("a", 1)})));
    ASSIGN_OR_RETURN(StoredCase c, txn.GetCase("A-1"));
    EXPECT_EQ(c.identifiers.size(), 1u);
    ASSIGN_OR_RETURN(uint64_t version, txn.OwnIndexVersion());
    EXPECT_EQ(version, 1u);
    ASSIGN_OR_RETURN(auto matches, txn.FindByOutputs({Ident("a", 1).y}));
    EXPECT_EQ(matches.size(), 1u);
    c.record.set_status(v1::CASE_STATUS_CLOSED);
    RETURN_IF_ERROR(txn.UpdateCase(c));
    ASSIGN_OR_RETURN(matches, txn.FindByOutputs({Ident("a", 1).y}));
    EXPECT_TRUE(matches.empty());
    RETURN_IF_ERROR(txn.PutSetting("k", "v"));
    ASSIGN_OR_RETURN(auto setting, txn.GetSetting("k"));
    EXPECT_EQ(setting, std::optional<Bytes>("v"));
    return absl::OkStatus();
  }));
  EXPECT_TRUE(this->Tags().empty());
  EXPECT_EQ(this->Version(), 2u);
}

TYPED_TEST(StorageConformanceTest,
           FailedWriteInsideATransactionChangesNothing) {
  ASSERT_OK(this->s().AddCase(MakeCase("A-1", true, {Ident("a", 1)})));
  ASSERT_OK(this->s().ReadWriteTransaction([](StorageTransaction& txn) {
    // Same number: refused whole, also the new tag it would have added.
    EXPECT_EQ(txn.AddCase(MakeCase("A-1", true, {Ident("b", 2)})).code(),
              absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(txn.UpdateCase(MakeCase("NONE", true, {Ident("c", 3)})).code(),
              absl::StatusCode::kNotFound);
    return txn.AddCase(MakeCase("B-1", true, {Ident("d", 4)}));
  }));
  EXPECT_EQ(this->Tags(), (std::vector<Tag>{1, 4}));
  ASSERT_OK_AND_ASSIGN(StoredCase a, this->s().GetCase("A-1"));
  EXPECT_EQ(a.identifiers.size(), 1u);
  EXPECT_EQ(a.identifiers[0].normalized_value, "a");
}

TYPED_TEST(StorageConformanceTest, TransactionsRunBesideGroupCommittedAdmits) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Half the threads write cases in transactions, half admit envelopes
    // (the group commit of RecordMessageIdAndCharge).
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * kPerThread + i;
        if (t % 2 == 0) {
          EXPECT_OK(
              this->s().ReadWriteTransaction([n](StorageTransaction& txn) {
                return txn.AddCase(MakeCase("T" + std::to_string(n), true,
                                            {Ident("own", 100 + n)}));
              }));
        } else {
          auto outcome = this->s().RecordMessageIdAndCharge(
              "RS", std::to_string(n), 10,
              Storage::QuotaCharge{1, 1, 1'000'000});
          ASSERT_TRUE(outcome.ok()) << outcome.status();
          EXPECT_EQ(*outcome, Storage::AdmitOutcome::kAccepted);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_OK_AND_ASSIGN(auto cases, this->s().ListCases(true));
  EXPECT_EQ(cases.items.size(), static_cast<size_t>(kThreads / 2 * kPerThread));
  ASSERT_OK_AND_ASSIGN(uint32_t used,
                       this->s().ChargeQuota("RS", 1, 0, 1'000'000));
  EXPECT_EQ(used, static_cast<uint32_t>(kThreads / 2 * kPerThread));
}

// --- Cooperation requests (spec/cooperation.md) ------------------------------

v1::CooperationRecord CoopRecord(const std::string& id,
                                 const std::string& office,
                                 int64_t requested_at_ms, int64_t due_ms,
                                 bool accepted) {
  v1::CooperationRecord r;
  r.set_id(id);
  r.set_direction(v1::COOPERATION_DIRECTION_SENT);
  r.set_peer("RS");
  r.set_office(office);
  r.set_case_number("MK-1");
  r.set_requested_at_ms(requested_at_ms);
  r.mutable_request()->set_type(v1::COOPERATION_TYPE_INFORMATION);
  r.mutable_request()->set_response_due_ms(due_ms);
  if (accepted) r.mutable_receipt()->set_status(v1::RECEIPT_STATUS_ACCEPTED);
  return r;
}

TYPED_TEST(StorageConformanceTest, CaseByTokenFindsTheCaseInAndOutOfTxn) {
  StoredCase a = MakeCase("MK-1", true, {Ident("a", 1)});
  a.record.set_case_token(Bytes(16, 'a'));
  StoredCase b = MakeCase("MK-22", false, {Ident("b", 2)});
  b.record.set_case_token(Bytes(16, 'b'));
  ASSERT_OK(this->s().AddCase(a));
  ASSERT_OK(this->s().ReadWriteTransaction(
      [&](StorageTransaction& txn) { return txn.AddCase(b); }));
  ASSERT_OK_AND_ASSIGN(StoredCase got,
                       this->s().GetCaseByToken(Bytes(16, 'a')));
  EXPECT_EQ(got.record.case_number(), "MK-1");
  ASSERT_OK(this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
    ASSIGN_OR_RETURN(StoredCase in_txn, txn.GetCaseByToken(Bytes(16, 'b')));
    EXPECT_EQ(in_txn.record.case_number(), "MK-22");
    EXPECT_EQ(in_txn.record.status(), v1::CASE_STATUS_CLOSED);
    return absl::OkStatus();
  }));
  EXPECT_EQ(CodeOf(this->s().GetCaseByToken(Bytes(16, 'c'))),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeOf(this->s().GetCaseByToken("")), absl::StatusCode::kNotFound);
  // Amending a case keeps its token's entry.
  a.record.set_contact_point("+389 2 111 111");
  ASSERT_OK(this->s().UpdateCase(a));
  ASSERT_OK_AND_ASSIGN(got, this->s().GetCaseByToken(Bytes(16, 'a')));
  EXPECT_EQ(got.record.contact_point(), "+389 2 111 111");
}

TYPED_TEST(StorageConformanceTest, CooperationPutGetReplaceKeepsPlace) {
  EXPECT_EQ(CodeOf(this->s().PutCooperation(v1::CooperationRecord())),
            absl::StatusCode::kInvalidArgument);
  v1::CooperationRecord no_direction = CoopRecord("x", "MK/A", 1, 0, false);
  no_direction.clear_direction();
  EXPECT_EQ(CodeOf(this->s().PutCooperation(no_direction)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().GetCooperation("r1")),
            absl::StatusCode::kNotFound);
  ASSERT_OK(this->s().PutCooperation(CoopRecord("r1", "MK/A", 100, 0, false)));
  ASSERT_OK(this->s().PutCooperation(CoopRecord("r2", "MK/A", 200, 0, false)));
  v1::CooperationRecord r1 = CoopRecord("r1", "MK/A", 300, 5000, true);
  r1.set_peer_office("RS/VJT-Beograd");
  ASSERT_OK(this->s().PutCooperation(r1));
  ASSERT_OK_AND_ASSIGN(v1::CooperationRecord got,
                       this->s().GetCooperation("r1"));
  EXPECT_EQ(got.peer_office(), "RS/VJT-Beograd");
  EXPECT_EQ(got.receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);
  ASSERT_OK_AND_ASSIGN(auto all, this->s().ListCooperations({}));
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].id(), "r2");  // r1 keeps its first place (100)
  EXPECT_EQ(all.items[1].id(), "r1");
  EXPECT_EQ(all.items[1].requested_at_ms(), 100);
  // In a transaction, read-your-writes; a rolled-back put leaves nothing.
  absl::Status refused =
      this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
        RETURN_IF_ERROR(txn.PutCooperation(CoopRecord("r3", "MK/A", 1, 0, 0)));
        ASSIGN_OR_RETURN(v1::CooperationRecord r3, txn.GetCooperation("r3"));
        EXPECT_EQ(r3.id(), "r3");
        return absl::AbortedError("rolled back");
      });
  EXPECT_EQ(refused.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(CodeOf(this->s().GetCooperation("r3")),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(StorageConformanceTest, CooperationListFiltersAndPages) {
  // Accepted with deadlines 1000 and 3000, one answered, one refused, one
  // spontaneous (due 0), one of another office, one receipt late.
  ASSERT_OK(this->s().PutCooperation(CoopRecord("a", "MK/A", 10, 1000, true)));
  ASSERT_OK(this->s().PutCooperation(CoopRecord("b", "MK/A", 20, 3000, true)));
  v1::CooperationRecord answered = CoopRecord("c", "MK/A", 30, 1000, true);
  answered.mutable_response()->set_outcome(v1::RESPONSE_OUTCOME_DONE);
  ASSERT_OK(this->s().PutCooperation(answered));
  ASSERT_OK(this->s().PutCooperation(CoopRecord("d", "MK/A", 40, 1000, false)));
  ASSERT_OK(this->s().PutCooperation(CoopRecord("e", "MK/A", 50, 0, true)));
  ASSERT_OK(this->s().PutCooperation(CoopRecord("f", "MK/B", 60, 1000, true)));
  v1::CooperationRecord late = CoopRecord("g", "MK/A", 70, 9000, true);
  late.set_receipt_late(true);
  ASSERT_OK(this->s().PutCooperation(late));
  auto ids = [](const Page<v1::CooperationRecord>& page) {
    std::vector<std::string> out;
    for (const auto& r : page.items) out.push_back(r.id());
    return out;
  };
  ASSERT_OK_AND_ASSIGN(auto mine,
                       this->s().ListCooperations({.office = "MK/A"}));
  EXPECT_EQ(ids(mine),
            (std::vector<std::string>{"g", "e", "d", "c", "b", "a"}));
  ASSERT_OK_AND_ASSIGN(
      auto overdue,
      this->s().ListCooperations({.office = "MK/A", .overdue_at_ms = 2000}));
  EXPECT_EQ(ids(overdue), (std::vector<std::string>{"g", "a"}));
  for (const auto& r : overdue.items)
    EXPECT_TRUE(CooperationOverdueAt(r, 2000));
  ASSERT_OK_AND_ASSIGN(overdue, this->s().ListCooperations(
                                    {.office = "", .overdue_at_ms = 5000}));
  EXPECT_EQ(ids(overdue), (std::vector<std::string>{"g", "f", "b", "a"}));
  // Announced ones leave the unannounced listing only.
  ASSERT_OK(this->s().MarkCooperationAnnounced("a"));
  EXPECT_EQ(CodeOf(this->s().MarkCooperationAnnounced("zz")),
            absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(
      overdue,
      this->s().ListCooperations(
          {.office = "", .overdue_at_ms = 5000, .unannounced_only = true}));
  EXPECT_EQ(ids(overdue), (std::vector<std::string>{"g", "f", "b"}));
  // Paging: two by two, newest first, ending with an empty cursor.
  std::vector<std::string> paged;
  PageRequest page{.after = "", .limit = 2};
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK_AND_ASSIGN(auto got, this->s().ListCooperations({}, page));
    for (const auto& r : got.items) paged.push_back(r.id());
    if (got.next.empty()) break;
    page.after = got.next;
  }
  EXPECT_EQ(paged,
            (std::vector<std::string>{"g", "f", "e", "d", "c", "b", "a"}));
  EXPECT_EQ(
      CodeOf(this->s().ListCooperations({}, {.after = "junk", .limit = 0})),
      absl::StatusCode::kInvalidArgument);
}

// MemoryStorage's test seam: a commit that fails after the body succeeded.
TEST(MemoryStorageTest, FailedCommitRollsBackAndTellsTheHandler) {
  MemoryStorage s;
  s.FailNextCommit(absl::UnavailableError("disk I/O error"));
  absl::Status told;
  absl::Status status = s.ReadWriteTransaction(
      [](StorageTransaction& txn) {
        return txn.AddCase(MakeCase("A-1", true, {Ident("a", 1)}));
      },
      [&](const absl::Status& failure) { told = failure; });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(told.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(s.GetCase("A-1")), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(uint64_t version, s.OwnIndexVersion());
  EXPECT_EQ(version, 0u);
  // Only the next commit fails.
  EXPECT_OK(s.ReadWriteTransaction([](StorageTransaction& txn) {
    return txn.AddCase(MakeCase("A-1", true, {Ident("a", 1)}));
  }));
}

}  // namespace
}  // namespace cbx::node
