#include "node/audit_log_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/audit/head_file.h"
#include "node/audit/pg_audit_store.h"
#include "node/log.h"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node {
namespace {

// A node of a pair appends to a log the other node also wrote: its own head
// file (data_dir is each machine's) trails the database by the other's
// terms, which Open accepts, and is missing before its first term here,
// which Open refuses (spec/audit-log.md §2.8). So a missing one is started
// from the database as it is now, said in the log: the head file of a pair
// catches a database put back only from each node's first term on; the
// checkpoints peers cosigned bind the log's history either way
// (spec/active-standby.md §6).
absl::Status StartPairHeadFile(audit::PgAuditBackend& backend,
                               const std::string& head_path,
                               const std::string& member) {
  ASSIGN_OR_RETURN(std::optional<audit::Head> head, audit::ReadHead(head_path));
  if (head.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditStore> store, backend.Connect());
  RETURN_IF_ERROR(store->Initialize());
  ASSIGN_OR_RETURN(audit::StateRow state, store->ReadState());
  if (state.size == 0) return absl::OkStatus();  // Open starts it
  RETURN_IF_ERROR(
      audit::WriteHead(head_path, audit::Head{state.size, state.root}));
  LogEvent(member, "warn", "audit-head-file-started",
           {{"file", head_path},
            {"size", std::to_string(state.size)},
            {"reason",
             "first term of this node of the pair: the head file starts "
             "from the database the other node wrote"}});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenConfiguredAuditLog(
    const AuditLogStoreConfig& store, const std::string& audit_db,
    audit::AuditLogOptions options, std::shared_ptr<const pg::Fence> fence,
    const std::string& member) {
  if (store.backend == AuditLogStoreConfig::Backend::kSqlite) {
    return audit::AuditLog::Open(audit_db, options);
  }
  ASSIGN_OR_RETURN(std::shared_ptr<audit::PgAuditBackend> backend,
                   audit::PgAuditBackend::Create(store.conninfo, store.schema));
  options.head_path = audit_db + ".head";
  if (fence != nullptr) {
    backend->SetFence(std::move(fence));
    RETURN_IF_ERROR(StartPairHeadFile(*backend, options.head_path, member));
  }
  return audit::AuditLog::Open(std::move(backend), options);
}

std::string AuditLogWhere(const AuditLogStoreConfig& store,
                          const std::string& audit_db) {
  if (store.backend == AuditLogStoreConfig::Backend::kSqlite) return audit_db;
  return absl::StrCat("the audit log in PostgreSQL schema ", store.schema, " (",
                      pg::Redacted(store.conninfo), ")");
}

}  // namespace cbx::node
