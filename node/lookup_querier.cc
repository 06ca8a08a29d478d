#include "node/lookup_querier.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/crypto/random.h"
#include "core/identifiers/identifiers.h"
#include "core/util/status_macros.h"
#include "node/admission.h"
#include "node/hit_context.h"
#include "node/index_sync.h"
#include "node/log.h"
#include "node/lookup_responder.h"
#include "node/peer_reply.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

bool IsMemberCode(const std::string& code) {
  return code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' &&
         code[1] >= 'A' && code[1] <= 'Z';
}

// Why `resp`, the answer to a Resolve of `outputs` outputs sent to
// `member`, is refused: a reference that names another member, an office
// not of `member`, no output or an output past the request's.
absl::Status CheckReferences(const std::string& member,
                             const v1::ResolveResponse& resp,
                             uint32_t outputs) {
  for (int i = 0; i < resp.references_size(); ++i) {
    const v1::CaseReference& ref = resp.references(i);
    if (ref.member() != member) {
      return absl::InvalidArgumentError(absl::StrCat("answer from ", member,
                                                     " refused: references[", i,
                                                     "] names another member"));
    }
    if (!IsOfficeOf(ref.competent_office(), member)) {
      return absl::InvalidArgumentError(
          absl::StrCat("answer from ", member, " refused: references[", i,
                       "].competent_office is not an office of ", member));
    }
    if (ref.matched_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat("answer from ", member,
                                                     " refused: references[", i,
                                                     "] matches no output"));
    }
    for (int j = 0; j < ref.matched_size(); ++j) {
      if (ref.matched(j).input_index() >= outputs) {
        return absl::InvalidArgumentError(absl::StrCat(
            "answer from ", member, " refused: references[", i, "].matched[", j,
            "].input_index is past the request's ", outputs, " outputs"));
      }
    }
  }
  return absl::OkStatus();
}

v1::PeerAnswer Failure(const std::string& member, const absl::Status& status) {
  v1::PeerAnswer answer;
  answer.set_member(member);
  answer.set_outcome(v1::PEER_OUTCOME_ERROR);
  answer.set_status_code(static_cast<int>(status.code()));
  answer.set_error(std::string(status.message()));
  return answer;
}

absl::Status CallFailure(const std::string& member, const absl::Status& s,
                         int64_t budget_ms) {
  switch (s.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      return absl::DeadlineExceededError(
          absl::StrCat(member, " did not answer within ", budget_ms, " ms"));
    case absl::StatusCode::kUnavailable:
      return absl::UnavailableError(
          absl::StrCat(member, " is unreachable: ", s.message()));
    default:
      return absl::Status(s.code(),
                          absl::StrCat(member, " refused: ", s.message()));
  }
}

// The answers of a query's peers, handed from the pool to the caller.
class AnswerQueue {
 public:
  void Push(v1::PeerAnswer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(std::move(answer));
    cv_.notify_one();
  }
  v1::PeerAnswer Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !done_.empty(); });
    v1::PeerAnswer answer = std::move(done_.front());
    done_.pop_front();
    return answer;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::PeerAnswer> done_;
};

void Count(const v1::PeerAnswer& answer, v1::QuerySummary& summary) {
  switch (answer.outcome()) {
    case v1::PEER_OUTCOME_HIT:
      summary.add_hit_members(answer.member());
      break;
    case v1::PEER_OUTCOME_MISS:
      summary.add_miss_members(answer.member());
      // A miss from a copy older than expected may predate the case.
      if (answer.index_age_ms() > summary.stale_index_after_ms()) {
        summary.add_stale_index_members(answer.member());
      }
      break;
    default:
      summary.add_failed_members(answer.member());
  }
}

}  // namespace

absl::StatusOr<std::vector<LookupQuerier::Input>> LookupQuerier::Validate(
    const v1::QueryRequest& request, std::string_view self) {
  if (request.identifiers_size() == 0) {
    return absl::InvalidArgumentError("identifiers: give at least one");
  }
  if (request.identifiers_size() > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("identifiers: at most ", kMaxBatch, " per query"));
  }
  std::vector<Input> inputs;
  for (int i = 0; i < request.identifiers_size(); ++i) {
    const v1::Identifier& id = request.identifiers(i);
    auto input = identifiers::NormalizedOprfInput(id.type(), id.value(), self);
    if (!input.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("identifiers[", i, "]: ", input.status().message()));
    }
    auto hashed = crypto::OprfHashInput(*input);
    if (!hashed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("identifiers[", i, "]: ", hashed.status().message()));
    }
    inputs.push_back({id.type(), *std::move(input), *std::move(hashed)});
  }
  const v1::Purpose& purpose = request.purpose();
  if (purpose.case_number().empty()) {
    return absl::InvalidArgumentError(
        "purpose.case_number: give your own case number");
  }
  if (purpose.legal_basis().empty()) {
    return absl::InvalidArgumentError(
        "purpose.legal_basis: give the legal basis of the request");
  }
  RETURN_IF_ERROR(CheckPurposeText(purpose));
  if (purpose.offence() == v1::OFFENCE_CODE_UNSPECIFIED ||
      !v1::OffenceCode_IsValid(purpose.offence())) {
    return absl::InvalidArgumentError("purpose.offence: give an offence code");
  }
  return inputs;
}

absl::Status LookupQuerier::CheckPurposeCase(const v1::Purpose& purpose,
                                             const OfficeCaller& caller) const {
  const std::string& number = purpose.case_number();
  absl::StatusOr<StoredCase> found = ctx_->storage->GetCase(number);
  if (!found.ok() && !absl::IsNotFound(found.status())) return found.status();
  // Another office's case is refused in the same words as one that does
  // not exist: a query never tells an office about another's case numbers.
  if (!found.ok() || found->record.office() != caller.Name()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "purpose.case_number: ", number, " is not a case of your office ",
        caller.Name(), "; add the case first and query under its number"));
  }
  if (!IsOpen(found->record)) {
    return absl::FailedPreconditionError(
        absl::StrCat("purpose.case_number: case ", number,
                     " is closed; query under one of your open cases"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> LookupQuerier::Targets(
    const v1::QueryRequest& request) const {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  std::vector<std::string> targets;
  if (request.peers().empty()) {
    for (const std::string& code : dir->ActiveMemberCodes()) {
      if (code != ctx_->self()) targets.push_back(code);
    }
  } else {
    // Each peer is asked once, however often it is named; more names than
    // the directory has members cannot all be distinct, and are refused
    // before any is looked at.
    if (request.peers_size() > dir->proto().members_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "peers: at most ", dir->proto().members_size(),
          " (the directory's members), not ", request.peers_size()));
    }
    std::set<std::string> named;
    for (int i = 0; i < request.peers_size(); ++i) {
      const std::string& code = request.peers(i);
      if (!IsMemberCode(code)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "peers[", i, "]: a member code is two capital letters"));
      }
      if (!named.insert(code).second) continue;
      if (code == ctx_->self()) {
        return absl::InvalidArgumentError(
            "peers: this node's own member is not a peer");
      }
      if (dir->FindMember(code) == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("peers: ", code, " is not a member of the directory"));
      }
      if (!dir->IsActive(code)) {
        return absl::InvalidArgumentError(
            absl::StrCat("peers: ", code, " is suspended"));
      }
      targets.push_back(code);
    }
  }
  if (targets.empty()) {
    return absl::FailedPreconditionError("there is no active peer to ask");
  }
  return targets;
}

absl::Status LookupQuerier::Run(
    const v1::QueryRequest& request, const OfficeCaller& caller,
    const std::function<bool(const v1::QueryEvent&)>& emit,
    const WatchHooks* watch) {
  ASSIGN_OR_RETURN(const std::vector<Input> inputs,
                   Validate(request, ctx_->self()));
  ASSIGN_OR_RETURN(const std::vector<std::string> targets, Targets(request));
  RETURN_IF_ERROR(CheckPurposeCase(request.purpose(), caller));
  const v1::Purpose& purpose = request.purpose();
  const std::string query_id = HexEncode(crypto::RandomBytes(8));
  const int64_t start_ms = ctx_->clock->NowMs();
  const int64_t budget_ms =
      ctx_->directory->Current()->policy().peer_deadline_ms();
  LogEvent(ctx_->self(), "info", "query",
           {{"id", query_id},
            {"office", caller.Name()},
            {"identifiers", std::to_string(inputs.size())},
            {"peers", std::to_string(targets.size())},
            {"case", purpose.case_number()}});

  // One work item per peer; this thread only waits and emits. Every item
  // refers to `inputs` and `purpose`, which outlive them: Run returns only
  // after the last answer.
  AnswerQueue answers;
  for (const std::string& member : targets) {
    PeerLookup lookup;
    lookup.member = member;
    lookup.inputs = &inputs;
    // A watch keeps no value (spec/cooperation.md §4), not even in the
    // hits of its first evaluation: they get the type only.
    lookup.asked = watch == nullptr ? &request.identifiers() : nullptr;
    lookup.purpose = &purpose;
    lookup.office = caller.Name();
    lookup.person = caller.person;
    lookup.query_id = query_id;
    lookup.deadline_ms = start_ms + budget_ms;
    lookup.budget_ms = budget_ms;
    lookup.watch = watch;
    const bool posted = executor_->Post(
        [this, &answers, lookup] { answers.Push(AskPeer(lookup)); });
    if (!posted) {
      answers.Push(Failure(
          member, absl::UnavailableError("this node is shutting down")));
    }
  }

  v1::QuerySummary summary;
  summary.set_query_id(query_id);
  // Older than three sync intervals: at least two pulls in a row did not
  // refresh the copy (spec/office-api.md §4.5).
  const size_t members = ctx_->directory->Current()->ActiveMemberCodes().size();
  summary.set_stale_index_after_ms(
      3 * IndexSyncIntervalMs(ctx_->config, members > 0 ? members - 1 : 0));
  bool listening = true;
  for (size_t received = 0; received < targets.size(); ++received) {
    v1::PeerAnswer answer = answers.Pop();
    Count(answer, summary);
    if (listening) {
      v1::QueryEvent event;
      *event.mutable_answer() = std::move(answer);
      listening = emit(event);
    }
  }
  summary.set_elapsed_ms(ctx_->clock->NowMs() - start_ms);
  LogEvent(ctx_->self(), "info", "query-done",
           {{"id", query_id},
            {"hits", std::to_string(summary.hit_members_size())},
            {"misses", std::to_string(summary.miss_members_size())},
            {"failed", std::to_string(summary.failed_members_size())},
            {"ms", std::to_string(summary.elapsed_ms())}});
  if (listening) {
    v1::QueryEvent event;
    *event.mutable_summary() = std::move(summary);
    emit(event);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Envelope> LookupQuerier::Send(const PeerLookup& lookup,
                                                 std::string_view rpc,
                                                 const v1::Message& msg,
                                                 uint32_t elements) {
  ASSIGN_OR_RETURN(v1::Envelope request, ctx_->signing_keys->Seal(msg));
  // Logged as sent before it leaves.
  absl::Status logged = ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_SENT, lookup.member, rpc, request,
      absl::StatusCode::kOk, {elements, 0, 0}, lookup.person);
  if (!logged.ok()) return AuditFailure(logged);
  const int64_t left_ms = lookup.deadline_ms - ctx_->clock->NowMs();
  absl::StatusOr<v1::Envelope> reply =
      rpc == "Peer.Evaluate"
          ? transport_->Evaluate(lookup.member, request, left_ms)
          : transport_->Resolve(lookup.member, request, left_ms);
  if (!reply.ok()) {
    absl::Status failure =
        CallFailure(lookup.member, reply.status(), lookup.budget_ms);
    logged = ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, lookup.member, rpc, "call_failed",
        lookup.office, failure.code(), {elements, 0, 0},
        envelope::EnvelopeSha256(request), lookup.person);
    return logged.ok() ? failure : AuditFailure(logged);
  }
  return reply;
}

absl::Status LookupQuerier::LogReceived(const PeerLookup& lookup,
                                        std::string_view rpc,
                                        const v1::Envelope& reply,
                                        const absl::Status& outcome,
                                        AuditCounts counts) {
  absl::Status logged = ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_RECEIVED, lookup.member, rpc, reply, outcome.code(),
      counts, lookup.person);
  return logged.ok() ? outcome : AuditFailure(logged);
}

v1::PeerAnswer LookupQuerier::AskPeer(PeerLookup lookup) {
  const int64_t start_ms = ctx_->clock->NowMs();
  const std::string& member = lookup.member;
  {
    std::shared_ptr<const directory::Directory> dir =
        ctx_->directory->Current();
    const v1::Member* m = dir->FindMember(member);
    if (m == nullptr) {
      return Failure(member, absl::NotFoundError(
                                 absl::StrCat(member, " left the directory")));
    }
    lookup.epoch = m->oprf_key().epoch();
    lookup.oprf_public_key = m->oprf_key().public_key();
  }
  // Without a current copy of the peer's index a miss would be a guess:
  // say so instead, and spend none of the peer's quota.
  lookup.copy = ctx_->peer_indexes.Share(member, &lookup.copy_confirmed_ms);
  if (lookup.copy == nullptr || lookup.copy->oprf_epoch != lookup.epoch) {
    return Failure(member,
                   absl::FailedPreconditionError(absl::StrCat(
                       "no current copy of ", member,
                       "'s index yet (index sync pending); ask again soon")));
  }
  v1::PeerAnswer answer = LookUp(lookup, start_ms);
  answer.set_index_version(lookup.copy->version);
  answer.set_index_synced_at_ms(lookup.copy_confirmed_ms);
  answer.set_index_age_ms(
      std::max<int64_t>(0, start_ms - lookup.copy_confirmed_ms));
  return answer;
}

v1::PeerAnswer LookupQuerier::LookUp(const PeerLookup& lookup,
                                     int64_t start_ms) {
  const std::string& member = lookup.member;
  absl::StatusOr<Evaluated> evaluated = BlindAndEvaluate(lookup);
  if (!evaluated.ok()) return Failure(member, evaluated.status());
  absl::StatusOr<std::vector<Bytes>> outputs =
      VerifyAndFinalize(lookup, *evaluated);
  if (!outputs.ok()) {
    // Whatever failed, the next request to this peer goes compressed.
    if (evaluated->uncompressed) NoteUncompressed(member, false);
    return Failure(member, outputs.status());
  }
  absl::StatusOr<Hits> hits = Membership(lookup, *evaluated, *outputs);
  if (!hits.ok()) return Failure(member, hits.status());
  if (lookup.watch != nullptr && lookup.watch->on_outputs != nullptr) {
    lookup.watch->on_outputs(member, lookup.epoch, *outputs);
  }

  v1::PeerAnswer answer;
  answer.set_member(member);
  answer.set_outcome(v1::PEER_OUTCOME_MISS);
  if (!hits->inputs.empty()) {
    absl::Status resolved = ResolveAndStore(lookup, *outputs, *hits, answer);
    if (!resolved.ok()) return Failure(member, resolved);
  }
  answer.set_latency_ms(ctx_->clock->NowMs() - start_ms);
  return answer;
}

absl::StatusOr<LookupQuerier::Evaluated> LookupQuerier::BlindAndEvaluate(
    const PeerLookup& lookup) {
  Evaluated out;
  std::vector<const crypto::HashedInput*> hashed;
  hashed.reserve(lookup.inputs->size());
  for (const Input& in : *lookup.inputs) {
    hashed.push_back(&in.hashed);
    out.oprf_inputs.push_back(in.oprf_input);
  }
  ASSIGN_OR_RETURN(std::vector<crypto::BlindedInput> blinded,
                   crypto::OprfBlindAdditive(hashed));
  out.uncompressed = TakesUncompressed(lookup.member);
  for (crypto::BlindedInput& b : blinded) {
    out.blinds.push_back(std::move(b.blind));
    out.blinded.push_back(out.uncompressed ? b.blinded_point
                                           : std::move(b.blinded_element));
    out.blinded_points.push_back(std::move(b.blinded_point));
  }
  *out.sent.mutable_header() =
      ctx_->NewHeader(lookup.member, lookup.office, lookup.person);
  v1::EvaluateRequest* er = out.sent.mutable_evaluate_request();
  er->set_oprf_epoch(lookup.epoch);
  for (const Bytes& b : out.blinded) er->add_blinded_elements(b);
  *er->mutable_purpose() = *lookup.purpose;
  absl::StatusOr<v1::Envelope> reply =
      Send(lookup, "Peer.Evaluate", out.sent,
           static_cast<uint32_t>(out.blinded.size()));
  if (!reply.ok()) {
    // Perhaps a peer that no longer takes the uncompressed form: the next
    // request goes compressed.
    if (out.uncompressed) NoteUncompressed(lookup.member, false);
    return reply.status();
  }
  out.reply = *std::move(reply);
  return out;
}

bool LookupQuerier::TakesUncompressed(const std::string& member) const {
  std::lock_guard<std::mutex> lock(forms_mu_);
  return uncompressed_peers_.count(member) != 0;
}

void LookupQuerier::NoteUncompressed(const std::string& member, bool accepted) {
  std::lock_guard<std::mutex> lock(forms_mu_);
  if (accepted) {
    uncompressed_peers_.insert(member);
  } else {
    uncompressed_peers_.erase(member);
  }
}

absl::StatusOr<std::vector<Bytes>> LookupQuerier::VerifyAndFinalize(
    const PeerLookup& lookup, const Evaluated& evaluated) {
  const uint32_t n = static_cast<uint32_t>(evaluated.blinded.size());
  auto opened = OpenPeerReply(*ctx_, lookup.member, evaluated.sent,
                              evaluated.reply, v1::Message::kEvaluateResponse);
  if (!opened.ok()) {
    return LogReceived(lookup, "Peer.Evaluate", evaluated.reply,
                       opened.status(), {n, 0, 0});
  }
  const v1::EvaluateResponse& resp = opened->message.evaluate_response();
  if (resp.evaluated_elements_size() != static_cast<int>(n)) {
    return LogReceived(
        lookup, "Peer.Evaluate", evaluated.reply,
        absl::InvalidArgumentError(absl::StrCat(lookup.member, " answered ",
                                                resp.evaluated_elements_size(),
                                                " elements for ", n)),
        {n, 0, 0});
  }
  std::vector<Bytes> elements(resp.evaluated_elements().begin(),
                              resp.evaluated_elements().end());
  auto ys = crypto::OprfFinalizeAdditive(
      evaluated.oprf_inputs, evaluated.blinds, evaluated.blinded,
      evaluated.blinded_points, elements, resp.proof(), lookup.oprf_public_key);
  // Whether to send this peer the uncompressed form next time: as its
  // verified answer says (LookUp forgets it after an answer that failed).
  if (ys.ok()) NoteUncompressed(lookup.member, resp.uncompressed_accepted());
  if (!ys.ok()) {
    return LogReceived(lookup, "Peer.Evaluate", evaluated.reply,
                       absl::Status(ys.status().code(),
                                    absl::StrCat("answer from ", lookup.member,
                                                 " failed verification: ",
                                                 ys.status().message())),
                       {n, 0, 0});
  }
  return ys;
}

absl::StatusOr<LookupQuerier::Hits> LookupQuerier::Membership(
    const PeerLookup& lookup, const Evaluated& evaluated,
    const std::vector<Bytes>& outputs) {
  // One copy for every tag, so the hits are those of one known version,
  // of the epoch evaluated (taken by AskPeer).
  const std::shared_ptr<const PeerIndex>& copy = lookup.copy;
  Hits hits;
  if (copy != nullptr) {
    hits.copy_version = copy->version;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (std::binary_search(copy->tags.begin(), copy->tags.end(),
                             identifiers::TagOf(outputs[i]))) {
        hits.inputs.push_back(static_cast<uint32_t>(i));
      }
    }
  }
  RETURN_IF_ERROR(LogReceived(lookup, "Peer.Evaluate", evaluated.reply,
                              absl::OkStatus(),
                              {static_cast<uint32_t>(outputs.size()),
                               static_cast<uint32_t>(hits.inputs.size()), 0}));
  std::optional<std::string> alarm = stats_.RecordAsked(
      lookup.member, outputs.size(), hits.inputs.size(), ctx_->clock->NowMs());
  if (alarm.has_value()) {
    LogEvent(ctx_->self(), "alert", "ALERT-peer-hit-rate",
             {{"peer", lookup.member}, {"alarm", *alarm}});
  }
  return hits;
}

absl::Status LookupQuerier::ResolveAndStore(const PeerLookup& lookup,
                                            const std::vector<Bytes>& outputs,
                                            const Hits& hits,
                                            v1::PeerAnswer& answer) {
  v1::Message sent;
  *sent.mutable_header() =
      ctx_->NewHeader(lookup.member, lookup.office, lookup.person);
  v1::ResolveRequest* rr = sent.mutable_resolve_request();
  rr->set_oprf_epoch(lookup.epoch);
  for (uint32_t i : hits.inputs) rr->add_outputs(outputs[i]);
  *rr->mutable_purpose() = *lookup.purpose;
  const uint32_t h = static_cast<uint32_t>(hits.inputs.size());
  ASSIGN_OR_RETURN(v1::Envelope reply, Send(lookup, "Peer.Resolve", sent, h));
  auto resolved = OpenPeerReply(*ctx_, lookup.member, sent, reply,
                                v1::Message::kResolveResponse);
  if (!resolved.ok()) {
    return LogReceived(lookup, "Peer.Resolve", reply, resolved.status(),
                       {h, h, 0});
  }
  const v1::ResolveResponse& resp = resolved->message.resolve_response();
  const uint32_t references = static_cast<uint32_t>(resp.references_size());
  // A reference the peer cannot stand behind refuses the whole reply: it
  // is logged with the refusal, nothing is stored, and the office is told
  // the hit was a phantom.
  const absl::Status refused = CheckReferences(lookup.member, resp, h);
  const absl::Status logged =
      LogReceived(lookup, "Peer.Resolve", reply, refused, {h, h, references});
  if (logged != refused) return logged;  // the log could not take it
  if (!refused.ok()) {
    Phantom(lookup, hits, resp, resolved->envelope_sha256, refused.code(),
            std::string(refused.message()), answer);
    return absl::OkStatus();
  }
  std::vector<bool> answered(h, false);
  for (const v1::CaseReference& ref : resp.references()) {
    v1::CaseReference* out = answer.add_references();
    *out = ref;
    // Point input_index at the office's own identifier list.
    for (v1::MatchedIdentifier& mi : *out->mutable_matched()) {
      answered[mi.input_index()] = true;
      mi.set_input_index(hits.inputs[mi.input_index()]);
    }
    v1::Hit hit;
    hit.set_query_id(lookup.query_id);
    hit.set_member(lookup.member);
    *hit.mutable_reference() = *out;
    hit.set_case_number(lookup.purpose->case_number());
    hit.set_received_at_ms(ctx_->clock->NowMs());
    hit.set_envelope_sha256(resolved->envelope_sha256);
    if (lookup.watch != nullptr) hit.set_watch_id(lookup.watch->watch_id);
    FillHitContext(lookup.asked, ctx_->self(), hit);
    RETURN_IF_ERROR(ctx_->storage->AddHit(hit));
  }
  answer.set_outcome(references > 0 ? v1::PEER_OUTCOME_HIT
                                    : v1::PEER_OUTCOME_MISS);
  std::vector<uint32_t> unanswered;  // indexes into the office's identifiers
  for (uint32_t k = 0; k < h; ++k) {
    if (!answered[k]) unanswered.push_back(hits.inputs[k]);
  }
  if (!unanswered.empty()) {
    Unanswered(lookup, hits, resp, resolved->envelope_sha256, outputs,
               unanswered, answer);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PeerAnswer> LookupQuerier::ResolveForWatch(
    const std::string& member, std::shared_ptr<const PeerIndex> copy,
    const std::vector<Bytes>& outputs, const v1::Purpose& purpose,
    const std::string& office, const std::string& watch_id) {
  const WatchHooks hooks{watch_id, nullptr};
  PeerLookup lookup;
  lookup.member = member;
  lookup.purpose = &purpose;
  lookup.office = office;
  lookup.query_id = HexEncode(crypto::RandomBytes(8));
  lookup.budget_ms = ctx_->directory->Current()->policy().peer_deadline_ms();
  lookup.deadline_ms = ctx_->clock->NowMs() + lookup.budget_ms;
  lookup.epoch = copy->oprf_epoch;
  lookup.copy = copy;
  lookup.watch = &hooks;
  Hits hits;
  hits.copy_version = copy->version;
  for (uint32_t i = 0; i < outputs.size(); ++i) hits.inputs.push_back(i);
  v1::PeerAnswer answer;
  answer.set_member(member);
  answer.set_outcome(v1::PEER_OUTCOME_MISS);
  // The copy the watch tested: usually the one just adopted.
  answer.set_index_version(copy->version);
  answer.set_index_synced_at_ms(copy->synced_at_ms);
  answer.set_index_age_ms(
      std::max<int64_t>(0, ctx_->clock->NowMs() - copy->synced_at_ms));
  RETURN_IF_ERROR(ResolveAndStore(lookup, outputs, hits, answer));
  return answer;
}

void LookupQuerier::Unanswered(const PeerLookup& lookup, const Hits& hits,
                               const v1::ResolveResponse& resp,
                               const Bytes& reply_sha256,
                               const std::vector<Bytes>& outputs,
                               const std::vector<uint32_t>& unanswered,
                               v1::PeerAnswer& answer) {
  if (resp.index_version() > hits.copy_version) {
    // The peer's index moved on since our copy: the case was closed or
    // amended meanwhile, a plain miss for those identifiers — as the peer
    // claims; its next manifests settle the claim (CheckVersionClaims).
    VersionClaims::Claim claim;
    claim.member = lookup.member;
    claim.oprf_epoch = lookup.epoch;
    claim.copy_version = hits.copy_version;
    claim.claimed_version = resp.index_version();
    for (uint32_t k : unanswered) {
      claim.tags.push_back(identifiers::TagOf(outputs[k]));
    }
    claim.received_at_ms = ctx_->clock->NowMs();
    claim.query_id = lookup.query_id;
    claim.reply_sha256 = reply_sha256;
    claims_.Add(std::move(claim));
    LogEvent(ctx_->self(), "info", "hit-withdrawn",
             {{"peer", lookup.member},
              {"query", lookup.query_id},
              {"copy_version", std::to_string(hits.copy_version)},
              {"reply_version", std::to_string(resp.index_version())},
              {"identifiers", std::to_string(unanswered.size())}});
    return;
  }
  // At the copy's own version (or, impossibly, an older one) the index
  // held the tag and the signed answer names no case for it.
  const std::string which = absl::StrCat(
      "identifiers[", absl::StrJoin(unanswered, "], identifiers["), "]");
  Phantom(lookup, hits, resp, reply_sha256, absl::StatusCode::kOk,
          absl::StrCat(lookup.member, "'s index at version ", hits.copy_version,
                       " holds ", which,
                       ", but its signed answer at index version ",
                       resp.index_version(), " names no case for ",
                       unanswered.size() == 1 ? "it" : "them"),
          answer);
}

void LookupQuerier::CheckVersionClaims(const PeerIndex& copy,
                                       int64_t sync_started_ms) {
  for (const VersionClaims::Broken& b :
       claims_.Check(copy, sync_started_ms, ctx_->clock->NowMs())) {
    const uint64_t count = stats_.RecordPhantom(b.claim.member);
    LogEvent(ctx_->self(), "alert", "ALERT-phantom-hit",
             {{"peer", b.claim.member},
              {"query", b.claim.query_id},
              {"copy_version", std::to_string(b.claim.copy_version)},
              {"reply_version", std::to_string(b.claim.claimed_version)},
              {"manifest_version", std::to_string(b.manifest_version)},
              {"code", absl::StatusCodeToString(absl::StatusCode::kOk)},
              {"reply_sha256", HexEncode(b.claim.reply_sha256)},
              {"phantoms", std::to_string(count)},
              {"found", "late"},
              {"why", b.why}});
  }
}

void LookupQuerier::Phantom(const PeerLookup& lookup, const Hits& hits,
                            const v1::ResolveResponse& resp,
                            const Bytes& reply_sha256, absl::StatusCode code,
                            const std::string& why, v1::PeerAnswer& answer) {
  answer.set_outcome(v1::PEER_OUTCOME_PHANTOM);
  answer.set_status_code(static_cast<int>(code));
  answer.set_error(absl::StrCat(
      "phantom hit: ", why, " (", lookup.member,
      " may be probing queries; its signed answer is kept as evidence)"));
  const uint64_t count = stats_.RecordPhantom(lookup.member);
  LogEvent(ctx_->self(), "alert", "ALERT-phantom-hit",
           {{"peer", lookup.member},
            {"query", lookup.query_id},
            {"copy_version", std::to_string(hits.copy_version)},
            {"reply_version", std::to_string(resp.index_version())},
            {"code", absl::StatusCodeToString(code)},
            {"reply_sha256", HexEncode(reply_sha256)},
            {"phantoms", std::to_string(count)}});
}

}  // namespace cbx::node
