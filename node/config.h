// The node's configuration file (JSON; spec/node-config.md).
#ifndef CBX_NODE_CONFIG_H_
#define CBX_NODE_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/util/env.h"
#include "node/log.h"

namespace cbx::node {

// The `retention` section (spec/node-config.md, docs/operations.md
// "Retention"): how long each kind of row is kept, and how the periodic
// sweep (node/retention.h) runs. Periods in days; the defaults' reasons are
// in spec/node-config.md.
struct RetentionConfig {
  // A closed case's identifiers (values, outputs y, tags), counted from the
  // case's closing; its row stays as a tombstone.
  int64_t closed_case_identifiers_days = 730;
  // Received case references (hits), counted from their arrival.
  int64_t received_references_days = 730;
  // Inbox entries (peers' notifications), counted from their arrival.
  int64_t inbox_days = 730;
  // Entries of the own index's change log; a peer whose copy is older is
  // sent the full index.
  int64_t index_change_log_days = 30;
  // How often the sweep runs, and how many rows each of its transactions
  // deletes at most.
  int64_t sweep_interval_ms = 3'600'000;
  int64_t batch_size = 1000;
};

// Where the audit log is stored (spec/node-config.md "audit_log"): SQLite
// in data_dir/audit.db (the default), or a schema in a PostgreSQL database.
// The head file stays data_dir/audit.db.head either way.
struct AuditLogStoreConfig {
  enum class Backend { kSqlite, kPostgresql };
  Backend backend = Backend::kSqlite;
  // libpq connection string or URI (PostgreSQL only). It may hold a
  // password: never log it except through pg::Redacted.
  std::string conninfo;
  std::string schema = "cbx_audit";
};

// Where node.db is stored (spec/node-config.md "storage"): SQLite in
// data_dir/node.db (the default), or a schema in a PostgreSQL database
// (node/storage/pg/pg_storage.h).
struct StorageConfig {
  enum class Backend { kSqlite, kPostgresql };
  Backend backend = Backend::kSqlite;
  // libpq connection string or URI (PostgreSQL only). It may hold a
  // password: never log it except through pg::Redacted.
  std::string conninfo;
  std::string schema = "cbx_node";
};

// The `leadership` section (spec/active-standby.md): present, the node is
// one of an active/standby pair on the audit log's PostgreSQL database and
// serves only while it holds the term there; absent (enabled false), it
// serves alone, as always.
struct LeadershipConfig {
  bool enabled = false;
  // This node's name in the pair ("a", "b", a host name): the first part of
  // its instance id in log lines and in pg_stat_activity.
  std::string name;
  // A holder whose heartbeat is older than lease_ms is fenced and replaced;
  // the active renews every lease_ms / 3; the standby looks every poll_ms.
  int64_t lease_ms = 6000;
  int64_t poll_ms = 500;
  // The schema of the term row, in the audit log's database.
  std::string schema = "cbx_leadership";
};

struct Config {
  // This node's member code ("MK").
  std::string member;
  // Folder for the database; created if missing. Absolute after loading.
  std::string data_dir;
  std::string peer_listen;
  std::string office_listen;
  // Admin HTTP endpoint (node/admin_http.h); empty: none. Loopback only
  // unless admin_allow_non_loopback.
  std::string admin_listen;
  bool admin_allow_non_loopback = false;
  // The web console for offices' browsers (node/console, HTTPS with client
  // certificates of the office CA); empty: none.
  std::string console_listen;
  // The largest upload the console reads (console.max_upload_bytes: the
  // auditor's export check, spec/web-console.md §3); other forms stay at
  // 64 KiB.
  int64_t console_max_upload_bytes = int64_t{64} << 20;
  // TLS: the node's certificate and key (server on both ports, client to
  // peers), and the national CA that issues office certificates.
  std::string tls_certificate;
  std::string tls_private_key;
  std::string office_ca;
  // Optional folder of PEM CRLs, one per CA (spec/keys.md §5); empty: none.
  // Reloaded, like the three files above, when it changes and on SIGHUP.
  std::string crl_dir;
  // Key files (spec/keys.md).
  // A key file or a PKCS#11 URI ("pkcs11:...", kept as written). The next
  // key of a rotation (spec/keys.md §4) is optional: empty if not given.
  std::string node_signing_key;
  std::string node_signing_key_next;
  std::string oprf_key;
  // A second OPRF key file for a key rotation (spec/oprf.md §2.1); empty:
  // none.
  std::string oprf_key_next;
  // The pinned genesis directory (binary SignedDirectory).
  std::string genesis;
  int64_t index_interval_ms = 2000;
  int64_t directory_interval_ms = 10000;
  // Audit log: how often a checkpoint is signed (if the log grew), how many
  // entries force one sooner, and how often peers' logs are witnessed.
  // Witnesses should come several times per checkpoint interval, so that
  // each checkpoint gathers its cosignatures before the next one.
  int64_t checkpoint_interval_ms = 30000;
  int64_t checkpoint_every_entries = 100000;
  int64_t witness_interval_ms = 5000;
  // The event log (node/log.h): "text" lines or JSON lines, and the least
  // level written (--log-level overrides it).
  LogFormat log_format = LogFormat::kText;
  LogLevel log_level = LogLevel::kInfo;
  RetentionConfig retention;
  // Where node.db is stored (the `storage` section).
  StorageConfig storage;
  // Where the audit log is stored (the `audit_log` section).
  AuditLogStoreConfig audit_log;
  // The active/standby pair (the `leadership` section).
  LeadershipConfig leadership;
};

// Reads and validates the config at `path`. Relative paths in it are
// resolved against the file's folder. INVALID_ARGUMENT naming the field and
// the problem ("node.json: tls.certificate: missing"); NOT_FOUND if the file
// does not exist, another code of the Env's errno table if it cannot be
// read.
absl::StatusOr<Config> LoadConfig(const std::string& path);

// Parses config text; `base_dir` resolves relative paths; `name` prefixes
// errors.
absl::StatusOr<Config> ParseConfig(const std::string& text,
                                   const std::string& base_dir,
                                   const std::string& name);

// Reads a whole file through `env` (core/util/env.h): NOT_FOUND,
// PERMISSION_DENIED, ... by the Env's errno table, naming the path.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     Env* env = Env::Default());

}  // namespace cbx::node

#endif  // CBX_NODE_CONFIG_H_
