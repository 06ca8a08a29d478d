// The Storage contract's bounded deletes for retention (storage.h,
// "Retention"), run against every backend.
#include <algorithm>
#include <memory>
#include <string>
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

using testing::Ident;
using testing::MakeCase;
using testing::TempDir;

template <typename Backend>
class RetentionStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_STORAGE_BACKEND_OR_SKIP(Backend);
    storage_ = Backend::Make(dir_);
    ASSERT_NE(storage_, nullptr);
  }
  Storage& s() { return *storage_; }

  // A `then` that records the count it was given in setting "tally".
  Storage::AfterDelete Tally() {
    return [](int64_t n) {
      return SettingWrites{{"tally", std::to_string(n)}};
    };
  }
  std::string TallySetting() {
    auto v = storage_->GetSetting("tally");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() && v->has_value() ? **v : "";
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TYPED_TEST_SUITE(RetentionStorageTest, testing::StorageBackends,
                 testing::StorageBackendNames);

v1::Hit HitAt(int64_t ms, const std::string& case_number = "MK-1") {
  v1::Hit h;
  h.set_query_id("q" + std::to_string(ms));
  h.set_member("RS");
  h.set_case_number(case_number);
  h.set_received_at_ms(ms);
  return h;
}

v1::Notification NotificationAt(int64_t ms) {
  v1::Notification n;
  n.set_at_ms(ms);
  n.set_from_member("RS");
  n.set_case_number("MK-1");
  return n;
}

TYPED_TEST(RetentionStorageTest, DeletesHitsBeforeTheCutoffOldestFirst) {
  for (int64_t t : {500, 100, 300, 200, 400}) {
    ASSERT_OK(this->s().AddHit(HitAt(t)));
  }
  // Due: 100, 200, 300 (< 350); at most 2 per batch, the oldest first.
  ASSERT_OK_AND_ASSIGN(int64_t n,
                       this->s().DeleteHitsBefore(350, 2, this->Tally()));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(this->TallySetting(), "2");
  ASSERT_OK_AND_ASSIGN(Page<v1::Hit> left, this->s().ListHits(""));
  ASSERT_EQ(left.items.size(), 3u);
  EXPECT_EQ(left.items[2].received_at_ms(), 300);
  ASSERT_OK_AND_ASSIGN(n, this->s().DeleteHitsBefore(350, 2, this->Tally()));
  EXPECT_EQ(n, 1);  // fewer than the limit: nothing due left
  ASSERT_OK_AND_ASSIGN(n, this->s().DeleteHitsBefore(350, 2, this->Tally()));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(this->TallySetting(), "0");
  ASSERT_OK_AND_ASSIGN(left, this->s().ListHits(""));
  ASSERT_EQ(left.items.size(), 2u);
  EXPECT_EQ(left.items[1].received_at_ms(), 400);  // the cutoff is strict
}

TYPED_TEST(RetentionStorageTest, DeletesNotificationsBeforeTheCutoff) {
  for (int64_t t : {100, 200, 300}) {
    ASSERT_OK(this->s().AddNotification(NotificationAt(t)));
  }
  ASSERT_OK_AND_ASSIGN(
      int64_t n, this->s().DeleteNotificationsBefore(300, 10, this->Tally()));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(this->TallySetting(), "2");
  ASSERT_OK_AND_ASSIGN(Page<v1::Notification> left,
                       this->s().ListNotifications(""));
  ASSERT_EQ(left.items.size(), 1u);
  EXPECT_EQ(left.items[0].at_ms(), 300);
}

TYPED_TEST(RetentionStorageTest, DeletesExpiredMessageIdsOnly) {
  ASSERT_OK(this->s().RecordMessageId("RS", "id-1", 100));
  ASSERT_OK(this->s().RecordMessageId("RS", "id-2", 200));
  ASSERT_OK(this->s().RecordMessageId("AL", "id-3", 300));
  ASSERT_OK_AND_ASSIGN(
      int64_t n, this->s().DeleteExpiredMessageIds(250, 1, this->Tally()));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(
      n, this->s().DeleteExpiredMessageIds(250, 5, this->Tally()));
  EXPECT_EQ(n, 1);
  // The forgotten ids may be recorded again; the one not expired may not.
  EXPECT_OK(this->s().RecordMessageId("RS", "id-1", 900));
  EXPECT_OK(this->s().RecordMessageId("RS", "id-2", 900));
  EXPECT_EQ(CodeOf(this->s().RecordMessageId("AL", "id-3", 900)),
            absl::StatusCode::kAlreadyExists);
}

TYPED_TEST(RetentionStorageTest, PurgesOnlyClosedCasesClosedBeforeTheCutoff) {
  StoredCase old_closed = MakeCase("MK-1", false, {Ident("@old", 1)});
  old_closed.record.set_updated_at_ms(1000);
  StoredCase new_closed = MakeCase("MK-2", false, {Ident("@new", 2)});
  new_closed.record.set_updated_at_ms(5000);
  StoredCase open = MakeCase("MK-3", true, {Ident("@open", 3)});
  open.record.set_updated_at_ms(10);  // old, but open: never touched
  ASSERT_OK(this->s().AddCase(old_closed));
  ASSERT_OK(this->s().AddCase(new_closed));
  ASSERT_OK(this->s().AddCase(open));
  ASSERT_OK_AND_ASSIGN(uint64_t version, this->s().OwnIndexVersion());

  ASSERT_OK_AND_ASSIGN(
      Storage::PurgeProgress p,
      this->s().PurgeClosedCases(2000, {"", 10}, this->Tally()));
  EXPECT_EQ(p.purged, 1);
  EXPECT_EQ(p.next, "");
  EXPECT_EQ(this->TallySetting(), "1");

  // The tombstone: the row without its identifiers, everything else kept.
  ASSERT_OK_AND_ASSIGN(StoredCase tomb, this->s().GetCase("MK-1"));
  EXPECT_TRUE(tomb.identifiers.empty());
  EXPECT_TRUE(tomb.record.identifiers().empty());
  EXPECT_EQ(tomb.record.case_token(), old_closed.record.case_token());
  EXPECT_EQ(tomb.record.status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(tomb.record.updated_at_ms(), 1000);
  EXPECT_EQ(tomb.record.created_at_ms(), old_closed.record.created_at_ms());
  EXPECT_EQ(tomb.record.offences_size(), 1);
  // Its number stays taken.
  EXPECT_EQ(CodeOf(this->s().AddCase(MakeCase("MK-1", true, {Ident("@x", 9)}))),
            absl::StatusCode::kAlreadyExists);

  ASSERT_OK_AND_ASSIGN(StoredCase kept, this->s().GetCase("MK-2"));
  EXPECT_EQ(kept.identifiers.size(), 1u);
  ASSERT_OK_AND_ASSIGN(StoredCase still_open, this->s().GetCase("MK-3"));
  EXPECT_EQ(still_open.identifiers.size(), 1u);
  // The own index did not move; the open case still matches.
  ASSERT_OK_AND_ASSIGN(uint64_t after, this->s().OwnIndexVersion());
  EXPECT_EQ(after, version);
  ASSERT_OK_AND_ASSIGN(auto matches,
                       this->s().FindByOutputs({open.identifiers[0].y}));
  EXPECT_EQ(matches.size(), 1u);

  // Again: the tombstone is not counted twice.
  ASSERT_OK_AND_ASSIGN(
      p, this->s().PurgeClosedCases(2000, {"", 10}, this->Tally()));
  EXPECT_EQ(p.purged, 0);
}

TYPED_TEST(RetentionStorageTest, PurgeWalksClosedCasesInPages) {
  for (int i = 0; i < 5; ++i) {
    StoredCase c = MakeCase("MK-" + std::to_string(i), i == 2,
                            {Ident("@v" + std::to_string(i), 10 + i)});
    c.record.set_updated_at_ms(100);
    ASSERT_OK(this->s().AddCase(c));
  }
  int64_t purged = 0;
  int calls = 0;
  PageRequest page{"", 2};
  do {
    ASSERT_OK_AND_ASSIGN(Storage::PurgeProgress p,
                         this->s().PurgeClosedCases(200, page, this->Tally()));
    purged += p.purged;
    page.after = p.next;
    ++calls;
  } while (!page.after.empty() && calls < 10);
  EXPECT_EQ(purged, 4);  // the open MK-2 is skipped
  EXPECT_LE(calls, 3);
  ASSERT_OK_AND_ASSIGN(StoredCase open, this->s().GetCase("MK-2"));
  EXPECT_EQ(open.identifiers.size(), 1u);
}

TYPED_TEST(RetentionStorageTest, CompactsTheChangeLogInBatches) {
  for (int i = 0; i < 6; ++i) {
    ASSERT_OK(this->s().AddCase(
        MakeCase("MK-" + std::to_string(i), true, {Ident("@v", 100 + i)})));
  }
  // Versions 1..6, one per tag. Compact through 5, two at a time.
  ASSERT_OK_AND_ASSIGN(
      int64_t n, this->s().CompactIndexChangesBounded(5, 2, this->Tally()));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(1)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto changes, this->s().OwnIndexChangesSince(2));
  EXPECT_EQ(changes.size(), 4u);
  ASSERT_OK_AND_ASSIGN(
      n, this->s().CompactIndexChangesBounded(5, 2, this->Tally()));
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(
      n, this->s().CompactIndexChangesBounded(5, 2, this->Tally()));
  EXPECT_EQ(n, 1);
  EXPECT_EQ(this->TallySetting(), "1");
  ASSERT_OK_AND_ASSIGN(
      n, this->s().CompactIndexChangesBounded(5, 2, this->Tally()));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(CodeOf(this->s().OwnIndexChangesSince(4)),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(changes, this->s().OwnIndexChangesSince(5));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].version, 6u);
  // Tags and version unchanged.
  ASSERT_OK_AND_ASSIGN(auto tags, this->s().OwnIndexTags());
  EXPECT_EQ(tags.size(), 6u);
  // Never beyond the current version.
  ASSERT_OK_AND_ASSIGN(
      n, this->s().CompactIndexChangesBounded(1000, 100, this->Tally()));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(changes, this->s().OwnIndexChangesSince(6));
  EXPECT_TRUE(changes.empty());
}

// Withdrawal tombstones (spec/cooperation.md §2.4): only those whose
// reference is deleted and which were withdrawn before the cutoff, the
// oldest first; one still kept is never touched.
TYPED_TEST(RetentionStorageTest, DeletesDeletedWithdrawalTombstonesOnly) {
  auto tombstone = [](char token, int64_t withdrawn, int64_t deleted) {
    return WithdrawnReference{.member = "RS",
                              .case_token = Bytes(16, token),
                              .reason = v1::WITHDRAWAL_REASON_CLOSED,
                              .withdrawn_at_ms = withdrawn,
                              .kept_until_ms = deleted == 0 ? 9000 : 0,
                              .deleted_at_ms = deleted};
  };
  ASSERT_OK(this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
    RETURN_IF_ERROR(txn.PutWithdrawnReference(tombstone('c', 300, 300)));
    RETURN_IF_ERROR(txn.PutWithdrawnReference(tombstone('a', 100, 100)));
    RETURN_IF_ERROR(txn.PutWithdrawnReference(tombstone('k', 50, 0)));
    RETURN_IF_ERROR(txn.PutWithdrawnReference(tombstone('b', 200, 200)));
    return txn.PutWithdrawnReference(tombstone('d', 500, 500));
  }));
  ASSERT_OK_AND_ASSIGN(int64_t n, this->s().DeleteWithdrawnReferencesBefore(
                                      350, 2, this->Tally()));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(this->TallySetting(), "2");
  auto held = [&](char token) {
    absl::Status s =
        this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
          return txn.GetWithdrawnReference("RS", Bytes(16, token)).status();
        });
    return s.ok();
  };
  EXPECT_FALSE(held('a'));
  EXPECT_FALSE(held('b'));
  EXPECT_TRUE(held('c'));
  ASSERT_OK_AND_ASSIGN(
      n, this->s().DeleteWithdrawnReferencesBefore(350, 2, this->Tally()));
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(held('c'));
  EXPECT_TRUE(held('k'));  // its reference is still kept
  EXPECT_TRUE(held('d'));  // withdrawn after the cutoff
  ASSERT_OK_AND_ASSIGN(
      n, this->s().DeleteWithdrawnReferencesBefore(350, 2, this->Tally()));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(this->TallySetting(), "0");
}

// The origin's withdrawals: only ended ones (receipt or given up) queued
// before the cutoff; a pending one is never touched.
TYPED_TEST(RetentionStorageTest, DeletesEndedWithdrawalsOnly) {
  auto queued = [](char token, int64_t at, int64_t next, bool given_up) {
    QueuedWithdrawal w;
    w.case_token = Bytes(16, token);
    w.member = "MK";
    w.case_number = std::string("RS-") + token;
    w.office = "RS/VJT-Beograd";
    w.reason = v1::WITHDRAWAL_REASON_CLOSED;
    w.queued_at_ms = at;
    w.next_attempt_ms = next;
    w.given_up = given_up;
    if (next == 0 && !given_up) w.receipt = "receipt";
    return w;
  };
  ASSERT_OK(this->s().ReadWriteTransaction([&](StorageTransaction& txn) {
    RETURN_IF_ERROR(txn.QueueWithdrawal(queued('b', 200, 0, true)));
    RETURN_IF_ERROR(txn.QueueWithdrawal(queued('a', 100, 0, false)));
    RETURN_IF_ERROR(txn.QueueWithdrawal(queued('p', 50, 60, false)));
    return txn.QueueWithdrawal(queued('d', 500, 0, false));
  }));
  ASSERT_OK_AND_ASSIGN(
      int64_t n, this->s().DeleteEndedWithdrawalsBefore(350, 1, this->Tally()));
  EXPECT_EQ(n, 1);
  EXPECT_EQ(this->TallySetting(), "1");
  ASSERT_OK_AND_ASSIGN(std::vector<QueuedWithdrawal> left,
                       this->s().ListWithdrawals());
  ASSERT_EQ(left.size(), 3u);
  for (const QueuedWithdrawal& w : left) {
    EXPECT_NE(w.case_token, Bytes(16, 'a'));  // the oldest went first
  }
  ASSERT_OK_AND_ASSIGN(
      n, this->s().DeleteEndedWithdrawalsBefore(350, 10, this->Tally()));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(left, this->s().ListWithdrawals());
  ASSERT_EQ(left.size(), 2u);
  std::vector<Bytes> tokens = {left[0].case_token, left[1].case_token};
  std::sort(tokens.begin(), tokens.end());
  EXPECT_EQ(tokens, (std::vector<Bytes>{Bytes(16, 'd'), Bytes(16, 'p')}));
}

TYPED_TEST(RetentionStorageTest, RefusesALimitOfZero) {
  EXPECT_EQ(CodeOf(this->s().DeleteHitsBefore(1, 0, this->Tally())),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().DeleteNotificationsBefore(1, 0, this->Tally())),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().DeleteExpiredMessageIds(1, 0, this->Tally())),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().PurgeClosedCases(1, {"", 0}, this->Tally())),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().CompactIndexChangesBounded(1, 0, this->Tally())),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CodeOf(this->s().DeleteWithdrawnReferencesBefore(1, 0, this->Tally())),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(this->s().DeleteEndedWithdrawalsBefore(1, 0, this->Tally())),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::node
