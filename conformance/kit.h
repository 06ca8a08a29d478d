// The conformance kit's federation as the runner uses it: the genesis, every
// member's published keys and certificates (spec/conformance/federation/),
// and mTLS channels to the node under test presenting one of them.
//
// Immutable after Load; thread-compatible (the runner drives it from one
// thread).
#ifndef CBX_CONFORMANCE_KIT_H_
#define CBX_CONFORMANCE_KIT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/voprf.h"
#include "core/directory/directory.h"
#include "grpcpp/channel.h"

namespace cbx::conformance {

// Where the node under test listens, and who the runner is by default.
struct KitTarget {
  std::string peer_address;    // host:port of its Peer service
  std::string office_address;  // host:port of its Office service; may be ""
  std::string member = "QT";   // the member code the node runs as
  std::string as = "QA";       // the runner's default member (--as)
};

class Kit {
 public:
  // Reads the kit federation in `dir` (genesis.pb, <CC>/..., bad/...):
  // verifies the genesis and reads every member's node signing key and the
  // target's OPRF key. INVALID_ARGUMENT or NOT_FOUND naming the file on
  // failure.
  static absl::StatusOr<std::unique_ptr<Kit>> Load(const std::string& dir,
                                                   KitTarget target);

  const directory::Directory& directory() const { return *directory_; }
  const v1::SignedDirectory& genesis() const { return genesis_; }
  const KitTarget& target() const { return target_; }
  // `cc`'s node signing key ("QA:expired": QA's retired key, whose window
  // closed before the genesis); nullptr if the kit has none.
  const crypto::Ed25519PrivateKey* NodeKey(const std::string& cc) const;
  // The target's OPRF private key (the kit publishes it).
  const crypto::OprfServerKey& TargetOprfKey() const { return *oprf_key_; }

  // A channel to the Peer (office=false) or Office port presenting the
  // certificate named `tls`: a member code ("QA": its node certificate),
  // "office:<role>" (the target's Kit-Office office in that role) or
  // "bad:<name>" (bad/<name>.crt). Trusts every member CA of the kit.
  // INVALID_ARGUMENT for an unknown name; FAILED_PRECONDITION without an
  // office address.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const std::string& tls,
                                                         bool office) const;

  // The member a TLS name stands for ("bad:qa-names-qb" → "QA": the member
  // whose CA issued it, as the runner's envelopes default to that sender).
  static std::string MemberOfTls(const std::string& tls);

 private:
  Kit() = default;

  std::string dir_;
  KitTarget target_;
  v1::SignedDirectory genesis_;
  std::shared_ptr<const directory::Directory> directory_;
  std::map<std::string, crypto::Ed25519PrivateKey> node_keys_;
  std::unique_ptr<crypto::OprfServerKey> oprf_key_;
  std::string roots_pem_;
  mutable std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace cbx::conformance

#endif  // CBX_CONFORMANCE_KIT_H_
