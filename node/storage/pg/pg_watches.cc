#include "node/storage/pg/pg_watches.h"

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"
#include "node/storage/validation.h"

namespace cbx::node::pgsql {
namespace {

absl::StatusOr<v1::Watch> ParseWatch(std::string_view blob) {
  v1::Watch w;
  if (!w.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError("a stored watch is damaged");
  }
  return w;
}

absl::Status NoWatch(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no watch ", id));
}

absl::Status InsertOutput(Database& db, const std::string& id,
                          const WatchOutput& o) {
  ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO watch_outputs (watch_id, member, input, "
                 "oprf_epoch, y, tag, resolved_version) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7)"));
  insert.BindText(1, id)
      .BindText(2, o.member)
      .BindInt(3, o.input)
      .BindInt(4, o.oprf_epoch)
      .BindBlob(5, o.y)
      .BindInt(6, static_cast<int64_t>(o.tag))
      .BindInt(7, static_cast<int64_t>(o.resolved_version));
  return insert.Run();
}

WatchOutput ReadOutput(const Statement& row, int first) {
  WatchOutput o;
  o.member = row.ColumnText(first);
  o.input = static_cast<uint32_t>(row.ColumnInt(first + 1));
  o.oprf_epoch = static_cast<uint32_t>(row.ColumnInt(first + 2));
  o.y = row.ColumnBlob(first + 3);
  o.tag = static_cast<Tag>(row.ColumnInt(first + 4));
  o.resolved_version = static_cast<uint64_t>(row.ColumnInt(first + 5));
  return o;
}

}  // namespace

absl::Status AddWatchIn(Database& db, const StoredWatch& w) {
  RETURN_IF_ERROR(ValidateWatch(w));
  return InSavepoint(db, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO watches (watch_id, office, "
                                "expires_at_ms, record) VALUES ($1, $2, $3, "
                                "$4)"));
    const std::string blob = w.record.SerializeAsString();  // outlives Run
    insert.BindText(1, w.record.watch_id())
        .BindText(2, w.record.office())
        .BindInt(3, w.record.expires_at_ms())
        .BindBlob(4, blob);
    absl::Status status = insert.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(
          absl::StrCat("watch ", w.record.watch_id(), " already exists"));
    }
    RETURN_IF_ERROR(status);
    for (const WatchOutput& o : w.outputs) {
      RETURN_IF_ERROR(InsertOutput(db, w.record.watch_id(), o));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<StoredWatch> GetWatchIn(Database& db, const std::string& id) {
  StoredWatch out;
  {
    ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT record FROM watches WHERE watch_id = $1"));
    select.BindText(1, id);
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return NoWatch(id);
    ASSIGN_OR_RETURN(out.record, ParseWatch(select.ColumnBlobView(0)));
  }
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT member, input, oprf_epoch, y, tag, resolved_version "
                 "FROM watch_outputs WHERE watch_id = $1 "
                 "ORDER BY member, input"));
  select.BindText(1, id);
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.outputs.push_back(ReadOutput(select, 0));
  }
  return out;
}

absl::Status UpdateWatchIn(Database& db, const v1::Watch& record) {
  ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare("UPDATE watches SET office = $2, expires_at_ms = $3, "
                 "record = $4 WHERE watch_id = $1"));
  const std::string blob = record.SerializeAsString();  // outlives Run
  update.BindText(1, record.watch_id())
      .BindText(2, record.office())
      .BindInt(3, record.expires_at_ms())
      .BindBlob(4, blob);
  RETURN_IF_ERROR(update.Run());
  if (db.Changes() == 0) return NoWatch(record.watch_id());
  return absl::OkStatus();
}

absl::Status DeleteWatchIn(Database& db, const std::string& id) {
  return InSavepoint(db, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(
        Statement outputs,
        db.Prepare("DELETE FROM watch_outputs WHERE watch_id = $1"));
    outputs.BindText(1, id);
    RETURN_IF_ERROR(outputs.Run());
    ASSIGN_OR_RETURN(Statement watch,
                     db.Prepare("DELETE FROM watches WHERE watch_id = $1"));
    watch.BindText(1, id);
    RETURN_IF_ERROR(watch.Run());
    if (db.Changes() == 0) return NoWatch(id);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Watch>> ListWatchesIn(
    Database& db, const std::string& office) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare(office.empty()
                     ? "SELECT record FROM watches ORDER BY watch_id"
                     : "SELECT record FROM watches WHERE office = $1 "
                       "ORDER BY watch_id"));
  if (!office.empty()) select.BindText(1, office);
  std::vector<v1::Watch> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(v1::Watch w, ParseWatch(select.ColumnBlobView(0)));
    out.push_back(std::move(w));
  }
  return out;
}

absl::StatusOr<std::vector<WatchedOutput>> WatchOutputsOfIn(
    Database& db, const std::string& member) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT watch_id, member, input, oprf_epoch, y, tag, "
                 "resolved_version FROM watch_outputs WHERE member = $1 "
                 "ORDER BY watch_id, input"));
  select.BindText(1, member);
  std::vector<WatchedOutput> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back({select.ColumnText(0), ReadOutput(select, 1)});
  }
  return out;
}

absl::Status SetWatchOutputResolvedIn(Database& db, const std::string& id,
                                      const std::string& member, uint32_t input,
                                      uint64_t version) {
  ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare("UPDATE watch_outputs SET resolved_version = $4 "
                 "WHERE watch_id = $1 AND member = $2 AND input = $3"));
  update.BindText(1, id).BindText(2, member).BindInt(3, input).BindInt(
      4, static_cast<int64_t>(version));
  RETURN_IF_ERROR(update.Run());
  if (db.Changes() == 0) {
    return absl::NotFoundError(absl::StrCat(
        "watch ", id, " keeps no output of ", member, " for input ", input));
  }
  return absl::OkStatus();
}

absl::Status DeleteWatchOutputsIn(Database& db, const std::string& id,
                                  const std::string& member) {
  ASSIGN_OR_RETURN(Statement del,
                   db.Prepare("DELETE FROM watch_outputs WHERE watch_id = $1 "
                              "AND member = $2"));
  del.BindText(1, id).BindText(2, member);
  return del.Run();
}

absl::StatusOr<std::vector<std::string>> ExpiredWatchesIn(Database& db,
                                                          int64_t now_ms,
                                                          size_t limit) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT watch_id FROM watches WHERE expires_at_ms <= $1 "
                 "ORDER BY expires_at_ms, watch_id LIMIT NULLIF($2, -1)"));
  select.BindInt(1, now_ms).BindInt(
      2, limit == 0 ? -1 : static_cast<int64_t>(limit));
  std::vector<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back(select.ColumnText(0));
  }
  return out;
}

}  // namespace cbx::node::pgsql
