// Builds a case's request from its recipe (spec/conformance/README.md,
// "Requests") and the kit's keys, and sends the RPCs that carry no
// envelope. Not thread-safe; borrows the kit and the runner's state.
#ifndef CBX_CONFORMANCE_REQUEST_BUILDER_H_
#define CBX_CONFORMANCE_REQUEST_BUILDER_H_

#include "absl/status/statusor.h"
#include "cbx/v1/office.grpc.pb.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "conformance/exchange.h"
#include "conformance/kit.h"
#include "conformance/runner.h"
#include "nlohmann/json.hpp"

namespace cbx::conformance {

class RequestBuilder {
 public:
  RequestBuilder(const Kit* kit, Runner::Seen* seen) : kit_(kit), seen_(seen) {}

  // The sealed envelope of an Evaluate, Resolve or SyncIndex case: the
  // message of c["message"] (or the RPC's kind with its defaults) under the
  // header of c["envelope"], signed and possibly tampered with. Records the
  // message and the OPRF inputs in `ex`. INVALID_ARGUMENT for a recipe the
  // builder does not know.
  absl::StatusOr<v1::Envelope> Envelope(const nlohmann::json& c,
                                        Exchange& ex) const;

  // Fills `kind`'s body of `msg` from `spec` (the kind's recipe).
  absl::Status Body(const std::string& kind, const nlohmann::json& spec,
                    v1::Message& msg, Exchange& ex) const;

  // A cosigned checkpoint for AddCosignature: c["add_cosignature"]["cosign"]
  // is "latest" (GetCheckpoint, then a cosignature by the runner's member),
  // "again" (the last one sent), "later" (the last checkpoint cosigned
  // again with a later time), "bad-signature", "altered-text" or
  // "other-origin".
  absl::StatusOr<std::string> Cosigned(v1::Peer::Stub& stub,
                                       const nlohmann::json& c,
                                       const std::string& as) const;

  const Kit& kit() const { return *kit_; }
  Runner::Seen& seen() const { return *seen_; }

 private:
  const Kit* kit_;
  Runner::Seen* seen_;
};

// GetDirectory, GetCheckpoint, AddCosignature.
absl::Status SendPeerPlain(v1::Peer::Stub& stub, const RequestBuilder& build,
                           const nlohmann::json& c, Exchange& ex);
// AddCase (the kit case) and the five audit RPCs.
absl::Status SendOffice(v1::Office::Stub& stub, const RequestBuilder& build,
                        const nlohmann::json& c, Exchange& ex);

}  // namespace cbx::conformance

#endif  // CBX_CONFORMANCE_REQUEST_BUILDER_H_
