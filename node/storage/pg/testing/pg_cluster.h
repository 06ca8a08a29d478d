// Throwaway PostgreSQL clusters for tests and benchmarks: no system service,
// no shared state. Start() makes a temporary folder, runs initdb and pg_ctl
// from Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin, or $CBX_PG_BIN),
// as the `postgres` user through runuser when the process is root
// (PostgreSQL refuses to run as root; the folder is chowned to it) and
// directly otherwise. The server listens on 127.0.0.1 on a free port, with
// its unix socket in the folder, and trusts local connections (loopback
// only). The destructor stops it (pg_ctl -m immediate) and removes the
// folder; a watchdog process does the same if the test process dies first.
//
// One cluster per test binary (SharedPgCluster), a fresh database or schema
// per test: a cluster start costs about a second, a schema milliseconds.
//
// Threading: a PgCluster's methods may be called from any thread once
// Start has returned; CreateDatabase calls are serialized by the server.
#ifndef CBX_NODE_STORAGE_PG_TESTING_PG_CLUSTER_H_
#define CBX_NODE_STORAGE_PG_TESTING_PG_CLUSTER_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cbx::node::pg::testing {

struct PgClusterOptions {
  // fsync and full_page_writes off: a test's server never crashes, so its
  // commits are durable enough, and initdb's and every commit's fsyncs are
  // the slowest part of a test. Benchmarks measuring durable appends turn
  // it on.
  bool fsync = false;
};

class PgCluster {
 public:
  // The folder holding initdb, pg_ctl and postgres; "" if they are absent
  // (tests then skip, saying SkipReason()).
  static std::string BinDir();
  static std::string SkipReason();

  // Starts a cluster. FAILED_PRECONDITION if the binaries are absent;
  // INTERNAL with the tail of the tool's output if initdb or pg_ctl fails.
  static absl::StatusOr<std::unique_ptr<PgCluster>> Start(
      const PgClusterOptions& options = PgClusterOptions());
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A libpq conninfo for database `dbname` over TCP on loopback.
  std::string Conninfo(const std::string& dbname = "postgres") const;
  // Creates database `name` (an identifier: letters, digits, _) and
  // returns its conninfo.
  absl::StatusOr<std::string> CreateDatabase(const std::string& name);

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // How long Start took (initdb and pg_ctl start).
  absl::Duration start_time() const { return start_time_; }

  // Database availability (issue 15): a streaming replica of this cluster,
  // a cluster of its own (its own folder and port, stopped and removed by
  // its destructor), made with pg_basebackup -R and started as a hot
  // standby. This cluster then names it in synchronous_standby_names (with
  // synchronous_commit on, the default), so that a COMMIT here returns only
  // once the replica has flushed its WAL; StartReplica returns when the
  // primary reports it as 'sync' in pg_stat_replication. Call it at most
  // once per cluster (the standby name is the same each time). INTERNAL
  // with the tool's output if a step fails.
  absl::StatusOr<std::unique_ptr<PgCluster>> StartReplica(
      absl::Duration wait = absl::Seconds(30));
  // Stops the server as a crash would (pg_ctl stop -m immediate: no
  // shutdown checkpoint, sessions cut). The folder stays until the
  // destructor.
  absl::Status StopImmediately();
  // Promotes a standby to a primary (pg_ctl promote -w: returns once it
  // accepts writes).
  absl::Status Promote();

  // A libpq conninfo naming both servers, the node's setting for a primary
  // and its replica: libpq tries them in order and keeps the one that
  // accepts writes (target_session_attrs=read-write).
  static std::string MultiHostConninfo(const PgCluster& first,
                                       const PgCluster& second,
                                       const std::string& dbname);

 private:
  PgCluster(std::string dir, int port, pid_t watchdog, int watchdog_fd)
      : dir_(std::move(dir)),
        port_(port),
        watchdog_(watchdog),
        watchdog_fd_(watchdog_fd) {}
  // A folder for a new cluster owned by the server's user, its watchdog,
  // then `make_data` (initdb or pg_basebackup into dir/data, its output in
  // `log`), then the server started on a free port with `extra_options`.
  static absl::StatusOr<std::unique_ptr<PgCluster>> Create(
      const PgClusterOptions& options, const std::string& extra_options,
      const std::function<absl::Status(const std::string& dir,
                                       const std::string& log)>& make_data);

  const std::string dir_;
  const int port_;
  const pid_t watchdog_;
  const int watchdog_fd_;
  absl::Duration start_time_;
};

// The cluster of this test binary, started on first use and stopped when
// the binary exits; null if the binaries are absent. A start that fails
// otherwise fails the calling test (ADD_FAILURE) and returns null.
PgCluster* SharedPgCluster();

// A database of its own for one test (a new name each call) in the shared
// cluster: its conninfo. Skips the test (GTEST_SKIP, with SkipReason)
// when the binaries are absent; fails it if the cluster cannot start.
#define CBX_PG_DATABASE_OR_SKIP(conninfo)                                   \
  std::string conninfo;                                                     \
  do {                                                                      \
    if (::cbx::node::pg::testing::PgCluster::BinDir().empty()) {            \
      GTEST_SKIP() << ::cbx::node::pg::testing::PgCluster::SkipReason();    \
    }                                                                       \
    absl::StatusOr<std::string> cbx_pg_db =                                 \
        ::cbx::node::pg::testing::FreshDatabase();                          \
    ASSERT_TRUE(cbx_pg_db.ok()) << cbx_pg_db.status();                      \
    conninfo = *cbx_pg_db;                                                  \
  } while (0)

// A new database in SharedPgCluster(); FAILED_PRECONDITION if there is no
// cluster. About 0.3 s each: suites with many tests use FreshSchema.
absl::StatusOr<std::string> FreshDatabase();

// A new, empty schema (a new name each call) in one database of
// SharedPgCluster() that all callers share: milliseconds.
struct PgSchema {
  std::string conninfo;
  std::string schema;
};
absl::StatusOr<PgSchema> FreshSchema();

}  // namespace cbx::node::pg::testing

#endif  // CBX_NODE_STORAGE_PG_TESTING_PG_CLUSTER_H_
