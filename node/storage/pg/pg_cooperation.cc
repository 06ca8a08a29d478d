#include "node/storage/pg/pg_cooperation.h"

#include "absl/strings/str_cat.h"
#include "cbx/v1/office.pb.h"
#include "core/util/status_macros.h"
#include "node/storage/page.h"

namespace cbx::node::pgsql {
namespace {

// The deadline a row is overdue past: the request's response_due_ms while
// it is accepted and unanswered, 0 otherwise (CooperationOverdueAt).
int64_t OpenDueMs(const v1::CooperationRecord& r) {
  if (r.receipt().status() != v1::RECEIPT_STATUS_ACCEPTED) return 0;
  if (r.has_response()) return 0;
  return r.request().response_due_ms();
}

bool ReceiptLate(const v1::CooperationRecord& r) {
  return r.receipt().status() == v1::RECEIPT_STATUS_ACCEPTED &&
         r.receipt_late();
}

}  // namespace

absl::Status RecordCaseToken(Database& db, std::string_view token,
                             int64_t case_id) {
  if (token.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO case_tokens (token, case_id) "
                              "VALUES ($1, $2) ON CONFLICT (token) DO UPDATE "
                              "SET case_id = excluded.case_id"));
  return insert.BindBlob(1, token).BindInt(2, case_id).Run();
}

absl::StatusOr<std::string> CaseNumberByToken(Database& db,
                                              std::string_view token) {
  ASSIGN_OR_RETURN(Statement select,
                   db.Prepare("SELECT c.number FROM case_tokens t JOIN cases "
                              "c ON c.id = t.case_id WHERE t.token = $1"));
  select.BindBlob(1, token);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::NotFoundError("no case has that token");
  return select.ColumnText(0);
}

absl::Status PutCooperationIn(Database& db, const v1::CooperationRecord& in) {
  if (in.id().empty() ||
      in.direction() == v1::COOPERATION_DIRECTION_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "a cooperation record needs an id and a direction");
  }
  v1::CooperationRecord r = in;
  {
    // A replaced record keeps its first requested_at_ms (its place).
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare("SELECT requested_at_ms FROM "
                                "cooperation_requests WHERE id = $1"));
    select.BindText(1, r.id());
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) r.set_requested_at_ms(select.ColumnInt(0));
  }
  // The listing's place is the first insertion's: requested_at_ms and seq
  // are not updated.
  ASSIGN_OR_RETURN(
      Statement upsert,
      db.Prepare("INSERT INTO cooperation_requests (id, office, "
                 "requested_at_ms, open_due_ms, receipt_late, record) VALUES "
                 "($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET "
                 "office = excluded.office, open_due_ms = "
                 "excluded.open_due_ms, receipt_late = excluded.receipt_late, "
                 "record = excluded.record"));
  const std::string blob = r.SerializeAsString();
  upsert.BindText(1, r.id())
      .BindText(2, r.office())
      .BindInt(3, r.requested_at_ms())
      .BindInt(4, OpenDueMs(r))
      .BindInt(5, ReceiptLate(r) ? 1 : 0)
      .BindBlob(6, blob);
  return upsert.Run();
}

absl::StatusOr<v1::CooperationRecord> GetCooperationIn(Database& db,
                                                       const std::string& id) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT record FROM cooperation_requests WHERE id = $1"));
  select.BindText(1, id);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) {
    return absl::NotFoundError(absl::StrCat("no cooperation request ", id));
  }
  v1::CooperationRecord r;
  std::string_view blob = select.ColumnBlobView(0);
  if (!r.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError("a stored cooperation request is damaged");
  }
  return r;
}

absl::StatusOr<Page<v1::CooperationRecord>> ListCooperationsIn(
    Database& db, const CooperationFilter& filter, const PageRequest& page) {
  TimeIdCursor after;
  if (!page.after.empty()) {
    ASSIGN_OR_RETURN(after, ParseTimeIdCursor(page.after));
  }
  std::string where = " WHERE true";
  if (!filter.office.empty()) where += " AND office = $1";
  if (filter.overdue_at_ms > 0) {
    where +=
        " AND ((open_due_ms > 0 AND open_due_ms < $2) OR receipt_late = 1)";
  }
  if (filter.unannounced_only) where += " AND announced = 0";
  if (!page.after.empty()) where += " AND (requested_at_ms, seq) < ($3, $4)";
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare(absl::StrCat("SELECT requested_at_ms, seq, record FROM "
                              "cooperation_requests",
                              where,
                              " ORDER BY requested_at_ms DESC, seq DESC "
                              "LIMIT NULLIF($5, -1)")));
  if (!filter.office.empty()) select.BindText(1, filter.office);
  if (filter.overdue_at_ms > 0) select.BindInt(2, filter.overdue_at_ms);
  if (!page.after.empty()) select.BindInt(3, after.time).BindInt(4, after.id);
  select.BindInt(5,
                 page.limit == 0 ? -1 : static_cast<int64_t>(page.limit) + 1);
  Page<v1::CooperationRecord> out;
  TimeIdCursor last;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (page.limit != 0 && out.items.size() == page.limit) {
      out.next = FormatTimeIdCursor(last);
      break;
    }
    last = {select.ColumnInt(0), select.ColumnInt(1)};
    v1::CooperationRecord r;
    std::string_view blob = select.ColumnBlobView(2);
    if (!r.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError("a stored cooperation request is damaged");
    }
    out.items.push_back(std::move(r));
  }
  return out;
}

absl::Status MarkCooperationAnnouncedIn(Database& db, const std::string& id) {
  ASSIGN_OR_RETURN(Statement update,
                   db.Prepare("UPDATE cooperation_requests SET announced = 1 "
                              "WHERE id = $1"));
  RETURN_IF_ERROR(update.BindText(1, id).Run());
  if (db.Changes() == 0) {
    return absl::NotFoundError(absl::StrCat("no cooperation request ", id));
  }
  return absl::OkStatus();
}

}  // namespace cbx::node::pgsql
