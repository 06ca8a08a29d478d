// PgStorage's cooperation tables (as sqlite_cooperation.h's,
// spec/cooperation.md): case_tokens (a case's token -> its row, for
// Storage::GetCaseByToken) and cooperation_requests (one row per request
// sent or received, its record serialized). Free functions on a Database
// the caller holds (inside a transaction where they write); not
// thread-safe by themselves.
#ifndef CBX_NODE_STORAGE_PG_PG_COOPERATION_H_
#define CBX_NODE_STORAGE_PG_PG_COOPERATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "node/storage/pg/pg_db.h"
#include "node/storage/storage.h"

namespace cbx::node::pgsql {

// Records that case row `case_id` has token `token` (AddCase). An empty
// token records nothing.
absl::Status RecordCaseToken(Database& db, std::string_view token,
                             int64_t case_id);
// The case number of the case with `token`; NOT_FOUND if none.
absl::StatusOr<std::string> CaseNumberByToken(Database& db,
                                              std::string_view token);

absl::Status PutCooperationIn(Database& db, const v1::CooperationRecord& r);
absl::StatusOr<v1::CooperationRecord> GetCooperationIn(Database& db,
                                                       const std::string& id);
absl::StatusOr<Page<v1::CooperationRecord>> ListCooperationsIn(
    Database& db, const CooperationFilter& filter, const PageRequest& page);
absl::Status MarkCooperationAnnouncedIn(Database& db, const std::string& id);

}  // namespace cbx::node::pgsql

#endif  // CBX_NODE_STORAGE_PG_PG_COOPERATION_H_
