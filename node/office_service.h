// The Office service: a country's own offices talking to their own node
// (spec/office-api.md). Every handler has one shape (Serve): authorize (the
// office and role from the client certificate), delegate to the domain —
// the case book (node/cases.h), the query runner, the witness, storage's
// listings — log the call, and map the absl::Status to gRPC once.
// Threading: handlers run concurrently on gRPC's threads; the service holds
// no lock (the case book's writes are serialized by storage transactions).
#ifndef CBX_NODE_OFFICE_SERVICE_H_
#define CBX_NODE_OFFICE_SERVICE_H_

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "cbx/v1/office.grpc.pb.h"
#include "node/audit_trail.h"
#include "node/cases.h"
#include "node/checkpoints.h"
#include "node/cooperation.h"
#include "node/identity.h"
#include "node/index_sync.h"
#include "node/lookup_querier.h"
#include "node/node_context.h"
#include "node/transparency_report.h"
#include "node/office_scope.h"
#include "node/watches.h"
#include "node/withdrawal.h"
#include "node/witnessing.h"

namespace cbx::node {

// An Office call as the audit log names it: its rpc and kind. The port's
// handler and the console's page that stands for the call share it.
struct OfficeCallName {
  std::string_view rpc;
  std::string_view kind;
};
namespace office_calls {
inline constexpr OfficeCallName kSendCooperation{
    "Office.SendCooperationRequest", "send_cooperation_request"};
inline constexpr OfficeCallName kListCooperation{
    "Office.ListCooperationRequests", "list_cooperation_requests"};
inline constexpr OfficeCallName kGetCooperation{
    "Office.GetCooperationRequest", "get_cooperation_request"};
inline constexpr OfficeCallName kRespond{
    "Office.RespondToCooperationRequest", "respond_to_cooperation_request"};
inline constexpr OfficeCallName kAddWatch{"Office.AddWatch", "watch_created"};
inline constexpr OfficeCallName kListWatches{"Office.ListWatches",
                                             "list_watches"};
inline constexpr OfficeCallName kRemoveWatch{"Office.RemoveWatch",
                                             "watch_removed"};
inline constexpr OfficeCallName kRenewWatch{"Office.RenewWatch",
                                            "watch_renewed"};
}  // namespace office_calls

class OfficeService final : public v1::Office::Service {
 public:
  OfficeService(NodeContext* context, LookupQuerier* query, IndexSync* sync,
                Witnessing* witnessing, Checkpoints* checkpoints);

  grpc::Status AddCase(grpc::ServerContext* context,
                       const v1::AddCaseRequest* request,
                       v1::Case* response) override;
  grpc::Status AmendCase(grpc::ServerContext* context,
                         const v1::AmendCaseRequest* request,
                         v1::Case* response) override;
  grpc::Status CloseCase(grpc::ServerContext* context,
                         const v1::CloseCaseRequest* request,
                         v1::Case* response) override;
  grpc::Status ListCases(grpc::ServerContext* context,
                         const v1::ListCasesRequest* request,
                         v1::ListCasesResponse* response) override;
  grpc::Status Query(grpc::ServerContext* context,
                     const v1::QueryRequest* request,
                     grpc::ServerWriter<v1::QueryEvent>* writer) override;
  grpc::Status ListHits(grpc::ServerContext* context,
                        const v1::ListHitsRequest* request,
                        v1::ListHitsResponse* response) override;
  grpc::Status ListInbox(grpc::ServerContext* context,
                         const v1::ListInboxRequest* request,
                         v1::ListInboxResponse* response) override;
  grpc::Status ListPeers(grpc::ServerContext* context,
                         const v1::ListPeersRequest* request,
                         v1::ListPeersResponse* response) override;
  // Auditor role.
  grpc::Status AuditCheckpoint(grpc::ServerContext* context,
                               const v1::AuditCheckpointRequest* request,
                               v1::AuditCheckpointResponse* response) override;
  grpc::Status AuditDirectory(grpc::ServerContext* context,
                              const v1::AuditDirectoryRequest* request,
                              v1::AuditDirectoryResponse* response) override;
  grpc::Status AuditConsistency(grpc::ServerContext* context,
                                const v1::AuditConsistencyRequest* request,
                                v1::AuditProofResponse* response) override;
  grpc::Status AuditInclusion(grpc::ServerContext* context,
                              const v1::AuditInclusionRequest* request,
                              v1::AuditProofResponse* response) override;
  grpc::Status AuditExport(
      grpc::ServerContext* context, const v1::AuditExportRequest* request,
      grpc::ServerWriter<v1::AuditExportChunk>* writer) override;
  // Cooperation after a hit (prosecutor role; node/cooperation.h). Each is
  // UNIMPLEMENTED while no cooperation module is set.
  grpc::Status SendCooperationRequest(
      grpc::ServerContext* context,
      const v1::SendCooperationRequestRequest* request,
      v1::CooperationRecord* response) override;
  grpc::Status ListCooperationRequests(
      grpc::ServerContext* context,
      const v1::ListCooperationRequestsRequest* request,
      v1::ListCooperationRequestsResponse* response) override;
  grpc::Status GetCooperationRequest(
      grpc::ServerContext* context,
      const v1::GetCooperationRequestRequest* request,
      v1::CooperationRecord* response) override;
  grpc::Status RespondToCooperationRequest(
      grpc::ServerContext* context,
      const v1::RespondToCooperationRequestRequest* request,
      v1::CooperationRecord* response) override;
  // The cooperation module the four calls above delegate to; it must
  // outlive the service. Set while the node is wired, before it serves.
  void set_cooperation(Cooperation* cooperation) { cooperation_ = cooperation; }
  // The withdrawal module CloseCase queues withdrawals with, in the close's
  // transaction (spec/cooperation.md §2.4); it must outlive the service.
  // Set while the node is wired, before it serves.
  // The case book behind AddCase, AmendCase and CloseCase, with the hooks
  // set here: the web console's pages change cases through it too.
  CaseBook* cases() { return &cases_; }

  void set_withdrawals(Withdrawals* withdrawals) {
    withdrawals_ = withdrawals;
    cases_.set_close_hook(
        [withdrawals](StorageTransaction& txn, const v1::Case& closed) {
          return withdrawals
              ->QueueForClosedCase(txn, closed, v1::WITHDRAWAL_REASON_CLOSED)
              .status();
        });
  }

  // Standing watches (node/watches.h), prosecutor role; UNIMPLEMENTED until
  // SetWatches was called.
  grpc::Status AddWatch(grpc::ServerContext* context,
                        const v1::AddWatchRequest* request,
                        v1::AddWatchResponse* response) override;
  grpc::Status ListWatches(grpc::ServerContext* context,
                           const v1::ListWatchesRequest* request,
                           v1::ListWatchesResponse* response) override;
  grpc::Status RemoveWatch(grpc::ServerContext* context,
                           const v1::RemoveWatchRequest* request,
                           v1::Watch* response) override;
  grpc::Status RenewWatch(grpc::ServerContext* context,
                          const v1::RenewWatchRequest* request,
                          v1::Watch* response) override;
  // The watches the watch RPCs delegate to (must outlive this); set once
  // while the node is wired, before the server starts.
  void SetWatches(Watches* watches) { watches_ = watches; }

  // Transparency report (spec/cooperation.md §7); auditor role.
  grpc::Status GetReport(grpc::ServerContext* context,
                         const v1::GetReportRequest* request,
                         v1::SignedReport* response) override;
  // Offices see their own (node/office_scope.h): the operator's counts per
  // office, never contents.
  grpc::Status GetCounts(grpc::ServerContext* context,
                         const v1::GetCountsRequest* request,
                         v1::GetCountsResponse* response) override;
  // The withdrawals of the caller's closed cases, per peer (spec/
  // cooperation.md §2.4); prosecutor role; UNIMPLEMENTED until
  // set_withdrawals was called.
  grpc::Status ListWithdrawals(grpc::ServerContext* context,
                               const v1::ListWithdrawalsRequest* request,
                               v1::ListWithdrawalsResponse* response) override;

  // What the audit entry of an office call records besides rpc and status.
  struct OfficeAudit {
    std::string office;  // set once the caller is identified
    std::string user;    // its person's staff identifier, if any
    std::string kind;
    AuditCounts counts;
    // Set by a body whose domain call logged the call itself (the case
    // book's writes: log before effect).
    bool logged = false;
  };
  using Body =
      std::function<absl::Status(const OfficeCaller&, OfficeAudit& audit)>;

  // The web console's way in (spec/web-console.md §1): `body` runs for
  // `caller`, whom the console authenticated from its certificate as
  // Authenticate does, exactly as the Office call `rpc` runs for `cbx`: a role
  // not in `allowed` is refused (PERMISSION_DENIED) and the call is logged
  // as LOCAL `rpc` of `kind` unless the body logged it. So a page's reads
  // and changes are in the audit log like the same calls made with `cbx`.
  absl::Status ServeFor(const OfficeCaller& caller, std::string_view rpc,
                        std::string_view kind,
                        std::initializer_list<OfficeRole> allowed,
                        const Body& body);
  // As ServeFor for the auditor role: `body` runs only on a healthy log; a
  // DATA_LOSS is reported as the log's (as the Audit* calls).
  absl::Status AuditedFor(const OfficeCaller& caller, std::string_view rpc,
                          std::string_view kind,
                          const std::function<absl::Status()>& body);

  // The bodies of the cooperation and watch calls (run as the Office port
  // runs them, through Serve; and by the console's pages through ServeFor
  // under the same `rpc` and `kind`, so that a page's call is checked and
  // logged exactly as the same `cbx` command). `request` and `response`
  // must outlive the body. The watch bodies log their call themselves
  // (node/watches.h); the cooperation bodies leave it to ServeFor.
  Body SendCooperationBody(const v1::SendCooperationRequestRequest& request,
                           v1::CooperationRecord* response);
  Body ListCooperationBody(const v1::ListCooperationRequestsRequest& request,
                           v1::ListCooperationRequestsResponse* response);
  Body GetCooperationBody(const v1::GetCooperationRequestRequest& request,
                          v1::CooperationRecord* response);
  Body RespondBody(const v1::RespondToCooperationRequestRequest& request,
                   v1::CooperationRecord* response);
  Body AddWatchBody(const v1::AddWatchRequest& request,
                    v1::AddWatchResponse* response);
  Body ListWatchesBody(v1::ListWatchesResponse* response);
  Body RemoveWatchBody(const v1::RemoveWatchRequest& request,
                       v1::Watch* response);
  Body RenewWatchBody(const v1::RenewWatchRequest& request,
                      v1::Watch* response);
  // The policy's longest watch now (node/watches.h WatchMaxS), for the
  // console's watch form.
  uint32_t WatchMaxSeconds() const;

  // Office.Query for the console's query page: as ServeFor, with Query's
  // body (the peers' answers and the summary go to `emit`; false from it
  // stops the query) and its audit counts.
  using QueryEmit = std::function<bool(const v1::QueryEvent&)>;
  absl::Status QueryFor(const OfficeCaller& caller,
                        const v1::QueryRequest& request, const QueryEmit& emit);

  // What the auditor's calls read, for the console's auditor pages (inside
  // AuditedFor): the node's latest checkpoint note with its cosignatures,
  // what this node's witnessing of `member` shows, a month's signed report.
  absl::StatusOr<std::string> BestCheckpoint() {
    return checkpoints_->BestCheckpoint();
  }
  absl::StatusOr<WitnessedPeer> DescribeWitnessed(const std::string& member) {
    return witnessing_->Describe(member);
  }
  absl::StatusOr<v1::SignedReport> Report(std::string_view month) {
    return reports_.Get(month);
  }
  // AuditExport's body (inside AuditedFor): entries [begin, end) with
  // their inclusion proofs against the checkpoint of `request.size` (0:
  // the latest), the checkpoint note in the first chunk, 256 entries a
  // chunk to `emit` (false from it: CANCELLED); INVALID_ARGUMENT for an
  // empty range or one past the checkpoint, FAILED_PRECONDITION for a
  // size no stored checkpoint has. The console's download uses it too.
  using ExportEmit = std::function<bool(const v1::AuditExportChunk&)>;
  absl::Status Export(const v1::AuditExportRequest& request,
                      const ExportEmit& emit);
  // The directory versions Office.AuditDirectory answers (an export
  // carries them).
  std::vector<v1::SignedDirectory> DirectoryVersions() const {
    return ctx_->directory->VersionsAfter(0);
  }
  // The office's own listings (node/office_scope.h), for the console.
  OfficeScope& scope() { return scope_; }

 private:
  // The one handler: authenticates the caller, checks its role against
  // `allowed`, runs
  // `body`, logs the call as LOCAL `rpc` ("Office.AddCase") of `kind`
  // unless the body did, and returns the outcome as a gRPC status (the
  // log's failure instead, if it could not log: log before answer).
  grpc::Status Serve(grpc::ServerContext* context, std::string_view rpc,
                     std::string_view kind,
                     std::initializer_list<OfficeRole> allowed,
                     const Body& body);
  // A case book write (AddCase, AmendCase, CloseCase) for a prosecutor:
  // `change` runs for the caller (its office and person) and logs the call
  // itself (log before effect); its record is the response.
  grpc::Status ServeCaseChange(
      grpc::ServerContext* context, std::string_view rpc, std::string_view kind,
      const std::function<absl::StatusOr<v1::Case>(const OfficeCaller&)>&
          change,
      v1::Case* response);
  // The calling office (UNAUTHENTICATED, also for a certificate without a
  // person once the policy requires one, spec/office-api.md §2 A7, written
  // to the event log).
  absl::StatusOr<OfficeCaller> Authenticate(grpc::ServerContext* context,
                                            std::string_view rpc);
  // PERMISSION_DENIED (written to the event log) unless the caller's role
  // is one of `allowed`.
  absl::Status CheckRole(const OfficeCaller& caller, std::string_view rpc,
                         std::initializer_list<OfficeRole> allowed) const;
  // Serve's and ServeFor's work, for a caller authenticated or not.
  absl::Status Run(absl::StatusOr<OfficeCaller> caller, std::string_view rpc,
                   std::string_view kind,
                   std::initializer_list<OfficeRole> allowed, const Body& body);
  // Query's body for `request`, its events to `emit`; both must outlive
  // the result.
  Body QueryBody(const v1::QueryRequest& request, const QueryEmit& emit);
  // `body` as an auditor's call body (Audited, AuditedFor); `body` must
  // outlive the result.
  Body AuditorBody(const std::function<absl::Status()>& body);
  // An auditor's call: `body` runs only on a healthy log; a DATA_LOSS is
  // reported as the log's (AuditFailure).
  grpc::Status Audited(grpc::ServerContext* context, std::string_view rpc,
                       std::string_view kind,
                       const std::function<absl::Status()>& body);
  // ListPeers' body.
  absl::Status DescribePeers(v1::ListPeersResponse* response);
  // Sets response->own_certificate to the node certificate in use.
  void DescribeOwnCertificate(v1::ListPeersResponse* response) const;

  NodeContext* ctx_;
  LookupQuerier* query_;
  IndexSync* sync_;
  Witnessing* witnessing_;
  Checkpoints* checkpoints_;
  Watches* watches_ = nullptr;
  CaseBook cases_;
  OfficeScope scope_;
  Cooperation* cooperation_ = nullptr;
  Withdrawals* withdrawals_ = nullptr;
  TransparencyReport reports_{ctx_};
};

}  // namespace cbx::node

#endif  // CBX_NODE_OFFICE_SERVICE_H_
