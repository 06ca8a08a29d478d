#include "node/storage/pg/pg_withdrawals.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::pgsql {
namespace {

constexpr char kWithdrawalColumns[] =
    "case_token, member, case_number, office, reason, queued_at_ms, "
    "attempts, next_attempt_ms, receipt, given_up, last_error";

QueuedWithdrawal ReadWithdrawal(const Statement& row) {
  QueuedWithdrawal w;
  w.case_token = row.ColumnBlob(0);
  w.member = row.ColumnText(1);
  w.case_number = row.ColumnText(2);
  w.office = row.ColumnText(3);
  w.reason = static_cast<v1::WithdrawalReason>(row.ColumnInt(4));
  w.queued_at_ms = row.ColumnInt(5);
  w.attempts = static_cast<uint32_t>(row.ColumnInt(6));
  w.next_attempt_ms = row.ColumnInt(7);
  w.receipt = row.ColumnBlob(8);
  w.given_up = row.ColumnInt(9) != 0;
  w.last_error = row.ColumnText(10);
  return w;
}

absl::StatusOr<std::vector<QueuedWithdrawal>> ReadWithdrawals(
    Statement& select) {
  std::vector<QueuedWithdrawal> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back(ReadWithdrawal(select));
  }
  return out;
}

WithdrawnReference ReadReference(const Statement& row) {
  WithdrawnReference w;
  w.member = row.ColumnText(0);
  w.case_token = row.ColumnBlob(1);
  w.reason = static_cast<v1::WithdrawalReason>(row.ColumnInt(2));
  w.withdrawn_at_ms = row.ColumnInt(3);
  w.kept_until_ms = row.ColumnInt(4);
  w.deleted_at_ms = row.ColumnInt(5);
  return w;
}

absl::Status CheckKey(const Bytes& token, const std::string& member) {
  if (token.empty() || member.empty()) {
    return absl::InvalidArgumentError(
        "a withdrawal needs a case token and a member");
  }
  return absl::OkStatus();
}

// The LIMIT for `limit` (0: none; NULLIF makes -1 no limit).
int64_t Limit(size_t limit) {
  return limit == 0 ? -1 : static_cast<int64_t>(limit);
}

}  // namespace

absl::Status InsertHitToken(Database& db, int64_t hit_id, const v1::Hit& hit) {
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO hit_tokens (hit_id, member, "
                              "case_token) VALUES ($1, $2, $3) "
                              "ON CONFLICT (hit_id) DO NOTHING"));
  return insert.BindInt(1, hit_id)
      .BindText(2, hit.member())
      .BindBlob(3, hit.reference().case_token())
      .Run();
}

absl::StatusOr<std::vector<std::string>> MembersNotifiedOfIn(
    Database& db, const std::string& case_number) {
  ASSIGN_OR_RETURN(Statement select,
                   db.Prepare("SELECT notification FROM notifications "
                              "WHERE case_number = $1"));
  select.BindText(1, case_number);
  std::vector<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    v1::Notification n;
    std::string_view blob = select.ColumnBlobView(0);
    if (!n.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError("a stored notification is damaged");
    }
    out.push_back(n.from_member());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::Status QueueWithdrawalIn(Database& db, const QueuedWithdrawal& w) {
  RETURN_IF_ERROR(CheckKey(w.case_token, w.member));
  ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare(absl::StrCat("INSERT INTO withdrawals (", kWithdrawalColumns,
                              ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                              "$10, $11)")));
  insert.BindBlob(1, w.case_token)
      .BindText(2, w.member)
      .BindText(3, w.case_number)
      .BindText(4, w.office)
      .BindInt(5, w.reason)
      .BindInt(6, w.queued_at_ms)
      .BindInt(7, w.attempts)
      .BindInt(8, w.next_attempt_ms)
      .BindBlob(9, w.receipt)
      .BindInt(10, w.given_up ? 1 : 0)
      .BindText(11, w.last_error);
  absl::Status status = insert.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat("a withdrawal to ", w.member, " is already queued"));
  }
  return status;
}

absl::Status UpdateWithdrawalIn(Database& db, const QueuedWithdrawal& w) {
  ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare("UPDATE withdrawals SET case_number = $3, office = $4, "
                 "reason = $5, queued_at_ms = $6, attempts = $7, "
                 "next_attempt_ms = $8, receipt = $9, given_up = $10, "
                 "last_error = $11 WHERE case_token = $1 AND member = $2"));
  update.BindBlob(1, w.case_token)
      .BindText(2, w.member)
      .BindText(3, w.case_number)
      .BindText(4, w.office)
      .BindInt(5, w.reason)
      .BindInt(6, w.queued_at_ms)
      .BindInt(7, w.attempts)
      .BindInt(8, w.next_attempt_ms)
      .BindBlob(9, w.receipt)
      .BindInt(10, w.given_up ? 1 : 0)
      .BindText(11, w.last_error);
  RETURN_IF_ERROR(update.Run());
  if (db.Changes() == 0) {
    return absl::NotFoundError(
        absl::StrCat("no withdrawal to ", w.member, " is queued"));
  }
  return absl::OkStatus();
}

absl::StatusOr<QueuedWithdrawal> GetWithdrawalIn(Database& db,
                                                 const Bytes& case_token,
                                                 const std::string& member) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare(absl::StrCat("SELECT ", kWithdrawalColumns,
                              " FROM withdrawals WHERE case_token = $1 AND "
                              "member = $2")));
  select.BindBlob(1, case_token).BindText(2, member);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("no withdrawal to ", member, " is queued"));
  }
  return ReadWithdrawal(select);
}

absl::StatusOr<std::vector<QueuedWithdrawal>> DueWithdrawalsIn(Database& db,
                                                               int64_t now_ms,
                                                               size_t limit) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare(absl::StrCat(
          "SELECT ", kWithdrawalColumns,
          " FROM withdrawals WHERE next_attempt_ms > 0 AND ($1 < 0 OR "
          "next_attempt_ms <= $1) ORDER BY next_attempt_ms, member LIMIT "
          "NULLIF($2, -1)")));
  select.BindInt(1, now_ms).BindInt(2, Limit(limit));
  return ReadWithdrawals(select);
}

absl::StatusOr<std::vector<QueuedWithdrawal>> ListWithdrawalsIn(Database& db) {
  ASSIGN_OR_RETURN(Statement select, db.Prepare(absl::StrCat(
                                         "SELECT ", kWithdrawalColumns,
                                         " FROM withdrawals ORDER BY "
                                         "queued_at_ms, case_token, member")));
  return ReadWithdrawals(select);
}

absl::StatusOr<WithdrawnReference> GetWithdrawnReferenceIn(
    Database& db, const std::string& member, const Bytes& case_token) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT member, case_token, reason, withdrawn_at_ms, "
                 "kept_until_ms, deleted_at_ms FROM withdrawn_references "
                 "WHERE member = $1 AND case_token = $2"));
  select.BindText(1, member).BindBlob(2, case_token);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat("no reference of ", member, " was withdrawn"));
  }
  return ReadReference(select);
}

absl::Status PutWithdrawnReferenceIn(Database& db,
                                     const WithdrawnReference& w) {
  RETURN_IF_ERROR(CheckKey(w.case_token, w.member));
  ASSIGN_OR_RETURN(
      Statement upsert,
      db.Prepare("INSERT INTO withdrawn_references (member, case_token, "
                 "reason, withdrawn_at_ms, kept_until_ms, deleted_at_ms) "
                 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (member, "
                 "case_token) DO UPDATE SET reason = excluded.reason, "
                 "withdrawn_at_ms = excluded.withdrawn_at_ms, kept_until_ms = "
                 "excluded.kept_until_ms, deleted_at_ms = "
                 "excluded.deleted_at_ms"));
  return upsert.BindText(1, w.member)
      .BindBlob(2, w.case_token)
      .BindInt(3, w.reason)
      .BindInt(4, w.withdrawn_at_ms)
      .BindInt(5, w.kept_until_ms)
      .BindInt(6, w.deleted_at_ms)
      .Run();
}

absl::StatusOr<std::vector<WithdrawnReference>> WithdrawnReferencesDueIn(
    Database& db, int64_t now_ms, size_t limit) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT member, case_token, reason, withdrawn_at_ms, "
                 "kept_until_ms, deleted_at_ms FROM withdrawn_references "
                 "WHERE deleted_at_ms = 0 AND kept_until_ms > 0 AND "
                 "kept_until_ms <= $1 ORDER BY kept_until_ms, member LIMIT "
                 "NULLIF($2, -1)"));
  select.BindInt(1, now_ms).BindInt(2, Limit(limit));
  std::vector<WithdrawnReference> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    out.push_back(ReadReference(select));
  }
  return out;
}

absl::StatusOr<int64_t> WithdrawHitsIn(Database& db, const std::string& member,
                                       const Bytes& case_token,
                                       int64_t withdrawn_at_ms,
                                       v1::WithdrawalReason reason,
                                       bool delete_reference) {
  std::vector<std::pair<int64_t, v1::Hit>> hits;
  {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare("SELECT h.id, h.hit FROM hit_tokens t JOIN "
                                "hits h ON h.id = t.hit_id WHERE "
                                "t.case_token = $1 AND t.member = $2"));
    select.BindBlob(1, case_token).BindText(2, member);
    while (true) {
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      v1::Hit hit;
      std::string_view blob = select.ColumnBlobView(1);
      if (!hit.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
        return absl::DataLossError("a stored hit is damaged");
      }
      hits.emplace_back(select.ColumnInt(0), std::move(hit));
    }
  }
  for (auto& [id, hit] : hits) {
    if (hit.withdrawn_at_ms() == 0) {
      hit.set_withdrawn_at_ms(withdrawn_at_ms);
      hit.set_withdrawal_reason(reason);
    }
    if (delete_reference) {
      v1::CaseReference kept;
      kept.set_case_token(hit.reference().case_token());
      *hit.mutable_reference() = std::move(kept);
    }
    const std::string blob = hit.SerializeAsString();
    ASSIGN_OR_RETURN(Statement update,
                     db.Prepare("UPDATE hits SET hit = $2 WHERE id = $1"));
    RETURN_IF_ERROR(update.BindInt(1, id).BindBlob(2, blob).Run());
  }
  return static_cast<int64_t>(hits.size());
}

}  // namespace cbx::node::pgsql
