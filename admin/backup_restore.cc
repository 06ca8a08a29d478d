#include "admin/backup_restore.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cbx/v1/directory.pb.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"
#include "node/audit/audit_store.h"
#include "node/config.h"
#include "node/data_consistency.h"
#include "node/directory_store.h"
#include "node/storage/sqlite_backup.h"
#include "node/storage/sqlite_db.h"
#include "node/storage/sqlite_schema.h"
#include "node/storage/sqlite_storage.h"

namespace cbx::admin {
namespace {

constexpr char kPersonalData[] =
    "holds perpetrator identifiers in clear: it is personal data. Keep it "
    "encrypted and access-controlled, off the node's disk, and delete it "
    "when its retention period ends (docs/operations.md \"Backup and "
    "restore\").";

// The files of a node's data folder.
struct DataFiles {
  std::string dir;
  std::string node_db;
  std::string audit_db;
  std::string audit_lock;  // held by a running node (AuditLog::Open)
};

DataFiles FilesOf(const node::Config& config) {
  return DataFiles{config.data_dir, config.data_dir + "/node.db",
                   config.data_dir + "/audit.db",
                   config.data_dir + "/audit.db.lock"};
}

std::optional<int64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<int64_t> CountRows(node::sqlite::Database& db,
                                  const std::string& table) {
  ASSIGN_OR_RETURN(node::sqlite::Statement stmt,
                   db.Prepare("SELECT COUNT(*) FROM " + table));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

// Proof that no node uses the data folder, held while restore changes it:
// the lock a running node holds on audit.db.lock, and an exclusive SQLite
// lock on node.db (which no process holding node.db open lets us take: a
// node that has opened node.db but not yet its audit log, an operator's
// sqlite3 shell, `cbx-node --install-directory`).
class NodeStopped {
 public:
  static absl::StatusOr<std::unique_ptr<NodeStopped>> Take(
      const DataFiles& files) {
    const int fd =
        ::open(files.audit_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot open ", files.audit_lock, ": ", std::strerror(errno)));
    }
    std::unique_ptr<NodeStopped> held(new NodeStopped(fd));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cbx-node is running on ", files.dir, " (it holds ", files.audit_lock,
          "): stop it first; restore never replaces the "
          "database under a running node"));
    }
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(files.node_db.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    held->db_ = raw;
    if (rc != SQLITE_OK) {
      return node::sqlite::ErrorStatus(rc, raw, "opening " + files.node_db);
    }
    // Exclusive locking mode keeps the lock until the connection closes.
    if (sqlite3_exec(raw,
                     "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT",
                     nullptr, nullptr, nullptr) != SQLITE_OK) {
      return absl::FailedPreconditionError(absl::StrCat(
          files.node_db, " is open in another process (", sqlite3_errmsg(raw),
          "): close it (a cbx-node, an sqlite3 "
          "shell, cbx-node --install-directory) and try again"));
    }
    return held;
  }

  // Folds what node.db's WAL holds into node.db, so that the file moved
  // aside is whole, and releases the SQLite lock (the node lock stays).
  absl::Status FoldWal(const std::string& node_db) {
    const int rc = sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr,
                                nullptr, nullptr);
    absl::Status status =
        rc == SQLITE_OK
            ? absl::OkStatus()
            : node::sqlite::ErrorStatus(rc, db_, "checkpointing " + node_db);
    sqlite3_close(db_);
    db_ = nullptr;
    return status;
  }

  ~NodeStopped() {
    if (db_ != nullptr) sqlite3_close(db_);
    ::close(lock_fd_);  // releases the flock
  }

 private:
  explicit NodeStopped(int fd) : lock_fd_(fd) {}
  int lock_fd_;
  sqlite3* db_ = nullptr;
};

// What a verified copy holds, for the report.
struct Verified {
  int64_t schema_before = 0;
  uint64_t directory_version = 0;
  bool member_recorded = false;
  int64_t cases = 0, hits = 0, notifications = 0;
  node::AuditExpectation audit;
};

// The schema version and integrity of the copy at `path`, before anything
// upgrades it.
absl::StatusOr<int64_t> CheckFile(const std::string& path,
                                  const std::string& from) {
  ASSIGN_OR_RETURN(std::unique_ptr<node::sqlite::Database> db,
                   node::sqlite::Database::Open(path, 1000));
  RETURN_IF_ERROR(node::sqlite::CheckIntegrity(*db));
  ASSIGN_OR_RETURN(int64_t version, node::sqlite::SchemaVersion(*db));
  if (version > node::sqlite::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        from, " was written by a newer cbx (schema ", version,
        "); this binary understands up to ", node::sqlite::kSchemaVersion,
        ": restore it with the cbx release that made it"));
  }
  if (version <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(from, " is not a cbx node.db (no schema version)"));
  }
  return version;
}

// Verifies the copy at `path` of `from` for `config`'s node: integrity and
// schema first, then (upgrading the copy to this build's schema, as the
// node would) its member and its directory versions from the pinned
// genesis.
absl::StatusOr<Verified> VerifyCopy(const std::string& path,
                                    const std::string& from,
                                    const node::Config& config) {
  Verified v;
  ASSIGN_OR_RETURN(v.schema_before, CheckFile(path, from));
  ASSIGN_OR_RETURN(std::string genesis_bytes, node::ReadFile(config.genesis));
  v1::SignedDirectory genesis;
  if (!genesis.ParseFromString(genesis_bytes)) {
    return absl::InvalidArgumentError("directory.genesis: " + config.genesis +
                                      " is not a signed directory");
  }
  {
    ASSIGN_OR_RETURN(std::unique_ptr<node::SqliteStorage> storage,
                     node::SqliteStorage::Open(path));
    RETURN_IF_ERROR(node::CheckMember(*storage, config.member, from));
    ASSIGN_OR_RETURN(std::optional<Bytes> member,
                     storage->GetSetting(node::kMemberSetting));
    v.member_recorded = member.has_value();
    auto state = node::LoadDirectoryState(*storage, genesis);
    if (!state.ok()) {
      return absl::Status(state.status().code(),
                          absl::StrCat(from,
                                       ": its directory does not verify "
                                       "against the pinned genesis: ",
                                       state.status().message()));
    }
    v.directory_version = (*state)->Current()->version();
    ASSIGN_OR_RETURN(v.audit, node::ExpectedAuditLog(*storage));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<node::sqlite::Database> db,
                   node::sqlite::Database::Open(path, 1000));
  ASSIGN_OR_RETURN(v.cases, CountRows(*db, "cases"));
  ASSIGN_OR_RETURN(v.hits, CountRows(*db, "hits"));
  ASSIGN_OR_RETURN(v.notifications, CountRows(*db, "notifications"));
  return v;
}

// The size of the audit log in `audit_db`, read without opening it as a
// log (restore holds its lock); nullopt if there is none.
std::optional<int64_t> AuditLogSize(const std::string& audit_db) {
  if (FileSize(audit_db).value_or(0) == 0) return std::nullopt;
  sqlite3* raw = nullptr;
  std::optional<int64_t> size;
  if (sqlite3_open_v2(audit_db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(raw, "SELECT size FROM state WHERE id = 1", -1,
                           &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      size = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(raw);
  return size.value_or(0);
}

// Renames `from` over `to` after checking no WAL of `from` is left (it
// would not follow the rename).
absl::Status RenameDatabase(const std::string& from, const std::string& to) {
  if (FileSize(from + "-wal").value_or(0) > 0) {
    return absl::InternalError(
        absl::StrCat(from, "-wal still holds pages; nothing was replaced"));
  }
  ::unlink((from + "-wal").c_str());
  ::unlink((from + "-shm").c_str());
  return Env::Default()->RenameFile(from, to);
}

void PrintRestored(const RestoreArgs& args, const node::Config& config,
                   const DataFiles& files, const Verified& v,
                   const std::string& aside, std::ostream& out) {
  out << "restored " << files.node_db << " from " << args.from << "\n"
      << "  member:    " << config.member
      << (v.member_recorded ? ""
                            : " (not recorded in the file: written "
                              "before cbx recorded it)")
      << "\n  schema:    " << v.schema_before;
  if (v.schema_before != node::sqlite::kSchemaVersion) {
    out << " (upgraded to " << node::sqlite::kSchemaVersion << ")";
  }
  out << "\n  directory: version " << v.directory_version
      << ", verified from the pinned genesis\n"
      << "  cases:     " << v.cases << ", received hits: " << v.hits
      << ", inbox notifications: " << v.notifications << "\n";
  if (!aside.empty())
    out << "  the replaced node.db is kept as " << aside << "\n";
  out << "  audit.db was not touched (an audit log is never restored).\n";
}

// FAILED_PRECONDITION if the config puts node.db (or, with `audit_copy`,
// the audit log) in PostgreSQL: backup and restore copy SQLite files, and
// a database's state is copied with its own tools, which know its
// transactions, WAL and replicas. Says which, and why; never shows the
// conninfo.
absl::Status RefusePostgresql(const node::Config& config,
                              const std::string& command, bool audit_copy) {
  constexpr char kWhy[] =
      ": cbx-admin backup and restore copy SQLite files only. Use the "
      "database's own tools: pg_dump --schema=<schema> and pg_restore for a "
      "copy, or its base backups, WAL archiving and replicas (they also "
      "copy the database's other schemas consistently, which a copy of "
      "node.db alone could not)";
  if (config.storage.backend == node::StorageConfig::Backend::kPostgresql) {
    return absl::FailedPreconditionError(absl::StrCat(
        command,
        ": refused: this node's node.db is in PostgreSQL (storage: "
        "schema ",
        config.storage.schema, ")", kWhy));
  }
  if (audit_copy && config.audit_log.backend ==
                        node::AuditLogStoreConfig::Backend::kPostgresql) {
    return absl::FailedPreconditionError(
        absl::StrCat(command,
                     " --audit-out: refused: this node's audit log is in "
                     "PostgreSQL (audit_log: schema ",
                     config.audit_log.schema, ")", kWhy));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Backup(const BackupArgs& args, std::ostream& out,
                    std::ostream& err) {
  ASSIGN_OR_RETURN(node::Config config, node::LoadConfig(args.config));
  RETURN_IF_ERROR(RefusePostgresql(config, "backup", !args.audit_out.empty()));
  const DataFiles files = FilesOf(config);
  ASSIGN_OR_RETURN(node::sqlite::BackupReport report,
                   node::sqlite::BackupDatabase(files.node_db, args.out));
  out << "backed up " << files.node_db << " to " << args.out
      << " (mode 0600): " << report.pages << " pages of " << report.page_size
      << " bytes, schema " << report.schema_version << ", one snapshot\n";
  err << "cbx-admin: " << args.out << " " << kPersonalData << "\n";
  if (args.audit_out.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      node::sqlite::BackupReport audit,
      node::sqlite::BackupDatabase(files.audit_db, args.audit_out));
  out << "copied " << files.audit_db << " to " << args.audit_out
      << " (mode 0600): " << audit.pages << " pages, schema "
      << audit.schema_version
      << ". It is evidence and an auditor's export: never put it back "
         "in a data folder (an older copy of the log forks it)\n";
  return absl::OkStatus();
}

namespace {

// Restore into the existing data folder `files.dir`.
absl::Status RestoreInto(const RestoreArgs& args, const node::Config& config,
                         const DataFiles& files, std::ostream& out,
                         std::ostream& err) {
  ASSIGN_OR_RETURN(std::unique_ptr<NodeStopped> stopped,
                   NodeStopped::Take(files));
  // The copy is verified where it will live, then renamed into place.
  const std::string copy = files.node_db + ".restoring";
  for (const char* suffix :
       {"", ".partial", "-journal", ".partial-journal", "-wal", "-shm"}) {
    ::unlink((copy + suffix).c_str());  // left by an interrupted restore
  }
  node::sqlite::BackupOptions copy_options;
  copy_options.source_read_only = true;
  copy_options.pause_between_steps = absl::ZeroDuration();
  auto copied = node::sqlite::BackupDatabase(args.from, copy, copy_options);
  if (!copied.ok()) {
    return absl::Status(
        copied.status().code(),
        absl::StrCat(args.from, ": ", copied.status().message()));
  }
  absl::StatusOr<Verified> verified = VerifyCopy(copy, args.from, config);
  if (!verified.ok()) {
    ::unlink(copy.c_str());
    ::unlink((copy + "-wal").c_str());
    ::unlink((copy + "-shm").c_str());
    return verified.status();
  }
  RETURN_IF_ERROR(stopped->FoldWal(files.node_db));
  std::string aside;
  if (FileSize(files.node_db).value_or(0) > 0) {
    aside = absl::StrCat(
        files.node_db, ".before-restore-",
        absl::FormatTime("%Y%m%dT%H%M%SZ", absl::FromUnixMillis(args.now_ms),
                         absl::UTCTimeZone()));
    RETURN_IF_ERROR(RenameDatabase(files.node_db, aside));
  }
  RETURN_IF_ERROR(RenameDatabase(copy, files.node_db));
  RETURN_IF_ERROR(Env::Default()->SyncDir(files.dir));
  PrintRestored(args, config, files, *verified, aside, out);
  const std::optional<int64_t> log_size = AuditLogSize(files.audit_db);
  if (verified->audit.min_size > 0 &&
      static_cast<uint64_t>(log_size.value_or(0)) < verified->audit.min_size) {
    err << "cbx-admin: warning: " << files.audit_db
        << (log_size.has_value()
                ? absl::StrCat(" holds ", *log_size, " entries")
                : std::string(" is missing"))
        << "; the restored node.db implies an audit log of at least "
        << verified->audit.min_size << " entries (" << verified->audit.why
        << "): cbx-node will refuse to start. See \"Restored node.db "
           "without its audit log\" in docs/operations.md.\n";
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Restore(const RestoreArgs& args, std::ostream& out,
                     std::ostream& err) {
  ASSIGN_OR_RETURN(node::Config config, node::LoadConfig(args.config));
  RETURN_IF_ERROR(RefusePostgresql(config, "restore", false));
  const DataFiles files = FilesOf(config);
  if (!FileSize(args.from).has_value()) {
    return absl::NotFoundError(absl::StrCat(args.from, ": no such file"));
  }
  // Restoring onto a new machine, the main use: its data folder does not
  // exist yet. Made as cbx-node makes it (0700, parents as needed), and
  // removed again if the restore fails (the data folder as it was).
  struct stat st;
  if (::stat(files.dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("data_dir: ", files.dir, " exists and is not a folder"));
    }
    return RestoreInto(args, config, files, out, err);
  }
  if (absl::Status made = Env::Default()->CreateDirs(files.dir, 0700);
      !made.ok()) {
    return absl::Status(made.code(),
                        absl::StrCat("data_dir: ", made.message()));
  }
  ::chmod(files.dir.c_str(), 0700);
  out << "created the data folder " << files.dir << " (mode 0700)\n";
  absl::Status restored = RestoreInto(args, config, files, out, err);
  if (!restored.ok()) {
    std::error_code ignored;
    std::filesystem::remove_all(files.dir, ignored);  // only what we made
  }
  return restored;
}

}  // namespace cbx::admin
