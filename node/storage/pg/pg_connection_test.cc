#include "node/storage/pg/pg_connection.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace cbx::node::pg {
namespace {

TEST(RedactedTest, HidesAKeyValuePassword) {
  const std::string shown =
      Redacted("host=db.example port=5432 user=cbx password=s3cret dbname=a");
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("password=<redacted>"), std::string::npos) << shown;
  EXPECT_NE(shown.find("host=db.example"), std::string::npos) << shown;
  EXPECT_NE(shown.find("user=cbx"), std::string::npos) << shown;
  EXPECT_NE(shown.find("dbname=a"), std::string::npos) << shown;
}

TEST(RedactedTest, HidesAQuotedPasswordWithSpaces) {
  const std::string shown =
      Redacted("host=h password='a secret with spaces' user=u");
  EXPECT_EQ(shown.find("secret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("password=<redacted>"), std::string::npos) << shown;
}

TEST(RedactedTest, HidesAPasswordInAUri) {
  for (const char* uri :
       {"postgresql://cbx:s3cret@db.example:5433/audit",
        "postgresql://db.example/audit?user=cbx&password=s3cret",
        "postgres://cbx:s3cret@h1:5432,h2:5432/audit?"
        "target_session_attrs=read-write"}) {
    const std::string shown = Redacted(uri);
    EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
    EXPECT_NE(shown.find("password=<redacted>"), std::string::npos) << shown;
    EXPECT_NE(shown.find("user=cbx"), std::string::npos) << shown;
  }
}

TEST(RedactedTest, NoPasswordNoMarker) {
  const std::string shown = Redacted("host=/tmp/x port=5 dbname=d");
  EXPECT_EQ(shown.find("password"), std::string::npos) << shown;
  EXPECT_NE(shown.find("host=/tmp/x"), std::string::npos) << shown;
}

TEST(RedactedTest, AnUnparseableConninfoShowsNothingOfIt) {
  EXPECT_EQ(Redacted("host=h password='unterminated s3cret"),
            "<unparseable conninfo>");
  EXPECT_EQ(Redacted("not a conninfo s3cret"), "<unparseable conninfo>");
}

// A refused connection's message names the server without the password.
TEST(ConnectionTest, AFailedConnectNeverShowsThePassword) {
  // Port 1 on loopback: nothing listens there.
  absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(
      "host=127.0.0.1 port=1 user=cbx password=s3cret dbname=x "
      "connect_timeout=2");
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(conn.status().message().find("s3cret"), std::string::npos)
      << conn.status();
  EXPECT_NE(conn.status().message().find("password=<redacted>"),
            std::string::npos)
      << conn.status();
}

TEST(StatusFromSqlStateTest, MapsTheClassesTheBackendsActOn) {
  struct Case {
    const char* state;
    absl::StatusCode code;
  } cases[] = {
      {"08006", absl::StatusCode::kUnavailable},  // connection failure
      {"08001", absl::StatusCode::kUnavailable},
      {"57P01", absl::StatusCode::kUnavailable},  // admin shutdown
      {"57P03", absl::StatusCode::kUnavailable},  // cannot connect now
      {"53300", absl::StatusCode::kUnavailable},  // too many connections
      {"25006", absl::StatusCode::kUnavailable},  // read-only: a standby
      {"40001", absl::StatusCode::kAborted},      // serialization failure
      {"40P01", absl::StatusCode::kAborted},      // deadlock
      {"23505", absl::StatusCode::kAlreadyExists},
      {"23503", absl::StatusCode::kFailedPrecondition},  // foreign key
      {"23514", absl::StatusCode::kFailedPrecondition},  // check
      {"53100", absl::StatusCode::kResourceExhausted},   // disk full
      {"53200", absl::StatusCode::kResourceExhausted},   // out of memory
      {"XX001", absl::StatusCode::kDataLoss},
      {"XX002", absl::StatusCode::kDataLoss},
      {"42501", absl::StatusCode::kPermissionDenied},
      {"28P01", absl::StatusCode::kPermissionDenied},
      {"57014", absl::StatusCode::kCancelled},
      {"42P01", absl::StatusCode::kInternal},  // undefined table
      {"", absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    const absl::Status status = StatusFromSqlState(c.state, "boom");
    EXPECT_EQ(status.code(), c.code) << c.state;
    EXPECT_NE(status.message().find("boom"), std::string::npos);
  }
}

}  // namespace
}  // namespace cbx::node::pg
