#include "node/peer_service.h"

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

namespace cbx::node {

PeerService::PeerService(NodeContext* context, Checkpoints* checkpoints)
    : ctx_(context),
      checkpoints_(checkpoints),
      responder_(LookupResponder::Deps{
          .self = context->self(),
          .directory = context->directory.get(),
          .oprf_key = context->oprf_key.get(),
          .signing_keys = context->signing_keys.get(),
          .storage = context->storage.get(),
          .trail = context->audit_trail.get(),
          .clock = context->clock,
      }) {}

absl::StatusOr<envelope::OpenedEnvelope> PeerService::Admit(
    grpc::ServerContext* context, const v1::Envelope& envelope,
    v1::Message::KindCase kind, std::string_view rpc) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  auto caller = CallerMember(*context, *dir);
  if (!caller.ok()) {
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"code", absl::StatusCodeToString(caller.status().code())},
              {"reason", std::string(caller.status().message())}});
    return Refuse(rpc, "", envelope, caller.status());
  }
  StorageQuotaGate quota(ctx_->storage.get(), ctx_->clock,
                         dir->policy().evaluations_per_peer_per_day());
  // Records the message id and charges the quota in one storage write.
  StorageReplayCache replay_cache(ctx_->storage.get(), &quota);
  envelope::OpenOptions options;
  options.directory = dir.get();
  options.receiver = ctx_->self();
  options.authenticated_member = *caller;
  options.accepted_kinds = {kind};
  options.clock = ctx_->clock;
  options.replay_cache = &replay_cache;
  options.quota = &quota;
  auto opened = envelope::Open(envelope, options);
  // What the envelope checks leave to the receiver: the header's office
  // is the sender's, the purpose's text is bounded (node/admission.h).
  absl::Status admitted =
      opened.ok() ? CheckPeerRequest(opened->message) : opened.status();
  if (!admitted.ok()) {
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"from", *caller},
              {"code", absl::StatusCodeToString(admitted.code())},
              {"reason", std::string(admitted.message())}});
    return Refuse(rpc, *caller, envelope, admitted);
  }
  return opened;
}

absl::Status PeerService::Refuse(std::string_view rpc,
                                 const std::string& caller,
                                 const v1::Envelope& envelope,
                                 const absl::Status& refusal) {
  absl::Status logged = ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_RECEIVED, caller, rpc, envelope, refusal.code());
  return logged.ok() ? refusal : AuditFailure(logged);
}

grpc::Status PeerService::Respond(grpc::ServerContext* context,
                                  const v1::Envelope& request,
                                  v1::Message::KindCase kind,
                                  std::string_view rpc, v1::Envelope* response,
                                  RespondFn respond) {
  auto opened = Admit(context, request, kind, rpc);
  if (!opened.ok()) return ToGrpc(opened.status());
  absl::StatusOr<v1::Envelope> answer = (responder_.*respond)(*opened);
  if (!answer.ok()) return ToGrpc(answer.status());
  *response = *std::move(answer);
  return grpc::Status::OK;
}

grpc::Status PeerService::Evaluate(grpc::ServerContext* context,
                                   const v1::Envelope* request,
                                   v1::Envelope* response) {
  return Respond(context, *request, v1::Message::kEvaluateRequest,
                 "Peer.Evaluate", response, &LookupResponder::Evaluate);
}

grpc::Status PeerService::Resolve(grpc::ServerContext* context,
                                  const v1::Envelope* request,
                                  v1::Envelope* response) {
  return Respond(context, *request, v1::Message::kResolveRequest,
                 "Peer.Resolve", response, &LookupResponder::Resolve);
}

grpc::Status PeerService::SyncIndex(grpc::ServerContext* context,
                                    const v1::Envelope* request,
                                    grpc::ServerWriter<v1::IndexPart>* writer) {
  auto opened =
      Admit(context, *request, v1::Message::kIndexRequest, "Peer.SyncIndex");
  if (!opened.ok()) return ToGrpc(opened.status());
  absl::StatusOr<IndexAnswer> answer = responder_.SyncIndex(*opened);
  if (!answer.ok()) return ToGrpc(answer.status());
  if (!writer->Write(answer->manifest) ||
      !answer->WriteChunks(
          [&](const v1::IndexPart& part) { return writer->Write(part); })) {
    return grpc::Status::CANCELLED;
  }
  LogEvent(ctx_->self(), "info", "index-sync-served",
           {{"to", opened->message.header().sender()},
            {"full", answer->full ? "yes" : "no"},
            {"version", std::to_string(answer->snapshot->version)},
            {"count", std::to_string(answer->snapshot->tags.size())}});
  return grpc::Status::OK;
}

grpc::Status PeerService::Called(
    grpc::ServerContext* context, std::string_view rpc, std::string_view kind,
    const std::function<absl::Status(const std::string&)>& body,
    AuditCounts* counts) {
  auto caller = CallerMember(*context, *ctx_->directory->Current());
  absl::Status status = caller.status();
  if (caller.ok()) status = body(*caller);
  absl::Status logged = ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_RECEIVED, caller.ok() ? *caller : "", rpc, kind, "",
      status.code(), counts == nullptr ? AuditCounts{} : *counts);
  return ToGrpc(logged.ok() ? status : AuditFailure(logged));
}

grpc::Status PeerService::GetDirectory(grpc::ServerContext* context,
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
      &counts);
}

grpc::Status PeerService::GetCheckpoint(grpc::ServerContext* context,
                                        const v1::GetCheckpointRequest* request,
                                        v1::GetCheckpointResponse* response) {
  return Called(context, "Peer.GetCheckpoint", "get_checkpoint",
                [&](const std::string&) {
                  absl::Status status = ServeCheckpoint(*request, response);
                  return status.code() == absl::StatusCode::kDataLoss
                             ? AuditFailure(status)
                             : status;
                });
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
  // Only the node's own signature: witnesses vouch for themselves.
  note::Note own{note.text, {}};
  for (const note::Signature& sig : note.signatures) {
    if (sig.name == logcheck::LogOrigin(ctx_->self()))
      own.signatures.push_back(sig);
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
    grpc::ServerContext* context, const v1::AddCosignatureRequest* request,
    v1::AddCosignatureResponse* response) {
  return Called(context, "Peer.AddCosignature", "add_cosignature",
                [&](const std::string& caller) -> absl::Status {
                  ASSIGN_OR_RETURN(uint32_t count,
                                   checkpoints_->AcceptCosignature(
                                       caller, request->cosigned_checkpoint()));
                  response->set_cosignatures(count);
                  return absl::OkStatus();
                });
}

}  // namespace cbx::node
