// The stateless rules of cooperation messages (spec/cooperation.md §2,
// §3, §8): field checks, deadlines from the directory's policy, and the
// codes written in audit entries. Shared by the sending and the receiving
// side (node/cooperation.h). Stateless functions; thread-safe.
#ifndef CBX_NODE_COOPERATION_CHECKS_H_
#define CBX_NODE_COOPERATION_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/cooperation.pb.h"
#include "cbx/v1/directory.pb.h"
#include "core/util/bytes.h"

namespace cbx::node {

inline constexpr size_t kCaseTokenBytes = 16;
inline constexpr size_t kMaxNoteBytes = 1000;
inline constexpr size_t kMaxMlaReferenceBytes = 64;
inline constexpr size_t kMaxPlatformBytes = 32;
inline constexpr int kMaxAccountIdentifiers = 8;
inline constexpr size_t kMaxAccountValueBytes = 256;

// The period, in ms, within which a request of `type` must be answered
// (policy, spec/cooperation.md §3); 0 for SPONTANEOUS_INFORMATION (no
// response) and for an unknown type.
int64_t ResponsePeriodMs(const v1::Policy& policy, v1::CooperationType type);

// §2.1's field rules, except response_due_ms: case_token of 16 bytes;
// requester_case_number 1-64 and legal_basis 1-256 bytes of one line; a
// known type; preservation present exactly for PRESERVATION, with a
// platform (1-32 of a-z 0-9 . _ -), 1-8 typed account identifiers (values
// 1-256 bytes, one line), 0 < period_from_ms < period_to_ms, 1-4 distinct
// known data categories; note at most 1,000 bytes of one line.
// INVALID_ARGUMENT naming the field.
absl::Status CheckRequestFields(const v1::CooperationRequest& request);

// The receiver's deadline check: response_due_ms is 0 for
// SPONTANEOUS_INFORMATION, and otherwise within the policy's
// max_clock_skew_s of issued_at_ms + ResponsePeriodMs. INVALID_ARGUMENT
// otherwise.
absl::Status CheckResponseDue(const v1::CooperationRequest& request,
                              int64_t issued_at_ms, const v1::Policy& policy);

// §2.3's field rules for a response to a request of `type`: a known
// outcome; a reason exactly for REFUSED; an mla_reference (1-64 bytes, one
// line) exactly for FORWARDED_TO_MLA; preserved_until_ms only for a
// PRESERVATION request answered DONE or PARTLY, and required with DONE;
// note at most 1,000 bytes of one line. INVALID_ARGUMENT naming the field.
absl::Status CheckResponseFields(const v1::CooperationResponse& response,
                                 v1::CooperationType type);

// The audit entries' cooperation_code (spec/cooperation.md §8):
// ReceiptStatus * 100 + ReceiptRefusal, and ResponseOutcome * 100 +
// ResponseRefusal.
uint32_t ReceiptCode(const v1::CooperationReceipt& receipt);
uint32_t ResponseCode(const v1::CooperationResponse& response);

// The gRPC code an audit entry of a refused request records for a receipt
// refusal (OK for none): UNKNOWN_CASE_TOKEN and UNKNOWN_REQUEST NOT_FOUND,
// CASE_WITHDRAWN FAILED_PRECONDITION, TYPE_NOT_ACCEPTED UNIMPLEMENTED,
// MALFORMED INVALID_ARGUMENT, OVER_QUOTA RESOURCE_EXHAUSTED,
// ALREADY_ANSWERED ALREADY_EXISTS.
absl::StatusCode RefusalStatusCode(v1::ReceiptRefusal reason);

// A request's id as offices see it: the lower-case hex of its message id;
// and back (INVALID_ARGUMENT for anything else than 32 hex digits).
std::string CooperationId(const Bytes& message_id);
absl::StatusOr<Bytes> MessageIdOf(const std::string& id);

}  // namespace cbx::node

#endif  // CBX_NODE_COOPERATION_CHECKS_H_
