#include "node/storage/pg/pg_fence.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::pg {
namespace {

// The payload that marks the fenced status, apart from every other
// FAILED_PRECONDITION.
constexpr char kFencedPayload[] = "cbx.node/leadership-fenced";

}  // namespace

absl::Status FencedError(const std::string& message) {
  absl::Status s = absl::FailedPreconditionError(message);
  s.SetPayload(kFencedPayload, absl::Cord("fenced"));
  return s;
}

bool IsFenced(const absl::Status& status) {
  return status.GetPayload(kFencedPayload).has_value();
}

absl::Status CheckFence(Connection& conn, const Fence& fence) {
  ASSIGN_OR_RETURN(
      Result r,
      conn.Query(absl::StrCat("SELECT term, holder FROM ", fence.schema,
                              ".leader WHERE id = 1 FOR SHARE"),
                 Params()));
  if (r.rows() == 1 && r.Int(0, 0) == fence.term &&
      r.View(0, 1) == fence.instance) {
    return absl::OkStatus();
  }
  const std::string now =
      r.rows() == 1 ? absl::StrCat("term ", r.Int(0, 0), " of ", r.String(0, 1))
                    : std::string("no term row");
  absl::Status fenced = FencedError(absl::StrCat(
      "fenced: this node (", fence.instance, ") held term ", fence.term,
      " but the database now records ", now,
      ": another node of the pair is active; nothing was written"));
  if (fence.on_fenced) fence.on_fenced(fenced);
  return fenced;
}

}  // namespace cbx::node::pg
