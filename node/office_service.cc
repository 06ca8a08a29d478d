#include "node/office_service.h"

#include <ctime>
#include <regex>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/crypto/random.h"
#include "core/identifiers/identifiers.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/log.h"

namespace cbx::node {
namespace {

// Paging of the Office's listings (spec/office-api.md §2.4).
constexpr uint32_t kDefaultPageSize = 100;
constexpr uint32_t kMaxPageSize = 1000;

// A page_token carries the storage's cursor with the listing and filter it
// was made for, so a token is never applied to another listing. Opaque to
// offices: URL-safe base64 of "<listing>\n<filter>\n<cursor>".
std::string PageToken(const std::string& listing, const std::string& filter,
                      const std::string& cursor) {
  if (cursor.empty()) return "";
  return absl::WebSafeBase64Escape(
      absl::StrCat(listing, "\n", filter, "\n", cursor));
}

absl::StatusOr<PageRequest> ReadPage(const std::string& listing,
                                     const std::string& filter,
                                     uint32_t page_size,
                                     const std::string& page_token) {
  PageRequest page;
  page.limit =
      page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
  if (page_token.empty()) return page;
  std::string raw;
  std::vector<std::string> parts;
  if (absl::WebSafeBase64Unescape(page_token, &raw)) {
    parts = absl::StrSplit(raw, absl::MaxSplits('\n', 2));
  }
  if (parts.size() != 3 || parts[0] != listing || parts[2].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: not a token this node gave for ", listing));
  }
  if (parts[1] != filter) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token: made for another filter of ", listing,
        "; repeat the first request's filter or start again without a token"));
  }
  page.after = parts[2];
  return page;
}

std::string MonthOf(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[8];
  std::strftime(buf, sizeof(buf), "%Y-%m", &tm);
  return buf;
}

absl::Status ValidateCaseNumber(const std::string& number) {
  static const std::regex kNumber(R"(^[A-Za-z0-9][A-Za-z0-9/._-]{0,63}$)");
  if (!std::regex_match(number, kNumber)) {
    return absl::InvalidArgumentError(
        "case_number: use 1-64 letters, digits and / . _ - (got '" + number +
        "')");
  }
  return absl::OkStatus();
}

absl::Status ValidateOffences(
    const google::protobuf::RepeatedPtrField<v1::Offence>& offences,
    const std::string& field) {
  for (int i = 0; i < offences.size(); ++i) {
    if (offences[i].code() == v1::OFFENCE_CODE_UNSPECIFIED ||
        !v1::OffenceCode_IsValid(offences[i].code())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "].code: give a known offence code"));
    }
  }
  return absl::OkStatus();
}

void RefreshRecordIdentifiers(StoredCase& c) {
  c.record.clear_identifiers();
  for (const StoredIdentifier& id : c.identifiers) {
    v1::Identifier* out = c.record.add_identifiers();
    out->set_type(id.type);
    out->set_value(id.normalized_value);
    out->set_observed_from_ms(id.observed_from_ms);
    out->set_observed_to_ms(id.observed_to_ms);
  }
}

}  // namespace

absl::StatusOr<OfficeCaller> OfficeService::Authorize(
    grpc::ServerContext* context, std::string_view rpc,
    std::initializer_list<OfficeRole> allowed) {
  auto caller = CallerOffice(*context, ctx_->self());
  if (!caller.ok()) {
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"code", "UNAUTHENTICATED"},
              {"reason", std::string(caller.status().message())}});
    return caller.status();
  }
  for (OfficeRole role : allowed) {
    if (caller->role == role) return caller;
  }
  absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("role ", std::string(RoleName(caller->role)),
                   " may not call ", std::string(rpc)));
  LogEvent(ctx_->self(), "warn", "refused",
           {{"rpc", std::string(rpc)},
            {"office", caller->Name()},
            {"code", "PERMISSION_DENIED"},
            {"reason", std::string(denied.message())}});
  return denied;
}

absl::StatusOr<StoredIdentifier> OfficeService::Prepare(
    const v1::Identifier& id, const std::string& field) {
  auto normalized = identifiers::Normalize(id.type(), id.value());
  if (!normalized.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", normalized.status().message()));
  }
  if (id.observed_from_ms() < 0 || id.observed_to_ms() < 0 ||
      (id.observed_to_ms() != 0 &&
       id.observed_to_ms() < id.observed_from_ms())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the observed window ends before it starts"));
  }
  StoredIdentifier out;
  out.type = id.type();
  out.normalized_value = *normalized;
  out.observed_from_ms = id.observed_from_ms();
  out.observed_to_ms = id.observed_to_ms();
  auto y =
      ctx_->oprf_key->Evaluate(identifiers::OprfInput(id.type(), *normalized));
  if (!y.ok()) return y.status();
  out.y = *std::move(y);
  out.tag = identifiers::TagOf(out.y);
  return out;
}

grpc::Status OfficeService::DoAddCase(grpc::ServerContext* context,
                                      const v1::AddCaseRequest* request,
                                      v1::Case* response, OfficeAudit& audit) {
  auto caller = Authorize(context, "AddCase", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  const v1::Case& in = request->case_();
  if (absl::Status s = ValidateCaseNumber(in.case_number()); !s.ok()) {
    return ToGrpc(s);
  }
  if (in.identifiers().empty()) {
    return ToGrpc(absl::InvalidArgumentError(
        "identifiers: a case needs at least one perpetrator identifier"));
  }
  if (in.offences().empty()) {
    return ToGrpc(
        absl::InvalidArgumentError("offences: give at least one offence"));
  }
  if (absl::Status s = ValidateOffences(in.offences(), "offences"); !s.ok()) {
    return ToGrpc(s);
  }
  if (in.contact_point().empty()) {
    return ToGrpc(absl::InvalidArgumentError(
        "contact_point: give the office's 24/7 contact point"));
  }
  if (!v1::PerpetratorRole_IsValid(in.role())) {
    return ToGrpc(absl::InvalidArgumentError("role: unknown role"));
  }
  static const std::regex kMonth(R"(^[0-9]{4}-(0[1-9]|1[0-2])$)");
  if (!in.opened_month().empty() &&
      !std::regex_match(in.opened_month(), kMonth)) {
    return ToGrpc(absl::InvalidArgumentError(
        "opened_month: use YYYY-MM (got '" + in.opened_month() + "')"));
  }
  StoredCase c;
  for (int i = 0; i < in.identifiers_size(); ++i) {
    auto id = Prepare(in.identifiers(i), absl::StrCat("identifiers[", i, "]"));
    if (!id.ok()) return ToGrpc(id.status());
    bool duplicate = false;
    for (const StoredIdentifier& have : c.identifiers) {
      duplicate = duplicate || (have.type == id->type &&
                                have.normalized_value == id->normalized_value);
    }
    if (!duplicate) c.identifiers.push_back(*std::move(id));
  }
  const int64_t now = ctx_->clock->NowMs();
  c.record.set_case_number(in.case_number());
  c.record.set_case_token(crypto::RandomBytes(16));
  c.record.set_office(caller->Name());
  *c.record.mutable_offences() = in.offences();
  c.record.set_role(in.role());
  c.record.set_contact_point(in.contact_point());
  c.record.set_status(v1::CASE_STATUS_OPEN);
  c.record.set_opened_month(in.opened_month().empty() ? MonthOf(now)
                                                      : in.opened_month());
  c.record.set_created_at_ms(now);
  c.record.set_updated_at_ms(now);
  RefreshRecordIdentifiers(c);
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    absl::Status s = ctx_->storage->AddCase(c);
    if (s.code() == absl::StatusCode::kAlreadyExists) {
      return ToGrpc(absl::AlreadyExistsError(
          "case_number: case " + in.case_number() + " already exists"));
    }
    if (!s.ok()) return ToGrpc(s);
  }
  audit.counts.elements = static_cast<uint32_t>(c.identifiers.size());
  LogEvent(ctx_->self(), "info", "case-added",
           {{"case", in.case_number()},
            {"office", caller->Name()},
            {"identifiers", std::to_string(c.identifiers.size())}});
  *response = c.record;
  return grpc::Status::OK;
}

absl::StatusOr<v1::Case> OfficeService::Amend(
    const OfficeCaller& caller, const std::string& number,
    const std::function<absl::Status(StoredCase&)>& change) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto c = ctx_->storage->GetCase(number);
  if (c.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("case_number: no case " + number);
  }
  if (!c.ok()) return c.status();
  if (c->record.office() != caller.Name()) {
    return absl::PermissionDeniedError("case " + number + " belongs to " +
                                       c->record.office());
  }
  if (c->record.status() == v1::CASE_STATUS_CLOSED) {
    return absl::FailedPreconditionError("case " + number + " is closed");
  }
  RETURN_IF_ERROR(change(*c));
  RefreshRecordIdentifiers(*c);
  c->record.set_updated_at_ms(ctx_->clock->NowMs());
  RETURN_IF_ERROR(ctx_->storage->UpdateCase(*c));
  return c->record;
}

grpc::Status OfficeService::DoAmendCase(grpc::ServerContext* context,
                                        const v1::AmendCaseRequest* request,
                                        v1::Case* response,
                                        OfficeAudit& audit) {
  auto caller = Authorize(context, "AmendCase", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  if (absl::Status s = ValidateOffences(request->offences(), "offences");
      !s.ok()) {
    return ToGrpc(s);
  }
  // Prepare additions (normalize + evaluate) before taking the write lock.
  std::vector<StoredIdentifier> additions;
  for (int i = 0; i < request->add_identifiers_size(); ++i) {
    auto id = Prepare(request->add_identifiers(i),
                      absl::StrCat("add_identifiers[", i, "]"));
    if (!id.ok()) return ToGrpc(id.status());
    additions.push_back(*std::move(id));
  }
  std::vector<std::pair<v1::IdentifierType, std::string>> removals;
  for (int i = 0; i < request->remove_identifiers_size(); ++i) {
    const v1::Identifier& id = request->remove_identifiers(i);
    auto normalized = identifiers::Normalize(id.type(), id.value());
    if (!normalized.ok()) {
      return ToGrpc(absl::InvalidArgumentError(absl::StrCat(
          "remove_identifiers[", i, "]: ", normalized.status().message())));
    }
    removals.emplace_back(id.type(), *normalized);
  }
  auto updated = Amend(*caller, request->case_number(), [&](StoredCase& c) {
    for (const auto& [type, value] : removals) {
      auto it =
          std::find_if(c.identifiers.begin(), c.identifiers.end(),
                       [&](const StoredIdentifier& s) {
                         return s.type == type && s.normalized_value == value;
                       });
      if (it == c.identifiers.end()) {
        return absl::NotFoundError(
            absl::StrCat("remove_identifiers: the case has no ",
                         std::string(identifiers::TypeName(type)), " ", value));
      }
      c.identifiers.erase(it);
    }
    for (StoredIdentifier& add : additions) {
      bool present = false;
      for (const StoredIdentifier& s : c.identifiers) {
        present = present || (s.type == add.type &&
                              s.normalized_value == add.normalized_value);
      }
      if (!present) c.identifiers.push_back(add);
    }
    if (c.identifiers.empty()) {
      return absl::FailedPreconditionError(
          "a case keeps at least one identifier; close it instead");
    }
    if (!request->offences().empty()) {
      *c.record.mutable_offences() = request->offences();
    }
    if (request->role() != v1::PERPETRATOR_ROLE_UNSPECIFIED) {
      c.record.set_role(request->role());
    }
    if (!request->contact_point().empty()) {
      c.record.set_contact_point(request->contact_point());
    }
    return absl::OkStatus();
  });
  if (!updated.ok()) return ToGrpc(updated.status());
  LogEvent(ctx_->self(), "info", "case-amended",
           {{"case", request->case_number()}, {"office", caller->Name()}});
  *response = *std::move(updated);
  return grpc::Status::OK;
}

grpc::Status OfficeService::DoCloseCase(grpc::ServerContext* context,
                                        const v1::CloseCaseRequest* request,
                                        v1::Case* response,
                                        OfficeAudit& audit) {
  auto caller = Authorize(context, "CloseCase", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  auto updated = Amend(*caller, request->case_number(), [](StoredCase& c) {
    c.record.set_status(v1::CASE_STATUS_CLOSED);
    return absl::OkStatus();
  });
  if (!updated.ok()) return ToGrpc(updated.status());
  LogEvent(ctx_->self(), "info", "case-closed",
           {{"case", request->case_number()}, {"office", caller->Name()}});
  *response = *std::move(updated);
  return grpc::Status::OK;
}

grpc::Status OfficeService::DoListCases(grpc::ServerContext* context,
                                        const v1::ListCasesRequest* request,
                                        v1::ListCasesResponse* response,
                                        OfficeAudit& audit) {
  auto caller = Authorize(context, "ListCases", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  const std::string filter = request->include_closed() ? "closed" : "open";
  auto page = ReadPage("ListCases", filter, request->page_size(),
                       request->page_token());
  if (!page.ok()) return ToGrpc(page.status());
  auto cases = ctx_->storage->ListCases(request->include_closed(), *page);
  if (!cases.ok()) return ToGrpc(cases.status());
  for (StoredCase& c : cases->items) {
    *response->add_cases() = std::move(c.record);
  }
  response->set_next_page_token(PageToken("ListCases", filter, cases->next));
  return grpc::Status::OK;
}

grpc::Status OfficeService::DoQuery(grpc::ServerContext* context,
                                    const v1::QueryRequest* request,
                                    grpc::ServerWriter<v1::QueryEvent>* writer,
                                    OfficeAudit& audit) {
  auto caller = Authorize(context, "Query", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  audit.counts.elements = static_cast<uint32_t>(request->identifiers_size());
  absl::Status s =
      query_->Run(*request, *caller, [&](const v1::QueryEvent& event) {
        if (event.has_summary()) {
          audit.counts.hits =
              static_cast<uint32_t>(event.summary().hit_members_size());
        }
        if (event.has_answer()) {
          audit.counts.references += event.answer().references_size();
        }
        return !context->IsCancelled() && writer->Write(event);
      });
  return ToGrpc(s);
}

grpc::Status OfficeService::DoListHits(grpc::ServerContext* context,
                                       const v1::ListHitsRequest* request,
                                       v1::ListHitsResponse* response,
                                       OfficeAudit& audit) {
  auto caller = Authorize(context, "ListHits", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  auto page = ReadPage("ListHits", request->case_number(), request->page_size(),
                       request->page_token());
  if (!page.ok()) return ToGrpc(page.status());
  auto hits = ctx_->storage->ListHits(request->case_number(), *page);
  if (!hits.ok()) return ToGrpc(hits.status());
  for (v1::Hit& h : hits->items) *response->add_hits() = std::move(h);
  response->set_next_page_token(
      PageToken("ListHits", request->case_number(), hits->next));
  return grpc::Status::OK;
}

grpc::Status OfficeService::DoListInbox(grpc::ServerContext* context,
                                        const v1::ListInboxRequest* request,
                                        v1::ListInboxResponse* response,
                                        OfficeAudit& audit) {
  auto caller = Authorize(context, "ListInbox", {OfficeRole::kProsecutor});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  auto page = ReadPage("ListInbox", request->case_number(),
                       request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpc(page.status());
  auto notes = ctx_->storage->ListNotifications(request->case_number(), *page);
  if (!notes.ok()) return ToGrpc(notes.status());
  for (v1::Notification& n : notes->items) {
    *response->add_notifications() = std::move(n);
  }
  response->set_next_page_token(
      PageToken("ListInbox", request->case_number(), notes->next));
  return grpc::Status::OK;
}

grpc::Status OfficeService::DoListPeers(grpc::ServerContext* context,
                                        const v1::ListPeersRequest* request,
                                        v1::ListPeersResponse* response,
                                        OfficeAudit& audit) {
  auto caller = Authorize(context, "ListPeers",
                          {OfficeRole::kProsecutor, OfficeRole::kOperator});
  if (!caller.ok()) return ToGrpc(caller.status());
  audit.office = caller->Name();
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  response->set_directory_version(dir->version());
  response->set_self(ctx_->self());
  for (const v1::Member& m : dir->proto().members()) {
    if (m.code() == ctx_->self()) continue;
    v1::PeerStatus* p = response->add_peers();
    p->set_member(m.code());
    p->set_display_name(m.display_name());
    p->set_endpoint(m.endpoint());
    p->set_status(m.status());
    p->set_oprf_epoch(m.oprf_key().epoch());
    PeerIndexSet::Info held = ctx_->peer_indexes.Describe(m.code());
    if (held.held) {
      p->set_index_version(held.version);
      p->set_index_count(held.count);
      p->set_last_sync_ms(held.synced_at_ms);
    }
    p->set_last_error(sync_->LastError(m.code()));
    auto witnessed = witnessing_->Describe(m.code());
    if (!witnessed.ok()) return ToGrpc(witnessed.status());
    p->set_cosigned_size(witnessed->cosigned_size);
    p->set_cosigned_at_ms(witnessed->cosigned_at_ms);
    p->set_witness_alert(witnessed->alert);
  }
  return grpc::Status::OK;
}

grpc::Status OfficeService::Logged(std::string_view rpc,
                                   const OfficeAudit& audit,
                                   const grpc::Status& status) {
  absl::Status logged = ctx_->audit_trail->Call(
      v1::AUDIT_DIRECTION_LOCAL, "", rpc, audit.kind, audit.office,
      static_cast<absl::StatusCode>(status.error_code()), audit.counts);
  if (!logged.ok()) return ToGrpc(AuditFailure(logged));
  return status;
}

grpc::Status OfficeService::AddCase(grpc::ServerContext* context,
                                    const v1::AddCaseRequest* request,
                                    v1::Case* response) {
  OfficeAudit audit;
  audit.kind = "add_case";
  return Logged("Office.AddCase", audit,
                DoAddCase(context, request, response, audit));
}

grpc::Status OfficeService::AmendCase(grpc::ServerContext* context,
                                      const v1::AmendCaseRequest* request,
                                      v1::Case* response) {
  OfficeAudit audit;
  audit.kind = "amend_case";
  return Logged("Office.AmendCase", audit,
                DoAmendCase(context, request, response, audit));
}

grpc::Status OfficeService::CloseCase(grpc::ServerContext* context,
                                      const v1::CloseCaseRequest* request,
                                      v1::Case* response) {
  OfficeAudit audit;
  audit.kind = "close_case";
  return Logged("Office.CloseCase", audit,
                DoCloseCase(context, request, response, audit));
}

grpc::Status OfficeService::ListCases(grpc::ServerContext* context,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) {
  OfficeAudit audit;
  audit.kind = "list_cases";
  return Logged("Office.ListCases", audit,
                DoListCases(context, request, response, audit));
}

grpc::Status OfficeService::Query(grpc::ServerContext* context,
                                  const v1::QueryRequest* request,
                                  grpc::ServerWriter<v1::QueryEvent>* writer) {
  OfficeAudit audit;
  audit.kind = "query";
  return Logged("Office.Query", audit,
                DoQuery(context, request, writer, audit));
}

grpc::Status OfficeService::ListHits(grpc::ServerContext* context,
                                     const v1::ListHitsRequest* request,
                                     v1::ListHitsResponse* response) {
  OfficeAudit audit;
  audit.kind = "list_hits";
  return Logged("Office.ListHits", audit,
                DoListHits(context, request, response, audit));
}

grpc::Status OfficeService::ListInbox(grpc::ServerContext* context,
                                      const v1::ListInboxRequest* request,
                                      v1::ListInboxResponse* response) {
  OfficeAudit audit;
  audit.kind = "list_inbox";
  return Logged("Office.ListInbox", audit,
                DoListInbox(context, request, response, audit));
}

grpc::Status OfficeService::ListPeers(grpc::ServerContext* context,
                                      const v1::ListPeersRequest* request,
                                      v1::ListPeersResponse* response) {
  OfficeAudit audit;
  audit.kind = "list_peers";
  return Logged("Office.ListPeers", audit,
                DoListPeers(context, request, response, audit));
}

grpc::Status OfficeService::Audited(grpc::ServerContext* context,
                                    std::string_view rpc, std::string_view kind,
                                    const std::function<absl::Status()>& body) {
  OfficeAudit audit;
  audit.kind = std::string(kind);
  auto caller = Authorize(context, rpc, {OfficeRole::kAuditor});
  if (!caller.ok()) return Logged(rpc, audit, ToGrpc(caller.status()));
  audit.office = caller->Name();
  absl::Status status = ctx_->audit_trail->Health();
  if (status.ok()) status = body();
  // A damaged log is reported as such: the auditor's tools show DATA_LOSS.
  if (status.code() == absl::StatusCode::kDataLoss) {
    status = AuditFailure(status);
  }
  return Logged(rpc, audit, ToGrpc(status));
}

grpc::Status OfficeService::AuditCheckpoint(
    grpc::ServerContext* context, const v1::AuditCheckpointRequest*,
    v1::AuditCheckpointResponse* response) {
  return Audited(
      context, "Office.AuditCheckpoint", "audit_checkpoint",
      [&]() -> absl::Status {
        ASSIGN_OR_RETURN(std::string note, checkpoints_->BestCheckpoint());
        response->set_checkpoint(note);
        response->set_member(ctx_->self());
        response->set_witness_threshold(
            ctx_->directory->Current()->policy().witness_threshold());
        return absl::OkStatus();
      });
}

grpc::Status OfficeService::AuditDirectory(
    grpc::ServerContext* context, const v1::AuditDirectoryRequest*,
    v1::AuditDirectoryResponse* response) {
  return Audited(
      context, "Office.AuditDirectory", "audit_directory",
      [&]() -> absl::Status {
        for (v1::SignedDirectory& v : ctx_->directory->VersionsAfter(0)) {
          *response->add_versions() = std::move(v);
        }
        return absl::OkStatus();
      });
}

grpc::Status OfficeService::AuditConsistency(
    grpc::ServerContext* context, const v1::AuditConsistencyRequest* request,
    v1::AuditProofResponse* response) {
  return Audited(context, "Office.AuditConsistency", "audit_consistency",
                 [&]() -> absl::Status {
                   ASSIGN_OR_RETURN(auto proof,
                                    ctx_->audit->ConsistencyProof(
                                        request->size1(), request->size2()));
                   for (Bytes& h : proof) response->add_proof(std::move(h));
                   return absl::OkStatus();
                 });
}

grpc::Status OfficeService::AuditInclusion(
    grpc::ServerContext* context, const v1::AuditInclusionRequest* request,
    v1::AuditProofResponse* response) {
  return Audited(context, "Office.AuditInclusion", "audit_inclusion",
                 [&]() -> absl::Status {
                   ASSIGN_OR_RETURN(std::string leaf,
                                    ctx_->audit->LeafData(request->index()));
                   ASSIGN_OR_RETURN(auto proof,
                                    ctx_->audit->InclusionProof(
                                        request->index(), request->size()));
                   response->set_leaf(std::move(leaf));
                   for (Bytes& h : proof) response->add_proof(std::move(h));
                   return absl::OkStatus();
                 });
}

grpc::Status OfficeService::AuditExport(
    grpc::ServerContext* context, const v1::AuditExportRequest* request,
    grpc::ServerWriter<v1::AuditExportChunk>* writer) {
  return Audited(
      context, "Office.AuditExport", "audit_export", [&]() -> absl::Status {
        std::string checkpoint;
        uint64_t size = request->size();
        if (size == 0) {
          ASSIGN_OR_RETURN(checkpoint, checkpoints_->BestCheckpoint());
          ASSIGN_OR_RETURN(note::Note note, note::ParseNote(checkpoint));
          ASSIGN_OR_RETURN(note::Checkpoint cp,
                           note::ParseCheckpoint(note.text));
          size = cp.size;
        } else {
          auto at = ctx_->audit->CheckpointAt(size);
          if (!at.ok()) {
            return absl::FailedPreconditionError(
                absl::StrCat("no checkpoint of size ", size,
                             " is stored; give size 0 for the latest"));
          }
          checkpoint = *at;
        }
        if (request->begin() >= request->end() || request->end() > size) {
          return absl::InvalidArgumentError(absl::StrCat(
              "export range [", request->begin(), ", ", request->end(),
              ") must be non-empty and within the checkpoint's ", size,
              " entries"));
        }
        constexpr uint64_t kPerChunk = 256;
        bool first = true;
        for (uint64_t begin = request->begin(); begin < request->end();
             begin += kPerChunk) {
          uint64_t end = std::min(request->end(), begin + kPerChunk);
          ASSIGN_OR_RETURN(auto leaves, ctx_->audit->ReadEntries(begin, end));
          v1::AuditExportChunk chunk;
          if (first) chunk.set_checkpoint(checkpoint);
          first = false;
          for (uint64_t i = begin; i < end; ++i) {
            v1::AuditExportedEntry* e = chunk.add_entries();
            e->set_index(i);
            e->set_leaf(std::move(leaves[i - begin]));
            ASSIGN_OR_RETURN(auto proof, ctx_->audit->InclusionProof(i, size));
            for (Bytes& h : proof) e->add_inclusion_proof(std::move(h));
          }
          if (!writer->Write(chunk)) {
            return absl::CancelledError("the auditor went away");
          }
        }
        return absl::OkStatus();
      });
}

}  // namespace cbx::node
