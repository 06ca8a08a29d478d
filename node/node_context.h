// What every part of a running node shares: its identity, keys, directory,
// storage and peer index copies. Built once by Node (node/node.h); the
// pointed-to objects outlive every service and thread that uses them.
#ifndef CBX_NODE_NODE_CONTEXT_H_
#define CBX_NODE_NODE_CONTEXT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "cbx/v1/message.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/directory/directory.h"
#include "core/directory/directory_state.h"
#include "core/envelope/envelope.h"
#include "core/envelope/replay_cache.h"
#include "core/util/clock.h"
#include "grpcpp/support/status.h"
#include "node/audit/audit_log.h"
#include "node/audit_trail.h"
#include "node/config.h"
#include "node/storage/storage.h"
#include "node/tag_index.h"

namespace cbx::node {

struct NodeContext {
  Config config;
  std::unique_ptr<crypto::Ed25519PrivateKey> signing_key;
  std::unique_ptr<crypto::OprfServerKey> oprf_key;
  std::unique_ptr<directory::DirectoryState> directory;
  std::unique_ptr<Storage> storage;
  const Clock* clock = &SystemClock::Get();
  PeerIndexSet peer_indexes;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<AuditTrail> audit_trail;
  // PEM text of the node's TLS certificate and key (client side to peers).
  std::string tls_certificate_pem;
  std::string tls_private_key_pem;

  const std::string& self() const { return config.member; }
  // This member's OPRF epoch in the current directory.
  uint32_t OprfEpoch() const;
  // Lifetime given to envelopes this node sends: the policy's maximum.
  int64_t MessageLifetimeMs() const;
  // A header from this node to `to`, on behalf of `office` (may be empty).
  v1::Header NewHeader(const std::string& to, const std::string& office) const;
};

// Check 7's quota: blinded elements per peer per UTC day, from the policy.
class StorageQuotaGate final : public envelope::QuotaGate {
 public:
  StorageQuotaGate(Storage* storage, const Clock* clock, uint32_t limit)
      : storage_(storage), clock_(clock), limit_(limit) {}
  absl::Status Charge(const std::string& sender,
                      const v1::Message& message) override;

  // What Charge would charge for `message` now, for a caller that charges
  // it together with the replay record (StorageReplayCache); nullopt for a
  // message this quota does not count.
  std::optional<Storage::QuotaCharge> ChargeFor(
      const v1::Message& message) const;
  // The refusal of a charge of `count` that would exceed the quota.
  absl::Status Exhausted(const std::string& sender, uint32_t count) const;

 private:
  Storage* storage_;
  const Clock* clock_;
  uint32_t limit_;
};

// The replay cache of envelope check 6, kept in storage so it survives a
// restart. Given the request's quota gate, it makes check 6's record and
// check 7b's charge durable in one storage write
// (Storage::RecordMessageIdAndCharge), which concurrent requests share: one
// sync per group of accepted envelopes instead of two per envelope.
class StorageReplayCache final : public envelope::ReplayCache {
 public:
  explicit StorageReplayCache(Storage* storage,
                              const StorageQuotaGate* quota = nullptr)
      : storage_(storage), quota_(quota) {}
  absl::Status CheckAndRecord(const std::string& sender,
                              const Bytes& message_id,
                              int64_t expires_at_ms) override;
  // One write if `quota` is the gate this cache was made with; any other
  // gate is charged separately, after the record (the default).
  envelope::ReplayAndQuota CheckRecordAndCharge(
      const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
      const v1::Message& message, envelope::QuotaGate* quota) override;

 private:
  Storage* storage_;
  const StorageQuotaGate* quota_;
};

// What a caller is told when the audit log cannot record its exchange:
// DATA_LOSS stays DATA_LOSS (the log was tampered with), anything else is
// UNAVAILABLE (retry later).
absl::Status AuditFailure(const absl::Status& log_status);

// absl codes map one-to-one onto gRPC codes.
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace cbx::node

#endif  // CBX_NODE_NODE_CONTEXT_H_
