// The fencing token of an active/standby pair in the audit log's
// PostgreSQL store (node/storage/pg/pg_fence.h, spec/active-standby.md §4),
// and the takeover rule of node/storage/pg/pg_leadership.h, against the
// test cluster: a store whose node lost its term writes nothing (the attack
// a paused old leader makes); a standby takes over at once from a holder
// whose session ended, only after the lease from one that keeps it (whose
// sessions it terminates), and never from a live one.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/crypto/sha256.h"
#include "gtest/gtest.h"
#include "node/audit/pg_audit_store.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_leadership.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node::audit {
namespace {

constexpr int64_t kLeaseMs = 1500;

class PgFenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (pg::testing::PgCluster::BinDir().empty()) {
      GTEST_SKIP() << pg::testing::PgCluster::SkipReason();
    }
    auto schema = pg::testing::FreshSchema();
    ASSERT_TRUE(schema.ok()) << schema.status();
    conninfo_ = schema->conninfo;
    audit_schema_ = schema->schema;
    leader_schema_ = schema->schema + "_lead";
  }

  // A node's leadership, its connections tagged as `instance`'s.
  std::unique_ptr<pg::Leadership> Lead(const std::string& instance) {
    pg::TagConnections(instance);
    pg::LeadershipOptions options;
    options.conninfo = conninfo_;
    options.schema = leader_schema_;
    options.instance = instance;
    options.lease_ms = kLeaseMs;
    options.poll_ms = 100;
    auto lead = pg::Leadership::Create(options);
    EXPECT_TRUE(lead.ok()) << lead.status();
    return lead.ok() ? *std::move(lead) : nullptr;
  }
  // The term `lead` wins within `timeout` looks every 100 ms; 0 if none.
  static int64_t AwaitFor(pg::Leadership& lead,
                          std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto won = lead.AwaitLeadership(
        [&] { return std::chrono::steady_clock::now() > deadline; });
    return won.ok() ? *won : 0;
  }

  std::string conninfo_, audit_schema_, leader_schema_;
};

LeafRow Leaf(uint64_t seq, merkle::CompactRange& range) {
  const std::string data = absl::StrCat("entry ", seq);
  Bytes hash = crypto::Sha256(data);
  EXPECT_TRUE(range.Append(hash).ok());
  return LeafRow{seq, hash, data, Bytes()};
}

// The attack: node a holds term 1 and appends; b takes the term (as a
// takeover does, once a's lease ran out while a was paused); a resumes and
// appends again. Without the fence the second batch commits and the log
// has two writers; with it, it fails fenced and writes nothing.
TEST_F(PgFenceTest, AStoreOfALostTermWritesNothing) {
  auto a = Lead("a-00000001");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(AwaitFor(*a, std::chrono::seconds(5)), 1);
  int fenced_calls = 0;
  auto fence = std::make_shared<const pg::Fence>(
      a->MakeFence([&](const absl::Status&) { ++fenced_calls; }));
  auto store = PgAuditStore::Open(conninfo_, audit_schema_, fence);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Initialize().ok());
  merkle::CompactRange range;
  ASSERT_TRUE((*store)->AppendBatch({Leaf(0, range)}, range).ok());

  auto b = Lead("b-00000002");
  ASSERT_NE(b, nullptr);
  // a is alive and holds the lock: b waits.
  EXPECT_EQ(AwaitFor(*b, std::chrono::milliseconds(500)), 0);
  // a pauses (no heartbeat): after the lease b fences it and takes term 2.
  EXPECT_EQ(AwaitFor(*b, std::chrono::milliseconds(kLeaseMs * 4)), 2);

  merkle::CompactRange next = range;
  merkle::CompactRange again = range;
  absl::Status late = (*store)->AppendBatch({Leaf(1, next)}, next);
  if (late.code() == absl::StatusCode::kUnavailable) {
    // b terminated a's sessions: the log reconnects and tries again, as
    // AuditLog does after a batch that failed cleanly.
    ASSERT_TRUE((*store)->ReopenIfFaulted().ok());
    late = (*store)->AppendBatch({Leaf(1, again)}, again);
  }
  EXPECT_TRUE(pg::IsFenced(late)) << late;
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fenced_calls, 1);
  absl::Status checkpoint =
      (*store)->InsertCheckpoint(CheckpointRow{1, range.Root(), "note", 0});
  EXPECT_TRUE(pg::IsFenced(checkpoint)) << checkpoint;
  auto state = (*store)->ReadState();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->size, 1u);
  auto leaves = (*store)->CountLeaves(0, 10);
  ASSERT_TRUE(leaves.ok());
  EXPECT_EQ(*leaves, 1u);
  EXPECT_FALSE((*store)->ReadCheckpoint(1)->has_value());
}

// A holder whose session ended (its process died) is replaced at the next
// look, without waiting for its lease.
TEST_F(PgFenceTest, AStandbyTakesOverAtOnceFromAHolderThatDied) {
  auto a = Lead("a-00000003");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(AwaitFor(*a, std::chrono::seconds(5)), 1);
  a->StartRenewing([](const std::string&) {});
  auto b = Lead("b-00000004");
  ASSERT_NE(b, nullptr);
  // a renews: b never gets in, even past several leases.
  EXPECT_EQ(AwaitFor(*b, std::chrono::milliseconds(kLeaseMs * 2)), 0);
  a.reset();  // its connection closes, as a killed process's does
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(AwaitFor(*b, std::chrono::seconds(5)), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(kLeaseMs));
}

// A holder paused inside a transaction that checked its term (every audit
// append does, FOR SHARE on the term row): the standby must still take over
// after the lease. Before the fix the standby's look locked the row FOR
// UPDATE first and waited on the paused transaction for as long as the
// holder stayed paused, so it never got to terminate the holder's sessions.
TEST_F(PgFenceTest, AStandbyTakesOverFromAHolderPausedInsideATransaction) {
  auto a = Lead("a-00000005");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(AwaitFor(*a, std::chrono::seconds(5)), 1);
  // a's append, paused after its fence check (a connection tagged as a's,
  // since Lead tagged this process as a).
  auto append = pg::Connection::Open(conninfo_);
  ASSERT_TRUE(append.ok()) << append.status();
  ASSERT_TRUE((*append)->Exec("BEGIN").ok());
  ASSERT_TRUE((*append)
                  ->Query("SELECT term FROM " + leader_schema_ +
                          ".leader WHERE id = 1 FOR SHARE")
                  .ok());

  auto b = Lead("b-00000006");
  ASSERT_NE(b, nullptr);
  std::atomic<int64_t> won{-1};
  std::thread standby(
      [&] { won = AwaitFor(*b, std::chrono::milliseconds(kLeaseMs * 4)); });
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(kLeaseMs * 4 + 2000);
  while (won.load() < 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int64_t in_time = won.load();
  if (in_time < 0) {
    // The standby hangs on the paused transaction: end a's sessions from
    // outside so that the thread can be joined, then fail.
    auto rescue = pg::Connection::Open(conninfo_);
    ASSERT_TRUE(rescue.ok());
    ASSERT_TRUE((*rescue)
                    ->Query("SELECT pg_terminate_backend(pid) FROM "
                            "pg_stat_activity WHERE application_name = "
                            "'cbx-node a-00000005'")
                    .ok());
  }
  standby.join();
  EXPECT_EQ(in_time, 2) << "the standby did not take over from a holder "
                           "paused inside a transaction";
}

}  // namespace
}  // namespace cbx::node::audit
