#include "node/peer_service.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "core/identifiers/identifiers.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/directory_store.h"
#include "node/identity.h"
#include "node/log.h"

namespace cbx::node {
namespace {

std::string PurposeText(const v1::Purpose& p) {
  return absl::StrCat(p.case_number(), "|", p.legal_basis(), "|",
                      v1::OffenceCode_Name(p.offence()));
}

}  // namespace

PeerService::PeerService(NodeContext* context, Checkpoints* checkpoints)
    : ctx_(context), checkpoints_(checkpoints) {}

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
  if (!opened.ok()) {
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"from", *caller},
              {"code", absl::StatusCodeToString(opened.status().code())},
              {"reason", std::string(opened.status().message())}});
    return Refuse(rpc, *caller, envelope, opened.status());
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

v1::Envelope PeerService::Reply(const v1::Message& request, v1::Message reply) {
  *reply.mutable_header() = ctx_->NewHeader(request.header().sender(),
                                            /*office=*/"");
  reply.mutable_header()->set_in_reply_to(request.header().message_id());
  return envelope::Seal(reply, *ctx_->signing_key);
}

grpc::Status PeerService::GetDirectory(grpc::ServerContext* context,
                                       const v1::GetDirectoryRequest* request,
                                       v1::GetDirectoryResponse* response) {
  auto caller = CallerMember(*context, *ctx_->directory->Current());
  absl::Status status = caller.status();
  if (caller.ok()) {
    for (v1::SignedDirectory& v :
         ctx_->directory->VersionsAfter(request->since_version())) {
      *response->add_versions() = std::move(v);
    }
  }
  absl::Status logged = ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_RECEIVED, caller.ok() ? *caller : "",
      "Peer.GetDirectory", "get_directory", "", status.code(),
      {static_cast<uint32_t>(response->versions_size()), 0, 0});
  if (!logged.ok()) return ToGrpc(AuditFailure(logged));
  return ToGrpc(status);
}

absl::StatusOr<std::shared_ptr<const PeerService::OwnIndexSnapshot>>
PeerService::Snapshot() {
  auto version = ctx_->storage->OwnIndexVersion();
  if (!version.ok()) return version.status();
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  if (snapshot_ == nullptr || snapshot_->version != *version) {
    auto tags = ctx_->storage->OwnIndexTags();
    if (!tags.ok()) return tags.status();
    auto snap = std::make_shared<OwnIndexSnapshot>();
    snap->version = *version;
    snap->digest = IndexDigest(*tags);
    snap->tags = *std::move(tags);
    snapshot_ = std::move(snap);
  }
  return snapshot_;
}

grpc::Status PeerService::SyncIndex(grpc::ServerContext* context,
                                    const v1::Envelope* request,
                                    grpc::ServerWriter<v1::IndexPart>* writer) {
  auto opened =
      Admit(context, *request, v1::Message::kIndexRequest, "Peer.SyncIndex");
  if (!opened.ok()) return ToGrpc(opened.status());
  const v1::IndexRequest& req = opened->message.index_request();
  auto snap = Snapshot();
  if (!snap.ok()) {
    return Answer("Peer.SyncIndex", *opened, snap.status(), {}, nullptr);
  }
  const uint32_t epoch = ctx_->OprfEpoch();

  v1::Message manifest_msg;
  v1::IndexManifest* manifest = manifest_msg.mutable_index_manifest();
  manifest->set_member(ctx_->self());
  manifest->set_oprf_epoch(epoch);
  manifest->set_version((*snap)->version);
  manifest->set_count((*snap)->tags.size());
  manifest->set_digest((*snap)->digest);

  // A delta only when the caller holds this epoch's index at a version we
  // still have changes for; otherwise the whole index.
  std::vector<Tag> added, removed;
  bool full = true;
  if (req.oprf_epoch() == epoch && req.since_version() > 0 &&
      req.since_version() <= (*snap)->version) {
    auto changes = ctx_->storage->OwnIndexChangesSince(req.since_version());
    if (changes.ok()) {
      full = false;
      // Net effect per tag: the last change wins.
      std::map<Tag, bool> last;
      for (const IndexChange& c : *changes) {
        if (c.version > (*snap)->version) break;
        last[c.tag] = c.added;
      }
      for (const auto& [tag, is_added] : last) {
        (is_added ? added : removed).push_back(tag);
      }
    } else if (changes.status().code() !=
               absl::StatusCode::kFailedPrecondition) {
      return Answer("Peer.SyncIndex", *opened, changes.status(), {}, nullptr);
    }
  }
  manifest->set_full(full);
  manifest->set_from_version(full ? 0 : req.since_version());
  const std::vector<Tag>& to_send = full ? (*snap)->tags : added;

  v1::IndexPart first;
  *first.mutable_manifest() = Reply(opened->message, std::move(manifest_msg));
  grpc::Status logged =
      Answer("Peer.SyncIndex", *opened, absl::OkStatus(),
             {static_cast<uint32_t>(to_send.size() + removed.size()), 0, 0},
             &first.manifest());
  if (!logged.ok()) return logged;
  if (!writer->Write(first)) return grpc::Status::CANCELLED;
  for (size_t i = 0; i < to_send.size() || (i == 0 && !removed.empty());
       i += kTagsPerChunk) {
    v1::IndexPart part;
    size_t end = std::min(to_send.size(), i + kTagsPerChunk);
    part.mutable_chunk()->set_added_tags(PackTags(to_send, i, end));
    if (i == 0) {
      part.mutable_chunk()->set_removed_tags(
          PackTags(removed, 0, removed.size()));
    }
    if (!writer->Write(part)) return grpc::Status::CANCELLED;
  }
  LogEvent(ctx_->self(), "info", "index-sync-served",
           {{"to", opened->message.header().sender()},
            {"full", full ? "yes" : "no"},
            {"version", std::to_string((*snap)->version)},
            {"count", std::to_string((*snap)->tags.size())}});
  return grpc::Status::OK;
}

absl::Status PeerService::DoEvaluate(const envelope::OpenedEnvelope& opened,
                                     v1::Envelope* response,
                                     AuditCounts& counts) {
  const v1::EvaluateRequest& req = opened.message.evaluate_request();
  counts.elements = static_cast<uint32_t>(req.blinded_elements_size());
  const uint32_t epoch = ctx_->OprfEpoch();
  if (req.oprf_epoch() != epoch) {
    return (absl::FailedPreconditionError(absl::StrCat(
        "OPRF epoch ", req.oprf_epoch(), " is not this member's current epoch ",
        epoch, "; refresh the directory")));
  }
  if (req.blinded_elements_size() == 0 ||
      req.blinded_elements_size() > kMaxBatch) {
    return (absl::InvalidArgumentError(
        absl::StrCat("an evaluation batch holds 1 to ", kMaxBatch,
                     " elements, not ", req.blinded_elements_size())));
  }
  std::vector<Bytes> blinded(req.blinded_elements().begin(),
                             req.blinded_elements().end());
  auto evaluated = ctx_->oprf_key->BlindEvaluate(blinded);
  if (!evaluated.ok()) return (evaluated.status());
  v1::Message reply;
  v1::EvaluateResponse* resp = reply.mutable_evaluate_response();
  resp->set_oprf_epoch(epoch);
  for (auto& e : evaluated->evaluated_elements) {
    resp->add_evaluated_elements(std::move(e));
  }
  resp->set_proof(std::move(evaluated->proof));
  *response = Reply(opened.message, std::move(reply));
  LogEvent(ctx_->self(), "info", "evaluated",
           {{"from", opened.message.header().sender()},
            {"office", opened.message.header().office()},
            {"elements", std::to_string(blinded.size())},
            {"purpose", PurposeText(req.purpose())}});
  return absl::OkStatus();
}

absl::Status PeerService::DoResolve(const envelope::OpenedEnvelope& opened,
                                    v1::Envelope* response,
                                    AuditCounts& counts) {
  const v1::Message& msg = opened.message;
  const v1::ResolveRequest& req = msg.resolve_request();
  counts.elements = static_cast<uint32_t>(req.outputs_size());
  if (req.outputs_size() == 0 || req.outputs_size() > kMaxBatch) {
    return (absl::InvalidArgumentError(
        absl::StrCat("a resolve request holds 1 to ", kMaxBatch,
                     " outputs, not ", req.outputs_size())));
  }
  for (int i = 0; i < req.outputs_size(); ++i) {
    if (req.outputs(i).size() != crypto::kOprfOutputSize) {
      // An 8-byte index tag lands here: only a finalized y resolves.
      return (absl::InvalidArgumentError(absl::StrCat(
          "outputs[", i, "] is ", req.outputs(i).size(),
          " bytes; only a finalized 32-byte OPRF output resolves (an index "
          "tag does not)")));
    }
  }
  if (req.oprf_epoch() != ctx_->OprfEpoch()) {
    return (absl::FailedPreconditionError(absl::StrCat(
        "OPRF epoch ", req.oprf_epoch(), " is not this member's current epoch ",
        ctx_->OprfEpoch())));
  }
  std::vector<Bytes> ys(req.outputs().begin(), req.outputs().end());
  auto matches = ctx_->storage->FindByOutputs(ys);
  if (!matches.ok()) return (matches.status());

  std::map<std::string, v1::CaseReference> by_case;
  for (const OutputMatch& m : *matches) {
    auto it = by_case.find(m.case_number);
    if (it == by_case.end()) {
      auto stored = ctx_->storage->GetCase(m.case_number);
      if (!stored.ok()) return (stored.status());
      const v1::Case& c = stored->record;
      v1::CaseReference ref;
      ref.set_case_token(c.case_token());
      ref.set_member(ctx_->self());
      *ref.mutable_offences() = c.offences();
      ref.set_role(c.role());
      ref.set_competent_office(c.office());
      ref.set_contact_point(c.contact_point());
      ref.set_status(c.status());
      ref.set_opened_month(c.opened_month());
      it = by_case.emplace(m.case_number, std::move(ref)).first;
    }
    for (int i = 0; i < req.outputs_size(); ++i) {
      if (req.outputs(i) != m.y) continue;
      v1::MatchedIdentifier* matched = it->second.add_matched();
      matched->set_type(m.identifier.type);
      matched->set_observed_from_ms(m.identifier.observed_from_ms);
      matched->set_observed_to_ms(m.identifier.observed_to_ms);
      matched->set_input_index(i);
    }
  }

  // The link runs both ways: this node's office learns who asked.
  for (const auto& [case_number, ref] : by_case) {
    v1::Notification note;
    note.set_at_ms(ctx_->clock->NowMs());
    note.set_from_member(msg.header().sender());
    note.set_from_office(msg.header().office());
    note.set_case_number(case_number);
    *note.mutable_purpose() = req.purpose();
    absl::Status s = ctx_->storage->AddNotification(note);
    if (!s.ok()) return (s);
  }

  v1::Message reply;
  for (auto& [number, ref] : by_case) {
    *reply.mutable_resolve_response()->add_references() = std::move(ref);
  }
  reply.mutable_resolve_response();
  counts.hits = static_cast<uint32_t>(matches->size());
  counts.references = static_cast<uint32_t>(by_case.size());
  *response = Reply(msg, std::move(reply));
  LogEvent(ctx_->self(), "info", "resolved",
           {{"from", msg.header().sender()},
            {"office", msg.header().office()},
            {"outputs", std::to_string(ys.size())},
            {"cases", std::to_string(by_case.size())},
            {"purpose", PurposeText(req.purpose())}});
  return absl::OkStatus();
}

grpc::Status PeerService::Evaluate(grpc::ServerContext* context,
                                   const v1::Envelope* request,
                                   v1::Envelope* response) {
  auto opened =
      Admit(context, *request, v1::Message::kEvaluateRequest, "Peer.Evaluate");
  if (!opened.ok()) return ToGrpc(opened.status());
  AuditCounts counts;
  absl::Status s = DoEvaluate(*opened, response, counts);
  return Answer("Peer.Evaluate", *opened, s, counts,
                s.ok() ? response : nullptr);
}

grpc::Status PeerService::Resolve(grpc::ServerContext* context,
                                  const v1::Envelope* request,
                                  v1::Envelope* response) {
  auto opened =
      Admit(context, *request, v1::Message::kResolveRequest, "Peer.Resolve");
  if (!opened.ok()) return ToGrpc(opened.status());
  AuditCounts counts;
  absl::Status s = DoResolve(*opened, response, counts);
  return Answer("Peer.Resolve", *opened, s, counts,
                s.ok() ? response : nullptr);
}

grpc::Status PeerService::Answer(std::string_view rpc,
                                 const envelope::OpenedEnvelope& opened,
                                 const absl::Status& status,
                                 const AuditCounts& counts,
                                 const v1::Envelope* reply) {
  absl::Status logged =
      ctx_->audit_trail->Exchange(opened.message.header().sender(), rpc, opened,
                                  status.code(), counts, reply);
  // Log before answer: an exchange the log could not record is not
  // answered.
  if (!logged.ok()) return ToGrpc(AuditFailure(logged));
  return ToGrpc(status);
}

grpc::Status PeerService::AnswerCall(std::string_view rpc,
                                     std::string_view kind,
                                     const std::string& caller,
                                     const absl::Status& status) {
  absl::Status logged = ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_RECEIVED, caller, rpc, kind, "", status.code());
  if (!logged.ok()) return ToGrpc(AuditFailure(logged));
  return ToGrpc(status);
}

grpc::Status PeerService::GetCheckpoint(grpc::ServerContext* context,
                                        const v1::GetCheckpointRequest* request,
                                        v1::GetCheckpointResponse* response) {
  auto caller = CallerMember(*context, *ctx_->directory->Current());
  if (!caller.ok()) {
    return AnswerCall("Peer.GetCheckpoint", "get_checkpoint", "",
                      caller.status());
  }
  absl::Status status = [&]() -> absl::Status {
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
      if (sig.name == AuditOrigin(ctx_->self())) own.signatures.push_back(sig);
    }
    ASSIGN_OR_RETURN(std::string text, note::FormatNote(own));
    response->set_checkpoint(text);
    const uint64_t since = request->since_size();
    if (since > cp.size) {
      return absl::FailedPreconditionError(
          absl::StrCat("this log has ", cp.size,
                       " entries in its latest checkpoint, not ", since));
    }
    if (since > 0 && since < cp.size) {
      ASSIGN_OR_RETURN(auto proof,
                       ctx_->audit->ConsistencyProof(since, cp.size));
      for (Bytes& h : proof) response->add_consistency_proof(std::move(h));
    }
    return absl::OkStatus();
  }();
  if (!status.ok() && status.code() == absl::StatusCode::kDataLoss) {
    status = AuditFailure(status);
  }
  return AnswerCall("Peer.GetCheckpoint", "get_checkpoint", *caller, status);
}

grpc::Status PeerService::AddCosignature(
    grpc::ServerContext* context, const v1::AddCosignatureRequest* request,
    v1::AddCosignatureResponse* response) {
  auto caller = CallerMember(*context, *ctx_->directory->Current());
  if (!caller.ok()) {
    return AnswerCall("Peer.AddCosignature", "add_cosignature", "",
                      caller.status());
  }
  auto count =
      checkpoints_->AcceptCosignature(*caller, request->cosigned_checkpoint());
  if (count.ok()) response->set_cosignatures(*count);
  return AnswerCall("Peer.AddCosignature", "add_cosignature", *caller,
                    count.status());
}

}  // namespace cbx::node
