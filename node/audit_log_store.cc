#include "node/audit_log_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/audit/pg_audit_store.h"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node {

absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenConfiguredAuditLog(
    const AuditLogStoreConfig& store, const std::string& audit_db,
    audit::AuditLogOptions options) {
  if (store.backend == AuditLogStoreConfig::Backend::kSqlite) {
    return audit::AuditLog::Open(audit_db, options);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<audit::PgAuditBackend> backend,
                   audit::PgAuditBackend::Create(store.conninfo, store.schema));
  options.head_path = audit_db + ".head";
  return audit::AuditLog::Open(std::move(backend), options);
}

std::string AuditLogWhere(const AuditLogStoreConfig& store,
                          const std::string& audit_db) {
  if (store.backend == AuditLogStoreConfig::Backend::kSqlite) return audit_db;
  return absl::StrCat("the audit log in PostgreSQL schema ", store.schema, " (",
                      pg::Redacted(store.conninfo), ")");
}

}  // namespace cbx::node
