// The Storage contract for withdrawals of case references (storage.h,
// "Withdrawals"), run against every backend.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/storage/memory_storage.h"
#include "node/storage/sqlite_storage.h"
#include "node/storage/storage.h"
#include "node/storage/storage_test_util.h"
#include "node/storage/testing/storage_backends.h"

namespace cbx::node {
namespace {

using testing::TempDir;

const Bytes kToken(16, 't');

QueuedWithdrawal Queued(const std::string& member, int64_t next_attempt_ms,
                        const Bytes& token = kToken) {
  QueuedWithdrawal w;
  w.case_token = token;
  w.member = member;
  w.case_number = "RS-1";
  w.office = "RS/VJT-Beograd";
  w.reason = v1::WITHDRAWAL_REASON_CLOSED;
  w.queued_at_ms = 1000;
  w.next_attempt_ms = next_attempt_ms;
  return w;
}

v1::Hit HitOf(const std::string& member, const Bytes& token, int64_t at_ms) {
  v1::Hit hit;
  hit.set_member(member);
  hit.set_case_number("MK-1");
  hit.set_received_at_ms(at_ms);
  hit.mutable_reference()->set_case_token(token);
  hit.mutable_reference()->set_competent_office(member + "/Office");
  return hit;
}

template <typename Backend>
class WithdrawalStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_STORAGE_BACKEND_OR_SKIP(Backend);
    storage_ = Backend::Make(dir_);
    ASSERT_NE(storage_, nullptr);
  }
  Storage& s() { return *storage_; }
  absl::Status Txn(const Storage::TransactionBody& body) {
    return storage_->ReadWriteTransaction(body);
  }
  std::vector<v1::Hit> Hits() {
    absl::StatusOr<Page<v1::Hit>> page = s().ListHits("");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->items : std::vector<v1::Hit>{};
  }

  TempDir dir_;
  std::unique_ptr<Storage> storage_;
};

TYPED_TEST_SUITE(WithdrawalStorageTest, testing::StorageBackends,
                 testing::StorageBackendNames);

TYPED_TEST(WithdrawalStorageTest, QueueReadsBackAndRefusesARepeat) {
  QueuedWithdrawal w = Queued("MK", 1000);
  ASSERT_TRUE(
      this->Txn([&](StorageTransaction& t) { return t.QueueWithdrawal(w); })
          .ok());
  absl::Status again = this->Txn([&](StorageTransaction& t) {
    return t.QueueWithdrawal(Queued("MK", 5));
  });
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  absl::Status empty = this->Txn(
      [&](StorageTransaction& t) { return t.QueueWithdrawal(Queued("", 5)); });
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  std::vector<QueuedWithdrawal> all = *this->s().ListWithdrawals();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].case_token, kToken);
  EXPECT_EQ(all[0].case_number, "RS-1");
  EXPECT_EQ(all[0].office, "RS/VJT-Beograd");
  EXPECT_EQ(all[0].reason, v1::WITHDRAWAL_REASON_CLOSED);
  EXPECT_EQ(all[0].next_attempt_ms, 1000);  // the first one's, unchanged
  EXPECT_TRUE(all[0].receipt.empty());
  EXPECT_FALSE(all[0].given_up);
}

TYPED_TEST(WithdrawalStorageTest, DueListsPendingOnesEarliestFirst) {
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    for (const QueuedWithdrawal& w :
                         {Queued("MK", 3000), Queued("AL", 2000),
                          Queued("HR", 0), Queued("BA", 9000)}) {
                      absl::Status s = t.QueueWithdrawal(w);
                      if (!s.ok()) return s;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  std::vector<QueuedWithdrawal> due = *this->s().DueWithdrawals(3000, 0);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].member, "AL");
  EXPECT_EQ(due[1].member, "MK");
  EXPECT_EQ(this->s().DueWithdrawals(3000, 1)->size(), 1u);
  EXPECT_EQ(this->s().DueWithdrawals(-1, 0)->size(), 3u);  // HR ended
}

TYPED_TEST(WithdrawalStorageTest, UpdateReplacesAndEndsAWithdrawal) {
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) {
                    return t.QueueWithdrawal(Queued("MK", 1000));
                  })
                  .ok());
  QueuedWithdrawal w = Queued("MK", 0);
  w.attempts = 3;
  w.receipt = "signed receipt";
  w.last_error = "";
  ASSERT_TRUE(
      this->Txn([&](StorageTransaction& t) { return t.UpdateWithdrawal(w); })
          .ok());
  QueuedWithdrawal got;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    absl::StatusOr<QueuedWithdrawal> r =
                        t.GetWithdrawal(kToken, "MK");
                    if (!r.ok()) return r.status();
                    got = *r;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(got.attempts, 3u);
  EXPECT_EQ(got.receipt, "signed receipt");
  EXPECT_TRUE(this->s().DueWithdrawals(-1, 0)->empty());
  absl::Status missing = this->Txn([&](StorageTransaction& t) {
    return t.UpdateWithdrawal(Queued("AL", 5));
  });
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(WithdrawalStorageTest, MembersNotifiedOfAreDistinctAndSorted) {
  for (const char* member : {"RS", "MK", "RS", "AL"}) {
    v1::Notification n;
    n.set_case_number("MK-1");
    n.set_from_member(member);
    ASSERT_TRUE(this->s().AddNotification(n).ok());
  }
  v1::Notification other;
  other.set_case_number("MK-2");
  other.set_from_member("HR");
  ASSERT_TRUE(this->s().AddNotification(other).ok());
  std::vector<std::string> members;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    absl::StatusOr<std::vector<std::string>> m =
                        t.MembersNotifiedOf("MK-1");
                    if (!m.ok()) return m.status();
                    members = *m;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(members, (std::vector<std::string>{"AL", "MK", "RS"}));
}

TYPED_TEST(WithdrawalStorageTest, WithdrawHitsMarksOnlyThatMembersToken) {
  ASSERT_TRUE(this->s().AddHit(HitOf("RS", kToken, 10)).ok());
  ASSERT_TRUE(this->s().AddHit(HitOf("AL", kToken, 20)).ok());  // not RS's
  ASSERT_TRUE(this->s().AddHit(HitOf("RS", Bytes(16, 'o'), 30)).ok());
  int64_t marked = -1;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    absl::StatusOr<int64_t> n = t.WithdrawHits(
                        "RS", kToken, 500, v1::WITHDRAWAL_REASON_CLOSED,
                        /*delete_reference=*/false);
                    if (!n.ok()) return n.status();
                    marked = *n;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(marked, 1);
  std::vector<v1::Hit> hits = this->Hits();  // newest first
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].withdrawn_at_ms(), 0);
  EXPECT_EQ(hits[1].withdrawn_at_ms(), 0);
  EXPECT_EQ(hits[2].withdrawn_at_ms(), 500);
  EXPECT_EQ(hits[2].reference().competent_office(), "RS/Office");
  // Deleting the reference later keeps the first time and the token only.
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) {
                    return t
                        .WithdrawHits("RS", kToken, 900,
                                      v1::WITHDRAWAL_REASON_ERASED, true)
                        .status();
                  })
                  .ok());
  hits = this->Hits();
  EXPECT_EQ(hits[2].withdrawn_at_ms(), 500);
  EXPECT_EQ(hits[2].withdrawal_reason(), v1::WITHDRAWAL_REASON_CLOSED);
  EXPECT_EQ(hits[2].reference().case_token(), kToken);
  EXPECT_TRUE(hits[2].reference().competent_office().empty());
  EXPECT_EQ(hits[2].member(), "RS");
}

TYPED_TEST(WithdrawalStorageTest, HitsDeletedUnderRetentionAreNotFound) {
  ASSERT_TRUE(this->s().AddHit(HitOf("RS", kToken, 10)).ok());
  ASSERT_TRUE(
      this->s()
          .DeleteHitsBefore(100, 10, [](int64_t) { return SettingWrites{}; })
          .ok());
  int64_t marked = -1;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    absl::StatusOr<int64_t> n = t.WithdrawHits(
                        "RS", kToken, 500, v1::WITHDRAWAL_REASON_CLOSED, true);
                    if (!n.ok()) return n.status();
                    marked = *n;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(marked, 0);
}

TYPED_TEST(WithdrawalStorageTest, TombstonesReadBackAndComeDueWhenKeptEnds) {
  WithdrawnReference kept{.member = "RS",
                          .case_token = kToken,
                          .reason = v1::WITHDRAWAL_REASON_CLOSED,
                          .withdrawn_at_ms = 100,
                          .kept_until_ms = 5000};
  WithdrawnReference gone{.member = "AL",
                          .case_token = kToken,
                          .reason = v1::WITHDRAWAL_REASON_ERASED,
                          .withdrawn_at_ms = 100,
                          .deleted_at_ms = 100};
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    absl::Status s = t.PutWithdrawnReference(kept);
                    if (!s.ok()) return s;
                    return t.PutWithdrawnReference(gone);
                  })
                  .ok());
  std::vector<WithdrawnReference> due;
  absl::Status missing;
  WithdrawnReference read;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    due = *t.WithdrawnReferencesDue(4999, 0);
                    EXPECT_TRUE(due.empty());
                    due = *t.WithdrawnReferencesDue(5000, 0);
                    read = *t.GetWithdrawnReference("AL", kToken);
                    missing = t.GetWithdrawnReference("MK", kToken).status();
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].member, "RS");
  EXPECT_EQ(due[0].kept_until_ms, 5000);
  EXPECT_EQ(read.reason, v1::WITHDRAWAL_REASON_ERASED);
  EXPECT_EQ(read.deleted_at_ms, 100);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  // Replaced once deleted: no longer due.
  kept.deleted_at_ms = 5000;
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) {
                    return t.PutWithdrawnReference(kept);
                  })
                  .ok());
  ASSERT_TRUE(this->Txn([&](StorageTransaction& t) -> absl::Status {
                    EXPECT_TRUE(t.WithdrawnReferencesDue(9999, 0)->empty());
                    return absl::OkStatus();
                  })
                  .ok());
}

TYPED_TEST(WithdrawalStorageTest, ARolledBackTransactionLeavesNothing) {
  absl::Status s = this->Txn([&](StorageTransaction& t) -> absl::Status {
    absl::Status q = t.QueueWithdrawal(Queued("MK", 1000));
    if (!q.ok()) return q;
    return absl::AbortedError("rolled back");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(this->s().ListWithdrawals()->empty());
}

}  // namespace
}  // namespace cbx::node
