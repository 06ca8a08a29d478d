#include "node/office_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/crypto/x509_crl.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/directory_adoption.h"
#include "node/log.h"
#include "node/page_token.h"
#include "node/storage/io_health.h"
#include "node/tls_credentials.h"

namespace cbx::node {

OfficeService::OfficeService(NodeContext* context, LookupQuerier* query,
                             IndexSync* sync, Witnessing* witnessing,
                             Checkpoints* checkpoints)
    : ctx_(context),
      query_(query),
      sync_(sync),
      witnessing_(witnessing),
      checkpoints_(checkpoints),
      cases_(context->self(), context->storage.get(), context->oprf_key.get(),
             context->audit_trail.get(), context->clock,
             context->oprf_keys.get()),
      scope_(context->storage.get(), context->clock) {}

namespace {

absl::Status NoWatches() {
  return absl::UnimplementedError("this node runs no standing watches");
}

}  // namespace

absl::StatusOr<OfficeCaller> OfficeService::Authenticate(
    grpc::ServerContext* context, std::string_view rpc) {
  absl::StatusOr<OfficeCaller> caller = CallerOffice(*context, ctx_->self());
  // Revocation, on every call (node/tls_credentials.h): the port's TLS is
  // the node's own front (node/tls_front.h), which does not consult CRLs.
  if (caller.ok() && ctx_->tls != nullptr) {
    if (absl::Status revoked = ctx_->tls->CheckCaller(*context);
        !revoked.ok()) {
      caller = revoked;
    }
  }
  if (caller.ok()) {
    // spec/cooperation.md §5: the transition to per-person certificates.
    absl::Status person =
        CheckPersonRequired(*caller,
                            ctx_->directory->Current()
                                ->policy()
                                .person_certificates_required_from_ms(),
                            ctx_->clock->NowMs());
    if (!person.ok()) caller = person;
  }
  if (!caller.ok()) {
    LogEvent(ctx_->self(), "warn", "refused",
             {{"rpc", std::string(rpc)},
              {"code", "UNAUTHENTICATED"},
              {"reason", std::string(caller.status().message())}});
  }
  return caller;
}

absl::Status OfficeService::CheckRole(
    const OfficeCaller& caller, std::string_view rpc,
    std::initializer_list<OfficeRole> allowed) const {
  for (OfficeRole role : allowed) {
    if (caller.role == role) return absl::OkStatus();
  }
  absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("role ", std::string(RoleName(caller.role)),
                   " may not call ", std::string(rpc)));
  LogEvent(ctx_->self(), "warn", "refused",
           {{"rpc", std::string(rpc)},
            {"office", caller.Name()},
            {"code", "PERMISSION_DENIED"},
            {"reason", std::string(denied.message())}});
  return denied;
}

absl::Status OfficeService::Run(absl::StatusOr<OfficeCaller> caller,
                                std::string_view rpc, std::string_view kind,
                                std::initializer_list<OfficeRole> allowed,
                                const Body& body) {
  OfficeAudit audit;
  audit.kind = std::string(kind);
  // "Office.AddCase" is refused as "AddCase" (spec/office-api.md §2).
  std::string_view method = rpc.substr(rpc.find('.') + 1);
  if (caller.ok()) {
    absl::Status role = CheckRole(*caller, method, allowed);
    if (!role.ok()) caller = role;
  }
  absl::Status status = caller.status();
  if (caller.ok()) {
    audit.office = caller->Name();
    audit.user = caller->person;
    status = body(*caller, audit);
  }
  if (!audit.logged) {
    absl::Status logged = ctx_->audit_trail->Call(
        v1::AUDIT_DIRECTION_LOCAL, "", rpc, audit.kind, audit.office,
        status.code(), audit.counts, "", audit.user);
    if (!logged.ok()) status = AuditFailure(logged);
  }
  return status;
}

grpc::Status OfficeService::Serve(grpc::ServerContext* context,
                                  std::string_view rpc, std::string_view kind,
                                  std::initializer_list<OfficeRole> allowed,
                                  const Body& body) {
  std::string_view method = rpc.substr(rpc.find('.') + 1);
  return ToGrpc(Run(Authenticate(context, method), rpc, kind, allowed, body));
}

absl::Status OfficeService::ServeFor(const OfficeCaller& caller,
                                     std::string_view rpc,
                                     std::string_view kind,
                                     std::initializer_list<OfficeRole> allowed,
                                     const Body& body) {
  return Run(caller, rpc, kind, allowed, body);
}

grpc::Status OfficeService::ServeCaseChange(
    grpc::ServerContext* context, std::string_view rpc, std::string_view kind,
    const std::function<absl::StatusOr<v1::Case>(const OfficeCaller&)>& change,
    v1::Case* response) {
  return Serve(context, rpc, kind, {OfficeRole::kProsecutor},
               [&](const OfficeCaller& caller, OfficeAudit& audit) {
                 audit.logged = true;  // the case book logs before effect
                 absl::StatusOr<v1::Case> changed = change(caller);
                 if (changed.ok()) *response = *std::move(changed);
                 return changed.status();
               });
}

grpc::Status OfficeService::AddCase(grpc::ServerContext* context,
                                    const v1::AddCaseRequest* request,
                                    v1::Case* response) {
  return ServeCaseChange(
      context, "Office.AddCase", "add_case",
      [&](const OfficeCaller& caller) {
        return cases_.Add(caller.Name(), request->case_(), caller.person);
      },
      response);
}

grpc::Status OfficeService::AmendCase(grpc::ServerContext* context,
                                      const v1::AmendCaseRequest* request,
                                      v1::Case* response) {
  return ServeCaseChange(
      context, "Office.AmendCase", "amend_case",
      [&](const OfficeCaller& caller) {
        return cases_.Amend(caller.Name(), *request, caller.person);
      },
      response);
}

grpc::Status OfficeService::CloseCase(grpc::ServerContext* context,
                                      const v1::CloseCaseRequest* request,
                                      v1::Case* response) {
  return ServeCaseChange(
      context, "Office.CloseCase", "close_case",
      [&](const OfficeCaller& caller) {
        return cases_.Close(caller.Name(), request->case_number(),
                            caller.person);
      },
      response);
}

grpc::Status OfficeService::ListCases(grpc::ServerContext* context,
                                      const v1::ListCasesRequest* request,
                                      v1::ListCasesResponse* response) {
  return Serve(
      context, "Office.ListCases", "list_cases", {OfficeRole::kProsecutor},
      [&](const OfficeCaller& caller, OfficeAudit&) -> absl::Status {
        // spec/cooperation.md §6: the caller's office's cases only.
        ASSIGN_OR_RETURN(
            CaseList list,
            scope_.ListCases(caller.Name(), request->include_closed(),
                             request->page_size(), request->page_token()));
        for (v1::Case& c : list.cases) {
          *response->add_cases() = std::move(c);
        }
        response->set_next_page_token(list.next_page_token);
        return absl::OkStatus();
      });
}

OfficeService::Body OfficeService::QueryBody(const v1::QueryRequest& request,
                                             const QueryEmit& emit) {
  return [this, &request, &emit](const OfficeCaller& caller,
                                 OfficeAudit& audit) {
    audit.counts.elements = static_cast<uint32_t>(request.identifiers_size());
    return query_->Run(request, caller, [&](const v1::QueryEvent& event) {
      if (event.has_summary()) {
        audit.counts.hits =
            static_cast<uint32_t>(event.summary().hit_members_size());
      }
      if (event.has_answer()) {
        audit.counts.references += event.answer().references_size();
      }
      return emit(event);
    });
  };
}

grpc::Status OfficeService::Query(grpc::ServerContext* context,
                                  const v1::QueryRequest* request,
                                  grpc::ServerWriter<v1::QueryEvent>* writer) {
  const QueryEmit emit = [&](const v1::QueryEvent& event) {
    return !context->IsCancelled() && writer->Write(event);
  };
  return Serve(context, "Office.Query", "query", {OfficeRole::kProsecutor},
               QueryBody(*request, emit));
}

absl::Status OfficeService::QueryFor(const OfficeCaller& caller,
                                     const v1::QueryRequest& request,
                                     const QueryEmit& emit) {
  return ServeFor(caller, "Office.Query", "query", {OfficeRole::kProsecutor},
                  QueryBody(request, emit));
}

grpc::Status OfficeService::ListHits(grpc::ServerContext* context,
                                     const v1::ListHitsRequest* request,
                                     v1::ListHitsResponse* response) {
  return Serve(
      context, "Office.ListHits", "list_hits", {OfficeRole::kProsecutor},
      [&](const OfficeCaller& caller, OfficeAudit&) -> absl::Status {
        // spec/cooperation.md §6: the hits of the caller's office's cases.
        ASSIGN_OR_RETURN(*response, scope_.ListHits(caller.Name(), *request));
        return absl::OkStatus();
      });
}

// --- Standing watches: the domain logs each call itself -------------------

OfficeService::Body OfficeService::AddWatchBody(
    const v1::AddWatchRequest& request, v1::AddWatchResponse* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit& audit) -> absl::Status {
    if (watches_ == nullptr) return NoWatches();
    audit.logged = true;
    ASSIGN_OR_RETURN(*response, watches_->Add(request, caller));
    return absl::OkStatus();
  };
}

OfficeService::Body OfficeService::ListWatchesBody(
    v1::ListWatchesResponse* response) {
  return [this, response](const OfficeCaller& caller,
                          OfficeAudit& audit) -> absl::Status {
    if (watches_ == nullptr) return NoWatches();
    audit.logged = true;
    ASSIGN_OR_RETURN(std::vector<v1::Watch> watches, watches_->List(caller));
    for (v1::Watch& w : watches) *response->add_watches() = std::move(w);
    return absl::OkStatus();
  };
}

OfficeService::Body OfficeService::RemoveWatchBody(
    const v1::RemoveWatchRequest& request, v1::Watch* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit& audit) -> absl::Status {
    if (watches_ == nullptr) return NoWatches();
    audit.logged = true;
    ASSIGN_OR_RETURN(*response, watches_->Remove(request.watch_id(), caller));
    return absl::OkStatus();
  };
}

OfficeService::Body OfficeService::RenewWatchBody(
    const v1::RenewWatchRequest& request, v1::Watch* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit& audit) -> absl::Status {
    if (watches_ == nullptr) return NoWatches();
    audit.logged = true;
    ASSIGN_OR_RETURN(*response, watches_->Renew(request, caller));
    return absl::OkStatus();
  };
}

uint32_t OfficeService::WatchMaxSeconds() const {
  return WatchMaxS(ctx_->directory->Current()->policy());
}

grpc::Status OfficeService::AddWatch(grpc::ServerContext* context,
                                     const v1::AddWatchRequest* request,
                                     v1::AddWatchResponse* response) {
  using office_calls::kAddWatch;
  return Serve(context, kAddWatch.rpc, kAddWatch.kind,
               {OfficeRole::kProsecutor}, AddWatchBody(*request, response));
}

grpc::Status OfficeService::ListWatches(grpc::ServerContext* context,
                                        const v1::ListWatchesRequest*,
                                        v1::ListWatchesResponse* response) {
  using office_calls::kListWatches;
  return Serve(context, kListWatches.rpc, kListWatches.kind,
               {OfficeRole::kProsecutor}, ListWatchesBody(response));
}

grpc::Status OfficeService::RemoveWatch(grpc::ServerContext* context,
                                        const v1::RemoveWatchRequest* request,
                                        v1::Watch* response) {
  using office_calls::kRemoveWatch;
  return Serve(context, kRemoveWatch.rpc, kRemoveWatch.kind,
               {OfficeRole::kProsecutor}, RemoveWatchBody(*request, response));
}

grpc::Status OfficeService::RenewWatch(grpc::ServerContext* context,
                                       const v1::RenewWatchRequest* request,
                                       v1::Watch* response) {
  using office_calls::kRenewWatch;
  return Serve(context, kRenewWatch.rpc, kRenewWatch.kind,
               {OfficeRole::kProsecutor}, RenewWatchBody(*request, response));
}

grpc::Status OfficeService::ListInbox(grpc::ServerContext* context,
                                      const v1::ListInboxRequest* request,
                                      v1::ListInboxResponse* response) {
  return Serve(
      context, "Office.ListInbox", "list_inbox", {OfficeRole::kProsecutor},
      [&](const OfficeCaller& caller, OfficeAudit&) -> absl::Status {
        // spec/cooperation.md §6: the notifications of the caller's cases.
        ASSIGN_OR_RETURN(*response, scope_.ListInbox(caller.Name(), *request));
        return absl::OkStatus();
      });
}

grpc::Status OfficeService::GetCounts(grpc::ServerContext* context,
                                      const v1::GetCountsRequest*,
                                      v1::GetCountsResponse* response) {
  return Serve(context, "Office.GetCounts", "get_counts",
               {OfficeRole::kOperator},
               [&](const OfficeCaller&, OfficeAudit&) -> absl::Status {
                 ASSIGN_OR_RETURN(*response, scope_.Counts());
                 return absl::OkStatus();
               });
}

grpc::Status OfficeService::ListWithdrawals(
    grpc::ServerContext* context, const v1::ListWithdrawalsRequest* request,
    v1::ListWithdrawalsResponse* response) {
  return Serve(
      context, "Office.ListWithdrawals", "list_withdrawals",
      {OfficeRole::kProsecutor},
      [&](const OfficeCaller& caller, OfficeAudit& audit) {
        if (withdrawals_ == nullptr) {
          return absl::UnimplementedError("this node sends no withdrawals");
        }
        ASSIGN_OR_RETURN(*response,
                         withdrawals_->List(caller.Name(), request->pending()));
        audit.counts.elements =
            static_cast<uint32_t>(response->withdrawals_size());
        return absl::OkStatus();
      });
}

grpc::Status OfficeService::ListPeers(grpc::ServerContext* context,
                                      const v1::ListPeersRequest*,
                                      v1::ListPeersResponse* response) {
  return Serve(context, "Office.ListPeers", "list_peers",
               {OfficeRole::kProsecutor, OfficeRole::kOperator},
               [&](const OfficeCaller&, OfficeAudit&) {
                 return DescribePeers(response);
               });
}

absl::Status OfficeService::DescribePeers(v1::ListPeersResponse* response) {
  std::shared_ptr<const directory::Directory> dir = ctx_->directory->Current();
  response->set_directory_version(dir->version());
  response->set_self(ctx_->self());
  response->set_node_alert(IoHealth::Get().Alert());
  // Never fails the listing (it is how an operator sees a failing disk).
  absl::StatusOr<std::string> directory_alert =
      DirectoryAlert(*ctx_->storage, dir->version());
  response->set_directory_alert(
      directory_alert.ok() ? *directory_alert
                           : absl::StrCat("directory evidence unreadable: ",
                                          directory_alert.status().message()));
  DescribeOwnCertificate(response);
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
    p->set_index_alert(sync_->IndexAlert(m.code()));
    ASSIGN_OR_RETURN(auto witnessed, witnessing_->Describe(m.code()));
    p->set_cosigned_size(witnessed.cosigned_size);
    p->set_cosigned_at_ms(witnessed.cosigned_at_ms);
    p->set_witness_alert(witnessed.alert);
    const HitStats::PeerView seen = query_->PeerStats(m.code());
    p->set_phantom_hits(seen.phantoms);
    p->set_hit_rate_alert(seen.alert);
    using Side = CertificatesSeen::Side;
    if (auto c = ctx_->certificates_seen->Describe(m.code(), Side::kClient)) {
      *p->mutable_client_certificate() = *std::move(c);
    }
    if (auto c = ctx_->certificates_seen->Describe(m.code(), Side::kServer)) {
      *p->mutable_server_certificate() = *std::move(c);
    }
  }
  return absl::OkStatus();
}

void OfficeService::DescribeOwnCertificate(
    v1::ListPeersResponse* response) const {
  if (ctx_->tls != nullptr) {
    std::shared_ptr<const TlsIdentity> identity = ctx_->tls->identity();
    if (identity->generation > 0) {
      *response->mutable_own_certificate() =
          CertificatesSeen::InUse(identity->summary, identity->loaded_at_ms);
    }
    return;
  }
  // In-process nodes without TlsCredentials: the PEM read at start.
  if (ctx_->tls_certificate_pem.empty()) return;
  auto summary = crypto::SummarizeCertificate(ctx_->tls_certificate_pem);
  if (summary.ok()) {
    *response->mutable_own_certificate() = CertificatesSeen::InUse(*summary, 0);
  }
}

OfficeService::Body OfficeService::AuditorBody(
    const std::function<absl::Status()>& body) {
  return [this, &body](const OfficeCaller&, OfficeAudit&) {
    absl::Status status = ctx_->audit_trail->Health();
    if (status.ok()) status = body();
    // A damaged log is reported as such: the auditor's tools show
    // DATA_LOSS.
    return status.code() == absl::StatusCode::kDataLoss ? AuditFailure(status)
                                                        : status;
  };
}

grpc::Status OfficeService::Audited(grpc::ServerContext* context,
                                    std::string_view rpc, std::string_view kind,
                                    const std::function<absl::Status()>& body) {
  return Serve(context, rpc, kind, {OfficeRole::kAuditor}, AuditorBody(body));
}

absl::Status OfficeService::AuditedFor(
    const OfficeCaller& caller, std::string_view rpc, std::string_view kind,
    const std::function<absl::Status()>& body) {
  return ServeFor(caller, rpc, kind, {OfficeRole::kAuditor}, AuditorBody(body));
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

grpc::Status OfficeService::GetReport(grpc::ServerContext* context,
                                      const v1::GetReportRequest* request,
                                      v1::SignedReport* response) {
  return Audited(context, "Office.GetReport", "get_report",
                 [&]() -> absl::Status {
                   ASSIGN_OR_RETURN(*response, reports_.Get(request->month()));
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
  return Audited(context, "Office.AuditExport", "audit_export", [&] {
    return Export(*request, [writer](const v1::AuditExportChunk& chunk) {
      return writer->Write(chunk);
    });
  });
}

absl::Status OfficeService::Export(const v1::AuditExportRequest& request,
                                   const ExportEmit& emit) {
  std::string checkpoint;
  uint64_t size = request.size();
  if (size == 0) {
    ASSIGN_OR_RETURN(checkpoint, checkpoints_->BestCheckpoint());
    ASSIGN_OR_RETURN(note::Note note, note::ParseNote(checkpoint));
    ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpoint(note.text));
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
  if (request.begin() >= request.end() || request.end() > size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "export range [", request.begin(), ", ", request.end(),
        ") must be non-empty and within the checkpoint's ", size, " entries"));
  }
  constexpr uint64_t kPerChunk = 256;
  bool first = true;
  for (uint64_t begin = request.begin(); begin < request.end();
       begin += kPerChunk) {
    uint64_t end = std::min(request.end(), begin + kPerChunk);
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
    if (!emit(chunk)) {
      return absl::CancelledError("the auditor went away");
    }
  }
  return absl::OkStatus();
}

// --- Cooperation after a hit -------------------------------------------------

namespace {
absl::Status NoCooperation() {
  return absl::UnimplementedError("this node does not cooperate yet");
}
}  // namespace

OfficeService::Body OfficeService::SendCooperationBody(
    const v1::SendCooperationRequestRequest& request,
    v1::CooperationRecord* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit& audit) -> absl::Status {
    if (cooperation_ == nullptr) return NoCooperation();
    audit.counts.cooperation_type = static_cast<uint32_t>(request.type());
    ASSIGN_OR_RETURN(*response,
                     cooperation_->Send(caller.Name(), request, caller.person));
    return absl::OkStatus();
  };
}

OfficeService::Body OfficeService::ListCooperationBody(
    const v1::ListCooperationRequestsRequest& request,
    v1::ListCooperationRequestsResponse* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit&) -> absl::Status {
    if (cooperation_ == nullptr) return NoCooperation();
    const std::string filter = request.overdue() ? "overdue" : "";
    ASSIGN_OR_RETURN(PageRequest page,
                     ReadPage("ListCooperationRequests", filter,
                              request.page_size(), request.page_token()));
    ASSIGN_OR_RETURN(
        Page<v1::CooperationRecord> listed,
        cooperation_->List(caller.Name(), request.overdue(), page));
    for (v1::CooperationRecord& r : listed.items) {
      *response->add_requests() = std::move(r);
    }
    response->set_next_page_token(
        PageToken("ListCooperationRequests", filter, listed.next));
    return absl::OkStatus();
  };
}

OfficeService::Body OfficeService::GetCooperationBody(
    const v1::GetCooperationRequestRequest& request,
    v1::CooperationRecord* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit&) -> absl::Status {
    if (cooperation_ == nullptr) return NoCooperation();
    ASSIGN_OR_RETURN(*response, cooperation_->Get(caller.Name(), request.id()));
    return absl::OkStatus();
  };
}

OfficeService::Body OfficeService::RespondBody(
    const v1::RespondToCooperationRequestRequest& request,
    v1::CooperationRecord* response) {
  return [this, &request, response](const OfficeCaller& caller,
                                    OfficeAudit& audit) -> absl::Status {
    if (cooperation_ == nullptr) return NoCooperation();
    audit.counts.cooperation_code =
        static_cast<uint32_t>(request.outcome()) * 100 +
        static_cast<uint32_t>(request.reason());
    ASSIGN_OR_RETURN(*response, cooperation_->Respond(caller.Name(), request,
                                                      caller.person));
    return absl::OkStatus();
  };
}

grpc::Status OfficeService::SendCooperationRequest(
    grpc::ServerContext* context,
    const v1::SendCooperationRequestRequest* request,
    v1::CooperationRecord* response) {
  using office_calls::kSendCooperation;
  return Serve(context, kSendCooperation.rpc, kSendCooperation.kind,
               {OfficeRole::kProsecutor},
               SendCooperationBody(*request, response));
}

grpc::Status OfficeService::ListCooperationRequests(
    grpc::ServerContext* context,
    const v1::ListCooperationRequestsRequest* request,
    v1::ListCooperationRequestsResponse* response) {
  using office_calls::kListCooperation;
  return Serve(context, kListCooperation.rpc, kListCooperation.kind,
               {OfficeRole::kProsecutor},
               ListCooperationBody(*request, response));
}

grpc::Status OfficeService::GetCooperationRequest(
    grpc::ServerContext* context,
    const v1::GetCooperationRequestRequest* request,
    v1::CooperationRecord* response) {
  using office_calls::kGetCooperation;
  return Serve(context, kGetCooperation.rpc, kGetCooperation.kind,
               {OfficeRole::kProsecutor},
               GetCooperationBody(*request, response));
}

grpc::Status OfficeService::RespondToCooperationRequest(
    grpc::ServerContext* context,
    const v1::RespondToCooperationRequestRequest* request,
    v1::CooperationRecord* response) {
  using office_calls::kRespond;
  return Serve(context, kRespond.rpc, kRespond.kind, {OfficeRole::kProsecutor},
               RespondBody(*request, response));
}

}  // namespace cbx::node
