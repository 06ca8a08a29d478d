// Which endpoint of a member a call to it goes to (spec/directory.md §7.1):
// a member of an active/standby pair lists its other nodes in the
// directory's standby_endpoints; one of its endpoints answers, the others
// refuse "standby: ..." or do not answer at all.
//
// PeerEndpointsInUse remembers, per member, the endpoint that last
// answered; CallEndpoints tries a member's endpoints in that order and
// moves on only when the call surely did not run on an active node. Both
// know nothing of gRPC: GrpcPeerTransport gives CallEndpoints its channels'
// connect and call, tests give it fakes.
#ifndef CBX_NODE_PEER_ENDPOINTS_H_
#define CBX_NODE_PEER_ENDPOINTS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "cbx/v1/directory.pb.h"

namespace cbx::node {

// `m`'s endpoints in directory order: endpoint, then standby_endpoints.
std::vector<std::string> MemberEndpoints(const v1::Member& m);

// True if `s` is a standby's refusal (spec/active-standby.md §5):
// UNAVAILABLE with a message beginning "standby:".
bool IsStandbyRefusal(const absl::Status& s);

// True if `s` came from a node that handled the call: OK or any refusal
// but UNAVAILABLE, DEADLINE_EXCEEDED and CANCELLED (after which the call
// may or may not have run there).
bool IsAnswer(const absl::Status& s);

// The endpoint of each member that last answered this node. Thread-safe
// (one mutex, no I/O under it but the one log line of a change).
class PeerEndpointsInUse {
 public:
  // `endpoints` (MemberEndpoints) in the order a call tries them: the one
  // of `member` that last answered first, if it is still listed, then the
  // others in directory order.
  std::vector<std::string> Order(const std::string& member,
                                 std::vector<std::string> endpoints) const;

  // Records that `endpoint` of `member` answered `self`'s call. When it is
  // not the one recorded before, logs `peer-endpoint-changed` (member,
  // from, to; from is "" for the first answer since start, which is not
  // logged when it is the directory's `endpoint`).
  void Answered(const std::string& self, const std::string& member,
                const std::string& endpoint, bool first_listed);

  // The endpoint of `member` that last answered; "" before any answer.
  std::string InUse(const std::string& member) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> in_use_ ABSL_GUARDED_BY(mu_);
};

// What CallEndpoints needs of the endpoints it tries, by index into the
// order it was given.
struct EndpointOps {
  // Gets endpoint `i` connected within `budget_ms`: OK once connected,
  // else why not (UNAVAILABLE or DEADLINE_EXCEEDED); the request is never
  // sent here.
  std::function<absl::Status(size_t i, int64_t budget_ms)> connect;
  // Sends the call on endpoint `i`, just connected, with `budget_ms`; the
  // call's outcome.
  std::function<absl::Status(size_t i, int64_t budget_ms)> call;
  // Milliseconds on a monotonic clock, for the budget.
  std::function<int64_t()> now_ms;
};

// The outcome of CallEndpoints: the call's status, and the index of the
// endpoint that answered (-1 if none did: every endpoint was unconnected
// or a standby, or the call failed UNAVAILABLE, DEADLINE_EXCEEDED or
// CANCELLED after it was sent).
struct EndpointsOutcome {
  absl::Status status;
  int answered = -1;
};

// Tries `endpoints` in order within `budget_ms` (spec/directory.md §7.1):
// endpoint i gets to connect within the budget left divided by the
// endpoints left; a try moves on to the next endpoint only when it could
// not connect or the endpoint refused as a standby. Any other outcome is
// the call's, never retried elsewhere: the request may have run there
// (an Evaluate charged, a cooperation request received). When no endpoint
// took the call, the status is UNAVAILABLE naming each endpoint's failure
// (DEADLINE_EXCEEDED when the budget ran out before the last was tried),
// prefixed with `member`.
EndpointsOutcome CallEndpoints(const std::string& member,
                               const std::vector<std::string>& endpoints,
                               int64_t budget_ms, const EndpointOps& ops);

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_ENDPOINTS_H_
