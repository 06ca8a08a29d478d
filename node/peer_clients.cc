#include "node/peer_clients.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "node/grpc_limits.h"
#include "node/tls_credentials.h"

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
  // The identity in use: a reloaded certificate makes new channels (calls
  // on the old one finish on it; gRPC drops it with its last stub).
  std::shared_ptr<const TlsIdentity> identity;
  if (ctx_->tls != nullptr) identity = ctx_->tls->identity();
  std::string fingerprint =
      absl::StrCat(m->endpoint(), "\n", roots, "\n",
                   identity == nullptr ? 0 : identity->generation);
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[member];
  if (entry.stub == nullptr || entry.fingerprint != fingerprint) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = roots;
    options.pem_private_key = identity == nullptr ? ctx_->tls_private_key_pem
                                                  : identity->private_key_pem;
    options.pem_cert_chain = identity == nullptr ? ctx_->tls_certificate_pem
                                                 : identity->certificate_pem;
    grpc::ChannelArguments args;
    // Fail fast and retry soon when a peer is down, rather than hanging.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    // Replies sized to the protocol (node/grpc_limits.h).
    args.SetMaxReceiveMessageSize(static_cast<int>(kMaxPeerReplyBytes));
    auto channel = grpc::CreateCustomChannel(
        m->endpoint(), grpc::SslCredentials(options), args);
    entry.stub = std::shared_ptr<v1::Peer::Stub>(v1::Peer::NewStub(channel));
    entry.fingerprint = std::move(fingerprint);
  }
  return entry.stub;
}

}  // namespace cbx::node
