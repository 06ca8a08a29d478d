#include "client/e2e/fake_audit_office.h"

#include <algorithm>
#include <utility>

#include "core/directory/testing/test_federation.h"
#include "grpcpp/grpcpp.h"

namespace cbx::client::testing {
namespace {

constexpr char kOfficePrefix[] = "spiffe://cbx/office/";
// Entries per streamed chunk: small, so that exports span several chunks.
constexpr size_t kChunkEntries = 3;

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

}  // namespace

FakeAuditOffice::FakeAuditOffice(std::string member, std::string key_label)
    : member_(std::move(member)),
      key_label_(key_label.empty() ? member_ + "/node/1"
                                   : std::move(key_label)) {
  std::lock_guard<std::mutex> lock(mu_);
  log_ = std::make_unique<audit::testing::TestLog>(member_, key_label_);
  directory_ = {directory::testing::SignedGenesis()};
}

uint64_t FakeAuditOffice::Append(v1::AuditEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  return log_->Append(std::move(entry));
}

void FakeAuditOffice::Publish(
    const std::vector<audit::testing::TestCosigner>& cosigners) {
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = log_->size();
  checkpoints_[latest_] = log_->Checkpoint(latest_, cosigners);
}

void FakeAuditOffice::Rewrite(uint64_t index, v1::AuditEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rebuilt = std::make_unique<audit::testing::TestLog>(member_, key_label_);
  for (uint64_t i = 0; i < log_->size(); ++i) {
    if (i == index) {
      rebuilt->Append(entry);
    } else {
      rebuilt->AppendLeaf(log_->leaf(i));
    }
  }
  log_ = std::move(rebuilt);
  checkpoints_.clear();
  latest_ = 0;
}

void FakeAuditOffice::SetDirectory(std::vector<v1::SignedDirectory> versions) {
  std::lock_guard<std::mutex> lock(mu_);
  directory_ = std::move(versions);
}

void FakeAuditOffice::CorruptProofs(bool corrupt) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_ = corrupt;
}

uint64_t FakeAuditOffice::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_->size();
}

std::vector<Bytes> FakeAuditOffice::MaybeCorrupt(
    std::vector<Bytes> proof) const {
  if (corrupt_ && !proof.empty()) proof[0][0] ^= 0x01;
  return proof;
}

grpc::Status FakeAuditOffice::Authorize(grpc::ServerContext* ctx,
                                        const char* rpc) {
  ++calls_;
  std::string uri;
  for (const char* property :
       {"peer_uri", "peer_spiffe_id", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& v :
         ctx->auth_context()->FindPropertyValues(property)) {
      std::string value(v.data(), v.size());
      if (value.rfind(kOfficePrefix, 0) == 0) uri = value;
    }
    if (!uri.empty()) break;
  }
  if (uri.empty()) {
    return Error(grpc::StatusCode::UNAUTHENTICATED,
                 "client certificate names no office");
  }
  const std::string role = uri.substr(uri.rfind('/') + 1);
  if (role != "auditor") {
    return Error(grpc::StatusCode::PERMISSION_DENIED,
                 "role " + role + " may not call " + rpc);
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuditOffice::AuditCheckpoint(
    grpc::ServerContext* ctx, const v1::AuditCheckpointRequest*,
    v1::AuditCheckpointResponse* response) {
  if (grpc::Status s = Authorize(ctx, "AuditCheckpoint"); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = checkpoints_.find(latest_);
  if (it == checkpoints_.end()) {
    return Error(grpc::StatusCode::UNAVAILABLE, "no checkpoint signed yet");
  }
  response->set_checkpoint(it->second);
  response->set_member(member_);
  response->set_witness_threshold(2);
  return grpc::Status::OK;
}

grpc::Status FakeAuditOffice::AuditDirectory(
    grpc::ServerContext* ctx, const v1::AuditDirectoryRequest*,
    v1::AuditDirectoryResponse* response) {
  if (grpc::Status s = Authorize(ctx, "AuditDirectory"); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::SignedDirectory& v : directory_) *response->add_versions() = v;
  return grpc::Status::OK;
}

grpc::Status FakeAuditOffice::AuditConsistency(
    grpc::ServerContext* ctx, const v1::AuditConsistencyRequest* request,
    v1::AuditProofResponse* response) {
  if (grpc::Status s = Authorize(ctx, "AuditConsistency"); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t m = request->size1(), n = request->size2();
  if (m == 0 || m > n) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 "no consistency proof from " + std::to_string(m) + " to " +
                     std::to_string(n));
  }
  if (n > log_->size()) {
    return Error(grpc::StatusCode::OUT_OF_RANGE,
                 "the log has " + std::to_string(log_->size()) + " entries");
  }
  for (Bytes& h : MaybeCorrupt(log_->ConsistencyProof(m, n))) {
    response->add_proof(std::move(h));
  }
  return grpc::Status::OK;
}

grpc::Status FakeAuditOffice::AuditInclusion(
    grpc::ServerContext* ctx, const v1::AuditInclusionRequest* request,
    v1::AuditProofResponse* response) {
  if (grpc::Status s = Authorize(ctx, "AuditInclusion"); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (request->size() > log_->size()) {
    return Error(grpc::StatusCode::OUT_OF_RANGE,
                 "the log has " + std::to_string(log_->size()) + " entries");
  }
  if (request->index() >= request->size()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 "index " + std::to_string(request->index()) +
                     " is not below size " + std::to_string(request->size()));
  }
  for (Bytes& h :
       MaybeCorrupt(log_->InclusionProof(request->index(), request->size()))) {
    response->add_proof(std::move(h));
  }
  response->set_leaf(log_->leaf(request->index()));
  return grpc::Status::OK;
}

grpc::Status FakeAuditOffice::AuditExport(
    grpc::ServerContext* ctx, const v1::AuditExportRequest* request,
    grpc::ServerWriter<v1::AuditExportChunk>* writer) {
  if (grpc::Status s = Authorize(ctx, "AuditExport"); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t size = request->size() == 0 ? latest_ : request->size();
  auto it = checkpoints_.find(size);
  if (it == checkpoints_.end()) {
    return Error(grpc::StatusCode::NOT_FOUND,
                 "no checkpoint of size " + std::to_string(size));
  }
  if (request->begin() >= request->end() || request->end() > size) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT,
                 "the range must satisfy begin < end <= size");
  }
  v1::AuditExportChunk chunk;
  chunk.set_checkpoint(it->second);
  for (uint64_t i = request->begin(); i < request->end(); ++i) {
    v1::AuditExportedEntry* e = chunk.add_entries();
    e->set_index(i);
    e->set_leaf(log_->leaf(i));
    for (Bytes& h : MaybeCorrupt(log_->InclusionProof(i, size))) {
      e->add_inclusion_proof(std::move(h));
    }
    if (static_cast<size_t>(chunk.entries_size()) == kChunkEntries) {
      if (!writer->Write(chunk)) return grpc::Status::CANCELLED;
      chunk.Clear();
    }
  }
  if (!chunk.checkpoint().empty() || chunk.entries_size() > 0) {
    if (!writer->Write(chunk)) return grpc::Status::CANCELLED;
  }
  return grpc::Status::OK;
}

}  // namespace cbx::client::testing
