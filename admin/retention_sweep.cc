#include "admin/retention_sweep.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cbx/v1/audit.pb.h"
#include "core/util/status_macros.h"
#include "node/audit/audit_log.h"
#include "node/audit/pg_audit_store.h"
#include "node/audit/sqlite_audit_store.h"
#include "node/audit_log_store.h"
#include "node/audit_trail.h"
#include "node/config.h"
#include "node/data_consistency.h"
#include "node/node_db.h"
#include "node/retention.h"
#include "node/storage/sqlite_backup.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::admin {
namespace {

using node::AuditLogStoreConfig;

// The dry run's audit trail: appends nothing, keeps what would have been
// appended so that it can be printed.
class DiscardingSink : public node::AuditSink {
 public:
  absl::StatusOr<uint64_t> Append(v1::AuditEntry entry) override {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(std::move(entry));
    return entries_.size() - 1;
  }
  absl::StatusOr<uint64_t> AppendAll(
      std::vector<v1::AuditEntry> entries) override {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t first = entries_.size();
    for (v1::AuditEntry& e : entries) entries_.push_back(std::move(e));
    return first;
  }
  absl::Status Health() const override { return absl::OkStatus(); }
  std::vector<v1::AuditEntry> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::AuditEntry> entries_;
};

// One line per category, named as the metrics' `category` label and the
// entry's fields name it.
void PrintCounts(const std::string& title, const v1::RetentionCounts& counts,
                 std::ostream& out) {
  out << title << "\n";
  const auto* reflection = counts.GetReflection();
  for (const char* category : node::kRetentionCategories) {
    const auto* field = counts.GetDescriptor()->FindFieldByName(category);
    const uint64_t n =
        field == nullptr ? 0 : reflection->GetUInt64(counts, field);
    out << "  " << category
        << std::string(22 - std::string(category).size(), ' ') << n << "\n";
  }
}

void PrintPeriods(const node::Config& config, const std::string& node_db,
                  std::ostream& out) {
  const node::RetentionConfig& r = config.retention;
  out << "retention sweep of " << config.member << "'s " << node_db
      << "\n  periods (config): closed case identifiers "
      << r.closed_case_identifiers_days << " days, received references "
      << r.received_references_days << " days, inbox " << r.inbox_days
      << " days, index change log " << r.index_change_log_days << " days\n";
}

// Refuses while a process holds the log's writer lock (a running node):
// takes the lock and lets it go at once, before anything is opened.
absl::Status RefuseIfRunning(const node::Config& config,
                             const std::string& audit_db) {
  std::shared_ptr<node::audit::AuditBackend> backend;
  if (config.audit_log.backend == AuditLogStoreConfig::Backend::kSqlite) {
    backend = std::make_shared<node::audit::SqliteAuditBackend>(audit_db);
  } else {
    ASSIGN_OR_RETURN(
        backend, node::audit::PgAuditBackend::Create(config.audit_log.conninfo,
                                                     config.audit_log.schema));
  }
  auto lock = backend->LockWriter();
  if (lock.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cbx-node is running on ", config.data_dir, " (",
        lock.status().message(),
        "): stop it first, or see what a sweep would delete with --dry-run "
        "(the running node sweeps by itself every "
        "retention.sweep_interval_ms); nothing was changed"));
  }
  return lock.status();
}

// The node's start-up checks on node.db and the log, read-only: what the
// log must hold. FAILED_PRECONDITION if there is no node.db.
absl::StatusOr<node::AuditExpectation> CheckNodeDb(const node::Config& config,
                                                   const std::string& node_db) {
  auto storage = node::OpenNodeDb(config, /*read_only=*/true);
  if (storage.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(
        absl::StrCat(node_db,
                     " does not exist: the node has not started yet, there is "
                     "nothing to sweep"));
  }
  RETURN_IF_ERROR(storage.status());
  RETURN_IF_ERROR(node::CheckMember(**storage, config.member, node_db));
  return node::ExpectedAuditLog(**storage);
}

// The log beside node.db, opened (its writer lock held) and checked as the
// node checks it at start, the full leaf count included: nothing is
// appended to a log that is damaged or not node.db's.
absl::StatusOr<std::unique_ptr<node::audit::AuditLog>> OpenCheckedLog(
    const node::Config& config, const node::AuditExpectation& expected,
    const std::string& node_db, const Clock& clock) {
  const std::string audit_db = config.data_dir + "/audit.db";
  const std::string where = node::AuditLogWhere(config.audit_log, audit_db);
  if (config.audit_log.backend == AuditLogStoreConfig::Backend::kSqlite) {
    RETURN_IF_ERROR(
        node::CheckAuditFileBeforeOpen(expected, node_db, audit_db));
  }
  node::audit::AuditLogOptions options;
  options.clock = &clock;
  ASSIGN_OR_RETURN(
      std::unique_ptr<node::audit::AuditLog> log,
      node::OpenConfiguredAuditLog(config.audit_log, audit_db, options));
  RETURN_IF_ERROR(log->WaitForOpenCheck());
  RETURN_IF_ERROR(node::CheckOpenedAuditLog(expected, *log, node_db, where));
  RETURN_IF_ERROR(node::CheckLogStart(expected, *log, where));
  return log;
}

// The sweep itself, the node stopped.
absl::Status SweepStopped(const node::Config& config, const Clock& clock,
                          std::ostream& out) {
  const std::string node_db = node::NodeDbWhere(config);
  const std::string audit_db = config.data_dir + "/audit.db";
  RETURN_IF_ERROR(RefuseIfRunning(config, audit_db));
  ASSIGN_OR_RETURN(node::AuditExpectation expected,
                   CheckNodeDb(config, node_db));
  ASSIGN_OR_RETURN(std::unique_ptr<node::audit::AuditLog> log,
                   OpenCheckedLog(config, expected, node_db, clock));
  ASSIGN_OR_RETURN(std::unique_ptr<node::Storage> storage,
                   node::OpenNodeDb(config));
  PrintPeriods(config, node_db, out);
  node::AuditTrail trail(log.get());
  const uint64_t before = log->Size();
  node::Retention retention(config.member, storage.get(), &trail, &clock,
                            config.retention, /*metrics=*/nullptr);
  absl::StatusOr<v1::RetentionCounts> swept = retention.Sweep();
  if (!swept.ok()) {
    return absl::Status(
        swept.status().code(),
        absl::StrCat("the sweep stopped: ", swept.status().message(),
                     " (what it deleted before is counted in node.db and "
                     "logged by the next sweep)"));
  }
  PrintCounts("deleted:", *swept, out);
  if (log->Size() == before) {
    out << "nothing deleted and no counts kept: no audit entry appended\n";
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string leaf, log->LeafData(before));
  v1::AuditEntry entry;
  entry.ParseFromString(leaf);
  PrintCounts(
      absl::StrCat("appended to the audit log ",
                   node::AuditLogWhere(config.audit_log, audit_db), ": entry ",
                   before, " (", entry.kind(), ") with the counts"),
      entry.outcome().retention(), out);
  return absl::OkStatus();
}

void RemoveCopy(const std::string& copy) {
  for (const char* suffix :
       {"", ".partial", "-journal", ".partial-journal", "-wal", "-shm"}) {
    ::unlink((copy + suffix).c_str());
  }
}

// The dry run on the copy `copy` of node.db.
absl::Status SweepCopyAt(const node::Config& config, const Clock& clock,
                         const std::string& node_db, const std::string& copy,
                         std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<node::SqliteStorage> storage,
                   node::SqliteStorage::Open(copy));
  RETURN_IF_ERROR(node::CheckMember(*storage, config.member, node_db));
  PrintPeriods(config, node_db, out);
  DiscardingSink sink;
  node::AuditTrail trail(&sink);
  node::Retention retention(config.member, storage.get(), &trail, &clock,
                            config.retention, /*metrics=*/nullptr);
  ASSIGN_OR_RETURN(v1::RetentionCounts swept, retention.Sweep());
  PrintCounts("would delete (dry run: nothing was deleted):", swept, out);
  const std::vector<v1::AuditEntry> entries = sink.entries();
  if (entries.empty()) {
    out << "would append no audit entry (nothing to delete, no counts "
           "kept)\n";
  } else {
    PrintCounts(absl::StrCat("would append one ", entries.back().kind(),
                             " entry to the audit log with the counts"),
                entries.back().outcome().retention(), out);
  }
  return absl::OkStatus();
}

absl::Status SweepDry(const node::Config& config, const Clock& clock,
                      std::ostream& out) {
  const std::string node_db = node::NodeDbWhere(config);
  if (config.storage.backend != node::StorageConfig::Backend::kSqlite) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--dry-run sweeps a copy of node.db made with SQLite's backup API, "
        "and this node's node.db is ",
        node_db,
        ": run the sweep with the node stopped, after a copy made with the "
        "database's own tools (pg_dump); nothing was changed"));
  }
  if (!std::filesystem::exists(node_db)) {
    return absl::FailedPreconditionError(
        absl::StrCat(node_db,
                     " does not exist: the node has not started yet, there is "
                     "nothing to sweep"));
  }
  // In data_dir (0700), never in /tmp: the copy holds personal data.
  const std::string copy =
      absl::StrCat(node_db, ".dry-run-", static_cast<long>(::getpid()));
  RemoveCopy(copy);
  node::sqlite::BackupOptions options;
  options.pause_between_steps = absl::ZeroDuration();
  absl::Status status =
      node::sqlite::BackupDatabase(node_db, copy, options).status();
  if (status.ok()) status = SweepCopyAt(config, clock, node_db, copy, out);
  RemoveCopy(copy);
  return status;
}

}  // namespace

absl::Status RetentionSweep(const RetentionSweepArgs& args, std::ostream& out) {
  ASSIGN_OR_RETURN(node::Config config, node::LoadConfig(args.config));
  const Clock& clock = args.clock != nullptr ? *args.clock : SystemClock::Get();
  if (args.dry_run) return SweepDry(config, clock, out);
  return SweepStopped(config, clock, out);
}

}  // namespace cbx::admin
