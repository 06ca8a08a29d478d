#include "node/peer_service.h"

#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/identifiers/identifiers.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/admission.h"
#include "node/directory_store.h"
#include "node/identity.h"
#include "node/log.h"
#include "node/tls_credentials.h"

namespace cbx::node {

using grpc_calls::ServerStreamingMethod;
using grpc_calls::UnaryMethod;

PeerService::PeerService(NodeContext* context, Checkpoints* checkpoints)
    : ctx_(context),
      checkpoints_(checkpoints),
      responder_(LookupResponder::Deps{
          .self = context->self(),
          .directory = context->directory.get(),
          .oprf_key = context->oprf_key.get(),
          .oprf_keys = context->oprf_keys.get(),
          .signing_keys = context->signing_keys.get(),
          .storage = context->storage.get(),
          .trail = context->audit_trail.get(),
          .clock = context->clock,
      }) {
  // The generated service's methods, in its order.
  AddMethod(UnaryMethod("/cbx.v1.Peer/GetDirectory", this,
                        &PeerService::GetDirectory));
  AddMethod(ServerStreamingMethod("/cbx.v1.Peer/SyncIndex", this,
                                  &PeerService::SyncIndex));
  AddMethod(UnaryMethod("/cbx.v1.Peer/Evaluate", this, &PeerService::Evaluate));
  AddMethod(UnaryMethod("/cbx.v1.Peer/Resolve", this, &PeerService::Resolve));
  AddMethod(UnaryMethod("/cbx.v1.Peer/GetCheckpoint", this,
                        &PeerService::GetCheckpoint));
  AddMethod(UnaryMethod("/cbx.v1.Peer/AddCosignature", this,
                        &PeerService::AddCosignature));
  AddMethod(
      UnaryMethod("/cbx.v1.Peer/Cooperate", this, &PeerService::Cooperate));
  AddMethod(UnaryMethod("/cbx.v1.Peer/Withdraw", this, &PeerService::Withdraw));
}

absl::Status NotAnEnvelope() {
  return absl::InvalidArgumentError("request is not a cbx Envelope");
}

absl::StatusOr<envelope::OpenedEnvelope> PeerService::Admit(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* envelope,
    v1::Message::KindCase kind, std::string_view rpc,
    v1::Message::KindCase also, std::optional<crypto::DecodedBatch>* decoded) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  if (!caller.ok()) return Refuse(rpc, "", envelope, caller.status());
  if (envelope == nullptr) {
    return Refuse(rpc, *caller, nullptr, NotAnEnvelope());
  }
  StorageQuotaGate quota(ctx_->storage.get(), ctx_->clock,
                         dir->policy().evaluations_per_peer_per_day());
  // The receiver's stateless checks come before the charge
  // (spec/lookup.md §3): a batch refused for its office, purpose, epoch,
  // size or points spends no quota.
  quota.set_precheck(
      [this, decoded](const v1::Message& message) -> absl::Status {
        RETURN_IF_ERROR(CheckPeerRequest(message));
        if (message.kind_case() != v1::Message::kEvaluateRequest) {
          return absl::OkStatus();
        }
        RETURN_IF_ERROR(
            responder_.CheckEpoch(message.evaluate_request().oprf_epoch()));
        if (decoded == nullptr) {
          return CheckEvaluateRequest(message.evaluate_request(),
                                      /*decode_points=*/true);
        }
        absl::StatusOr<crypto::DecodedBatch> batch =
            DecodeEvaluateRequest(message.evaluate_request());
        if (!batch.ok()) return batch.status();
        decoded->emplace(*std::move(batch));
        return absl::OkStatus();
      });
  // Records the message id and charges the quota in one storage write.
  StorageReplayCache replay_cache(ctx_->storage.get(), &quota);
  envelope::OpenOptions options;
  options.directory = dir.get();
  options.receiver = ctx_->self();
  options.authenticated_member = *caller;
  options.accepted_kinds = {kind};
  if (also != v1::Message::KIND_NOT_SET) options.accepted_kinds.push_back(also);
  options.clock = ctx_->clock;
  options.replay_cache = &replay_cache;
  options.quota = &quota;
  auto opened = envelope::Open(*envelope, options);
  // What the envelope checks leave to the receiver: the header's office
  // is the sender's, the purpose's text is bounded (node/admission.h).
  absl::Status admitted =
      opened.ok() ? CheckPeerRequest(opened->message) : opened.status();
  if (!admitted.ok()) return Refuse(rpc, *caller, envelope, admitted);
  return opened;
}

absl::Status PeerService::Refuse(std::string_view rpc,
                                 const std::string& caller,
                                 const v1::Envelope* envelope,
                                 const absl::Status& refusal) {
  // Beyond the caller's budget the refusal is only counted
  // (node/refusal_budget.h); FlushSummaries writes the count.
  if (!budget_.Admit(caller, rpc, refusal.code(), ctx_->clock->NowMs())) {
    return refusal;
  }
  const std::string code = absl::StatusCodeToString(refusal.code());
  if (caller.empty()) {  // the identity layer's refusal: no member
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"code", code},
              {"reason", std::string(refusal.message())}});
  } else {
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"from", caller},
              {"code", code},
              {"reason", std::string(refusal.message())}});
  }
  // A body that is not an Envelope is logged as a call of kind
  // "not_an_envelope" (spec/audit-log.md §2.1): there is nothing to hash.
  absl::Status logged =
      envelope == nullptr
          ? ctx_->audit_trail->Call(v1::AUDIT_DIRECTION_RECEIVED, caller, rpc,
                                    "not_an_envelope", "", refusal.code())
          : ctx_->audit_trail->Envelope(v1::AUDIT_DIRECTION_RECEIVED, caller,
                                        rpc, *envelope, refusal.code());
  return logged.ok() ? refusal : AuditFailure(logged);
}

absl::StatusOr<v1::Envelope> PeerService::Respond(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* request,
    v1::Message::KindCase kind, std::string_view rpc, RespondFn respond) {
  ASSIGN_OR_RETURN(envelope::OpenedEnvelope opened,
                   Admit(caller, request, kind, rpc));
  return (responder_.*respond)(opened);
}

absl::StatusOr<v1::Envelope> PeerService::EvaluateAs(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* request) {
  // The points the quota gate decodes are evaluated as decoded.
  std::optional<crypto::DecodedBatch> decoded;
  ASSIGN_OR_RETURN(envelope::OpenedEnvelope opened,
                   Admit(caller, request, v1::Message::kEvaluateRequest,
                         "Peer.Evaluate", v1::Message::KIND_NOT_SET, &decoded));
  return responder_.Evaluate(opened, decoded.has_value() ? &*decoded : nullptr);
}

absl::StatusOr<v1::Envelope> PeerService::ResolveAs(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* request) {
  return Respond(caller, request, v1::Message::kResolveRequest, "Peer.Resolve",
                 &LookupResponder::Resolve);
}

absl::StatusOr<v1::Envelope> PeerService::CooperateAs(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* request) {
  if (cooperation_ == nullptr) {
    return absl::UnimplementedError("this node does not cooperate yet");
  }
  ASSIGN_OR_RETURN(envelope::OpenedEnvelope opened,
                   Admit(caller, request, v1::Message::kCooperationRequest,
                         kCooperateRpc, v1::Message::kCooperationResponse));
  return cooperation_->Receive(opened, *request);
}

grpc::Status PeerService::Cooperate(grpc::ServerContextBase* context,
                                    const ReceivedEnvelope* request,
                                    v1::Envelope* response) {
  absl::StatusOr<v1::Envelope> reply = CooperateAs(
      Identify(*context), request->parsed ? &request->message : nullptr);
  if (!reply.ok()) return ToGrpc(reply.status());
  *response = *std::move(reply);
  return grpc::Status::OK;
}

absl::StatusOr<v1::Envelope> PeerService::WithdrawAs(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* request) {
  if (withdrawals_ == nullptr) {
    return absl::UnimplementedError("this node takes no withdrawals yet");
  }
  ASSIGN_OR_RETURN(
      envelope::OpenedEnvelope opened,
      Admit(caller, request, v1::Message::kWithdrawal, kWithdrawRpc));
  return withdrawals_->Receive(opened, *request);
}

grpc::Status PeerService::Withdraw(grpc::ServerContextBase* context,
                                   const ReceivedEnvelope* request,
                                   v1::Envelope* response) {
  absl::StatusOr<v1::Envelope> reply = WithdrawAs(
      Identify(*context), request->parsed ? &request->message : nullptr);
  if (!reply.ok()) return ToGrpc(reply.status());
  *response = *std::move(reply);
  return grpc::Status::OK;
}

grpc::Status PeerService::Evaluate(grpc::ServerContextBase* context,
                                   const ReceivedEnvelope* request,
                                   v1::Envelope* response) {
  absl::StatusOr<v1::Envelope> reply = EvaluateAs(
      Identify(*context), request->parsed ? &request->message : nullptr);
  if (!reply.ok()) return ToGrpc(reply.status());
  *response = *std::move(reply);
  return grpc::Status::OK;
}

grpc::Status PeerService::Resolve(grpc::ServerContextBase* context,
                                  const ReceivedEnvelope* request,
                                  v1::Envelope* response) {
  absl::StatusOr<v1::Envelope> reply = ResolveAs(
      Identify(*context), request->parsed ? &request->message : nullptr);
  if (!reply.ok()) return ToGrpc(reply.status());
  *response = *std::move(reply);
  return grpc::Status::OK;
}

grpc::Status PeerService::SyncIndex(
    grpc::ServerContextBase* context, const ReceivedEnvelope* request,
    grpc::internal::WriterInterface<v1::IndexPart>* writer) {
  return ToGrpc(SyncIndexAs(
      Identify(*context), request->parsed ? &request->message : nullptr,
      [writer](const v1::IndexPart& part) { return writer->Write(part); }));
}

absl::Status PeerService::SyncIndexAs(
    const absl::StatusOr<std::string>& caller, const v1::Envelope* request,
    const std::function<bool(const v1::IndexPart&)>& write) {
  constexpr std::string_view kRpc = "Peer.SyncIndex";
  if (caller.ok() && !index_syncs_.Admit(*caller, kRpc, absl::StatusCode::kOk,
                                         ctx_->clock->NowMs())) {
    return Refuse(kRpc, *caller, request,
                  absl::ResourceExhaustedError(absl::StrCat(
                      "more than ", RefusalBudget::kIndexSyncsPerWindow,
                      " SyncIndex calls in a minute from ", *caller,
                      "; a node syncs an index at most every 100 ms")));
  }
  ASSIGN_OR_RETURN(envelope::OpenedEnvelope opened,
                   Admit(caller, request, v1::Message::kIndexRequest, kRpc));
  ASSIGN_OR_RETURN(IndexAnswer answer, responder_.SyncIndex(opened, [&] {
    return whole_indexes_.Admit(*caller, kRpc, absl::StatusCode::kOk,
                                ctx_->clock->NowMs());
  }));
  if (!write(answer.manifest) || !answer.WriteChunks(write)) {
    return absl::CancelledError("the index stream broke");
  }
  LogEvent(ctx_->self(), "debug", "index-sync-served",
           {{"to", opened.message.header().sender()},
            {"full", answer.full ? "yes" : "no"},
            {"version", std::to_string(answer.snapshot->version)},
            {"count", std::to_string(answer.snapshot->tags.size())}});
  return absl::OkStatus();
}

absl::StatusOr<std::string> PeerService::Identify(
    const grpc::ServerContextBase& context) {
  // Revocation, on every call (node/tls_credentials.h): the port's TLS is
  // the node's own front (node/tls_front.h), which does not consult CRLs.
  if (ctx_->tls != nullptr) RETURN_IF_ERROR(ctx_->tls->CheckCaller(context));
  absl::StatusOr<std::string> caller =
      CallerMember(context, *ctx_->directory->Current());
  if (caller.ok()) {
    // CallerMember succeeded, so there is a certificate.
    absl::StatusOr<std::string> pem = CallerCertificatePem(context);
    if (pem.ok()) {
      ctx_->certificates_seen->Record(*caller, CertificatesSeen::Side::kClient,
                                      *pem, ctx_->clock->NowMs());
    }
  }
  return caller;
}

grpc::Status PeerService::Called(
    grpc::ServerContextBase* context, std::string_view rpc,
    std::string_view kind,
    const std::function<absl::Status(const std::string&)>& body,
    AuditCounts* counts, const bool& read_only) {
  return ToGrpc(
      CalledAs(Identify(*context), rpc, kind, body, counts, read_only));
}

absl::Status PeerService::CalledAs(
    const absl::StatusOr<std::string>& caller, std::string_view rpc,
    std::string_view kind,
    const std::function<absl::Status(const std::string&)>& body,
    AuditCounts* counts, const bool& read_only) {
  absl::Status status = caller.status();
  if (caller.ok()) status = body(*caller);
  // A refusal, or the answer of a call that changes nothing, beyond the
  // caller's budget is only counted (node/refusal_budget.h).
  RefusalBudget& budget = status.ok() ? reads_ : budget_;
  if ((!status.ok() || read_only) &&
      !budget.Admit(caller.ok() ? *caller : "", rpc, status.code(),
                    ctx_->clock->NowMs())) {
    return status;
  }
  absl::Status logged = ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_RECEIVED, caller.ok() ? *caller : "", rpc, kind, "",
      status.code(), counts == nullptr ? AuditCounts{} : *counts);
  return logged.ok() ? status : AuditFailure(logged);
}

grpc::Status PeerService::GetDirectory(grpc::ServerContextBase* context,
                                       const v1::GetDirectoryRequest* request,
                                       v1::GetDirectoryResponse* response) {
  AuditCounts counts;
  return Called(
      context, "Peer.GetDirectory", "get_directory",
      [&](const std::string&) {
        for (v1::SignedDirectory& v :
             ctx_->directory->VersionsAfter(request->since_version())) {
          *response->add_versions() = std::move(v);
        }
        counts.elements = static_cast<uint32_t>(response->versions_size());
        return absl::OkStatus();
      },
      &counts, /*read_only=*/true);
}

void PeerService::FlushSummaries() {
  const int64_t now_ms = ctx_->clock->NowMs();
  std::vector<RefusalBudget::Summary> ended = budget_.TakeEnded(now_ms);
  for (RefusalBudget::Summary& s : reads_.TakeEnded(now_ms)) {
    ended.push_back(std::move(s));
  }
  // The calls beyond these two were refused, and those refusals counted
  // in budget_: their own counts are only dropped.
  (void)index_syncs_.TakeEnded(now_ms);
  (void)whole_indexes_.TakeEnded(now_ms);
  for (const RefusalBudget::Summary& s : ended) {
    const std::string calls = std::to_string(s.calls);
    LogEvent(ctx_->self(), "warn", "calls-summarized",
             {{"rpc", s.rpc},
              {"from", s.caller},
              {"code", absl::StatusCodeToString(s.code)},
              {"calls", calls},
              {"window_start_ms", std::to_string(s.window_start_ms)}});
    AuditCounts counts;
    counts.calls = s.calls;
    absl::Status logged =
        ctx_->audit_trail->Call(v1::AUDIT_DIRECTION_RECEIVED, s.caller, s.rpc,
                                "summarized_calls", "", s.code, counts);
    if (!logged.ok()) {
      // The line above keeps the count; the log says why it is not in the
      // audit log.
      LogEvent(ctx_->self(), "error", "calls-summary-not-logged",
               {{"rpc", s.rpc},
                {"from", s.caller},
                {"calls", calls},
                {"reason", std::string(logged.message())}});
    }
  }
}

absl::Status PeerService::RefuseSuspended(const std::string& caller) const {
  // spec/directory.md §6: a suspended member neither witnesses nor is
  // witnessed; like its envelopes (check 7), its calls are PERMISSION_DENIED.
  // GetDirectory stays open to it, so that it learns of its reactivation.
  if (ctx_->directory->Current()->IsActive(caller)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("caller ", caller, " is suspended"));
}

grpc::Status PeerService::GetCheckpoint(grpc::ServerContextBase* context,
                                        const v1::GetCheckpointRequest* request,
                                        v1::GetCheckpointResponse* response) {
  return ToGrpc(GetCheckpointAs(Identify(*context), *request, response));
}

absl::Status PeerService::GetCheckpointAs(
    const absl::StatusOr<std::string>& caller,
    const v1::GetCheckpointRequest& request,
    v1::GetCheckpointResponse* response) {
  return CalledAs(
      caller, "Peer.GetCheckpoint", "get_checkpoint",
      [&](const std::string& caller) {
        RETURN_IF_ERROR(RefuseSuspended(caller));
        absl::Status status = ServeCheckpoint(request, response);
        return status.code() == absl::StatusCode::kDataLoss
                   ? AuditFailure(status)
                   : status;
      },
      nullptr, /*read_only=*/true);
}

absl::Status PeerService::ServeCheckpoint(
    const v1::GetCheckpointRequest& request,
    v1::GetCheckpointResponse* response) {
  // The timer's latest checkpoint, so that every witness cosigns the
  // same one; a first one if the log has none yet.
  RETURN_IF_ERROR(ctx_->audit_trail->Health());
  auto found = ctx_->audit->LatestCheckpoint();
  if (found.status().code() == absl::StatusCode::kNotFound) {
    RETURN_IF_ERROR(checkpoints_->MaybeCheckpoint(/*force=*/true));
    found = ctx_->audit->LatestCheckpoint();
  }
  ASSIGN_OR_RETURN(std::string latest, found);
  ASSIGN_OR_RETURN(note::Note note, note::ParseNote(latest));
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpoint(note.text));
  // Only the node's own signature, under the origin of the log's current
  // generation (spec/audit-log.md §12): witnesses vouch for themselves.
  const std::string origin =
      logcheck::LogOrigin(ctx_->self(), ctx_->audit_generation);
  note::Note own{note.text, {}};
  for (const note::Signature& sig : note.signatures) {
    if (sig.name == origin) own.signatures.push_back(sig);
  }
  ASSIGN_OR_RETURN(std::string text, note::FormatNote(own));
  response->set_checkpoint(text);
  const uint64_t since = request.since_size();
  if (since > cp.size) {
    return absl::FailedPreconditionError(
        absl::StrCat("this log has ", cp.size,
                     " entries in its latest checkpoint, not ", since));
  }
  if (since > 0 && since < cp.size) {
    ASSIGN_OR_RETURN(auto proof, ctx_->audit->ConsistencyProof(since, cp.size));
    for (Bytes& h : proof) response->add_consistency_proof(std::move(h));
  }
  return absl::OkStatus();
}

grpc::Status PeerService::AddCosignature(
    grpc::ServerContextBase* context, const v1::AddCosignatureRequest* request,
    v1::AddCosignatureResponse* response) {
  return ToGrpc(AddCosignatureAs(Identify(*context), *request, response));
}

absl::Status PeerService::AddCosignatureAs(
    const absl::StatusOr<std::string>& caller,
    const v1::AddCosignatureRequest& request,
    v1::AddCosignatureResponse* response) {
  // Read by CalledAs once the body has run.
  bool repeated = false;
  return CalledAs(
      caller, "Peer.AddCosignature", "add_cosignature",
      [&](const std::string& witness) -> absl::Status {
        bool changed = false;
        RETURN_IF_ERROR(RefuseSuspended(witness));
        ASSIGN_OR_RETURN(uint32_t count,
                         checkpoints_->AcceptCosignature(
                             witness, request.cosigned_checkpoint(), &changed));
        repeated = !changed;
        response->set_cosignatures(count);
        return absl::OkStatus();
      },
      nullptr, repeated);
}

}  // namespace cbx::node
