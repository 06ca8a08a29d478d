// A COMMIT of the audit log whose answer is lost (spec/audit-log.md §2.10,
// "An append whose answer is lost"): the batch is stored, but its callers
// are told the append failed, and the log cannot read its state back at
// once (a PostgreSQL primary gone, the replica not yet promoted). Those
// callers changed nothing and answered nothing, so when the log recovers
// and finds the entries stored, it voids each one with a not_applied entry
// before it appends anything else, once, however often recovery is tried.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/util/clock.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/leaf.h"
#include "node/audit/sqlite_audit_store.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

constexpr int64_t kStartMs = 1'750'000'000'000;

// What the lost connection does to the writer, armed by the test.
struct Loss {
  int lose_answers = 0;    // AppendBatch stores, then fails, this often
  int fail_state_reads = 0;  // then ReadState fails this often
};

// The writer connection, over a real SQLite store, losing answers as armed.
class LosingStore : public AuditStore {
 public:
  LosingStore(std::unique_ptr<AuditStore> store, std::shared_ptr<Loss> loss)
      : store_(std::move(store)), loss_(std::move(loss)) {}

  absl::Status Initialize() override { return store_->Initialize(); }
  absl::StatusOr<StateRow> ReadState() override {
    if (loss_->fail_state_reads > 0) {
      --loss_->fail_state_reads;
      return absl::UnavailableError("server closed the connection");
    }
    return store_->ReadState();
  }
  absl::Status AppendBatch(const std::vector<LeafRow>& leaves,
                           const merkle::CompactRange& state) override {
    absl::Status stored = store_->AppendBatch(leaves, state);
    if (stored.ok() && loss_->lose_answers > 0) {
      --loss_->lose_answers;
      return absl::UnavailableError(
          "server closed the connection unexpectedly (during COMMIT)");
    }
    return stored;
  }
  absl::StatusOr<std::optional<LeafRow>> ReadLeaf(uint64_t seq) override {
    return store_->ReadLeaf(seq);
  }
  absl::StatusOr<std::vector<LeafRow>> ReadLeaves(uint64_t begin,
                                                  uint64_t end) override {
    return store_->ReadLeaves(begin, end);
  }
  absl::Status ScanLeaves(
      const std::function<absl::Status(uint64_t, std::string_view,
                                       std::string_view, std::string_view)>&
          visit) override {
    return store_->ScanLeaves(visit);
  }
  absl::StatusOr<std::optional<Bytes>> ReadSubtree(uint64_t level,
                                                   uint64_t index) override {
    return store_->ReadSubtree(level, index);
  }
  absl::StatusOr<LeafStats> ReadLeafStats() override {
    return store_->ReadLeafStats();
  }
  absl::StatusOr<LeafStats> ReadLeafEnds() override {
    return store_->ReadLeafEnds();
  }
  absl::StatusOr<uint64_t> CountLeaves(uint64_t begin, uint64_t end) override {
    return store_->CountLeaves(begin, end);
  }
  absl::Status InsertCheckpoint(const CheckpointRow& row) override {
    return store_->InsertCheckpoint(row);
  }
  absl::StatusOr<std::optional<CheckpointRow>> ReadCheckpoint(
      uint64_t size) override {
    return store_->ReadCheckpoint(size);
  }
  absl::StatusOr<std::optional<CheckpointRow>> LatestCheckpoint() override {
    return store_->LatestCheckpoint();
  }
  absl::StatusOr<std::vector<CheckpointRow>> ListCheckpoints() override {
    return store_->ListCheckpoints();
  }
  absl::StatusOr<std::vector<std::string>> ReadCosignatures(
      uint64_t size) override {
    return store_->ReadCosignatures(size);
  }
  absl::Status InsertCosignature(uint64_t size, std::string_view name,
                                 uint32_t key_id,
                                 std::string_view line) override {
    return store_->InsertCosignature(size, name, key_id, line);
  }
  absl::StatusOr<std::unique_ptr<ReadSnapshot>> BeginRead() override {
    return store_->BeginRead();
  }
  absl::StatusOr<bool> Maintain() override { return store_->Maintain(); }
  absl::Status ReopenIfFaulted() override { return store_->Reopen(); }
  absl::Status Reopen() override { return store_->Reopen(); }

 private:
  std::unique_ptr<AuditStore> store_;
  std::shared_ptr<Loss> loss_;
};

class LosingBackend : public SqliteAuditBackend {
 public:
  LosingBackend(std::string path, std::shared_ptr<Loss> loss)
      : SqliteAuditBackend(std::move(path)), loss_(std::move(loss)) {}
  absl::StatusOr<std::unique_ptr<AuditStore>> ConnectWriter() override {
    absl::StatusOr<std::unique_ptr<AuditStore>> store =
        SqliteAuditBackend::ConnectWriter();
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuditStore>(
        std::make_unique<LosingStore>(*std::move(store), loss_));
  }

 private:
  std::shared_ptr<Loss> loss_;
};

v1::AuditEntry AddCase(const std::string& office, uint32_t code = 0) {
  v1::AuditEntry entry;
  entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
  entry.set_rpc("Office.AddCase");
  entry.set_kind("add_case");
  entry.set_office(office);
  entry.set_user("prosecutor-1");
  entry.mutable_outcome()->set_status_code(code);
  return entry;
}

class AuditLostCommitAnswerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.clock = &clock_;
    options_.on_unacknowledged_voided = [this](uint64_t first,
                                               uint64_t count) {
      reported_.emplace_back(first, count);
    };
    auto log = AuditLog::Open(
        std::make_shared<LosingBackend>(tmp_.path() + "/audit.db", loss_),
        options_);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  std::vector<v1::AuditEntry> Entries() {
    std::vector<v1::AuditEntry> out;
    absl::StatusOr<std::vector<std::string>> leaves =
        log_->ReadEntries(0, log_->Size());
    EXPECT_TRUE(leaves.ok()) << leaves.status();
    if (!leaves.ok()) return out;
    for (const std::string& leaf : *leaves) out.push_back(*DecodeLeaf(leaf));
    return out;
  }

  testing::ScopedTempDir tmp_;
  FakeClock clock_{kStartMs};
  std::shared_ptr<Loss> loss_ = std::make_shared<Loss>();
  AuditLogOptions options_;
  std::vector<std::pair<uint64_t, uint64_t>> reported_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLostCommitAnswerTest, EntriesStoredButRefusedAreVoidedOnRecovery) {
  ASSERT_TRUE(log_->Append(AddCase("MK/PPO-Skopje")).ok());
  // Two calls in one batch: stored, the answer lost, the state unreadable.
  loss_->lose_answers = 1;
  loss_->fail_state_reads = 1;
  std::vector<v1::AuditEntry> batch = {AddCase("MK/PPO-Skopje"),
                                       AddCase("MK/PPO-Bitola")};
  batch[1].set_envelope_sha256(std::string(32, '\x07'));
  absl::StatusOr<uint64_t> lost = log_->AppendAll(batch);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable)
      << lost.status();
  EXPECT_EQ(log_->Size(), 1u);  // nothing acknowledged
  // A refusal among them is not voided (it changed nothing either way).
  clock_.AdvanceMs(5'000);
  absl::StatusOr<uint64_t> next = log_->Append(AddCase("MK/PPO-Skopje"));
  ASSERT_TRUE(next.ok()) << next.status();
  // Recovery adopted the two stored entries and voided them, newest first,
  // before the next append.
  EXPECT_EQ(*next, 5u);
  const std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(entries[3].kind(), kNotAppliedKind);
  EXPECT_EQ(entries[3].office(), "MK/PPO-Bitola");
  EXPECT_EQ(entries[3].envelope_sha256(), std::string(32, '\x07'));
  EXPECT_EQ(entries[4].kind(), kNotAppliedKind);
  EXPECT_EQ(entries[4].office(), "MK/PPO-Skopje");
  for (int i : {3, 4}) {
    EXPECT_EQ(entries[i].rpc(), "Office.AddCase");
    EXPECT_EQ(entries[i].direction(), v1::AUDIT_DIRECTION_LOCAL);
    EXPECT_EQ(entries[i].user(), "prosecutor-1");
    EXPECT_EQ(entries[i].outcome().status_code(),
              static_cast<uint32_t>(absl::StatusCode::kUnavailable));
  }
  EXPECT_EQ(entries[5].kind(), "add_case");
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_EQ(reported_[0], std::make_pair(uint64_t{3}, uint64_t{2}));
  EXPECT_EQ(log_->Stats().voided_unacknowledged, 2u);
  EXPECT_TRUE(log_->Verify().ok());
}

TEST_F(AuditLostCommitAnswerTest, RefusalsAreNotVoided) {
  loss_->lose_answers = 1;
  loss_->fail_state_reads = 1;
  EXPECT_FALSE(
      log_->Append(AddCase("MK/PPO-Skopje", /*code=*/6)).ok());  // refused
  clock_.AdvanceMs(5'000);
  absl::StatusOr<uint64_t> next = log_->Append(AddCase("MK/PPO-Skopje"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 1u);
  EXPECT_TRUE(reported_.empty());
}

// The voids' own COMMIT loses its answer too: the log stays latched, and
// the next recovery finds the voids stored and adds none twice.
TEST_F(AuditLostCommitAnswerTest, VoidsWhoseAnswerIsLostAreNotWrittenTwice) {
  loss_->lose_answers = 2;
  loss_->fail_state_reads = 1;
  EXPECT_FALSE(log_->Append(AddCase("MK/PPO-Skopje")).ok());
  clock_.AdvanceMs(5'000);
  // Recovery stores the void, but its answer is lost: refused again.
  EXPECT_FALSE(log_->Append(AddCase("MK/PPO-Skopje")).ok());
  EXPECT_EQ(log_->Size(), 0u);
  clock_.AdvanceMs(5'000);
  absl::StatusOr<uint64_t> next = log_->Append(AddCase("MK/PPO-Skopje"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 2u);
  const std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].kind(), "add_case");
  EXPECT_EQ(entries[1].kind(), kNotAppliedKind);
  EXPECT_EQ(entries[2].kind(), "add_case");
  EXPECT_EQ(log_->Stats().voided_unacknowledged, 0u);  // stored, not told
  EXPECT_TRUE(log_->Verify().ok());
}

}  // namespace
}  // namespace cbx::node::audit
