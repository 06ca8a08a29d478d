#include "node/peer_clients.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace cbx::node {

absl::StatusOr<std::shared_ptr<v1::Peer::Stub>> PeerClients::Stub(
    const std::string& member) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const v1::Member* m = dir->FindMember(member);
  if (m == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(member, " is not a member of the directory"));
  }
  std::string roots = absl::StrJoin(m->ca_certificates_pem(), "\n");
  std::string fingerprint = absl::StrCat(m->endpoint(), "\n", roots);
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[member];
  if (entry.stub == nullptr || entry.fingerprint != fingerprint) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = roots;
    options.pem_private_key = ctx_->tls_private_key_pem;
    options.pem_cert_chain = ctx_->tls_certificate_pem;
    grpc::ChannelArguments args;
    // Fail fast and retry soon when a peer is down, rather than hanging.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    auto channel = grpc::CreateCustomChannel(
        m->endpoint(), grpc::SslCredentials(options), args);
    entry.stub = std::shared_ptr<v1::Peer::Stub>(v1::Peer::NewStub(channel));
    entry.fingerprint = std::move(fingerprint);
  }
  return entry.stub;
}

absl::StatusOr<envelope::OpenedEnvelope> PeerClients::OpenReply(
    const std::string& member, const v1::Message& sent,
    const v1::Envelope& reply, v1::Message::KindCase kind) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  StorageReplayCache replay_cache(ctx_->storage.get());
  envelope::OpenOptions options;
  options.directory = dir.get();
  options.receiver = ctx_->self();
  // The TLS server certificate was verified against this member's CA only.
  options.authenticated_member = member;
  options.accepted_kinds = {kind};
  options.clock = ctx_->clock;
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
