// CheckLeadership (cbx-node --check of a pair's config) against a throwaway
// PostgreSQL cluster: the term row read, never made or changed.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "node/leadership.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/pg_leadership.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node {
namespace {

class CheckLeadershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CBX_PG_DATABASE_OR_SKIP(conninfo);
    config_.member = "MK";
    config_.storage.backend = StorageConfig::Backend::kPostgresql;
    config_.storage.conninfo = conninfo;
    config_.audit_log.backend = AuditLogStoreConfig::Backend::kPostgresql;
    config_.audit_log.conninfo = conninfo;
    config_.leadership.enabled = true;
    config_.leadership.name = "a";
  }

  std::string Checked() {
    auto notes = CheckLeadership(config_);
    EXPECT_TRUE(notes.ok()) << notes.status();
    return notes.ok() ? absl::StrJoin(*notes, "\n") : "";
  }
  // Whether the term row's table exists, asked on a connection of its own.
  bool TableExists() {
    auto conn = pg::Connection::Open(config_.audit_log.conninfo);
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return false;
    auto r = (*conn)->Query(
        "SELECT to_regclass('cbx_leadership.leader') IS "
        "NOT NULL");
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->Bool(0, 0);
  }
  std::unique_ptr<pg::Leadership> Lead() {
    pg::LeadershipOptions options;
    options.conninfo = config_.audit_log.conninfo;
    options.instance = pg::MakeInstanceId("a");
    options.lease_ms = 60'000;
    options.poll_ms = 100;
    auto lead = pg::Leadership::Create(options);
    EXPECT_TRUE(lead.ok()) << lead.status();
    return lead.ok() ? std::move(*lead) : nullptr;
  }

  Config config_;
};

TEST_F(CheckLeadershipTest, AnAbsentTermRowIsSaidAndNotMade) {
  const std::string notes = Checked();
  EXPECT_TRUE(absl::StrContains(notes, "leadership: name a, lease 6000 ms"))
      << notes;
  EXPECT_TRUE(absl::StrContains(notes, "cbx_leadership.leader: absent"))
      << notes;
  EXPECT_FALSE(TableExists());
}

TEST_F(CheckLeadershipTest, TheTermAndItsHolderAreShown) {
  std::unique_ptr<pg::Leadership> lead = Lead();
  ASSERT_NE(lead, nullptr);
  EXPECT_TRUE(absl::StrContains(Checked(), "term 0, no node of the pair"))
      << Checked();
  auto term = lead->AwaitLeadership([] { return false; });
  ASSERT_TRUE(term.ok()) << term.status();
  const std::string notes = Checked();
  EXPECT_TRUE(absl::StrContains(
      notes,
      absl::StrCat("cbx_leadership.leader: term ", *term, ", held by a-")))
      << notes;
  EXPECT_TRUE(absl::StrContains(notes, "within the lease: that node is active"))
      << notes;
  lead->Release();
  EXPECT_TRUE(absl::StrContains(Checked(), "released at a clean stop"))
      << Checked();
}

TEST_F(CheckLeadershipTest, RefusesWhatAPairCannotRunOn) {
  config_.storage.backend = StorageConfig::Backend::kSqlite;
  auto sqlite = CheckLeadership(config_);
  EXPECT_EQ(sqlite.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(sqlite.status().message(),
                                "needs storage.backend and audit_log.backend"))
      << sqlite.status();
  config_.storage.backend = StorageConfig::Backend::kPostgresql;
  config_.audit_log.conninfo += " application_name=mine";
  EXPECT_EQ(CheckLeadership(config_).status().code(),
            absl::StatusCode::kInvalidArgument);
  config_.audit_log.conninfo = "host=127.0.0.1 port=1 connect_timeout=2";
  auto unreachable = CheckLeadership(config_);
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable)
      << unreachable.status();
  EXPECT_TRUE(absl::StartsWith(unreachable.status().message(), "leadership: "))
      << unreachable.status();
}

}  // namespace
}  // namespace cbx::node
