#include "node/peer_clients.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/crypto/x509_crl.h"
#include "core/util/tsan_handoff.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "node/grpc_limits.h"
#include "node/log.h"
#include "node/tls_credentials.h"

namespace cbx::node {

struct PeerClients::Shared {
  std::string self;
  mutable std::mutex mu;
  RevocationSource source ABSL_GUARDED_BY(mu);  // null once PeerClients died
  std::map<std::string, std::string> refusals ABSL_GUARDED_BY(mu);
  // Where the certificates peers present are recorded, and the clock that
  // dates them; both null once PeerClients died.
  std::shared_ptr<CertificatesSeen> seen ABSL_GUARDED_BY(mu);
  const Clock* clock ABSL_GUARDED_BY(mu) = nullptr;

  // Called under `mu`, so that ~PeerClients waits for a call in progress
  // (the source only copies a pointer under its own lock).
  std::shared_ptr<const RevocationSet> Revocations() const {
    std::lock_guard<std::mutex> lock(mu);
    return source == nullptr ? nullptr : source();
  }
  void SetRefusal(const std::string& member, std::string why) {
    std::lock_guard<std::mutex> lock(mu);
    if (why.empty()) {
      refusals.erase(member);
    } else {
      refusals[member] = std::move(why);
    }
  }
};

namespace {

// The handshake check of one member's channel: the server certificate
// against the CRLs in use, then gRPC's own host name check (what
// SslCredentials did alone). Synchronous: a map lookup and one parse.
// gRPC owns it and destroys it on one of its threads once its own count
// drops to zero: the TsanHandoff marks let TSan see that count.
class RevocationVerifier
    : public grpc::experimental::ExternalCertificateVerifier {
 public:
  RevocationVerifier(std::string member,
                     std::shared_ptr<PeerClients::Shared> shared)
      : member_(std::move(member)),
        shared_(std::move(shared)),
        host_name_(std::make_shared<
                   grpc::experimental::HostNameCertificateVerifier>()) {
    util::TsanHandoffRelease(this);
  }
  ~RevocationVerifier() override { util::TsanHandoffAcquire(this); }

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> callback,
              grpc::Status* sync_status) override {
    util::TsanHandoffAcquire(this);
    const util::TsanHandoffReleaseOnExit release(this);
    return VerifyNow(request, std::move(callback), sync_status);
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
    util::TsanHandoffAcquire(this);
    util::TsanHandoffRelease(this);
  }

 private:
  bool VerifyNow(grpc::experimental::TlsCustomVerificationCheckRequest* request,
                 std::function<void(grpc::Status)> callback,
                 grpc::Status* sync_status) {
    absl::Status revoked = Check(
        std::string(request->peer_cert().data(), request->peer_cert().size()));
    if (!revoked.ok()) {
      *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                  std::string(revoked.message()));
      return true;
    }
    bool done = host_name_->Verify(request, std::move(callback), sync_status);
    if (done && sync_status->ok()) Record(request->peer_cert());
    return done;
  }

  // Records `pem` as the certificate the member's Peer port presents now.
  void Record(grpc::string_ref pem) {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->seen == nullptr || shared_->clock == nullptr) return;
    shared_->seen->Record(member_, CertificatesSeen::Side::kServer,
                          std::string_view(pem.data(), pem.size()),
                          shared_->clock->NowMs());
  }

  // OK unless `pem` is revoked; then logs and records why.
  absl::Status Check(const std::string& pem) {
    std::shared_ptr<const RevocationSet> revocations = shared_->Revocations();
    if (revocations == nullptr || revocations->empty()) {
      shared_->SetRefusal(member_, "");
      return absl::OkStatus();
    }
    // A certificate that does not parse cannot have passed the TLS chain
    // check; let the host name check refuse it if it must.
    auto summary = crypto::SummarizeCertificate(pem);
    if (!summary.ok()) return absl::OkStatus();
    absl::Status s = revocations->Check(*summary);
    if (s.ok()) {
      shared_->SetRefusal(member_, "");
      return s;
    }
    LogEvent(shared_->self, "warn", "peer-certificate-revoked",
             {{"member", member_},
              {"serial", summary->serial_hex},
              {"reason", std::string(s.message())}});
    shared_->SetRefusal(
        member_,
        absl::StrCat("the Peer port of ", member_,
                     " presents a revoked certificate: ", s.message()));
    return s;
  }

  const std::string member_;
  const std::shared_ptr<PeerClients::Shared> shared_;
  const std::shared_ptr<grpc::experimental::CertificateVerifier> host_name_;
};

// What the channel made for `revocations` depends on: each CA's CRL in use.
std::string RevocationFingerprint(const RevocationSet* revocations) {
  std::string out;
  if (revocations == nullptr) return out;
  for (const auto& [issuer, entry] : revocations->entries()) {
    absl::StrAppend(&out, issuer.size(), ":", issuer, ":",
                    entry.list.this_update_s, ":", entry.list.revoked.size(),
                    ";");
  }
  return out;
}

}  // namespace

PeerClients::PeerClients(NodeContext* context, RevocationSource revocations,
                         PeerKeepalive keepalive)
    : ctx_(context),
      keepalive_(keepalive),
      shared_(std::make_shared<Shared>()) {
  shared_->self = context->self();
  if (revocations == nullptr && context->tls != nullptr) {
    TlsCredentials* tls = context->tls;
    revocations = [tls] { return tls->revocations(); };
  }
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->source = std::move(revocations);
  shared_->seen = context->certificates_seen;
  shared_->clock = context->clock;
}

PeerClients::~PeerClients() {
  // A channel's verifier may run after this (gRPC keeps it with the
  // channel); it must not reach the TlsCredentials of a stopped node.
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->source = nullptr;
  shared_->seen = nullptr;
  shared_->clock = nullptr;
}

std::string PeerClients::RevocationRefusal(const std::string& member) const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  auto it = shared_->refusals.find(member);
  return it == shared_->refusals.end() ? std::string() : it->second;
}

std::shared_ptr<grpc::Channel> PeerClients::NewChannel(
    const std::string& member, const std::string& endpoint,
    const std::string& roots, const TlsIdentity* identity) {
  grpc::experimental::IdentityKeyCertPair pair;
  pair.private_key = identity == nullptr ? ctx_->tls_private_key_pem
                                         : identity->private_key_pem;
  pair.certificate_chain = identity == nullptr ? ctx_->tls_certificate_pem
                                               : identity->certificate_pem;
  auto provider =
      std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          roots, std::vector<grpc::experimental::IdentityKeyCertPair>{pair});
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<
          RevocationVerifier>(member, shared_));
  // The host name is checked by RevocationVerifier (gRPC's own check).
  options.set_check_call_host(false);
  grpc::ChannelArguments args;
  // Fail fast and retry soon when a peer is down, rather than hanging.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Replies sized to the protocol (node/grpc_limits.h).
  args.SetMaxReceiveMessageSize(static_cast<int>(kMaxPeerReplyBytes));
  // A connection gone silent is dropped while calls wait on it
  // (grpc_limits.h, kPeerKeepaliveTimeMs). gRPC 1.51 also spaces pings
  // sent while no data goes out by its own minimum (5 minutes by
  // default), which would hold back exactly these pings.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_.time_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, keepalive_.timeout_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS,
              keepalive_.time_ms);
  return grpc::CreateCustomChannel(
      endpoint, grpc::experimental::TlsCredentials(options), args);
}

absl::StatusOr<std::vector<PeerClients::Link>> PeerClients::Links(
    const std::string& member) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const v1::Member* m = dir->FindMember(member);
  if (m == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(member, " is not a member of the directory"));
  }
  const std::vector<std::string> endpoints = MemberEndpoints(*m);
  std::string roots = absl::StrJoin(m->ca_certificates_pem(), "\n");
  // The identity in use: a reloaded certificate makes new channels (calls
  // on the old one finish on it; gRPC drops it with its last stub).
  std::shared_ptr<const TlsIdentity> identity;
  if (ctx_->tls != nullptr) identity = ctx_->tls->identity();
  std::shared_ptr<const RevocationSet> revocations = shared_->Revocations();
  std::string fingerprint =
      absl::StrCat(absl::StrJoin(endpoints, " "), "\n", roots, "\n",
                   identity == nullptr ? 0 : identity->generation, "\n",
                   RevocationFingerprint(revocations.get()));
  std::lock_guard<std::mutex> lock(mu_);
  Entry& entry = entries_[member];
  if (entry.links.empty() || entry.fingerprint != fingerprint) {
    entry.links.clear();
    for (const std::string& endpoint : endpoints) {
      std::shared_ptr<grpc::Channel> channel =
          NewChannel(member, endpoint, roots, identity.get());
      entry.links.push_back(
          {endpoint, channel,
           std::shared_ptr<v1::Peer::Stub>(v1::Peer::NewStub(channel))});
    }
    entry.fingerprint = std::move(fingerprint);
  }
  return entry.links;
}

}  // namespace cbx::node
