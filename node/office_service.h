// The Office service: a country's own offices talking to their own node
// (spec/office-api.md). Handlers identify the office and role from the
// client certificate, validate, and delegate to storage or the query runner.
// Threading: handlers run concurrently on gRPC's threads.
#ifndef CBX_NODE_OFFICE_SERVICE_H_
#define CBX_NODE_OFFICE_SERVICE_H_

#include <mutex>

#include "cbx/v1/office.grpc.pb.h"
#include "node/audit_trail.h"
#include "node/node_context.h"
#include "node/checkpoints.h"
#include "node/index_sync.h"
#include "node/lookup_querier.h"
#include "node/witnessing.h"

namespace cbx::node {

class OfficeService final : public v1::Office::Service {
 public:
  OfficeService(NodeContext* context, LookupQuerier* query, IndexSync* sync,
                Witnessing* witnessing, Checkpoints* checkpoints)
      : ctx_(context),
        query_(query),
        sync_(sync),
        witnessing_(witnessing),
        checkpoints_(checkpoints) {}

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

 private:
  // What the audit entry of an office call records besides rpc and status.
  struct OfficeAudit {
    std::string office;  // set once the caller is identified
    std::string kind;
    AuditCounts counts;
  };
  // Logs the call (LOCAL) and returns `status`, or the log's failure.
  grpc::Status Logged(std::string_view rpc, const OfficeAudit& audit,
                      const grpc::Status& status);
  grpc::Status DoAddCase(grpc::ServerContext* context,
                         const v1::AddCaseRequest* request, v1::Case* response,
                         OfficeAudit& audit);
  grpc::Status DoAmendCase(grpc::ServerContext* context,
                           const v1::AmendCaseRequest* request,
                           v1::Case* response, OfficeAudit& audit);
  grpc::Status DoCloseCase(grpc::ServerContext* context,
                           const v1::CloseCaseRequest* request,
                           v1::Case* response, OfficeAudit& audit);
  grpc::Status DoListCases(grpc::ServerContext* context,
                           const v1::ListCasesRequest* request,
                           v1::ListCasesResponse* response, OfficeAudit& audit);
  grpc::Status DoQuery(grpc::ServerContext* context,
                       const v1::QueryRequest* request,
                       grpc::ServerWriter<v1::QueryEvent>* writer,
                       OfficeAudit& audit);
  grpc::Status DoListHits(grpc::ServerContext* context,
                          const v1::ListHitsRequest* request,
                          v1::ListHitsResponse* response, OfficeAudit& audit);
  grpc::Status DoListInbox(grpc::ServerContext* context,
                           const v1::ListInboxRequest* request,
                           v1::ListInboxResponse* response, OfficeAudit& audit);
  grpc::Status DoListPeers(grpc::ServerContext* context,
                           const v1::ListPeersRequest* request,
                           v1::ListPeersResponse* response, OfficeAudit& audit);
  // The calling office if its role is one of `allowed`; UNAUTHENTICATED or
  // PERMISSION_DENIED otherwise (logged).
  absl::StatusOr<OfficeCaller> Authorize(
      grpc::ServerContext* context, std::string_view rpc,
      std::initializer_list<OfficeRole> allowed);
  // Normalizes and evaluates `id` into a stored identifier.
  absl::StatusOr<StoredIdentifier> Prepare(const v1::Identifier& id,
                                           const std::string& field);
  // Writes a case change; serialized so amend/close read-modify-write
  // cannot interleave.
  absl::StatusOr<v1::Case> Amend(
      const OfficeCaller& caller, const std::string& number,
      const std::function<absl::Status(StoredCase&)>& change);

  // Auditor calls: the body, after the role check, as an absl::Status.
  grpc::Status Audited(grpc::ServerContext* context, std::string_view rpc,
                       std::string_view kind,
                       const std::function<absl::Status()>& body);

  NodeContext* ctx_;
  LookupQuerier* query_;
  IndexSync* sync_;
  Witnessing* witnessing_;
  Checkpoints* checkpoints_;
  std::mutex write_mu_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_OFFICE_SERVICE_H_
