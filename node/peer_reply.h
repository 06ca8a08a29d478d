// The querier's check of a peer's reply envelope, shared by the lookup
// querier and index sync.
#ifndef CBX_NODE_PEER_REPLY_H_
#define CBX_NODE_PEER_REPLY_H_

#include <string>

#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "core/envelope/envelope.h"
#include "node/node_context.h"

namespace cbx::node {

// Opens `reply` as an answer from `member` to `sent`: the seven receiver
// checks against `ctx`'s current directory and clock (with the transport's
// promise that the reply came from `member`), its message id recorded in
// the replay cache, plus in_reply_to = sent's message id. The refusal's
// code with "answer from <member> refused: ..." otherwise. Thread-safe.
absl::StatusOr<envelope::OpenedEnvelope> OpenPeerReply(
    const NodeContext& ctx, const std::string& member, const v1::Message& sent,
    const v1::Envelope& reply, v1::Message::KindCase kind);

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_REPLY_H_
