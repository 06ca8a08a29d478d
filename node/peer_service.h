// The Peer service: what this node answers to other members' nodes
// (spec/lookup.md, spec/index-sync.md).
//
// Each handler validates (caller identity, the envelope's seven checks),
// delegates to storage and crypto, and maps the result to a gRPC status.
// Threading: handlers run on gRPC's threads concurrently; all shared state
// is in NodeContext (thread-safe) or guarded here.
#ifndef CBX_NODE_PEER_SERVICE_H_
#define CBX_NODE_PEER_SERVICE_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "node/audit_trail.h"
#include "node/node_context.h"
#include "node/checkpoints.h"

namespace cbx::node {

// Largest batch one EvaluateRequest or ResolveRequest may carry.
inline constexpr int kMaxBatch = 1024;
// Tags per IndexChunk of a SyncIndex stream (512 KiB of tags).
inline constexpr size_t kTagsPerChunk = 65536;

class PeerService final : public v1::Peer::Service {
 public:
  PeerService(NodeContext* context, Checkpoints* checkpoints);

  grpc::Status GetDirectory(grpc::ServerContext* context,
                            const v1::GetDirectoryRequest* request,
                            v1::GetDirectoryResponse* response) override;
  grpc::Status SyncIndex(grpc::ServerContext* context,
                         const v1::Envelope* request,
                         grpc::ServerWriter<v1::IndexPart>* writer) override;
  grpc::Status Evaluate(grpc::ServerContext* context,
                        const v1::Envelope* request,
                        v1::Envelope* response) override;
  grpc::Status Resolve(grpc::ServerContext* context,
                       const v1::Envelope* request,
                       v1::Envelope* response) override;
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status AddCosignature(grpc::ServerContext* context,
                              const v1::AddCosignatureRequest* request,
                              v1::AddCosignatureResponse* response) override;

 private:
  // Identifies the caller and opens the envelope; logs a refusal.
  absl::StatusOr<envelope::OpenedEnvelope> Admit(grpc::ServerContext* context,
                                                 const v1::Envelope& envelope,
                                                 v1::Message::KindCase kind,
                                                 std::string_view rpc);
  // Logs a refusal of `envelope` (durably) and returns `refusal`, or the
  // log's failure.
  absl::Status Refuse(std::string_view rpc, const std::string& caller,
                      const v1::Envelope& envelope,
                      const absl::Status& refusal);
  // Logs the request as received with `status` and, if given, `reply` as
  // sent, in one append; then returns `status` (or the log's failure: log
  // before answer).
  grpc::Status Answer(std::string_view rpc,
                      const envelope::OpenedEnvelope& opened,
                      const absl::Status& status, const AuditCounts& counts,
                      const v1::Envelope* reply);
  absl::Status DoEvaluate(const envelope::OpenedEnvelope& opened,
                          v1::Envelope* response, AuditCounts& counts);
  absl::Status DoResolve(const envelope::OpenedEnvelope& opened,
                         v1::Envelope* response, AuditCounts& counts);
  // Seals `reply` as the answer to `request`.
  v1::Envelope Reply(const v1::Message& request, v1::Message reply);

  struct OwnIndexSnapshot {
    uint64_t version = 0;
    std::vector<Tag> tags;
    Bytes digest;
  };
  // The own index at its current version, computed once per version.
  absl::StatusOr<std::shared_ptr<const OwnIndexSnapshot>> Snapshot();

  // Logs a call without an envelope (received) and returns `status`, or
  // the log's failure.
  grpc::Status AnswerCall(std::string_view rpc, std::string_view kind,
                          const std::string& caller,
                          const absl::Status& status);

  NodeContext* ctx_;
  Checkpoints* checkpoints_;
  std::mutex snapshot_mu_;
  std::shared_ptr<const OwnIndexSnapshot> snapshot_
      ABSL_GUARDED_BY(snapshot_mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_PEER_SERVICE_H_
