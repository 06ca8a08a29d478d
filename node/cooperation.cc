#include "node/cooperation.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "core/identifiers/identifiers.h"
#include "core/util/status_macros.h"
#include "node/cooperation_checks.h"
#include "node/grpc_status.h"
#include "node/log.h"
#include "node/log_before_effect.h"
#include "node/peer_reply.h"

namespace cbx::node {
namespace {

// A request's audit counts (spec/cooperation.md §8): its type, its
// response_due_ms as carried, and when a PRESERVATION request's receipt is
// due by `policy`, so that the transparency report (§7) finds overdue
// items in the log alone.
AuditCounts RequestCounts(const v1::Message& msg, const v1::Policy& policy) {
  const v1::CooperationRequest& req = msg.cooperation_request();
  AuditCounts counts{.cooperation_type = static_cast<uint32_t>(req.type()),
                     .response_due_ms = req.response_due_ms()};
  if (req.type() == v1::COOPERATION_TYPE_PRESERVATION) {
    counts.receipt_due_ms =
        msg.header().issued_at_ms() +
        int64_t{directory::PreservationReceiptS(policy)} * 1000;
  }
  return counts;
}

v1::CooperationReceipt Refused(v1::ReceiptRefusal reason, int64_t now_ms) {
  v1::CooperationReceipt r;
  r.set_status(v1::RECEIPT_STATUS_REFUSED);
  r.set_reason(reason);
  r.set_received_at_ms(now_ms);
  return r;
}

std::string TypeName(v1::CooperationType type) {
  return v1::CooperationType_Name(type);
}

// Whether every account identifier of a preservation request is one of
// the case's identifiers (after normalization): a request names only
// identifiers the hit matched (spec/cooperation.md §2.1).
bool AccountInCase(const v1::PreservationDetails& p, const StoredCase& c) {
  for (const v1::Identifier& id : p.account()) {
    absl::StatusOr<std::string> norm =
        identifiers::Normalize(id.type(), id.value());
    if (!norm.ok()) return false;
    const bool held =
        std::any_of(c.identifiers.begin(), c.identifiers.end(),
                    [&](const StoredIdentifier& s) {
                      return s.type == id.type() && s.normalized_value == *norm;
                    });
    if (!held) return false;
  }
  return true;
}

}  // namespace

v1::CooperationRecord Cooperation::WithOverdue(v1::CooperationRecord r) const {
  r.set_overdue(CooperationOverdueAt(r, ctx_->clock->NowMs()));
  return r;
}

absl::Status Cooperation::StoreLogged(
    const v1::CooperationRecord& record,
    const std::function<absl::Status()>& append, const std::string& person) {
  return ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change =
           [&](StorageTransaction& txn) { return txn.PutCooperation(record); },
       .append = append,
       .append_refusal = [](const absl::Status&) { return absl::OkStatus(); },
       .append_void =
           [&](const absl::Status& failure) {
             return ctx_->audit_trail->Call(
                 v1::AUDIT_DIRECTION_LOCAL, record.peer(), kCooperateRpc,
                 "not_applied", record.office(), failure.code(), {}, "",
                 person);
           }});
}

// --- The requesting side -----------------------------------------------------

absl::StatusOr<v1::Hit> Cooperation::FindHit(
    const std::string& office, const v1::SendCooperationRequestRequest& req) {
  ASSIGN_OR_RETURN(StoredCase own, ctx_->storage->GetCase(req.case_number()));
  if (own.record.office() != office) {
    return absl::PermissionDeniedError(absl::StrCat(
        "case ", req.case_number(), " is not a case of office ", office));
  }
  if (own.record.status() != v1::CASE_STATUS_OPEN) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", req.case_number(), " is closed"));
  }
  PageRequest page{.after = "", .limit = 1000};
  while (true) {
    ASSIGN_OR_RETURN(Page<v1::Hit> hits,
                     ctx_->storage->ListHits(req.case_number(), page));
    for (v1::Hit& hit : hits.items) {
      if (hit.reference().case_token() != req.case_token()) continue;
      // A withdrawn reference (spec/cooperation.md §2.4) is no channel.
      if (hit.withdrawn_at_ms() != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the reference with that case token was withdrawn by ",
            hit.member(), ": its case is closed"));
      }
      return hit;
    }
    if (hits.next.empty()) break;
    page.after = hits.next;
  }
  return absl::NotFoundError(absl::StrCat(
      "no hit of case ", req.case_number(),
      " carries that case token (cbx hits --case ", req.case_number(), ")"));
}

absl::StatusOr<std::string> Cooperation::CheckSend(
    const std::string& office, const v1::SendCooperationRequestRequest& req,
    v1::CooperationRequest& request) {
  request.set_case_token(req.case_token());
  request.set_requester_case_number(req.case_number());
  request.set_type(req.type());
  request.set_legal_basis(req.legal_basis());
  if (req.has_preservation())
    *request.mutable_preservation() = req.preservation();
  request.set_note(req.note());
  RETURN_IF_ERROR(CheckRequestFields(request));
  ASSIGN_OR_RETURN(v1::Hit hit, FindHit(office, req));
  const std::string& member = hit.member();
  for (const v1::Identifier& id : req.preservation().account()) {
    const auto& matched = hit.reference().matched();
    if (std::none_of(matched.begin(), matched.end(),
                     [&](const v1::MatchedIdentifier& m) {
                       return m.type() == id.type();
                     })) {
      return absl::InvalidArgumentError(absl::StrCat(
          "preservation.account: the hit matched no identifier of type ",
          v1::IdentifierType_Name(id.type())));
    }
  }
  if (!ctx_->directory->Current()->IsActive(member)) {
    return absl::FailedPreconditionError(
        absl::StrCat("member ", member, " is not active in the directory"));
  }
  if (transport_ == nullptr) {
    return absl::UnavailableError("this node sends no cooperation requests");
  }
  return member;
}

absl::StatusOr<v1::CooperationRecord> Cooperation::Send(
    const std::string& office, const v1::SendCooperationRequestRequest& req,
    const std::string& person) {
  v1::Message msg;
  v1::CooperationRequest* request = msg.mutable_cooperation_request();
  ASSIGN_OR_RETURN(const std::string member, CheckSend(office, req, *request));
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  *msg.mutable_header() = ctx_->NewHeader(member, office, person);
  const int64_t period = ResponsePeriodMs(dir->policy(), req.type());
  request->set_response_due_ms(
      period == 0 ? 0 : msg.header().issued_at_ms() + period);
  ASSIGN_OR_RETURN(v1::Envelope sealed, ctx_->signing_keys->Seal(msg));

  v1::CooperationRecord record;
  record.set_id(CooperationId(msg.header().message_id()));
  record.set_direction(v1::COOPERATION_DIRECTION_SENT);
  record.set_peer(member);
  record.set_office(office);
  record.set_case_number(req.case_number());
  *record.mutable_request() = *request;
  record.set_requested_at_ms(msg.header().issued_at_ms());
  record.set_request_envelope(sealed.SerializeAsString());
  AuditCounts counts = RequestCounts(msg, dir->policy());
  // Stored and logged as sent before it leaves.
  RETURN_IF_ERROR(StoreLogged(
      record,
      [&] {
        return ctx_->audit_trail->Envelope(v1::AUDIT_DIRECTION_SENT, member,
                                           kCooperateRpc, sealed,
                                           absl::StatusCode::kOk, counts);
      },
      person));
  // The due times are the request's entries' only (§8).
  counts.response_due_ms = counts.receipt_due_ms = 0;
  ASSIGN_OR_RETURN(Delivered reply,
                   Deliver(msg, sealed, record, counts, person));
  const v1::CooperationReceipt& receipt = reply.receipt;
  *record.mutable_receipt() = receipt;
  record.set_receipt_envelope(reply.raw.SerializeAsString());
  record.set_peer_office(receipt.competent_office());
  record.clear_delivery_error();
  // A preservation receipt later than the policy allows stays a fact.
  record.set_receipt_late(
      req.type() == v1::COOPERATION_TYPE_PRESERVATION &&
      receipt.status() == v1::RECEIPT_STATUS_ACCEPTED &&
      receipt.received_at_ms() - msg.header().issued_at_ms() >
          int64_t{directory::PreservationReceiptS(dir->policy())} * 1000);
  counts.cooperation_code = ReceiptCode(receipt);
  RETURN_IF_ERROR(StoreLogged(
      record,
      [&] {
        return ctx_->audit_trail->Envelope(v1::AUDIT_DIRECTION_RECEIVED, member,
                                           kCooperateRpc, reply.raw,
                                           absl::StatusCode::kOk, counts,
                                           person);
      },
      person));
  LogEvent(ctx_->self(), "info", "cooperation-request-sent",
           {{"id", record.id()},
            {"to", member},
            {"office", office},
            {"type", TypeName(req.type())},
            {"receipt", v1::ReceiptStatus_Name(receipt.status())},
            {"reason", v1::ReceiptRefusal_Name(receipt.reason())}});
  return WithOverdue(std::move(record));
}

absl::StatusOr<Cooperation::Delivered> Cooperation::Deliver(
    const v1::Message& msg, const v1::Envelope& sealed,
    v1::CooperationRecord& record, const AuditCounts& counts,
    const std::string& person) {
  const std::string member = record.peer();
  const int64_t budget_ms =
      ctx_->directory->Current()->policy().peer_deadline_ms();
  absl::StatusOr<v1::Envelope> reply =
      transport_->Cooperate(member, sealed, budget_ms);
  absl::Status failure;
  absl::StatusOr<envelope::OpenedEnvelope> opened;
  if (!reply.ok()) {
    failure = reply.status();
    absl::Status logged = ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, member, kCooperateRpc, "call_failed",
        record.office(), failure.code(), counts,
        envelope::EnvelopeSha256(sealed), person);
    if (!logged.ok()) return AuditFailure(logged);
  } else {
    opened = OpenPeerReply(*ctx_, member, msg, *reply,
                           v1::Message::kCooperationReceipt);
    if (!opened.ok()) {
      failure = opened.status();
      absl::Status logged = ctx_->audit_trail->Envelope(
          v1::AUDIT_DIRECTION_RECEIVED, member, kCooperateRpc, *reply,
          failure.code(), counts, person);
      if (!logged.ok()) return AuditFailure(logged);
    }
  }
  if (failure.ok()) {
    return Delivered{*std::move(reply), opened->message.cooperation_receipt()};
  }
  // The record says why it has no receipt; the office may ask again.
  record.set_delivery_error(absl::StrCat(
      absl::StatusCodeToString(failure.code()), ": ", failure.message()));
  (void)ctx_->storage->PutCooperation(record);
  LogEvent(ctx_->self(), "warn", "cooperation-not-delivered",
           {{"id", record.id()},
            {"to", member},
            {"kind", envelope::KindName(msg.kind_case())},
            {"code", absl::StatusCodeToString(failure.code())},
            {"reason", std::string(failure.message())}});
  return absl::Status(
      failure.code(),
      absl::StrCat("cooperation request ", record.id(), " not delivered to ",
                   member, ": ", failure.message()));
}

absl::StatusOr<v1::CooperationRecord> Cooperation::AnswerableRecord(
    const std::string& office,
    const v1::RespondToCooperationRequestRequest& req) {
  ASSIGN_OR_RETURN(v1::CooperationRecord record,
                   ctx_->storage->GetCooperation(req.id()));
  if (record.office() != office) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cooperation request ", req.id(), " is not office ", office, "'s"));
  }
  if (record.direction() != v1::COOPERATION_DIRECTION_RECEIVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("cooperation request ", req.id(),
                     " was sent by this node; its peer answers it"));
  }
  const v1::CooperationType type = record.request().type();
  if (type == v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION) {
    return absl::FailedPreconditionError(
        "spontaneous information needs no response; its receipt closed it");
  }
  if (record.has_response_receipt()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cooperation request ", req.id(), " is already answered"));
  }
  return record;
}

absl::StatusOr<v1::CooperationRecord> Cooperation::Respond(
    const std::string& office,
    const v1::RespondToCooperationRequestRequest& req,
    const std::string& person) {
  ASSIGN_OR_RETURN(Bytes request_id, MessageIdOf(req.id()));
  ASSIGN_OR_RETURN(v1::CooperationRecord record, AnswerableRecord(office, req));
  const v1::CooperationType type = record.request().type();
  v1::Message msg;
  v1::CooperationResponse* response = msg.mutable_cooperation_response();
  response->set_outcome(req.outcome());
  response->set_reason(req.reason());
  response->set_mla_reference(req.mla_reference());
  response->set_preserved_until_ms(req.preserved_until_ms());
  response->set_note(req.note());
  RETURN_IF_ERROR(CheckResponseFields(*response, type));
  // Data preserved until a time already past are not preserved: the office
  // means another date (spec/cooperation.md §2.3).
  if (response->preserved_until_ms() != 0 &&
      response->preserved_until_ms() <= ctx_->clock->NowMs()) {
    return absl::InvalidArgumentError(
        "preserved_until_ms: the date data are preserved until is not in the "
        "future; give the date the preservation ends");
  }
  if (transport_ == nullptr) {
    return absl::UnavailableError("this node sends no cooperation responses");
  }
  *msg.mutable_header() = ctx_->NewHeader(record.peer(), office, person);
  msg.mutable_header()->set_in_reply_to(request_id);
  ASSIGN_OR_RETURN(v1::Envelope sealed, ctx_->signing_keys->Seal(msg));
  *record.mutable_response() = *response;
  record.set_responded_at_ms(msg.header().issued_at_ms());
  record.set_response_envelope(sealed.SerializeAsString());
  AuditCounts counts{.cooperation_type = static_cast<uint32_t>(type),
                     .cooperation_code = ResponseCode(*response)};
  RETURN_IF_ERROR(StoreLogged(
      record,
      [&] {
        return ctx_->audit_trail->Envelope(
            v1::AUDIT_DIRECTION_SENT, record.peer(), kCooperateRpc, sealed,
            absl::StatusCode::kOk, counts);
      },
      person));
  ASSIGN_OR_RETURN(Delivered reply,
                   Deliver(msg, sealed, record, counts, person));
  *record.mutable_response_receipt() = reply.receipt;
  record.set_response_receipt_envelope(reply.raw.SerializeAsString());
  record.clear_delivery_error();
  AuditCounts receipt_counts{.cooperation_type = static_cast<uint32_t>(type),
                             .cooperation_code = ReceiptCode(reply.receipt)};
  RETURN_IF_ERROR(StoreLogged(
      record,
      [&] {
        return ctx_->audit_trail->Envelope(
            v1::AUDIT_DIRECTION_RECEIVED, record.peer(), kCooperateRpc,
            reply.raw, absl::StatusCode::kOk, receipt_counts, person);
      },
      person));
  LogEvent(ctx_->self(), "info", "cooperation-response-sent",
           {{"id", record.id()},
            {"to", record.peer()},
            {"office", office},
            {"outcome", v1::ResponseOutcome_Name(response->outcome())},
            {"receipt", v1::ReceiptStatus_Name(reply.receipt.status())}});
  return WithOverdue(std::move(record));
}

absl::StatusOr<v1::CooperationRecord> Cooperation::Get(
    const std::string& office, const std::string& id) {
  ASSIGN_OR_RETURN(v1::CooperationRecord record,
                   ctx_->storage->GetCooperation(id));
  // Another office's request is not revealed to exist.
  if (record.office() != office) {
    return absl::NotFoundError(absl::StrCat("no cooperation request ", id));
  }
  return WithOverdue(std::move(record));
}

absl::StatusOr<Page<v1::CooperationRecord>> Cooperation::List(
    const std::string& office, bool overdue_only, const PageRequest& page) {
  CooperationFilter filter{.office = office};
  if (overdue_only) filter.overdue_at_ms = ctx_->clock->NowMs();
  ASSIGN_OR_RETURN(Page<v1::CooperationRecord> out,
                   ctx_->storage->ListCooperations(filter, page));
  for (v1::CooperationRecord& r : out.items) r = WithOverdue(std::move(r));
  return out;
}

// --- The receiving side ------------------------------------------------------

absl::StatusOr<v1::Envelope> Cooperation::Receive(
    const envelope::OpenedEnvelope& opened, const v1::Envelope& raw) {
  switch (opened.message.kind_case()) {
    case v1::Message::kCooperationRequest:
      return ReceiveRequest(opened, raw);
    case v1::Message::kCooperationResponse:
      return ReceiveResponse(opened, raw);
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "message kind ", envelope::KindName(opened.message.kind_case()),
          " is not accepted by Peer.Cooperate"));
  }
}

absl::StatusOr<bool> Cooperation::WasResolvedBy(const std::string& number,
                                                const std::string& member) {
  PageRequest page{.after = "", .limit = 1000};
  while (true) {
    ASSIGN_OR_RETURN(Page<v1::Notification> notes,
                     ctx_->storage->ListNotifications(number, page));
    for (const v1::Notification& n : notes.items) {
      if (n.from_member() == member) return true;
    }
    if (notes.next.empty()) return false;
    page.after = notes.next;
  }
}

absl::StatusOr<v1::CooperationReceipt> Cooperation::JudgeRequest(
    const v1::Message& msg, StoredCase* stored) {
  const v1::CooperationRequest& req = msg.cooperation_request();
  const int64_t now = ctx_->clock->NowMs();
  const v1::Policy& policy = ctx_->directory->Current()->policy();
  if (!CheckRequestFields(req).ok() ||
      !CheckResponseDue(req, msg.header().issued_at_ms(), policy).ok()) {
    return Refused(v1::RECEIPT_REFUSAL_MALFORMED, now);
  }
  absl::StatusOr<StoredCase> found =
      ctx_->storage->GetCaseByToken(req.case_token());
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return Refused(v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN, now);
  }
  RETURN_IF_ERROR(found.status());
  // A token this node never gave the sender answers exactly as an unknown
  // one: nothing is revealed about other members' cases.
  ASSIGN_OR_RETURN(bool resolved, WasResolvedBy(found->record.case_number(),
                                                msg.header().sender()));
  if (!resolved) return Refused(v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN, now);
  if (found->record.status() != v1::CASE_STATUS_OPEN) {
    return Refused(v1::RECEIPT_REFUSAL_CASE_WITHDRAWN, now);
  }
  if (req.has_preservation() && !AccountInCase(req.preservation(), *found)) {
    return Refused(v1::RECEIPT_REFUSAL_MALFORMED, now);
  }
  v1::CooperationReceipt receipt;
  receipt.set_status(v1::RECEIPT_STATUS_ACCEPTED);
  receipt.set_received_at_ms(now);
  receipt.set_competent_office(found->record.office());
  *stored = *std::move(found);
  return receipt;
}

absl::StatusOr<v1::Envelope> Cooperation::SealReceipt(
    const v1::Message& request, const v1::CooperationReceipt& receipt,
    const std::string& office) const {
  v1::Message reply;
  *reply.mutable_header() = ctx_->NewHeader(request.header().sender(), office);
  reply.mutable_header()->set_in_reply_to(request.header().message_id());
  *reply.mutable_cooperation_receipt() = receipt;
  return ctx_->signing_keys->Seal(reply);
}

// Over 80 lines on purpose: one storage transaction (log before effect)
// holds the quota charge, the record and the exchange's entries.
absl::StatusOr<v1::Envelope> Cooperation::ReceiveRequest(
    const envelope::OpenedEnvelope& opened, const v1::Envelope& raw) {
  const v1::Message& msg = opened.message;
  const v1::CooperationRequest& req = msg.cooperation_request();
  const std::string& sender = msg.header().sender();
  StoredCase stored;
  ASSIGN_OR_RETURN(v1::CooperationReceipt receipt, JudgeRequest(msg, &stored));
  const uint32_t limit = directory::CooperationRequestsPerPeerPerDay(
      ctx_->directory->Current()->policy());
  const int64_t day = ctx_->clock->NowMs() / 86'400'000;
  AuditCounts counts =
      RequestCounts(msg, ctx_->directory->Current()->policy());
  AuditCounts receipt_counts;  // the receipt's entry: no due times
  v1::Envelope sealed;
  v1::CooperationRecord record;
  auto change = [&](StorageTransaction& txn) -> absl::Status {
    // Every request is charged, refused or not, so that probing tokens
    // costs quota; one over the quota is refused and charges nothing.
    absl::StatusOr<uint32_t> charged =
        txn.ChargeQuota(sender + "/cooperate", day, 1, limit);
    if (charged.status().code() == absl::StatusCode::kResourceExhausted) {
      receipt =
          Refused(v1::RECEIPT_REFUSAL_OVER_QUOTA, receipt.received_at_ms());
    } else {
      RETURN_IF_ERROR(charged.status());
    }
    counts.cooperation_code = ReceiptCode(receipt);
    receipt_counts = {.cooperation_type = counts.cooperation_type,
                      .cooperation_code = counts.cooperation_code};
    const bool accepted = receipt.status() == v1::RECEIPT_STATUS_ACCEPTED;
    ASSIGN_OR_RETURN(
        sealed,
        SealReceipt(msg, receipt, accepted ? stored.record.office() : ""));
    if (!accepted) return absl::OkStatus();
    record.set_id(CooperationId(msg.header().message_id()));
    record.set_direction(v1::COOPERATION_DIRECTION_RECEIVED);
    record.set_peer(sender);
    record.set_peer_office(msg.header().office());
    record.set_office(stored.record.office());
    record.set_case_number(stored.record.case_number());
    *record.mutable_request() = req;
    record.set_requested_at_ms(msg.header().issued_at_ms());
    *record.mutable_receipt() = receipt;
    record.set_request_envelope(raw.SerializeAsString());
    record.set_receipt_envelope(sealed.SerializeAsString());
    return txn.PutCooperation(record);
  };
  RETURN_IF_ERROR(ApplyLogged(
      ctx_->self(), *ctx_->storage,
      {.change = change,
       .append =
           [&] {
             return ctx_->audit_trail->Exchange(
                 sender, kCooperateRpc, opened,
                 RefusalStatusCode(receipt.reason()), counts, &sealed,
                 &receipt_counts);
           },
       .append_refusal =
           [&](const absl::Status& refusal) {
             return ctx_->audit_trail->Exchange(sender, kCooperateRpc, opened,
                                                refusal.code(), counts,
                                                nullptr);
           },
       .append_void =
           [&](const absl::Status& failure) {
             return ctx_->audit_trail->Call(
                 v1::AUDIT_DIRECTION_LOCAL, sender, kCooperateRpc,
                 "not_applied", msg.header().office(), failure.code(), counts,
                 opened.envelope_sha256);
           }}));
  LogEvent(ctx_->self(), "info", "cooperation-request-received",
           {{"id", CooperationId(msg.header().message_id())},
            {"from", sender},
            {"office", msg.header().office()},
            {"type", TypeName(req.type())},
            {"receipt", v1::ReceiptStatus_Name(receipt.status())},
            {"reason", v1::ReceiptRefusal_Name(receipt.reason())},
            {"competent_office", receipt.competent_office()}});
  return sealed;
}

// Over 80 lines on purpose: as ReceiveRequest, one transaction.
absl::StatusOr<v1::Envelope> Cooperation::ReceiveResponse(
    const envelope::OpenedEnvelope& opened, const v1::Envelope& raw) {
  const v1::Message& msg = opened.message;
  const v1::CooperationResponse& resp = msg.cooperation_response();
  const std::string& sender = msg.header().sender();
  const std::string id = CooperationId(msg.header().in_reply_to());
  v1::CooperationReceipt receipt;
  receipt.set_received_at_ms(ctx_->clock->NowMs());
  AuditCounts counts{.cooperation_code = ResponseCode(resp)};
  AuditCounts receipt_counts;
  v1::Envelope sealed;
  std::string office;
  auto change = [&](StorageTransaction& txn) -> absl::Status {
    absl::StatusOr<v1::CooperationRecord> found = txn.GetCooperation(id);
    if (!found.ok() && found.status().code() != absl::StatusCode::kNotFound) {
      return found.status();
    }
    v1::ReceiptRefusal reason = v1::RECEIPT_REFUSAL_UNSPECIFIED;
    if (!found.ok() || found->direction() != v1::COOPERATION_DIRECTION_SENT ||
        found->peer() != sender) {
      reason = v1::RECEIPT_REFUSAL_UNKNOWN_REQUEST;
    } else if (found->has_response()) {
      reason = v1::RECEIPT_REFUSAL_ALREADY_ANSWERED;
    } else if (!CheckResponseFields(resp, found->request().type()).ok() ||
               found->request().type() ==
                   v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION) {
      reason = v1::RECEIPT_REFUSAL_MALFORMED;
    }
    if (found.ok() && reason != v1::RECEIPT_REFUSAL_UNKNOWN_REQUEST) {
      counts.cooperation_type = found->request().type();
      office = found->office();
    }
    receipt.set_status(reason == v1::RECEIPT_REFUSAL_UNSPECIFIED
                           ? v1::RECEIPT_STATUS_ACCEPTED
                           : v1::RECEIPT_STATUS_REFUSED);
    receipt.set_reason(reason);
    receipt_counts = {.cooperation_type = counts.cooperation_type,
                      .cooperation_code = ReceiptCode(receipt)};
    ASSIGN_OR_RETURN(sealed, SealReceipt(msg, receipt, office));
    if (reason != v1::RECEIPT_REFUSAL_UNSPECIFIED) return absl::OkStatus();
    v1::CooperationRecord record = *std::move(found);
    *record.mutable_response() = resp;
    record.set_responded_at_ms(msg.header().issued_at_ms());
    record.set_response_envelope(raw.SerializeAsString());
    *record.mutable_response_receipt() = receipt;
    record.set_response_receipt_envelope(sealed.SerializeAsString());
    return txn.PutCooperation(record);
  };
  RETURN_IF_ERROR(ApplyLogged(ctx_->self(), *ctx_->storage,
                              {.change = change,
                               .append =
                                   [&] {
                                     return ctx_->audit_trail->Exchange(
                                         sender, kCooperateRpc, opened,
                                         RefusalStatusCode(receipt.reason()),
                                         counts, &sealed, &receipt_counts);
                                   },
                               .append_refusal =
                                   [&](const absl::Status& refusal) {
                                     return ctx_->audit_trail->Exchange(
                                         sender, kCooperateRpc, opened,
                                         refusal.code(), counts, nullptr);
                                   },
                               .append_void =
                                   [&](const absl::Status& failure) {
                                     return ctx_->audit_trail->Call(
                                         v1::AUDIT_DIRECTION_LOCAL, sender,
                                         kCooperateRpc, "not_applied",
                                         msg.header().office(), failure.code(),
                                         counts, opened.envelope_sha256);
                                   }}));
  LogEvent(ctx_->self(), "info", "cooperation-response-received",
           {{"id", id},
            {"from", sender},
            {"office", msg.header().office()},
            {"outcome", v1::ResponseOutcome_Name(resp.outcome())},
            {"receipt", v1::ReceiptStatus_Name(receipt.status())},
            {"reason", v1::ReceiptRefusal_Name(receipt.reason())}});
  return sealed;
}

// --- Deadlines ---------------------------------------------------------------

absl::StatusOr<int> Cooperation::AnnounceOverdue() {
  const int64_t now = ctx_->clock->NowMs();
  ASSIGN_OR_RETURN(
      Page<v1::CooperationRecord> due,
      ctx_->storage->ListCooperations(
          {.office = "", .overdue_at_ms = now, .unannounced_only = true},
          {.after = "", .limit = 1000}));
  int announced = 0;
  for (const v1::CooperationRecord& r : due.items) {
    LogEvent(
        ctx_->self(), "warn", "cooperation-overdue",
        {{"id", r.id()},
         {"direction", r.direction() == v1::COOPERATION_DIRECTION_SENT
                           ? "sent"
                           : "received"},
         {"peer", r.peer()},
         {"office", r.office()},
         {"type", TypeName(r.request().type())},
         {"response_due_ms", std::to_string(r.request().response_due_ms())},
         {"receipt_late", r.receipt_late() ? "yes" : "no"}});
    RETURN_IF_ERROR(ctx_->storage->MarkCooperationAnnounced(r.id()));
    ++announced;
  }
  return announced;
}

absl::StatusOr<int64_t> Cooperation::CountOverdue() {
  ASSIGN_OR_RETURN(Page<v1::CooperationRecord> due,
                   ctx_->storage->ListCooperations(
                       {.office = "", .overdue_at_ms = ctx_->clock->NowMs()}));
  return static_cast<int64_t>(due.items.size());
}

}  // namespace cbx::node
