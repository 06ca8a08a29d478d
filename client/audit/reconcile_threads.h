// Who answered what, when: the cooperation threads of two members' verified
// exports (spec/cooperation.md §8, spec/audit-log.md §9 F). Reconcile
// (reconcile.h) pairs every envelope's SENT and RECEIVED entries by hash;
// this groups the envelopes of one exchange by message id:
//
//   - a cooperation request (kind cooperation_request) with its receipt
//     (cooperation_receipt in reply to it), its response
//     (cooperation_response in reply to it) and the response's receipt
//     (cooperation_receipt in reply to the response);
//   - a withdrawal (kind withdrawal) with its deletion receipt
//     (deletion_receipt in reply to it).
//
// Each step records its sender's SENT time and its receiver's RECEIVED time
// (first entry of each, by log order) and code; a step one side logged and
// the other did not is a *gap*, named in the thread's problems.
// Pure functions; any thread.
#ifndef CBX_CLIENT_AUDIT_RECONCILE_THREADS_H_
#define CBX_CLIENT_AUDIT_RECONCILE_THREADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/audit/export.h"

namespace cbx::client::audit {

struct ThreadStep {
  // The kind of the step's envelope ("cooperation_receipt", ...).
  std::string kind;
  // The sender's SENT entry and the receiver's RECEIVED entry, if logged.
  bool sent = false, received = false;
  int64_t sent_ms = 0, received_ms = 0;
  // outcome.cooperation_code of the entry that carries it (the sender's if
  // logged, else the receiver's); outcome.status_code of the RECEIVED one.
  uint32_t code = 0;
  int32_t received_status = 0;
  bool logged() const { return sent || received; }
};

struct CooperationThread {
  std::string id;       // lower-case hex of the opening message id
  std::string opener;   // member that sent the request / withdrawal
  std::string answerer; // the other member
  uint32_t type = 0;    // cooperation_type (0 for a withdrawal)
  ThreadStep opening;   // the request or the withdrawal
  ThreadStep receipt;   // its receipt or deletion receipt
  ThreadStep response;  // requests only
  ThreadStep response_receipt;
  // Human-readable gaps ("receipt: sent by RS, not received by MK").
  std::vector<std::string> problems;
};

// The threads between the two exports' members, ordered by the opening's
// earliest logged time, then id. Steps outside both exports simply show as
// not logged: a thread whose opening lies outside the exports' time ranges
// may look incomplete.
std::vector<CooperationThread> CooperationThreads(const VerifiedExport& a,
                                                  const VerifiedExport& b);

}  // namespace cbx::client::audit

#endif  // CBX_CLIENT_AUDIT_RECONCILE_THREADS_H_
