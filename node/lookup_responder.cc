#include "node/lookup_responder.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "core/util/status_macros.h"
#include "node/grpc_status.h"
#include "node/log.h"
#include "node/log_before_effect.h"
#include "node/refusal_budget.h"
#include "node/tag_index.h"

namespace cbx::node {
namespace {

constexpr char kEvaluate[] = "Peer.Evaluate";
constexpr char kResolve[] = "Peer.Resolve";
constexpr char kSyncIndex[] = "Peer.SyncIndex";

std::string PurposeText(const v1::Purpose& p) {
  return absl::StrCat(p.case_number(), "|", p.legal_basis(), "|",
                      v1::OffenceCode_Name(p.offence()));
}

v1::CaseReference ReferenceTo(const v1::Case& c, const std::string& self) {
  v1::CaseReference ref;
  ref.set_case_token(c.case_token());
  ref.set_member(self);
  *ref.mutable_offences() = c.offences();
  ref.set_role(c.role());
  ref.set_competent_office(c.office());
  ref.set_contact_point(c.contact_point());
  ref.set_status(c.status());
  ref.set_opened_month(c.opened_month());
  return ref;
}

// The references of the cases `matches` name, by case number, each with
// the request's outputs that matched it.
absl::StatusOr<std::map<std::string, v1::CaseReference>> References(
    StorageTransaction& txn, const std::string& self,
    const std::vector<Bytes>& ys, const std::vector<OutputMatch>& matches) {
  std::map<std::string, v1::CaseReference> by_case;
  for (const OutputMatch& m : matches) {
    auto it = by_case.find(m.case_number);
    if (it == by_case.end()) {
      ASSIGN_OR_RETURN(StoredCase stored, txn.GetCase(m.case_number));
      it = by_case.emplace(m.case_number, ReferenceTo(stored.record, self))
               .first;
    }
    for (size_t i = 0; i < ys.size(); ++i) {
      if (ys[i] != m.y) continue;
      v1::MatchedIdentifier* matched = it->second.add_matched();
      matched->set_type(m.identifier.type);
      matched->set_observed_from_ms(m.identifier.observed_from_ms);
      matched->set_observed_to_ms(m.identifier.observed_to_ms);
      matched->set_input_index(static_cast<uint32_t>(i));
    }
  }
  return by_case;
}

}  // namespace

absl::Status CheckEvaluateRequest(const v1::EvaluateRequest& req,
                                  bool decode_points) {
  if (req.blinded_elements_size() == 0 ||
      req.blinded_elements_size() > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("an evaluation batch holds 1 to ", kMaxBatch,
                     " elements, not ", req.blinded_elements_size()));
  }
  if (!decode_points) return absl::OkStatus();
  return DecodeEvaluateRequest(req).status();
}

absl::StatusOr<crypto::DecodedBatch> DecodeEvaluateRequest(
    const v1::EvaluateRequest& req) {
  RETURN_IF_ERROR(CheckEvaluateRequest(req, false));
  absl::StatusOr<crypto::DecodedBatch> decoded = crypto::DecodedBatch::Decode(
      {req.blinded_elements().begin(), req.blinded_elements().end()});
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("blinded_elements: ", decoded.status().message()));
  }
  return decoded;
}

bool IndexAnswer::WriteChunks(
    const std::function<bool(const v1::IndexPart&)>& write) const {
  const std::vector<Tag>& to_send = TagsToSend();
  for (size_t i = 0; i < to_send.size() || (i == 0 && !removed.empty());
       i += kTagsPerChunk) {
    v1::IndexPart part;
    size_t end = std::min(to_send.size(), i + kTagsPerChunk);
    part.mutable_chunk()->set_added_tags(PackTags(to_send, i, end));
    if (i == 0) {
      part.mutable_chunk()->set_removed_tags(
          PackTags(removed, 0, removed.size()));
    }
    if (!write(part)) return false;
  }
  return true;
}

uint32_t LookupResponder::OprfEpoch() const {
  const v1::Member* me = d_.directory->Current()->FindMember(d_.self);
  return me == nullptr ? 0 : me->oprf_key().epoch();
}

uint32_t LookupResponder::ServedEpoch() const {
  return d_.oprf_keys != nullptr ? d_.oprf_keys->epoch() : OprfEpoch();
}

absl::StatusOr<OprfKeys::ForRequest> LookupResponder::KeyFor(
    uint32_t epoch) const {
  const uint32_t directory_epoch = OprfEpoch();
  if (d_.oprf_keys != nullptr) {
    return d_.oprf_keys->ForEpoch(epoch, directory_epoch, d_.clock->NowMs());
  }
  if (epoch != directory_epoch) {
    return absl::FailedPreconditionError(absl::StrCat(
        "OPRF epoch ", epoch, " is not this member's current epoch ",
        directory_epoch, "; refresh the directory"));
  }
  // Not owned: the Deps' key outlives the responder.
  return OprfKeys::ForRequest{OprfKeys::Key(OprfKeys::Key(), d_.oprf_key),
                              false};
}

absl::StatusOr<v1::Envelope> LookupResponder::Reply(const v1::Message& request,
                                                    v1::Message reply) const {
  const int64_t lifetime_ms =
      static_cast<int64_t>(
          d_.directory->Current()->policy().max_message_lifetime_s()) *
      1000;
  *reply.mutable_header() = envelope::MakeHeader(
      d_.self, {request.header().sender()}, *d_.clock, lifetime_ms);
  reply.mutable_header()->set_in_reply_to(request.header().message_id());
  return d_.signing_keys->Seal(reply);
}

absl::Status LookupResponder::Answer(std::string_view rpc,
                                     const envelope::OpenedEnvelope& opened,
                                     const absl::Status& status,
                                     const AuditCounts& counts,
                                     const v1::Envelope* reply) {
  absl::Status logged =
      d_.trail->Exchange(opened.message.header().sender(), rpc, opened,
                         status.code(), counts, reply);
  // Log before answer: an exchange the log could not record is not
  // answered.
  return logged.ok() ? status : AuditFailure(logged);
}

absl::StatusOr<v1::Envelope> LookupResponder::Evaluate(
    const envelope::OpenedEnvelope& opened,
    const crypto::DecodedBatch* decoded) {
  const v1::EvaluateRequest& req = opened.message.evaluate_request();
  AuditCounts counts;
  counts.elements = static_cast<uint32_t>(req.blinded_elements_size());
  absl::StatusOr<OprfKeys::ForRequest> key = KeyFor(req.oprf_epoch());
  if (!key.ok())
    return Answer(kEvaluate, opened, key.status(), counts, nullptr);
  // The points are decoded by BlindEvaluate itself, or were by
  // PeerService's quota gate before charging (`decoded`).
  if (absl::Status s = CheckEvaluateRequest(req, false); !s.ok()) {
    return Answer(kEvaluate, opened, s, counts, nullptr);
  }
  std::vector<Bytes> blinded(req.blinded_elements().begin(),
                             req.blinded_elements().end());
  auto evaluated = decoded != nullptr && decoded->elements() == blinded
                       ? key->key->BlindEvaluate(*decoded)
                       : key->key->BlindEvaluate(blinded);
  if (!evaluated.ok()) {
    return Answer(kEvaluate, opened, evaluated.status(), counts, nullptr);
  }
  v1::Message reply;
  v1::EvaluateResponse* resp = reply.mutable_evaluate_response();
  resp->set_oprf_epoch(req.oprf_epoch());
  for (auto& e : evaluated->evaluated_elements) {
    resp->add_evaluated_elements(std::move(e));
  }
  resp->set_proof(std::move(evaluated->proof));
  // Either form is taken (spec/oprf.md §1): the querier may send the
  // uncompressed one from its next request on.
  resp->set_uncompressed_accepted(true);
  absl::StatusOr<v1::Envelope> sealed = Reply(opened.message, std::move(reply));
  if (!sealed.ok()) {
    return Answer(kEvaluate, opened, sealed.status(), counts, nullptr);
  }
  LogEvent(d_.self, "info", "evaluated",
           {{"from", opened.message.header().sender()},
            {"office", opened.message.header().office()},
            {"elements", std::to_string(blinded.size())},
            {"purpose", PurposeText(req.purpose())}});
  RETURN_IF_ERROR(
      Answer(kEvaluate, opened, absl::OkStatus(), counts, &*sealed));
  return sealed;
}

absl::Status LookupResponder::CheckResolve(const v1::ResolveRequest& req,
                                           bool* previous) const {
  if (req.outputs_size() == 0 || req.outputs_size() > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("a resolve request holds 1 to ", kMaxBatch,
                     " outputs, not ", req.outputs_size()));
  }
  for (int i = 0; i < req.outputs_size(); ++i) {
    if (req.outputs(i).size() != crypto::kOprfOutputSize) {
      // An 8-byte index tag lands here: only a finalized y resolves.
      return absl::InvalidArgumentError(absl::StrCat(
          "outputs[", i, "] is ", req.outputs(i).size(),
          " bytes; only a finalized 32-byte OPRF output resolves (an index "
          "tag does not)"));
    }
  }
  // A repeated output is refused, not answered twice (spec/lookup.md §4):
  // each output is one input of the querier's.
  std::unordered_map<std::string_view, int> first;
  for (int j = 0; j < req.outputs_size(); ++j) {
    auto [it, inserted] = first.emplace(req.outputs(j), j);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("outputs[", j, "] repeats outputs[", it->second, "]"));
    }
  }
  ASSIGN_OR_RETURN(OprfKeys::ForRequest key, KeyFor(req.oprf_epoch()));
  *previous = key.previous;
  return absl::OkStatus();
}

absl::Status LookupResponder::ChargeResolve(StorageTransaction& txn,
                                            const std::string& sender,
                                            uint32_t outputs) const {
  const uint32_t limit =
      directory::ResolvesPerPeerPerDay(d_.directory->Current()->policy());
  const int64_t day = d_.clock->NowMs() / 86'400'000;
  auto charged =
      txn.ChargeQuota(ResolveQuotaAccount(sender), day, outputs, limit);
  if (charged.status().code() == absl::StatusCode::kResourceExhausted) {
    return absl::ResourceExhaustedError(
        absl::StrCat("member ", sender, " has used its quota of ", limit,
                     " resolve outputs for today (UTC); this request asked "
                     "for ",
                     outputs));
  }
  return charged.status();
}

absl::Status LookupResponder::HoldingEpoch(
    const std::function<absl::Status()>& f) const {
  if (d_.oprf_keys == nullptr) return f();
  return d_.oprf_keys->WithCurrent(
      [&](const crypto::OprfServerKey&, uint32_t) { return f(); });
}

absl::StatusOr<v1::Envelope> LookupResponder::Resolve(
    const envelope::OpenedEnvelope& opened) {
  // The epoch check and the match against the stored outputs must see the
  // same side of a key switch: a request for the epoch just left would
  // otherwise be matched against the new outputs and silently miss.
  absl::StatusOr<v1::Envelope> out;
  (void)HoldingEpoch([&] {
    out = ResolveHeld(opened);
    return absl::OkStatus();
  });
  return out;
}

// Over 80 lines on purpose: one storage transaction (log before
// effect): quota, lookup, notification and audit entry must stay in it.
absl::StatusOr<v1::Envelope> LookupResponder::ResolveHeld(
    const envelope::OpenedEnvelope& opened) {
  const v1::Message& msg = opened.message;
  const v1::ResolveRequest& req = msg.resolve_request();
  const std::string& sender = msg.header().sender();
  AuditCounts counts;
  counts.elements = static_cast<uint32_t>(req.outputs_size());
  bool previous = false;
  if (absl::Status s = CheckResolve(req, &previous); !s.ok()) {
    return Answer(kResolve, opened, s, counts, nullptr);
  }
  std::vector<Bytes> ys(req.outputs().begin(), req.outputs().end());
  if (previous) {
    // The grace window: the previous epoch's outputs stand for the
    // current outputs of the same identifiers (none for one added since).
    absl::StatusOr<std::vector<Bytes>> translated =
        d_.storage->TranslatePreviousOutputs(ys);
    if (!translated.ok()) {
      return Answer(kResolve, opened, translated.status(), counts, nullptr);
    }
    ys = *std::move(translated);
  }
  v1::Envelope sealed;
  size_t cases = 0;
  // Reads, notifications and the exchange's entry in one transaction: the
  // office sees a notification only once the exchange is logged.
  auto change = [&](StorageTransaction& txn) -> absl::Status {
    // The quota is charged with the notifications: a refused request
    // charges nothing, an accepted one durably.
    RETURN_IF_ERROR(ChargeResolve(txn, sender, counts.elements));
    ASSIGN_OR_RETURN(std::vector<OutputMatch> matches, txn.FindByOutputs(ys));
    // The version the matches are of, read in the same transaction: the
    // querier tells a withdrawn case from a phantom hit by it.
    ASSIGN_OR_RETURN(const uint64_t index_version, txn.OwnIndexVersion());
    ASSIGN_OR_RETURN(auto by_case, References(txn, d_.self, ys, matches));
    // The link runs both ways: this node's office learns who asked.
    for (const auto& [case_number, ref] : by_case) {
      v1::Notification note;
      note.set_at_ms(d_.clock->NowMs());
      note.set_from_member(sender);
      note.set_from_office(msg.header().office());
      note.set_case_number(case_number);
      *note.mutable_purpose() = req.purpose();
      RETURN_IF_ERROR(txn.AddNotification(note));
    }
    v1::Message reply;
    reply.mutable_resolve_response()->set_index_version(index_version);
    for (auto& [number, ref] : by_case) {
      *reply.mutable_resolve_response()->add_references() = std::move(ref);
    }
    counts.hits = static_cast<uint32_t>(matches.size());
    counts.references = static_cast<uint32_t>(by_case.size());
    cases = by_case.size();
    ASSIGN_OR_RETURN(sealed, Reply(msg, std::move(reply)));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(ApplyLogged(
      d_.self, *d_.storage,
      {.change = change,
       .append =
           [&] {
             return d_.trail->Exchange(sender, kResolve, opened,
                                       absl::StatusCode::kOk, counts, &sealed);
           },
       .append_refusal =
           [&](const absl::Status& refusal) {
             return d_.trail->Exchange(sender, kResolve, opened, refusal.code(),
                                       counts, nullptr);
           },
       .append_void =
           [&](const absl::Status& failure) {
             return d_.trail->Call(v1::AUDIT_DIRECTION_LOCAL, sender, kResolve,
                                   "not_applied", msg.header().office(),
                                   failure.code(), counts,
                                   opened.envelope_sha256);
           }}));
  LogEvent(d_.self, "info", "resolved",
           {{"from", sender},
            {"office", msg.header().office()},
            {"outputs", std::to_string(ys.size())},
            {"cases", std::to_string(cases)},
            {"purpose", PurposeText(req.purpose())}});
  return sealed;
}

absl::StatusOr<std::shared_ptr<const OwnIndexSnapshot>>
LookupResponder::Snapshot() {
  ASSIGN_OR_RETURN(uint64_t version, d_.storage->OwnIndexVersion());
  std::lock_guard<std::mutex> lock(snapshot_mu_);
  if (snapshot_ == nullptr || snapshot_->version != version) {
    ASSIGN_OR_RETURN(std::vector<Tag> tags, d_.storage->OwnIndexTags());
    auto snap = std::make_shared<OwnIndexSnapshot>();
    snap->version = version;
    snap->digest = IndexDigest(tags);
    snap->tags = std::move(tags);
    snapshot_ = std::move(snap);
  }
  return snapshot_;
}

absl::Status LookupResponder::CheckIndexEpoch(uint32_t requested,
                                              uint32_t served) const {
  if (requested == served) return absl::OkStatus();
  // Only the served epoch's index is sent: never the previous one's tags,
  // and not the new one's before the switch.
  absl::StatusOr<OprfKeys::ForRequest> key = KeyFor(requested);
  if (!key.ok() && key.status().code() == absl::StatusCode::kUnavailable) {
    return key.status();
  }
  if (key.ok() && key->previous) {
    return absl::FailedPreconditionError(
        absl::StrCat("OPRF epoch ", requested,
                     " was rotated away; this member's index is of epoch ",
                     served, "; refresh the directory"));
  }
  return absl::OkStatus();
}

absl::Status LookupResponder::FillIndexDelta(uint64_t since,
                                             IndexAnswer* out) const {
  const uint64_t version = out->snapshot->version;
  absl::StatusOr<std::vector<IndexChange>> changes =
      d_.storage->OwnIndexChangesSince(since);
  if (!changes.ok()) {
    // The changes since `since` were compacted away: the whole index.
    return changes.status().code() == absl::StatusCode::kFailedPrecondition
               ? absl::OkStatus()
               : changes.status();
  }
  out->full = false;
  // Net effect per tag: the last change wins.
  std::map<Tag, bool> last;
  for (const IndexChange& c : *changes) {
    if (c.version > version) break;
    last[c.tag] = c.added;
  }
  for (const auto& [tag, is_added] : last) {
    (is_added ? out->added : out->removed).push_back(tag);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Envelope> LookupResponder::IndexManifestFor(
    const v1::Message& request, uint32_t epoch, const IndexAnswer& out) const {
  const OwnIndexSnapshot& s = *out.snapshot;
  v1::Message manifest_msg;
  v1::IndexManifest* manifest = manifest_msg.mutable_index_manifest();
  manifest->set_member(d_.self);
  manifest->set_oprf_epoch(epoch);
  manifest->set_version(s.version);
  manifest->set_count(s.tags.size());
  manifest->set_digest(s.digest);
  manifest->set_full(out.full);
  manifest->set_from_version(
      out.full ? 0 : request.index_request().since_version());
  return Reply(request, std::move(manifest_msg));
}

absl::StatusOr<IndexAnswer> LookupResponder::SyncIndex(
    const envelope::OpenedEnvelope& opened,
    const std::function<bool()>& may_send_whole) {
  const v1::IndexRequest& req = opened.message.index_request();
  // The tags and the epoch named in the manifest, from one side of a key
  // switch.
  absl::StatusOr<std::shared_ptr<const OwnIndexSnapshot>> snap;
  uint32_t epoch = 0;
  (void)HoldingEpoch([&] {
    epoch = ServedEpoch();
    snap = Snapshot();
    return absl::OkStatus();
  });
  if (!snap.ok()) return Answer(kSyncIndex, opened, snap.status(), {}, nullptr);
  IndexAnswer out;
  out.snapshot = *std::move(snap);
  if (absl::Status s = CheckIndexEpoch(req.oprf_epoch(), epoch); !s.ok()) {
    return Answer(kSyncIndex, opened, s, {}, nullptr);
  }
  // A delta only when the caller holds this epoch's index at a version we
  // still have changes for; otherwise the whole index.
  if (req.oprf_epoch() == epoch && req.since_version() > 0 &&
      req.since_version() <= out.snapshot->version) {
    if (absl::Status s = FillIndexDelta(req.since_version(), &out); !s.ok()) {
      return Answer(kSyncIndex, opened, s, {}, nullptr);
    }
  }
  // Only a whole index that holds tags is counted: an index still empty
  // (version 0) is answered whole at every pull, and costs nothing to send.
  if (out.full && !out.snapshot->tags.empty() && may_send_whole &&
      !may_send_whole()) {
    return Answer(
        kSyncIndex, opened,
        absl::ResourceExhaustedError(absl::StrCat(
            "this member sends its whole index to one member at most ",
            RefusalBudget::kFullIndexesPerHour,
            " times an hour; ask for the changes since the version held, or "
            "again within the hour")),
        {}, nullptr);
  }
  absl::StatusOr<v1::Envelope> sealed =
      IndexManifestFor(opened.message, epoch, out);
  if (!sealed.ok()) {
    return Answer(kSyncIndex, opened, sealed.status(), {}, nullptr);
  }
  *out.manifest.mutable_manifest() = *std::move(sealed);
  const uint32_t sent =
      static_cast<uint32_t>(out.TagsToSend().size() + out.removed.size());
  RETURN_IF_ERROR(Answer(kSyncIndex, opened, absl::OkStatus(), {sent, 0, 0},
                         &out.manifest.manifest()));
  return out;
}

}  // namespace cbx::node
