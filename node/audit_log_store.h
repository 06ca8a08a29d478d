// Where the audit log is: the config's `audit_log` section
// (spec/node-config.md) read into an open audit::AuditLog, for cbx-node's
// start and `cbx-admin retention sweep` alike, so that neither opens
// data_dir/audit.db while the config puts the log in PostgreSQL.
#ifndef CBX_NODE_AUDIT_LOG_STORE_H_
#define CBX_NODE_AUDIT_LOG_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "node/audit/audit_log.h"
#include "node/config.h"
#include "node/storage/pg/pg_fence.h"

namespace cbx::node {

// Opens the log in the store `store` names: the SQLite file `audit_db`, or
// a PostgreSQL schema whose head file is `audit_db`.head all the same.
// audit::AuditLog::Open's errors (FAILED_PRECONDITION while another process
// holds the log's writer lock: a running node). With `fence` (the node of
// an active/standby pair, spec/active-standby.md), every append checks it,
// and a missing head file is started from the database, logged as
// `member`'s.
absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenConfiguredAuditLog(
    const AuditLogStoreConfig& store, const std::string& audit_db,
    audit::AuditLogOptions options,
    std::shared_ptr<const pg::Fence> fence = nullptr,
    const std::string& member = "");

// Where the configured log is, for messages: `audit_db`, or the PostgreSQL
// schema and the conninfo without its password.
std::string AuditLogWhere(const AuditLogStoreConfig& store,
                          const std::string& audit_db);

}  // namespace cbx::node

#endif  // CBX_NODE_AUDIT_LOG_STORE_H_
