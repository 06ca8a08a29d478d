// The audit log's stores as gtest types, so that one suite runs on each
// (TYPED_TEST_SUITE(Suite, AuditBackends, AuditBackendNames)): SQLite in a
// temporary folder, PostgreSQL in a fresh schema of the binary's shared test
// cluster (node/storage/pg/testing/pg_cluster.h). Each gives a log's Open,
// its head file path (<dir>/audit.db.head for both) and raw SQL in its
// dialect, to tamper with the stored log behind its back.
//
// Tests on PostgreSQL are named */Postgres.*; ctest runs them all in one
// process (one cluster), the SQLite ones one test per process.
#ifndef CBX_NODE_AUDIT_TESTING_BACKENDS_H_
#define CBX_NODE_AUDIT_TESTING_BACKENDS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/util/bytes.h"
#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/pg_audit_store.h"
#include "node/audit/testing/test_util.h"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/testing/pg_cluster.h"

namespace cbx::node::audit::testing {

class SqliteBackend {
 public:
  static constexpr const char* kName = "Sqlite";
  // A log at <dir>/<name>.db; "" if it cannot be made (never for SQLite).
  std::string SetUp(const std::string& dir, const std::string& name = "audit") {
    path_ = dir + "/" + name + ".db";
    return "";
  }
  absl::StatusOr<std::unique_ptr<AuditLog>> Open(AuditLogOptions options) {
    return AuditLog::Open(path_, options);
  }
  std::string HeadPath() const { return path_ + ".head"; }
  void Sql(const std::string& sql) { RawSql(path_, sql); }
  std::string Query(const std::string& sql) { return RawQuery(path_, sql); }
  // SQL for a blob literal, a column's bytes in hex, n zero bytes.
  static std::string Blob(const Bytes& b) {
    return absl::StrCat("x'", HexEncode(b), "'");
  }
  static std::string Hex(const std::string& column) {
    return absl::StrCat("hex(", column, ")");
  }
  static std::string ZeroBlob(int n) { return absl::StrCat("zeroblob(", n, ")"); }
  void SetSchemaVersion(int version) {
    Sql(absl::StrCat("PRAGMA user_version = ", version));
  }
  // Makes the store hold a table of something else, with version `v`.
  void MakeOtherFormat(int v) {
    Sql(absl::StrCat("CREATE TABLE other (x); PRAGMA user_version = ", v, ";"));
  }
  // Copies every checkpoint row of `other`'s log into this one's.
  void CopyCheckpointsFrom(const SqliteBackend& other) {
    Sql(absl::StrCat("ATTACH '", other.path_,
                     "' AS other;"
                     "INSERT INTO checkpoints SELECT * FROM other.checkpoints;"));
  }
  // What the newer-schema refusal names the store by.
  std::string StoreName() const { return "audit.db"; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class PostgresBackend {
 public:
  static constexpr const char* kName = "Postgres";
  std::string SetUp(const std::string& dir, const std::string& name = "audit") {
    if (node::pg::testing::PgCluster::BinDir().empty()) {
      return node::pg::testing::PgCluster::SkipReason();
    }
    absl::StatusOr<node::pg::testing::PgSchema> schema =
        node::pg::testing::FreshSchema();
    if (!schema.ok()) {
      ADD_FAILURE() << schema.status();
      return "no test cluster";
    }
    conninfo_ = schema->conninfo;
    schema_ = schema->schema;
    head_ = dir + "/" + name + ".db.head";
    // The schema exists, empty: the log makes its tables in it.
    return "";
  }
  absl::StatusOr<std::unique_ptr<AuditLog>> Open(AuditLogOptions options) {
    if (options.head_path.empty()) options.head_path = head_;
    ASSIGN_OR_RETURN(std::shared_ptr<PgAuditBackend> backend,
                     PgAuditBackend::Create(conninfo_, schema_));
    return AuditLog::Open(std::move(backend), options);
  }
  std::string HeadPath() const { return head_; }
  void Sql(const std::string& sql) {
    auto conn = Connect();
    ASSERT_NE(conn, nullptr);
    const absl::Status status = conn->Exec(sql);
    EXPECT_TRUE(status.ok()) << sql << ": " << status;
  }
  std::string Query(const std::string& sql) {
    auto conn = Connect();
    if (conn == nullptr) return "";
    absl::StatusOr<node::pg::Result> r = conn->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    if (!r.ok() || r->rows() == 0 || r->IsNull(0, 0)) return "";
    return r->String(0, 0);
  }
  static std::string Blob(const Bytes& b) {
    return absl::StrCat("'\\x", HexEncode(b), "'::bytea");
  }
  static std::string Hex(const std::string& column) {
    return absl::StrCat("upper(encode(", column, ", 'hex'))");
  }
  static std::string ZeroBlob(int n) {
    return absl::StrCat("decode(repeat('00', ", n, "), 'hex')");
  }
  void SetSchemaVersion(int version) {
    Sql(absl::StrCat("UPDATE schema_version SET version = ", version));
  }
  void MakeOtherFormat(int) { Sql("CREATE TABLE other (x integer)"); }
  void CopyCheckpointsFrom(const PostgresBackend& other) {
    Sql(absl::StrCat("INSERT INTO checkpoints SELECT * FROM ", other.schema_,
                     ".checkpoints"));
  }
  std::string StoreName() const {
    return absl::StrCat("the audit schema ", schema_);
  }
  const std::string& schema() const { return schema_; }

 private:
  std::unique_ptr<node::pg::Connection> Connect() {
    auto conn = node::pg::Connection::Open(
        conninfo_, absl::StrCat("SET search_path TO ", schema_));
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  std::string conninfo_;
  std::string schema_;
  std::string head_;
};

using AuditBackends = ::testing::Types<SqliteBackend, PostgresBackend>;

struct AuditBackendNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

// Sets up `backend` for a test in `dir`, or skips the test (the PostgreSQL
// binaries absent). For a fixture's SetUp.
#define CBX_AUDIT_BACKEND_SETUP_OR_SKIP(backend, ...)            \
  do {                                                           \
    const std::string cbx_skip = (backend).SetUp(__VA_ARGS__);   \
    if (!cbx_skip.empty()) GTEST_SKIP() << cbx_skip;             \
  } while (0)

}  // namespace cbx::node::audit::testing

#endif  // CBX_NODE_AUDIT_TESTING_BACKENDS_H_
