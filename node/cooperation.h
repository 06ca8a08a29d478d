// Cooperation after a hit (spec/cooperation.md §2, §3, §8): an office
// asks the member whose case reference it received for information,
// preservation of platform data, a joint investigation team, or sends
// spontaneous information; the receiving node returns a signed receipt at
// once, and its competent office answers later with a signed response,
// acknowledged by a receipt of the requester's node. Both nodes keep every
// request (CooperationRecord in Storage), track its deadline, and announce
// each request that becomes overdue once (event `cooperation-overdue`).
//
// Every message is logged before its effect (node/log_before_effect.h):
// a record changes only in the storage transaction that appends the audit
// entry of the envelope that changed it. Audit entries carry the request
// type and the receipt's or response's code (AuditOutcome fields 6 and 7),
// never a note, an identifier or a case number.
//
// Threading: thread-safe. Office calls and peer calls run concurrently on
// gRPC's threads; state lives in Storage (its transactions serialize the
// writes). Send and Respond block their thread on the peer for at most the
// policy's peer_deadline_ms.
#ifndef CBX_NODE_COOPERATION_H_
#define CBX_NODE_COOPERATION_H_

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

// The RPC every cooperation message travels on.
inline constexpr char kCooperateRpc[] = "Peer.Cooperate";

class Cooperation {
 public:
  // `ctx` and `transport` must outlive the module; `transport` may be null
  // for a node that only receives (Send and Respond are then UNAVAILABLE).
  Cooperation(NodeContext* ctx, PeerTransport* transport)
      : ctx_(ctx), transport_(transport) {}

  // Office.SendCooperationRequest for `office` ("MK/PPO-Skopje"). Checked
  // before anything is sent: the fields (INVALID_ARGUMENT naming the
  // field); the case is one of this node's (NOT_FOUND), the office's own
  // (PERMISSION_DENIED) and open (FAILED_PRECONDITION); one of the case's
  // hits carries the token (NOT_FOUND otherwise); a preservation request's
  // account identifiers are of types that hit matched (INVALID_ARGUMENT);
  // the member that gave the reference is active (FAILED_PRECONDITION).
  // Then the request (response_due_ms = issued_at_ms + the policy's
  // period) is stored with its SENT entry, sent, and its receipt checked
  // (OpenPeerReply) and stored with its RECEIVED entry. Returns the record
  // with the receipt (ACCEPTED or REFUSED). If the peer cannot be reached
  // or its reply fails the checks, the record stays with delivery_error set
  // and that failure is returned (UNAVAILABLE, DEADLINE_EXCEEDED, ...).
  // `person` (the caller's staff identifier, may be empty) is the request
  // header's user and every entry's user (spec/cooperation.md §5).
  absl::StatusOr<v1::CooperationRecord> Send(
      const std::string& office, const v1::SendCooperationRequestRequest& req,
      const std::string& person = "");

  // Office.RespondToCooperationRequest: the competent office answers a
  // request this node received. INVALID_ARGUMENT for a bad id or field;
  // NOT_FOUND for no such request; PERMISSION_DENIED if `office` is not
  // the one it was delivered to; FAILED_PRECONDITION for a request this
  // node sent, a SPONTANEOUS_INFORMATION one (no response), or one already
  // answered and acknowledged. The response is stored with its SENT entry,
  // sent, and the requester's receipt stored with its RECEIVED entry. A
  // response not delivered may be sent again (a new envelope). Returns the
  // record; a delivery failure as Send's. `person` as Send's.
  absl::StatusOr<v1::CooperationRecord> Respond(
      const std::string& office,
      const v1::RespondToCooperationRequestRequest& req,
      const std::string& person = "");

  // Office.GetCooperationRequest: NOT_FOUND unless `id` is one of
  // `office`'s requests (sent or received). `overdue` set as of now.
  absl::StatusOr<v1::CooperationRecord> Get(const std::string& office,
                                            const std::string& id);
  // Office.ListCooperationRequests: `office`'s requests, newest first,
  // only the overdue ones if asked; `overdue` set on each.
  absl::StatusOr<Page<v1::CooperationRecord>> List(const std::string& office,
                                                   bool overdue_only,
                                                   const PageRequest& page);

  // Peer.Cooperate for an envelope PeerService admitted (the seven checks
  // passed; kind cooperation_request or cooperation_response); `raw` is
  // the envelope as received. Returns the signed receipt, logged with the
  // request (RECEIVED, its status the refusal's RefusalStatusCode) before
  // it is returned. A request is refused, with a receipt, when: over the
  // sender's daily quota (OVER_QUOTA; every other request is charged);
  // its fields break §2.1 or its deadline does not match (MALFORMED); the
  // token names no case of this node, or one this node never gave the
  // sender in a ResolveResponse (its stored notifications: UNKNOWN_CASE_
  // TOKEN, the same answer in both cases); the case is closed
  // (CASE_WITHDRAWN); a preservation request names an account identifier
  // the case does not hold (MALFORMED). An accepted request is stored for
  // the case's office. A response is refused if it answers no request
  // this node sent the sender (UNKNOWN_REQUEST), one already answered
  // (ALREADY_ANSWERED), or breaks §2.3 (MALFORMED); an accepted one is
  // stored with the request. Only a storage or log failure is an error
  // (no receipt).
  absl::StatusOr<v1::Envelope> Receive(const envelope::OpenedEnvelope& opened,
                                       const v1::Envelope& raw);

  // Logs one `cooperation-overdue` event for each request overdue now and
  // not yet announced, and marks it announced (once per request, also
  // across restarts). Returns how many it announced. Run by the node's
  // timer on the local executor.
  absl::StatusOr<int> AnnounceOverdue();
  // Requests (sent and received) overdue now: the /metrics gauge.
  absl::StatusOr<int64_t> CountOverdue();

 private:
  // The receipt this node gives a request, quota aside (reads storage;
  // ReceiveRequest charges the quota in its transaction); `stored` is the
  // case the token names if accepted.
  absl::StatusOr<v1::CooperationReceipt> JudgeRequest(const v1::Message& msg,
                                                      StoredCase* stored);
  absl::StatusOr<v1::Envelope> ReceiveRequest(
      const envelope::OpenedEnvelope& opened, const v1::Envelope& raw);
  absl::StatusOr<v1::Envelope> ReceiveResponse(
      const envelope::OpenedEnvelope& opened, const v1::Envelope& raw);
  // Seals `receipt` as the reply to `request`, from `office`.
  absl::StatusOr<v1::Envelope> SealReceipt(const v1::Message& request,
                                           const v1::CooperationReceipt& receipt,
                                           const std::string& office) const;
  // Sends `msg` (already stored and logged SENT in `record`) to
  // `record.peer()` and opens its receipt; on failure stores
  // delivery_error and logs the failure; its entries' user is `person`.
  struct Delivered {
    v1::Envelope raw;
    v1::CooperationReceipt receipt;
  };
  absl::StatusOr<Delivered> Deliver(const v1::Message& msg,
                                    const v1::Envelope& sealed,
                                    v1::CooperationRecord& record,
                                    const AuditCounts& counts,
                                    const std::string& person);
  // Stores `record` with the entry `append` writes, log before effect; a
  // voiding entry carries user `person`.
  absl::Status StoreLogged(const v1::CooperationRecord& record,
                           const std::function<absl::Status()>& append,
                           const std::string& person = "");
  // Send's checks, in the spec's order (cooperation.md §2.1): fills
  // `request` from `req` and checks its fields, the case and its hit, the
  // preservation accounts against what the hit matched, the member and
  // the transport; the member the request goes to.
  absl::StatusOr<std::string> CheckSend(
      const std::string& office, const v1::SendCooperationRequestRequest& req,
      v1::CooperationRequest& request);
  // Respond's checks of the record it answers (cooperation.md §2.3): it
  // exists, is `office`'s, was received, needs a response and has none.
  absl::StatusOr<v1::CooperationRecord> AnswerableRecord(
      const std::string& office,
      const v1::RespondToCooperationRequestRequest& req);
  // Checks the request's case and hit for Send; the hit's member.
  absl::StatusOr<v1::Hit> FindHit(const std::string& office,
                                  const v1::SendCooperationRequestRequest& req);
  // Whether `member` was given the case `number` in a ResolveResponse.
  absl::StatusOr<bool> WasResolvedBy(const std::string& number,
                                     const std::string& member);
  v1::CooperationRecord WithOverdue(v1::CooperationRecord r) const;

  NodeContext* ctx_;
  PeerTransport* transport_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_COOPERATION_H_
