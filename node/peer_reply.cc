#include "node/peer_reply.h"

#include "absl/strings/str_cat.h"

namespace cbx::node {

absl::StatusOr<envelope::OpenedEnvelope> OpenPeerReply(
    const NodeContext& ctx, const std::string& member, const v1::Message& sent,
    const v1::Envelope& reply, v1::Message::KindCase kind) {
  std::shared_ptr<const directory::Directory> dir = ctx.directory->Current();
  StorageReplayCache replay_cache(ctx.storage.get());
  envelope::OpenOptions options;
  options.directory = dir.get();
  options.receiver = ctx.self();
  // The TLS server certificate was verified against this member's CA only.
  options.authenticated_member = member;
  options.accepted_kinds = {kind};
  options.clock = ctx.clock;
  options.replay_cache = &replay_cache;
  auto opened = envelope::Open(reply, options);
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("answer from ", member,
                                     " refused: ", opened.status().message()));
  }
  if (opened->message.header().in_reply_to() != sent.header().message_id()) {
    return absl::UnauthenticatedError(
        absl::StrCat("answer from ", member, " does not reply to our request"));
  }
  return opened;
}

}  // namespace cbx::node
