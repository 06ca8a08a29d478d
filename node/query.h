// The querier's side of a lookup (spec/lookup.md): blind every identifier
// afresh for each peer, ask all peers in parallel, verify each batched DLEQ
// proof, finalize, test membership in that peer's index copy, and resolve
// the hits. A slow or dead peer never delays the others' answers.
#ifndef CBX_NODE_QUERY_H_
#define CBX_NODE_QUERY_H_

#include <functional>

#include "absl/status/status.h"
#include "cbx/v1/office.pb.h"
#include "node/identity.h"
#include "node/node_context.h"
#include "node/peer_clients.h"

namespace cbx::node {

class QueryRunner {
 public:
  QueryRunner(NodeContext* context, PeerClients* peers)
      : ctx_(context), peers_(peers) {}

  // Validates `request` (INVALID_ARGUMENT naming the field; nothing is sent
  // then), asks the peers, and calls `emit` with one PeerAnswer per peer as
  // each completes, then one QuerySummary. `emit` is called from the calling
  // thread only; if it returns false (the office went away) the remaining
  // answers are still awaited but not emitted. Thread-safe.
  absl::Status Run(const v1::QueryRequest& request, const OfficeCaller& caller,
                   const std::function<bool(const v1::QueryEvent&)>& emit);

 private:
  struct Input {
    v1::IdentifierType type;
    Bytes oprf_input;
  };
  v1::PeerAnswer AskPeer(const std::string& member,
                         const std::vector<Input>& inputs,
                         const v1::Purpose& purpose, const OfficeCaller& caller,
                         const std::string& query_id, int64_t deadline_ms);

  // Seals `msg`, logs it as sent, and calls `call` with it; a transport
  // failure is logged (LOCAL, "call_failed") and returned as the status
  // this peer's answer reports.
  absl::StatusOr<v1::Envelope> Send(
      const std::string& member, std::string_view rpc, const v1::Message& msg,
      const std::string& office, uint32_t elements, int64_t budget_ms,
      const std::function<grpc::Status(const v1::Envelope&, v1::Envelope*)>&
          call);

  NodeContext* ctx_;
  PeerClients* peers_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_QUERY_H_
