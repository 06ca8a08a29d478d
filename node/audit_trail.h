// Turns the node's exchanges into audit log entries (spec/audit-log.md §2):
// one entry per envelope sent or received (answered or refused) and per
// call without an envelope. Each method returns only once the entry is
// durable; callers answer only after that ("log before answer"), and answer
// with the log's error if it fails.
//
// Entries carry codes and counts, never identifier values or free-text
// messages. Thread-safe (the log is).
#ifndef CBX_NODE_AUDIT_TRAIL_H_
#define CBX_NODE_AUDIT_TRAIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"
#include "cbx/v1/envelope.pb.h"
#include "core/envelope/envelope.h"
#include "node/audit/audit_log.h"

namespace cbx::node {

struct AuditCounts {
  uint32_t elements = 0;
  uint32_t hits = 0;
  uint32_t references = 0;
  // Cooperation entries only (spec/cooperation.md §8): the request's
  // CooperationType and the receipt's or response's code
  // (node/cooperation_checks.h, ReceiptCode / ResponseCode).
  uint32_t cooperation_type = 0;
  uint32_t cooperation_code = 0;
  // Withdrawal entries only (spec/cooperation.md §8): WithdrawalReason *
  // 100, plus the deletion receipt's result (node/withdrawal.h).
  uint32_t withdrawal_code = 0;
  // A cooperation request's entries only (spec/cooperation.md §8): when its
  // response and, for PRESERVATION, its receipt are due (0: not set).
  int64_t response_due_ms = 0;
  int64_t receipt_due_ms = 0;
  // A "summarized_calls" entry only (node/refusal_budget.h): how many
  // calls it stands for.
  uint64_t calls = 0;
};

// Where a trail's entries go: the node's audit::AuditLog in production
// (an adapter over it, made by AuditTrail), a recording fake in tests
// (node/testing/test_audit_sink.h) that can be told to fail. Each method
// has the contract of the audit::AuditLog method of the same name: it
// returns only once the entries are durable, and a failure means none of
// them was appended. Implementations are thread-safe.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual absl::StatusOr<uint64_t> Append(v1::AuditEntry entry) = 0;
  virtual absl::StatusOr<uint64_t> AppendAll(
      std::vector<v1::AuditEntry> entries) = 0;
  virtual absl::Status Health() const = 0;
};

class AuditTrail {
 public:
  // A trail over the node's log, which must outlive it.
  explicit AuditTrail(audit::AuditLog* log);
  // A trail over another sink (tests), which must outlive it; log() is
  // null.
  explicit AuditTrail(AuditSink* sink) : sink_(sink) {}
  // A trail over a log that could not be opened because it was found
  // damaged: every append fails with `damage` (a DATA_LOSS), so the node
  // answers nothing it cannot log, and says why.
  explicit AuditTrail(absl::Status damage) : damage_(std::move(damage)) {}
  ~AuditTrail();

  // OK, or why the log cannot be served (DATA_LOSS).
  absl::Status Health() const {
    return sink_ == nullptr ? damage_ : sink_->Health();
  }

  // An envelope this node sent to, or received from, `peer` ("" if the
  // caller could not be identified). The envelope's body is parsed for the
  // kind, message id, reply-to, office and user; an unparsable body (a
  // refusal) leaves those empty. A non-empty `user` (the acting person of
  // the office call this exchange is part of, spec/cooperation.md §5)
  // replaces the header's: a peer's reply to that call does not name the
  // person, yet its entry is the call's.
  absl::Status Envelope(v1::AuditDirection direction, const std::string& peer,
                        std::string_view rpc, const v1::Envelope& envelope,
                        absl::StatusCode code, AuditCounts counts = {},
                        const std::string& user = "");

  // A request this node received from `peer` and answered: its RECEIVED
  // entry with `code` and, if `reply` is given, the reply's SENT entry,
  // appended together (both durable, with consecutive sequences, or
  // neither), so that answering costs one wait for the log, not two. The
  // request's fields come from `request`, the parse and hash Open made of
  // it, instead of parsing and hashing its body again. The reply's entry
  // has `reply_counts` if given, `counts` otherwise.
  absl::Status Exchange(const std::string& peer, std::string_view rpc,
                        const envelope::OpenedEnvelope& request,
                        absl::StatusCode code, const AuditCounts& counts,
                        const v1::Envelope* reply,
                        const AuditCounts* reply_counts = nullptr);

  // A call without an envelope: GetDirectory, checkpoints, office calls, or
  // a peer call that failed in transport (direction LOCAL, kind
  // "call_failed", with the SHA-256 of the envelope that was not answered).
  // `user` is the acting person of an office call (AuditEntry.user), empty
  // for none.
  absl::Status Call(v1::AuditDirection direction, const std::string& peer,
                    std::string_view rpc, std::string_view kind,
                    const std::string& office, absl::StatusCode code,
                    AuditCounts counts = {},
                    const std::string& envelope_sha256 = "",
                    const std::string& user = "");

  // A retention sweep's deletions (node/retention.h): direction LOCAL, rpc
  // "Node.RetentionSweep", kind "retention_sweep", outcome OK with
  // `counts` (spec/audit-log.md §2.1).
  absl::Status RetentionSweep(const v1::RetentionCounts& counts);

  // The node's log, or null for a trail over a damaged log or a test sink.
  audit::AuditLog* log() const { return log_; }

 private:
  audit::AuditLog* log_ = nullptr;
  std::unique_ptr<AuditSink> owned_;  // the adapter over log_, if any
  AuditSink* sink_ = nullptr;         // null: every append fails with damage_
  absl::Status damage_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_AUDIT_TRAIL_H_
