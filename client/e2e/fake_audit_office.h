// An in-process fake of the node's Office service for the auditor's
// end-to-end test: it serves the five Audit* RPCs (auditor role only, from
// the client certificate's URI SAN) from a member's audit log kept in memory
// (client/audit/test_log.h: a real RFC 9162 tree, checkpoints signed with the
// test federation's node keys, cosigned by the other members' keys).
//
// The test drives it: append entries, publish a checkpoint with chosen
// cosigners, rewrite history (to see the auditor catch it), serve another
// directory chain, or corrupt the proofs it sends. The other Office RPCs are
// left unimplemented.
//
// Thread-safe: gRPC calls the handlers from its own threads.
#ifndef CBX_CLIENT_E2E_FAKE_AUDIT_OFFICE_H_
#define CBX_CLIENT_E2E_FAKE_AUDIT_OFFICE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "cbx/v1/office.grpc.pb.h"
#include "client/audit/test_log.h"

namespace cbx::client::testing {

class FakeAuditOffice final : public v1::Office::Service {
 public:
  // The log of `member` ("MK", "RS" or "AL"), signed with `key_label`
  // (default "<member>/node/1"); the directory chain served is the test
  // federation's genesis alone.
  explicit FakeAuditOffice(std::string member, std::string key_label = "");

  // Appends an entry (its sequence is set by the log).
  uint64_t Append(v1::AuditEntry entry);
  // Signs a checkpoint of the current size, cosigned by `cosigners`, and
  // makes it the latest.
  void Publish(const std::vector<audit::testing::TestCosigner>& cosigners);
  // Replaces entry `index` (history rewritten): the tree is rebuilt and
  // every checkpoint signed so far is forgotten.
  void Rewrite(uint64_t index, v1::AuditEntry entry);
  void SetDirectory(std::vector<v1::SignedDirectory> versions);
  // Flip one byte of every inclusion proof served from now on.
  void CorruptProofs(bool corrupt);

  uint64_t size() const;

  grpc::Status AuditCheckpoint(grpc::ServerContext* ctx,
                               const v1::AuditCheckpointRequest* request,
                               v1::AuditCheckpointResponse* response) override;
  grpc::Status AuditDirectory(grpc::ServerContext* ctx,
                              const v1::AuditDirectoryRequest* request,
                              v1::AuditDirectoryResponse* response) override;
  grpc::Status AuditConsistency(grpc::ServerContext* ctx,
                                const v1::AuditConsistencyRequest* request,
                                v1::AuditProofResponse* response) override;
  grpc::Status AuditInclusion(grpc::ServerContext* ctx,
                              const v1::AuditInclusionRequest* request,
                              v1::AuditProofResponse* response) override;
  grpc::Status AuditExport(
      grpc::ServerContext* ctx, const v1::AuditExportRequest* request,
      grpc::ServerWriter<v1::AuditExportChunk>* writer) override;

  // Audit RPCs that reached a handler, authorized or not.
  int calls() const { return calls_.load(); }

 private:
  // PERMISSION_DENIED unless the caller's URI SAN names the auditor role.
  grpc::Status Authorize(grpc::ServerContext* ctx, const char* rpc);
  std::vector<Bytes> MaybeCorrupt(std::vector<Bytes> proof) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const std::string member_;
  const std::string key_label_;
  std::atomic<int> calls_{0};
  mutable std::mutex mu_;
  std::unique_ptr<audit::testing::TestLog> log_ ABSL_GUARDED_BY(mu_);
  // Signed checkpoints by size; latest_ is the size of the latest one.
  std::map<uint64_t, std::string> checkpoints_ ABSL_GUARDED_BY(mu_);
  uint64_t latest_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::SignedDirectory> directory_ ABSL_GUARDED_BY(mu_);
  bool corrupt_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cbx::client::testing

#endif  // CBX_CLIENT_E2E_FAKE_AUDIT_OFFICE_H_
