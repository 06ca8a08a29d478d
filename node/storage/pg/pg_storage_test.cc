// What only PgStorage promises, beyond the conformance suites
// (node/storage/testing/storage_backends.h): its tables outlive the
// process, a newer schema is refused, a connection lost in the middle of a
// transaction leaves nothing half-written and the next call reconnects, a
// read-only open writes nothing, and a password never reaches a message.
#include "node/storage/pg/pg_storage.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_schema.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "node/storage/storage_test_util.h"

namespace cbx::node {
namespace {

using pg::testing::PgCluster;
using pg::testing::PgSchema;
using testing::Ident;
using testing::MakeCase;

class PgStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PgCluster::BinDir().empty()) GTEST_SKIP() << PgCluster::SkipReason();
    absl::StatusOr<PgSchema> schema = pg::testing::FreshSchema();
    ASSERT_TRUE(schema.ok()) << schema.status();
    schema_ = *schema;
    options_.schema = schema_.schema;
  }

  absl::StatusOr<std::unique_ptr<PgStorage>> Open(
      const std::string& extra_conninfo = "") {
    return PgStorage::Open(absl::StrCat(schema_.conninfo, " ", extra_conninfo),
                           options_);
  }

  // Runs `sql` on a connection of its own, in the storage's schema.
  void Sql(const std::string& sql) {
    auto conn = pg::Connection::Open(
        schema_.conninfo, absl::StrCat("SET search_path TO ", schema_.schema));
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
  }

  PgSchema schema_;
  PgStorage::Options options_;
};

TEST_F(PgStorageTest, ReopenKeepsEverything) {
  {
    ASSERT_OK_AND_ASSIGN(auto s, Open());
    ASSERT_OK(s->AddCase(MakeCase("MK-1", true, {Ident("eve", 10)})));
    ASSERT_OK(s->PutSetting("oprf_epoch", std::string("\x01\x00\xff", 3)));
    PeerIndex peer;
    peer.member = "AL";
    peer.version = 7;
    peer.tags = {1, 5, ~uint64_t{0}};
    ASSERT_OK(s->SavePeerIndex(peer));
    ASSERT_OK(s->RecordMessageId("AL", "id-1", 1000));
  }
  ASSERT_OK_AND_ASSIGN(auto s, Open());
  ASSERT_OK_AND_ASSIGN(StoredCase c, s->GetCase("MK-1"));
  testing::ExpectSameCase(c, MakeCase("MK-1", true, {Ident("eve", 10)}));
  ASSERT_OK_AND_ASSIGN(auto tags, s->OwnIndexTags());
  EXPECT_EQ(tags, std::vector<Tag>({10}));
  ASSERT_OK_AND_ASSIGN(auto setting, s->GetSetting("oprf_epoch"));
  EXPECT_EQ(setting, std::optional<Bytes>(std::string("\x01\x00\xff", 3)));
  ASSERT_OK_AND_ASSIGN(PeerIndex peer, s->LoadPeerIndex("AL"));
  EXPECT_EQ(peer.version, 7u);
  EXPECT_EQ(peer.tags, std::vector<Tag>({1, 5, ~uint64_t{0}}));
  EXPECT_EQ(s->RecordMessageId("AL", "id-1", 1000).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(PgStorageTest, NewerSchemaVersionRefused) {
  { ASSERT_OK_AND_ASSIGN(auto s, Open()); }
  Sql(absl::StrCat("UPDATE schema_version SET version = ",
                   pgsql::kSchemaVersion + 1));
  auto s = Open();
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("upgrade cbx-node"), std::string::npos)
      << s.status();
}

TEST_F(PgStorageTest, ForeignTablesRefused) {
  Sql(absl::StrCat("CREATE SCHEMA IF NOT EXISTS ", schema_.schema,
                   "; CREATE TABLE ", schema_.schema, ".other (x integer)"));
  auto s = Open();
  ASSERT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("not a node.db"), std::string::npos)
      << s.status();
}

TEST_F(PgStorageTest, BadSchemaNameRefused) {
  options_.schema = "cbx; DROP TABLE x";
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kInvalidArgument);
}

// The connection dies after the body's first write: the transaction is
// gone whole (the first case is not there) and the next call reconnects.
TEST_F(PgStorageTest, LostConnectionMidTransactionWritesNothing) {
  ASSERT_OK_AND_ASSIGN(auto s, Open("application_name=cbx_pgstore_victim"));
  absl::Status second;
  absl::Status status = s->ReadWriteTransaction([&](StorageTransaction& txn) {
    RETURN_IF_ERROR(txn.AddCase(MakeCase("MK-1", true, {Ident("a", 1)})));
    Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'cbx_pgstore_victim'");
    second = txn.AddCase(MakeCase("MK-2", true, {Ident("b", 2)}));
    return second;
  });
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable) << second;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  // The next call runs on a new connection and finds nothing of the body.
  EXPECT_EQ(s->GetCase("MK-1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s->GetCase("MK-2").status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(uint64_t version, s->OwnIndexVersion());
  EXPECT_EQ(version, 0u);
  ASSERT_OK(s->AddCase(MakeCase("MK-3", true, {Ident("c", 3)})));
  ASSERT_OK(s->GetCase("MK-3").status());
}

// A lone call whose connection was lost before it: it reconnects.
TEST_F(PgStorageTest, LostConnectionBetweenCallsReconnects) {
  ASSERT_OK_AND_ASSIGN(auto s, Open("application_name=cbx_pgstore_idle"));
  ASSERT_OK(s->PutSetting("k", "v1"));
  Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'cbx_pgstore_idle'");
  // The first call may see the loss (UNAVAILABLE, nothing written); a call
  // after it runs on a new connection.
  absl::Status first = s->PutSetting("k", "v2");
  if (!first.ok()) {
    EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
    ASSERT_OK(s->PutSetting("k", "v2"));
  }
  ASSERT_OK_AND_ASSIGN(auto v, s->GetSetting("k"));
  EXPECT_EQ(v, std::optional<Bytes>("v2"));
}

// A deadlock with another session: the storage's transaction is the one
// PostgreSQL rolls back (the other session waits longer before it checks),
// and the call runs it again instead of failing with ABORTED.
TEST_F(PgStorageTest, DeadlockIsRetried) {
  ASSERT_OK_AND_ASSIGN(auto s, Open("application_name=cbx_pgstore_deadlock"));
  PeerIndex peer;
  peer.member = "AL";
  peer.version = 1;
  peer.tags = {1};
  ASSERT_OK(s->SavePeerIndex(peer));

  auto other = pg::Connection::Open(
      schema_.conninfo, absl::StrCat("SET search_path TO ", schema_.schema,
                                     "; SET deadlock_timeout = '60s'"));
  ASSERT_TRUE(other.ok()) << other.status();
  pg::Connection& b = **other;
  // The other session holds the baseline row SavePeerIndex writes second.
  ASSERT_OK(
      b.Exec("BEGIN; UPDATE peer_index_baselines SET day = day "
             "WHERE member = 'AL'"));
  peer.version = 2;
  absl::Status saved;
  std::thread writer([&] { saved = s->SavePeerIndex(peer); });
  // Until the storage holds the index row and waits for the baseline row.
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    auto r = b.Query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
        "'cbx_pgstore_deadlock' AND wait_event_type = 'Lock'");
    ASSERT_TRUE(r.ok()) << r.status();
    waiting = r->Int(0, 0) == 1;
    if (!waiting) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(waiting);
  // Closes the cycle; the storage's side is rolled back after its
  // deadlock_timeout (1 s), so this one goes through.
  EXPECT_OK(
      b.Exec("UPDATE peer_indexes SET version = version "
             "WHERE member = 'AL'"));
  EXPECT_OK(b.Exec("COMMIT"));
  writer.join();
  EXPECT_OK(saved);
  ASSERT_OK_AND_ASSIGN(PeerIndex stored, s->LoadPeerIndex("AL"));
  EXPECT_EQ(stored.version, 2u);
}

TEST_F(PgStorageTest, ReadOnlyMakesNothingAndWritesNothing) {
  options_.read_only = true;
  // No node.db in the schema: refused, and none is made.
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kNotFound);
  options_.read_only = false;
  {
    ASSERT_OK_AND_ASSIGN(auto s, Open());
    ASSERT_OK(s->AddCase(MakeCase("MK-1", true, {Ident("a", 1)})));
  }
  options_.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto s, Open());
  ASSERT_OK(s->GetCase("MK-1").status());
  EXPECT_FALSE(s->AddCase(MakeCase("MK-2", true, {Ident("b", 2)})).ok());
  EXPECT_FALSE(s->PutSetting("k", "v").ok());
  EXPECT_EQ(s->GetCase("MK-2").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PgStorageTest, PasswordNeverInAnError) {
  // Port 1: nothing listens there, so the connection fails and its error
  // is what the message shows.
  auto s = PgStorage::Open(
      "host=127.0.0.1 port=1 user=cbx password=hunter2-secret dbname=x "
      "connect_timeout=2",
      options_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.status().ToString().find("hunter2-secret"), std::string::npos)
      << s.status();
  EXPECT_NE(s.status().ToString().find("<redacted>"), std::string::npos)
      << s.status();
  auto uri = PgStorage::Open(
      "postgresql://cbx:hunter2-secret@127.0.0.1:1/x?connect_timeout=2",
      options_);
  ASSERT_FALSE(uri.ok());
  EXPECT_EQ(uri.status().ToString().find("hunter2-secret"), std::string::npos)
      << uri.status();
}

}  // namespace
}  // namespace cbx::node
