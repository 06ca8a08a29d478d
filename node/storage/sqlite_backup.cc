#include "node/storage/sqlite_backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/util/env.h"
#include "core/util/status_macros.h"

namespace cbx::node::sqlite {
namespace {

using Connection = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;

absl::Status Errno(int err, const std::string& what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == EEXIST) return absl::AlreadyExistsError(message);
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM)
    return absl::PermissionDeniedError(message);
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::UnavailableError(message);
}

absl::StatusOr<Connection> OpenConnection(const std::string& path, int flags,
                                          int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection owned(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    return ErrorStatus(rc, raw, absl::StrCat("opening ", path));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  return owned;
}

absl::Status Exec(sqlite3* db, const std::string& sql,
                  const std::string& context) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, db, context);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> PragmaInt(sqlite3* db, const std::string& pragma) {
  sqlite3_stmt* stmt = nullptr;
  int rc =
      sqlite3_prepare_v2(db, ("PRAGMA " + pragma).c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(rc, db, "PRAGMA " + pragma);
  rc = sqlite3_step(stmt);
  const int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return ErrorStatus(rc, db, "PRAGMA " + pragma);
  }
  return value;
}

// Creates `path` empty with mode 0600 (O_EXCL: never an existing file).
absl::Status CreatePrivateFile(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(errno, absl::StrCat("creating ", path));
  ::close(fd);
  return absl::OkStatus();
}

absl::Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(errno, absl::StrCat("opening ", path));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Errno(err, absl::StrCat("syncing ", path));
  return absl::OkStatus();
}

// Copies `source` into the open, empty `dest` in steps, from one snapshot.
absl::StatusOr<BackupReport> CopyPages(sqlite3* source, sqlite3* dest,
                                       const BackupOptions& options) {
  BackupReport report;
  // The snapshot: a read transaction that every step shares (see the
  // header). sqlite_schema is read to make it start now.
  RETURN_IF_ERROR(Exec(source, "BEGIN DEFERRED; SELECT 1 FROM sqlite_schema",
                       "opening a read snapshot"));
  ASSIGN_OR_RETURN(report.schema_version, PragmaInt(source, "user_version"));
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", source, "main");
  if (backup == nullptr) {
    absl::Status status =
        ErrorStatus(sqlite3_errcode(dest), dest, "starting the backup");
    sqlite3_exec(source, "COMMIT", nullptr, nullptr, nullptr);
    return status;
  }
  int rc = SQLITE_OK;
  while (true) {
    rc = sqlite3_backup_step(backup, options.pages_per_step);
    ++report.steps;
    const int64_t total = sqlite3_backup_pagecount(backup);
    if (options.progress) {
      options.progress(total - sqlite3_backup_remaining(backup), total);
    }
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(
        absl::ToChronoMilliseconds(options.pause_between_steps));
  }
  report.pages = sqlite3_backup_pagecount(backup);
  const int finish = sqlite3_backup_finish(backup);
  sqlite3_exec(source, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_DONE) return ErrorStatus(rc, dest, "copying pages");
  if (finish != SQLITE_OK) {
    return ErrorStatus(finish, dest, "finishing the backup");
  }
  return report;
}

}  // namespace

absl::StatusOr<BackupReport> BackupDatabase(const std::string& source,
                                            const std::string& out,
                                            const BackupOptions& options) {
  struct stat st;
  if (::stat(source.c_str(), &st) != 0) return Errno(errno, source);
  if (::stat(out.c_str(), &st) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(out, " exists: a backup never overwrites a file"));
  }
  const std::string partial = out + ".partial";
  RETURN_IF_ERROR(CreatePrivateFile(partial));
  auto run = [&]() -> absl::StatusOr<BackupReport> {
    const int source_flags =
        options.source_read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    ASSIGN_OR_RETURN(Connection src, OpenConnection(source, source_flags,
                                                    options.busy_timeout_ms));
    ASSIGN_OR_RETURN(Connection dst,
                     OpenConnection(partial, SQLITE_OPEN_READWRITE,
                                    options.busy_timeout_ms));
    ASSIGN_OR_RETURN(BackupReport report,
                     CopyPages(src.get(), dst.get(), options));
    // One file, no -wal beside it: the copy carries the source's WAL flag
    // in its header until the journal mode is set back to DELETE. A node
    // opening a restored copy switches it to WAL again.
    RETURN_IF_ERROR(Exec(dst.get(), "PRAGMA journal_mode=DELETE",
                         "setting the copy's journal mode"));
    ASSIGN_OR_RETURN(report.page_size, PragmaInt(dst.get(), "page_size"));
    return report;
  };
  absl::StatusOr<BackupReport> report = run();
  absl::Status status = report.status();
  if (status.ok()) status = SyncFile(partial);
  if (status.ok()) status = Env::Default()->RenameFile(partial, out);
  if (status.ok()) status = Env::Default()->SyncDir(DirName(out));
  if (!status.ok()) {
    ::unlink(partial.c_str());
    ::unlink((partial + "-journal").c_str());
    return status;
  }
  return report;
}

absl::Status CheckIntegrity(Database& db) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare("PRAGMA integrity_check(10)"));
  std::string findings;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    const std::string line = stmt.ColumnText(0);
    if (line == "ok") return absl::OkStatus();
    absl::StrAppend(&findings, findings.empty() ? "" : "; ", line);
  }
  return absl::DataLossError(
      absl::StrCat(db.path(), ": PRAGMA integrity_check failed: ", findings));
}

}  // namespace cbx::node::sqlite
