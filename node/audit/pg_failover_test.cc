// The audit log on PostgreSQL when its server goes (issue 15, database
// availability): the writer's advisory lock lives in a database session, so
// it is lost with the session; the log must not append again until it holds
// the lock on the server its conninfo reaches now (a promoted replica, or
// the same server after the session was cut), and must lose nothing it
// acknowledged.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/pg_audit_store.h"
#include "node/audit/testing/test_util.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node::audit {
namespace {

using ::cbx::node::audit::testing::SampleEntry;
using ::cbx::node::audit::testing::ScopedTempDir;
using ::cbx::node::pg::Connection;
using ::cbx::node::pg::Params;
using ::cbx::node::pg::testing::PgCluster;

constexpr char kSchema[] = "cbx_audit";

absl::StatusOr<std::unique_ptr<AuditLog>> OpenLog(const std::string& conninfo,
                                                  const std::string& head) {
  absl::StatusOr<std::shared_ptr<PgAuditBackend>> backend =
      PgAuditBackend::Create(conninfo, kSchema);
  if (!backend.ok()) return backend.status();
  AuditLogOptions options;
  options.head_path = head;
  options.recovery_interval = absl::Milliseconds(20);
  return AuditLog::Open(*std::move(backend), options);
}

// Appends until one succeeds (the log recovers by itself on an Append at
// least recovery_interval after its last try): its sequence, or the last
// error after `wait`.
absl::StatusOr<uint64_t> AppendWithRetry(AuditLog& log, uint64_t i,
                                         absl::Duration wait) {
  const absl::Time deadline = absl::Now() + wait;
  while (true) {
    absl::StatusOr<uint64_t> seq = log.Append(SampleEntry(i));
    if (seq.ok() || absl::Now() > deadline) return seq;
    absl::SleepFor(absl::Milliseconds(25));
  }
}

// Sessions holding the log's writer lock on the server `conninfo` reaches.
int64_t LockHolders(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(conninfo);
  EXPECT_TRUE(conn.ok()) << conn.status();
  if (!conn.ok()) return -1;
  absl::StatusOr<pg::Result> r = (*conn)->Query(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
      "AND objid::int8 = (hashtext($1)::int8 & 4294967295)",
      Params().Text(absl::StrCat("cbx audit log ", kSchema)));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->Int(0, 0) : -1;
}

int64_t StoredLeaves(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(conninfo);
  if (!conn.ok()) return -1;
  absl::StatusOr<pg::Result> r =
      (*conn)->Query(absl::StrCat("SELECT count(*) FROM ", kSchema, ".leaves"));
  return r.ok() ? r->Int(0, 0) : -1;
}

TEST(AuditPgFailoverTest, TheLockIsTakenAgainOnThePromotedReplica) {
  if (PgCluster::BinDir().empty()) GTEST_SKIP() << PgCluster::SkipReason();
  auto primary = PgCluster::Start();
  ASSERT_TRUE(primary.ok()) << primary.status();
  auto replica = (*primary)->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  const std::string both =
      PgCluster::MultiHostConninfo(**primary, **replica, "postgres");
  ScopedTempDir dir;
  auto log = OpenLog(both, dir.path() + "/audit.db.head");
  ASSERT_TRUE(log.ok()) << log.status();
  for (uint64_t i = 0; i < 20; ++i) {
    ASSERT_TRUE((*log)->Append(SampleEntry(i)).ok());
  }

  ASSERT_TRUE((*primary)->StopImmediately().ok());
  // No server accepts writes: the append fails, retryably, and changes
  // nothing the log acknowledged.
  EXPECT_EQ((*log)->Append(SampleEntry(20)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ((*log)->Size(), 20u);
  ASSERT_TRUE((*replica)->Promote().ok());
  absl::StatusOr<uint64_t> seq = AppendWithRetry(**log, 20, absl::Seconds(30));
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 20u) << "every acknowledged entry is on the replica";
  EXPECT_EQ(StoredLeaves((*replica)->Conninfo()), 21);

  // The lock is held again, on the new primary: a second writer is kept
  // out as before the failover.
  EXPECT_EQ(LockHolders((*replica)->Conninfo()), 1);
  auto second = OpenLog(both, dir.path() + "/second.head");
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
}

// Another writer that took the lock while it was free (after the session
// that held it went) keeps this log from appending until it lets go.
TEST(AuditPgFailoverTest, NoAppendWhileAnotherSessionHoldsTheLostLock) {
  if (PgCluster::BinDir().empty()) GTEST_SKIP() << PgCluster::SkipReason();
  auto cluster = PgCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string conninfo = (*cluster)->Conninfo();
  ScopedTempDir dir;
  auto log = OpenLog(conninfo, dir.path() + "/audit.db.head");
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE((*log)->Append(SampleEntry(0)).ok());

  auto admin = Connection::Open(conninfo);
  ASSERT_TRUE(admin.ok()) << admin.status();
  const std::string key = absl::StrCat("cbx audit log ", kSchema);
  // Cut the lock's session (as a server restart or a network cut would),
  // and take the lock in another one at once.
  auto cut = (*admin)->Query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype "
      "= 'advisory' AND granted AND objid::int8 = (hashtext($1)::int8 & "
      "4294967295)",
      Params().Text(key));
  ASSERT_TRUE(cut.ok()) << cut.status();
  ASSERT_EQ(cut->rows(), 1);
  auto taken = (*admin)->Query("SELECT pg_try_advisory_lock(hashtext($1))",
                               Params().Text(key));
  ASSERT_TRUE(taken.ok()) << taken.status();
  ASSERT_TRUE(taken->Bool(0, 0));

  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<uint64_t> refused = (*log)->Append(SampleEntry(1));
    EXPECT_FALSE(refused.ok()) << "appended without the writer lock";
    absl::SleepFor(absl::Milliseconds(30));  // past recovery_interval
  }
  EXPECT_EQ(StoredLeaves(conninfo), 1);
  EXPECT_EQ((*log)->Health().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(
      (*admin)
          ->Query("SELECT pg_advisory_unlock(hashtext($1))", Params().Text(key))
          .ok());
  absl::StatusOr<uint64_t> seq = AppendWithRetry(**log, 1, absl::Seconds(10));
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_EQ(*seq, 1u);
  EXPECT_EQ(LockHolders(conninfo), 1);
}

}  // namespace
}  // namespace cbx::node::audit
