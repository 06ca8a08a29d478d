// Reconciling two members' verified audit exports (DESIGN.md §8,
// spec/audit-log.md §9 F).
//
// Every envelope that crosses a border is logged twice: SENT by its sender
// and RECEIVED by its receiver (RECEIVED whatever became of it: answered or
// refused), both with the SHA-256 of the same serialized envelope. Between
// the exports of members X and Y:
//
//   - a SENT entry of X with peer Y and an envelope hash is *matched* by a
//     RECEIVED entry of Y with peer X and the same hash, and vice versa;
//     equal hashes pair up one to one, in log order;
//   - an unmatched SENT entry is an orphan "sent, not received"; an
//     unmatched RECEIVED entry (with an envelope hash) is an orphan
//     "received, not sent";
//   - an unmatched entry whose time is not at least `margin` inside the
//     other export's time range (its first and last entry's times) is
//     reported apart, as "outside the other export's range": its partner may
//     simply lie outside that export. The default margin is the directory
//     policy's max_message_lifetime_s + max_clock_skew_s: a receiver accepts
//     an envelope only within its lifetime and the allowed skew, so the two
//     entries of one envelope are that close on the two clocks.
//
//   - an unmatched SENT entry whose sender also logged the call as failed
//     (a LOCAL entry with the same peer and envelope hash and a status code
//     other than 0: cbx-node writes one, kind "call_failed", when the call
//     carrying the envelope fails, e.g. UNAVAILABLE) is *undelivered*, not
//     an orphan: the sender itself recorded that it may not have arrived.
//
// Entries with other members, LOCAL entries and entries without an envelope
// hash (calls that carry no envelope) are counted, not reconciled.
#ifndef CBX_CLIENT_AUDIT_RECONCILE_H_
#define CBX_CLIENT_AUDIT_RECONCILE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/audit/export.h"
#include "client/audit/reconcile_threads.h"

namespace cbx::client::audit {

enum class OrphanKind {
  kSentNotReceived,  // SENT by this side; the other side has no RECEIVED
  kReceivedNotSent,  // RECEIVED by this side; the other side has no SENT
};

struct Orphan {
  size_t side = 0;  // 0: the first export, 1: the second
  uint64_t index = 0;
  OrphanKind kind = OrphanKind::kSentNotReceived;
  v1::AuditEntry entry;
};

struct ReconcileSide {
  std::string member;
  uint64_t begin = 0, end = 0;  // the export's entries [begin, end)
  bool has_entries = false;
  int64_t first_ms = 0, last_ms = 0;  // earliest and latest entry time
  size_t sent = 0;      // SENT to the other member with an envelope hash
  size_t received = 0;  // RECEIVED from it with an envelope hash
  size_t other = 0;     // every other entry (not reconciled)
};

struct ReconcileReport {
  std::array<ReconcileSide, 2> sides;
  int64_t margin_ms = 0;
  // Pairs (a SENT entry and its RECEIVED partner), in both directions.
  size_t matched = 0;
  // Of those, the pairs whose RECEIVED entry records a refusal (status code
  // not 0): the envelope arrived and was refused, which is not an orphan.
  size_t matched_refused = 0;
  // Unmatched entries inside the other export's range, by side then index.
  std::vector<Orphan> orphans;
  // Unmatched entries outside it (or near its edges), by side then index.
  std::vector<Orphan> outside;
  // Unmatched SENT entries whose sender logged the call as failed (all
  // OrphanKind::kSentNotReceived), by side then index, wherever they are.
  std::vector<Orphan> undelivered;
  // Who answered what, when: every cooperation request and withdrawal
  // between the two members, with its receipt and response
  // (reconcile_threads.h).
  std::vector<CooperationThread> cooperation;
};

struct ReconcileOptions {
  // Overrides the default margin (see above).
  std::optional<int64_t> margin_ms;
};

// Reconciles `a` and `b`, two exports already verified by VerifyExport.
// INVALID_ARGUMENT if both are of the same member.
absl::StatusOr<ReconcileReport> Reconcile(const VerifiedExport& a,
                                          const VerifiedExport& b,
                                          const ReconcileOptions& options = {});

// The default margin for `a` and `b`: the policy of the later of their two
// latest directory versions, max_message_lifetime_s + max_clock_skew_s.
int64_t DefaultMarginMs(const VerifiedExport& a, const VerifiedExport& b);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_RECONCILE_H_
