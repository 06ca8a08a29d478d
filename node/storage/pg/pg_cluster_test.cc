// The test cluster and pg::Connection against a real server.
#include "node/storage/pg/testing/pg_cluster.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node::pg {
namespace {

using ::cbx::node::pg::testing::SharedPgCluster;

std::unique_ptr<Connection> Connect(const std::string& conninfo) {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(conninfo);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? *std::move(conn) : nullptr;
}

TEST(PgClusterTest, StartsQuicklyOnLoopback) {
  CBX_PG_DATABASE_OR_SKIP(conninfo);
  testing::PgCluster* cluster = SharedPgCluster();
  ASSERT_NE(cluster, nullptr);
  EXPECT_NE(conninfo.find("host=127.0.0.1"), std::string::npos);
  std::printf("  cluster start: %s\n",
              absl::FormatDuration(cluster->start_time()).c_str());
  auto conn = Connect(conninfo);
  ASSERT_NE(conn, nullptr);
  auto result = conn->Query("SELECT inet_server_addr()::text, version()");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->String(0, 0), "127.0.0.1/32");
  EXPECT_NE(result->String(0, 1).find("PostgreSQL 15"), std::string::npos);
}

TEST(PgClusterTest, AClusterOfItsOwnStopsAndLeavesNothing) {
  if (testing::PgCluster::BinDir().empty()) {
    GTEST_SKIP() << testing::PgCluster::SkipReason();
  }
  std::string dir;
  std::string conninfo;
  {
    auto cluster = testing::PgCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    dir = (*cluster)->dir();
    conninfo = (*cluster)->Conninfo();
    std::printf("  cluster start: %s\n",
                absl::FormatDuration((*cluster)->start_time()).c_str());
    ASSERT_NE(Connect(conninfo), nullptr);
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(Connection::Open(conninfo + " connect_timeout=2").status().code(),
            absl::StatusCode::kUnavailable);
}

// The harness of the database-promotion tests: a synchronous replica
// holds every committed row, and once the primary is gone and the replica
// promoted, the two-host conninfo reaches it for writes.
TEST(PgClusterTest, ASynchronousReplicaIsPromotedAfterThePrimaryDies) {
  if (testing::PgCluster::BinDir().empty()) {
    GTEST_SKIP() << testing::PgCluster::SkipReason();
  }
  auto primary = testing::PgCluster::Start();
  ASSERT_TRUE(primary.ok()) << primary.status();
  auto replica = (*primary)->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  const std::string both =
      testing::PgCluster::MultiHostConninfo(**primary, **replica, "postgres");
  auto conn = Connect(both);
  ASSERT_NE(conn, nullptr);
  auto port = conn->Query("SELECT current_setting('port')::int8");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(port->Int(0, 0), (*primary)->port()) << "writes go to the primary";
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (k bigint PRIMARY KEY)").ok());
  for (int k = 0; k < 50; ++k) {
    ASSERT_TRUE(conn->Query("INSERT INTO t VALUES ($1)", Params().Int(k)).ok());
  }
  // The standby answers reads but refuses writes until promoted.
  auto standby = Connect((*replica)->Conninfo());
  ASSERT_NE(standby, nullptr);
  EXPECT_EQ(standby->Exec("INSERT INTO t VALUES (1000)").code(),
            absl::StatusCode::kUnavailable);

  ASSERT_TRUE((*primary)->StopImmediately().ok());
  EXPECT_EQ(conn->Query("SELECT 1").status().code(),
            absl::StatusCode::kUnavailable);
  // Neither host accepts writes now: the reconnection fails, retryably.
  EXPECT_EQ(conn->Reconnect().code(), absl::StatusCode::kUnavailable);
  const absl::Time began = absl::Now();
  ASSERT_TRUE((*replica)->Promote().ok());
  std::printf("  promotion: %s\n",
              absl::FormatDuration(absl::Now() - began).c_str());
  ASSERT_TRUE(conn->Reconnect().ok());
  port = conn->Query("SELECT current_setting('port')::int8");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(port->Int(0, 0), (*replica)->port());
  auto rows = conn->Query("SELECT count(*), max(k) FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Int(0, 0), 50) << "every committed row is on the replica";
  EXPECT_EQ(rows->Int(0, 1), 49);
  EXPECT_TRUE(conn->Query("INSERT INTO t VALUES (50)").ok());
}

// Synchronous, not merely streaming: with the replica gone a COMMIT on the
// primary waits for it (wait event SyncRep) until it is cancelled.
TEST(PgClusterTest, ACommitWaitsForTheSynchronousReplica) {
  if (testing::PgCluster::BinDir().empty()) {
    GTEST_SKIP() << testing::PgCluster::SkipReason();
  }
  auto primary = testing::PgCluster::Start();
  ASSERT_TRUE(primary.ok()) << primary.status();
  auto replica = (*primary)->StartReplica();
  ASSERT_TRUE(replica.ok()) << replica.status();
  auto conn = Connect((*primary)->Conninfo());
  auto admin = Connect((*primary)->Conninfo());
  ASSERT_TRUE(conn && admin);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (k bigint PRIMARY KEY)").ok());
  auto pid = conn->Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  const int64_t backend = pid->Int(0, 0);

  ASSERT_TRUE((*replica)->StopImmediately().ok());
  std::thread writer(
      [&] { conn->Exec("INSERT INTO t VALUES (2)").IgnoreError(); });
  bool waited = false;
  for (int i = 0; i < 500 && !waited; ++i) {
    auto r = admin->Query(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int AND "
        "wait_event = 'SyncRep'",
        Params().Int(backend));
    ASSERT_TRUE(r.ok()) << r.status();
    waited = r->Int(0, 0) == 1;
    if (!waited) absl::SleepFor(absl::Milliseconds(10));
  }
  // PostgreSQL cancels only the wait (the row is committed locally, with a
  // warning): why the guide asks for a replica that is there.
  ASSERT_TRUE(
      admin->Query("SELECT pg_cancel_backend($1::int)", Params().Int(backend))
          .ok());
  writer.join();
  EXPECT_TRUE(waited) << "the COMMIT did not wait for the replica";
}

TEST(PgConnectionTest, BinaryBytesIntsAndTextRoundTrip) {
  CBX_PG_DATABASE_OR_SKIP(conninfo);
  auto conn = Connect(conninfo);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (k bigint PRIMARY KEY, b bytea, "
                         "s text)")
                  .ok());
  const std::string bytes("\0\x01'\\x00\xff;--", 10);
  ASSERT_TRUE(conn->Query("INSERT INTO t VALUES ($1, $2, $3)",
                          Params().Int(-5).Bytes(bytes).Text("it's"))
                  .ok());
  ASSERT_TRUE(conn->Query("INSERT INTO t VALUES ($1, $2, $3)",
                          Params().Int(int64_t{1} << 62).Null().Text(""))
                  .ok());
  auto rows = conn->Query("SELECT k, b, s, count(*) OVER () FROM t ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows(), 2);
  EXPECT_EQ(rows->Int(0, 0), -5);
  EXPECT_EQ(rows->String(0, 1), bytes);
  EXPECT_EQ(rows->String(0, 2), "it's");
  EXPECT_EQ(rows->Int(0, 3), 2);
  EXPECT_EQ(rows->Int(1, 0), int64_t{1} << 62);
  EXPECT_TRUE(rows->IsNull(1, 1));
}

TEST(PgConnectionTest, ErrorsMapToTheirCodes) {
  CBX_PG_DATABASE_OR_SKIP(conninfo);
  auto conn = Connect(conninfo);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(
      conn->Exec("CREATE TABLE t (k bigint PRIMARY KEY CHECK (k >= 0))").ok());
  ASSERT_TRUE(conn->Query("INSERT INTO t VALUES ($1)", Params().Int(1)).ok());
  EXPECT_EQ(conn->Query("INSERT INTO t VALUES ($1)", Params().Int(1))
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(conn->Query("INSERT INTO t VALUES ($1)", Params().Int(-1))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(conn->Exec("SELECT * FROM missing").code(),
            absl::StatusCode::kInternal);
}

TEST(PgConnectionTest, TransactionsRollBackUnlessCommitted) {
  CBX_PG_DATABASE_OR_SKIP(conninfo);
  auto conn = Connect(conninfo);
  auto other = Connect(conninfo);
  ASSERT_TRUE(conn && other);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (k bigint PRIMARY KEY)").ok());
  {
    auto txn = Transaction::Begin(*conn, Transaction::Mode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(conn->Query("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(conn->Query("SELECT k FROM t")->rows(), 0);
  {
    auto txn = Transaction::Begin(*conn, Transaction::Mode::kWrite);
    ASSERT_TRUE(conn->Query("INSERT INTO t VALUES (1)").ok());
    // A failed statement poisons the transaction: COMMIT must not say OK.
    EXPECT_FALSE(conn->Query("INSERT INTO t VALUES (1)").ok());
    EXPECT_EQ(txn->Commit().code(), absl::StatusCode::kAborted);
  }
  EXPECT_EQ(conn->Query("SELECT k FROM t")->rows(), 0);
  // A snapshot transaction does not see a commit made after it began.
  auto snapshot = Transaction::Begin(*conn, Transaction::Mode::kSnapshot);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(conn->Query("SELECT k FROM t")->rows(), 0);
  ASSERT_TRUE(other->Query("INSERT INTO t VALUES (2)").ok());
  EXPECT_EQ(conn->Query("SELECT k FROM t")->rows(), 0);
  ASSERT_TRUE(snapshot->Commit().ok());
  EXPECT_EQ(conn->Query("SELECT k FROM t")->rows(), 1);
}

TEST(PgConnectionTest, ALostConnectionIsUnavailableAndReconnects) {
  CBX_PG_DATABASE_OR_SKIP(conninfo);
  auto conn = Connect(conninfo);
  auto admin = Connect(conninfo);
  ASSERT_TRUE(conn && admin);
  auto pid = conn->Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(admin
                  ->Query("SELECT pg_terminate_backend($1::int)",
                          Params().Int(pid->Int(0, 0)))
                  .ok());
  const absl::Status lost = conn->Query("SELECT 1").status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  EXPECT_TRUE(conn->broken());
  // Begin reconnects first.
  auto txn = Transaction::Begin(*conn, Transaction::Mode::kWrite);
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_TRUE(conn->Query("SELECT 1").ok());
}

// Outside a transaction the next statement replaces a lost connection
// (on whichever server the conninfo reaches now); inside one it fails, so
// that the rest of a transaction never runs on its own.
TEST(PgConnectionTest, OnlyAStatementOutsideATransactionReconnects) {
  CBX_PG_DATABASE_OR_SKIP(conninfo);
  auto conn = Connect(conninfo);
  auto admin = Connect(conninfo);
  ASSERT_TRUE(conn && admin);
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (k bigint PRIMARY KEY)").ok());
  auto kill = [&] {
    auto pid = conn->Query("SELECT pg_backend_pid()");
    ASSERT_TRUE(pid.ok());
    ASSERT_TRUE(admin
                    ->Query("SELECT pg_terminate_backend($1::int, 5000)",
                            Params().Int(pid->Int(0, 0)))
                    .ok());
  };
  {
    auto txn = Transaction::Begin(*conn, Transaction::Mode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(conn->Query("INSERT INTO t VALUES (1)").ok());
    kill();
    EXPECT_EQ(conn->Query("INSERT INTO t VALUES (2)").status().code(),
              absl::StatusCode::kUnavailable);
    // Still inside: no reconnection, the statement fails too.
    EXPECT_EQ(conn->Query("INSERT INTO t VALUES (3)").status().code(),
              absl::StatusCode::kUnavailable);
    EXPECT_EQ(txn->Commit().code(), absl::StatusCode::kUnavailable);
  }
  auto rows = conn->Query("SELECT count(*) FROM t");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->Int(0, 0), 0);
  kill();
  EXPECT_EQ(conn->Query("SELECT 1").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(conn->Query("SELECT 1").ok()) << "reconnected outside";
}

}  // namespace
}  // namespace cbx::node::pg
