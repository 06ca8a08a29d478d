#include "node/query.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/crypto/random.h"
#include "core/crypto/sha256.h"
#include "core/identifiers/identifiers.h"
#include "node/log.h"
#include "node/peer_service.h"

namespace cbx::node {
namespace {

v1::PeerAnswer Failure(const std::string& member, const absl::Status& status) {
  v1::PeerAnswer answer;
  answer.set_member(member);
  answer.set_outcome(v1::PEER_OUTCOME_ERROR);
  answer.set_status_code(static_cast<int>(status.code()));
  answer.set_error(std::string(status.message()));
  return answer;
}

absl::Status CallFailure(const std::string& member, const grpc::Status& s,
                         int64_t budget_ms) {
  switch (s.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(
          absl::StrCat(member, " did not answer within ", budget_ms, " ms"));
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(
          absl::StrCat(member, " is unreachable: ", s.error_message()));
    default:
      return absl::Status(
          static_cast<absl::StatusCode>(s.error_code()),
          absl::StrCat(member, " refused: ", s.error_message()));
  }
}

std::chrono::system_clock::time_point Deadline(int64_t deadline_ms) {
  return std::chrono::system_clock::time_point(
      std::chrono::milliseconds(deadline_ms));
}

}  // namespace

absl::Status QueryRunner::Run(
    const v1::QueryRequest& request, const OfficeCaller& caller,
    const std::function<bool(const v1::QueryEvent&)>& emit) {
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
    auto input = identifiers::NormalizedOprfInput(id.type(), id.value());
    if (!input.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("identifiers[", i, "]: ", input.status().message()));
    }
    inputs.push_back({id.type(), *std::move(input)});
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
  if (purpose.offence() == v1::OFFENCE_CODE_UNSPECIFIED ||
      !v1::OffenceCode_IsValid(purpose.offence())) {
    return absl::InvalidArgumentError("purpose.offence: give an offence code");
  }

  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  std::vector<std::string> targets;
  if (request.peers().empty()) {
    for (const std::string& code : dir->ActiveMemberCodes()) {
      if (code != ctx_->self()) targets.push_back(code);
    }
  } else {
    for (const std::string& code : request.peers()) {
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

  const std::string query_id = HexEncode(crypto::RandomBytes(8));
  const int64_t start_ms = ctx_->clock->NowMs();
  const int64_t deadline_ms = start_ms + dir->policy().peer_deadline_ms();
  LogEvent(ctx_->self(), "info", "query",
           {{"id", query_id},
            {"office", caller.Name()},
            {"identifiers", std::to_string(inputs.size())},
            {"peers", std::to_string(targets.size())},
            {"case", purpose.case_number()}});

  std::mutex mu;
  std::condition_variable cv;
  std::deque<v1::PeerAnswer> done;
  std::vector<std::thread> threads;
  threads.reserve(targets.size());
  for (const std::string& member : targets) {
    threads.emplace_back([&, member] {
      v1::PeerAnswer answer =
          AskPeer(member, inputs, purpose, caller, query_id, deadline_ms);
      std::lock_guard<std::mutex> lock(mu);
      done.push_back(std::move(answer));
      cv.notify_one();
    });
  }

  v1::QuerySummary summary;
  summary.set_query_id(query_id);
  bool listening = true;
  for (size_t received = 0; received < targets.size(); ++received) {
    v1::PeerAnswer answer;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !done.empty(); });
      answer = std::move(done.front());
      done.pop_front();
    }
    switch (answer.outcome()) {
      case v1::PEER_OUTCOME_HIT:
        summary.add_hit_members(answer.member());
        break;
      case v1::PEER_OUTCOME_MISS:
        summary.add_miss_members(answer.member());
        break;
      default:
        summary.add_failed_members(answer.member());
    }
    if (listening) {
      v1::QueryEvent event;
      *event.mutable_answer() = std::move(answer);
      listening = emit(event);
    }
  }
  for (std::thread& t : threads) t.join();
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

absl::StatusOr<v1::Envelope> QueryRunner::Send(
    const std::string& member, std::string_view rpc, const v1::Message& msg,
    const std::string& office, uint32_t elements, int64_t budget_ms,
    const std::function<grpc::Status(const v1::Envelope&, v1::Envelope*)>&
        call) {
  v1::Envelope request = envelope::Seal(msg, *ctx_->signing_key);
  // Logged as sent before it leaves.
  absl::Status logged = ctx_->audit_trail->Envelope(
      v1::AUDIT_DIRECTION_SENT, member, rpc, request, absl::StatusCode::kOk,
      {elements, 0, 0});
  if (!logged.ok()) return AuditFailure(logged);
  v1::Envelope reply;
  grpc::Status s = call(request, &reply);
  if (!s.ok()) {
    absl::Status failure = CallFailure(member, s, budget_ms);
    logged = ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, member, rpc, "call_failed", office,
        failure.code(), {elements, 0, 0}, envelope::EnvelopeSha256(request));
    return logged.ok() ? failure : AuditFailure(logged);
  }
  return reply;
}

v1::PeerAnswer QueryRunner::AskPeer(const std::string& member,
                                    const std::vector<Input>& inputs,
                                    const v1::Purpose& purpose,
                                    const OfficeCaller& caller,
                                    const std::string& query_id,
                                    int64_t deadline_ms) {
  const int64_t start_ms = ctx_->clock->NowMs();
  const int64_t budget_ms = deadline_ms - start_ms;
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  const v1::Member* m = dir->FindMember(member);
  if (m == nullptr) {
    return Failure(member, absl::NotFoundError(
                               absl::StrCat(member, " left the directory")));
  }
  const uint32_t epoch = m->oprf_key().epoch();
  // Without a current copy of the peer's index a miss would be a guess:
  // say so instead, and spend none of the peer's quota.
  PeerIndexSet::Info held = ctx_->peer_indexes.Describe(member);
  if (!held.held || held.oprf_epoch != epoch) {
    return Failure(member,
                   absl::FailedPreconditionError(absl::StrCat(
                       "no current copy of ", member,
                       "'s index yet (index sync pending); ask again soon")));
  }
  auto stub = peers_->Stub(member);
  if (!stub.ok()) return Failure(member, stub.status());

  // 1. Blind each identifier afresh for this peer and evaluate.
  std::vector<Bytes> oprf_inputs, blinds, blinded;
  for (const Input& in : inputs) {
    auto b = crypto::OprfBlind(in.oprf_input);
    if (!b.ok()) return Failure(member, b.status());
    oprf_inputs.push_back(in.oprf_input);
    blinds.push_back(std::move(b->blind));
    blinded.push_back(std::move(b->blinded_element));
  }
  v1::Message eval_msg;
  *eval_msg.mutable_header() = ctx_->NewHeader(member, caller.Name());
  v1::EvaluateRequest* er = eval_msg.mutable_evaluate_request();
  er->set_oprf_epoch(epoch);
  for (const Bytes& b : blinded) er->add_blinded_elements(b);
  *er->mutable_purpose() = purpose;
  const uint32_t n = static_cast<uint32_t>(blinded.size());
  auto eval_reply =
      Send(member, "Peer.Evaluate", eval_msg, caller.Name(), n, budget_ms,
           [&](const v1::Envelope& request, v1::Envelope* reply) {
             grpc::ClientContext cctx;
             cctx.set_deadline(Deadline(deadline_ms));
             return (*stub)->Evaluate(&cctx, request, reply);
           });
  if (!eval_reply.ok()) return Failure(member, eval_reply.status());
  // The reply is logged as received with the outcome of every check on it.
  auto received = [&](const v1::Envelope& reply, const absl::Status& status,
                      AuditCounts counts) {
    return ctx_->audit_trail->Envelope(v1::AUDIT_DIRECTION_RECEIVED, member,
                                       "Peer.Evaluate", reply, status.code(),
                                       counts);
  };
  auto opened = peers_->OpenReply(member, eval_msg, *eval_reply,
                                  v1::Message::kEvaluateResponse);
  if (!opened.ok()) {
    absl::Status logged = received(*eval_reply, opened.status(), {n, 0, 0});
    return Failure(member,
                   logged.ok() ? opened.status() : AuditFailure(logged));
  }
  const v1::EvaluateResponse& resp = opened->message.evaluate_response();
  if (resp.evaluated_elements_size() != static_cast<int>(blinded.size())) {
    return Failure(member,
                   absl::InvalidArgumentError(absl::StrCat(
                       member, " answered ", resp.evaluated_elements_size(),
                       " elements for ", blinded.size())));
  }
  std::vector<Bytes> evaluated(resp.evaluated_elements().begin(),
                               resp.evaluated_elements().end());
  // 2. Verify the batched proof against the directory's key, finalize.
  auto ys = crypto::OprfFinalize(oprf_inputs, blinds, blinded, evaluated,
                                 resp.proof(), m->oprf_key().public_key());
  if (!ys.ok()) {
    absl::Status logged = received(*eval_reply, ys.status(), {n, 0, 0});
    if (!logged.ok()) return Failure(member, AuditFailure(logged));
    return Failure(member, absl::Status(ys.status().code(),
                                        absl::StrCat("answer from ", member,
                                                     " failed verification: ",
                                                     ys.status().message())));
  }
  // 3. Membership in the peer's index copy.
  std::vector<uint32_t> hit_inputs;
  for (size_t i = 0; i < ys->size(); ++i) {
    if (ctx_->peer_indexes.Contains(member, identifiers::TagOf((*ys)[i]))) {
      hit_inputs.push_back(static_cast<uint32_t>(i));
    }
  }
  {
    absl::Status logged =
        received(*eval_reply, absl::OkStatus(),
                 {n, static_cast<uint32_t>(hit_inputs.size()), 0});
    if (!logged.ok()) return Failure(member, AuditFailure(logged));
  }
  v1::PeerAnswer answer;
  answer.set_member(member);
  answer.set_outcome(v1::PEER_OUTCOME_MISS);
  if (!hit_inputs.empty()) {
    // 4. Resolve the hits with the finalized outputs.
    v1::Message res_msg;
    *res_msg.mutable_header() = ctx_->NewHeader(member, caller.Name());
    v1::ResolveRequest* rr = res_msg.mutable_resolve_request();
    rr->set_oprf_epoch(epoch);
    for (uint32_t i : hit_inputs) rr->add_outputs((*ys)[i]);
    *rr->mutable_purpose() = purpose;
    const uint32_t h = static_cast<uint32_t>(hit_inputs.size());
    auto res_reply =
        Send(member, "Peer.Resolve", res_msg, caller.Name(), h, budget_ms,
             [&](const v1::Envelope& request, v1::Envelope* reply) {
               grpc::ClientContext cctx;
               cctx.set_deadline(Deadline(deadline_ms));
               return (*stub)->Resolve(&cctx, request, reply);
             });
    if (!res_reply.ok()) return Failure(member, res_reply.status());
    auto resolved = peers_->OpenReply(member, res_msg, *res_reply,
                                      v1::Message::kResolveResponse);
    absl::Status logged = ctx_->audit_trail->Envelope(
        v1::AUDIT_DIRECTION_RECEIVED, member, "Peer.Resolve", *res_reply,
        resolved.status().code(),
        {h, h,
         resolved.ok()
             ? static_cast<uint32_t>(
                   resolved->message.resolve_response().references_size())
             : 0});
    if (!logged.ok()) return Failure(member, AuditFailure(logged));
    if (!resolved.ok()) return Failure(member, resolved.status());
    for (const v1::CaseReference& ref :
         resolved->message.resolve_response().references()) {
      v1::CaseReference* out = answer.add_references();
      *out = ref;
      // Point input_index at the office's own identifier list.
      for (v1::MatchedIdentifier& mi : *out->mutable_matched()) {
        if (mi.input_index() < hit_inputs.size()) {
          mi.set_input_index(hit_inputs[mi.input_index()]);
        }
      }
      v1::Hit hit;
      hit.set_query_id(query_id);
      hit.set_member(member);
      *hit.mutable_reference() = *out;
      hit.set_case_number(purpose.case_number());
      hit.set_received_at_ms(ctx_->clock->NowMs());
      hit.set_envelope_sha256(resolved->envelope_sha256);
      absl::Status saved = ctx_->storage->AddHit(hit);
      if (!saved.ok()) return Failure(member, saved);
    }
    if (answer.references_size() > 0) {
      answer.set_outcome(v1::PEER_OUTCOME_HIT);
    }
  }
  answer.set_latency_ms(ctx_->clock->NowMs() - start_ms);
  return answer;
}

}  // namespace cbx::node
