// Withdrawal of case references (spec/cooperation.md §2.4, §8): when an
// office closes a case, the origin sends a signed Withdrawal to every
// member that resolved it, and each answers with a signed DeletionReceipt.
//
// At the origin, the close queues one withdrawal per member in the storage
// transaction that closes the case (QueueForClosedCase, run by CaseBook's
// close hook), so that neither a crash nor a peer that is down loses one;
// SendDue (the node's timer) sends each one due, retrying with
// exponential backoff until its receipt arrives or the policy's
// withdrawal_retry_s has passed since the close (then it gives up: event
// ALERT-withdrawal-undelivered). At the receiver, Receive marks every hit
// from the sender on that token withdrawn, deletes the reference (at once,
// or when the policy's withdrawn_reference_retention_s has passed:
// DeleteExpiredReferences), keeps a tombstone and returns the receipt; a
// repeated withdrawal gets the same receipt and changes nothing.
//
// Every message is logged before its effect (node/log_before_effect.h):
// the SENT entry commits with the attempt's count, the RECEIVED entry of a
// receipt with the queue row it ends, and the receiver's two entries with
// the hits it marks. Entries carry AuditOutcome.withdrawal_code
// (WithdrawalReason * 100, plus 1 deleted, 2 kept, 3 refused for a
// receipt), never a case number or an identifier.
//
// Threading: thread-safe; state lives in Storage. SendDue blocks its
// thread on each peer for at most the policy's peer_deadline_ms; run it on
// one executor's timer (Executor::Every skips a run while one is going).
#ifndef CBX_NODE_WITHDRAWAL_H_
#define CBX_NODE_WITHDRAWAL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/office.pb.h"
#include "core/envelope/envelope.h"
#include "node/node_context.h"
#include "node/peer_transport.h"
#include "node/storage/storage.h"

namespace cbx::node {

// The RPC withdrawals travel on.
inline constexpr char kWithdrawRpc[] = "Peer.Withdraw";

// The result part of a deletion receipt's withdrawal_code.
inline constexpr uint32_t kWithdrawalDeleted = 1;
inline constexpr uint32_t kWithdrawalKept = 2;
inline constexpr uint32_t kWithdrawalRefused = 3;

class Withdrawals {
 public:
  struct Options {
    // The wait after the first failed attempt; doubled after each further
    // one, up to max_backoff_ms.
    int64_t first_backoff_ms = 1000;
    int64_t max_backoff_ms = 3'600'000;
    // Withdrawals sent, or references deleted, per SendDue or
    // DeleteExpiredReferences call.
    size_t batch = 100;
  };

  // `ctx` and `transport` must outlive the module; `transport` may be null
  // for a node that only receives (each attempt then fails UNAVAILABLE).
  Withdrawals(NodeContext* ctx, PeerTransport* transport);
  Withdrawals(NodeContext* ctx, PeerTransport* transport, Options options);

  // Inside the storage transaction `txn` that closes `closed` (its
  // record, now CLOSED): queues a withdrawal with `reason`, due at once,
  // to every member this node gave the case's reference (its
  // notifications). A member already queued for the token is left as it
  // is. Returns how many it queued; a storage error rolls back the close.
  absl::StatusOr<int> QueueForClosedCase(StorageTransaction& txn,
                                         const v1::Case& closed,
                                         v1::WithdrawalReason reason);

  // Sends every queued withdrawal due now (up to Options::batch), each
  // once: SENT entry and attempt count first, then the call; a valid
  // receipt ends it (RECEIVED entry), a failure (transport, refused reply,
  // receipt for another token) schedules the next attempt with backoff.
  // One past the policy's withdrawal_retry_s since it was queued is given
  // up instead (ALERT-withdrawal-undelivered, a LOCAL entry). Returns how
  // many receipts arrived; an error only for this node's storage or log.
  absl::StatusOr<int> SendDue();

  // Office.ListWithdrawals: the withdrawals of `office`'s closed cases,
  // each with its state (pending with its next attempt and give-up time,
  // delivered with the member's deletion receipt, or undelivered), newest
  // close first, then by member; only the pending ones if `pending_only`.
  // An error only for a storage failure.
  absl::StatusOr<v1::ListWithdrawalsResponse> List(const std::string& office,
                                                   bool pending_only);

  // Withdrawals queued and neither acknowledged nor given up: the /metrics
  // gauge cbx_withdrawals_pending.
  absl::StatusOr<int64_t> CountPending();

  // Peer.Withdraw for an envelope PeerService admitted (the seven checks
  // passed; kind withdrawal); `raw` is the envelope as received. Returns
  // the signed DeletionReceipt, logged with the withdrawal (RECEIVED, then
  // SENT) in the transaction that marks the hits. INVALID_ARGUMENT (no
  // receipt, logged RECEIVED) for a token that is not 16 bytes or a reason
  // that is neither CLOSED nor ERASED. A token of which this node holds no
  // hit from the sender is answered with a receipt refused
  // UNKNOWN_CASE_TOKEN (RECEIVED entry NOT_FOUND) and changes nothing. A
  // repeated withdrawal gets a receipt with the same content as the first
  // and changes nothing. Only a storage or log failure is another error.
  absl::StatusOr<v1::Envelope> Receive(const envelope::OpenedEnvelope& opened,
                                       const v1::Envelope& raw);

  // Deletes the references whose kept_until_ms has passed (up to
  // Options::batch), each with a LOCAL entry ("Node.WithdrawnReference
  // Expiry"); run by the node's timer. Returns how many it deleted.
  absl::StatusOr<int> DeleteExpiredReferences();

 private:
  // One attempt of `w` (due now): logged as SENT, sent, then
  // Acknowledged or Failed.
  absl::StatusOr<bool> SendOne(QueuedWithdrawal w);
  // Counts and reschedules `w` with the SENT entry of `sealed` before it
  // leaves, so a crash during the call retries it after the backoff.
  absl::Status LogSent(QueuedWithdrawal& w, const v1::Envelope& sealed,
                       int64_t now);
  // Keeps the receipt `reply` (opened as `opened`) on `w` with its
  // RECEIVED entry.
  absl::Status Acknowledged(QueuedWithdrawal w, const v1::Envelope& reply,
                            const envelope::OpenedEnvelope& opened);
  // Gives `w` up (its retry window passed).
  absl::Status GiveUp(QueuedWithdrawal w);
  // Records the failed attempt `w` (already counted) with `failure`.
  absl::Status Failed(QueuedWithdrawal w, const absl::Status& failure);
  // The wait after `attempts` failed attempts.
  int64_t BackoffMs(uint32_t attempts) const;
  // One withdrawal as Receive handles it (withdrawal.cc).
  struct Reception;
  // Receive's storage step, inside its transaction: checks the withdrawal
  // `msg` (INVALID_ARGUMENT), finds an earlier tombstone or marks the
  // sender's hits and keeps a new one, and seals the receipt into `r`.
  absl::Status Apply(StorageTransaction& txn, const v1::Message& msg,
                     Reception& r);
  // The receipt for tombstone `t` (or a refusal, for null).
  static v1::DeletionReceipt ReceiptOf(const Bytes& token,
                                       const WithdrawnReference* t);

  NodeContext* ctx_;
  PeerTransport* transport_;
  Options options_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_WITHDRAWAL_H_
