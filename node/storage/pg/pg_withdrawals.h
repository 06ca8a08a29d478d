// Withdrawals of case references in node.db (spec/cooperation.md §2.4,
// node/withdrawal.h): the rows behind StorageTransaction's withdrawal
// methods. Each function runs inside the caller's open write transaction
// on `db`.
//
// Tables (pg_schema.cc): `withdrawals` (at the origin: one row per
// case token and member that resolved it, with its attempts, next attempt
// and the deletion receipt once it came), `withdrawn_references` (at the
// receiver: the tombstone of each withdrawn reference: origin, token,
// reason and times) and `hit_tokens` (hit row -> the member and case
// token of its reference, so that a withdrawal finds its hits by index;
// filled by InsertHitToken). PgStorage's port of sqlite_withdrawals.h.
//
// Threading: as the Database (one thread at a time, under the storage's
// mutex).
#ifndef CBX_NODE_STORAGE_PG_PG_WITHDRAWALS_H_
#define CBX_NODE_STORAGE_PG_PG_WITHDRAWALS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/storage/pg/pg_db.h"
#include "node/storage/storage.h"

namespace cbx::node::pgsql {

// Records the member and case token of the hit in row `hit_id`.
absl::Status InsertHitToken(Database& db, int64_t hit_id, const v1::Hit& hit);

// Each has the contract of the StorageTransaction method of the same name.
absl::StatusOr<std::vector<std::string>> MembersNotifiedOfIn(
    Database& db, const std::string& case_number);
absl::Status QueueWithdrawalIn(Database& db, const QueuedWithdrawal& w);
absl::Status UpdateWithdrawalIn(Database& db, const QueuedWithdrawal& w);
absl::StatusOr<QueuedWithdrawal> GetWithdrawalIn(Database& db,
                                                 const Bytes& case_token,
                                                 const std::string& member);
absl::StatusOr<std::vector<QueuedWithdrawal>> DueWithdrawalsIn(Database& db,
                                                               int64_t now_ms,
                                                               size_t limit);
absl::StatusOr<std::vector<QueuedWithdrawal>> ListWithdrawalsIn(Database& db);
absl::StatusOr<WithdrawnReference> GetWithdrawnReferenceIn(
    Database& db, const std::string& member, const Bytes& case_token);
absl::Status PutWithdrawnReferenceIn(Database& db, const WithdrawnReference& w);
absl::StatusOr<std::vector<WithdrawnReference>> WithdrawnReferencesDueIn(
    Database& db, int64_t now_ms, size_t limit);
absl::StatusOr<int64_t> WithdrawHitsIn(Database& db, const std::string& member,
                                       const Bytes& case_token,
                                       int64_t withdrawn_at_ms,
                                       v1::WithdrawalReason reason,
                                       bool delete_reference);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_WITHDRAWALS_H_
