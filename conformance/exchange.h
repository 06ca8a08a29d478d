// One case's exchange with the node under test — what the runner sent and
// what came back — and the response properties checked on it
// (spec/conformance/README.md, "Properties").
#ifndef CBX_CONFORMANCE_EXCHANGE_H_
#define CBX_CONFORMANCE_EXCHANGE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "cbx/v1/office.pb.h"
#include "cbx/v1/peer.pb.h"
#include "conformance/kit.h"
#include "conformance/runner.h"
#include "grpcpp/support/status.h"

namespace cbx::conformance {

struct Exchange {
  grpc::Status status;
  std::string as;  // the member the runner spoke as ("" for an office)

  // Envelope RPCs: the message sent and the reply.
  v1::Message request;
  std::vector<Bytes> inputs, blinds, blinded;  // Evaluate's OPRF inputs
  std::vector<std::string> output_labels;      // Resolve: "kit", "random"...
  v1::Envelope reply;
  std::vector<v1::IndexPart> parts;  // SyncIndex

  v1::GetDirectoryResponse directory;
  v1::GetCheckpointResponse checkpoint;
  v1::AddCosignatureResponse cosignatures;
  v1::AuditCheckpointResponse audit_checkpoint;
  v1::AuditDirectoryResponse audit_directory;
  v1::AuditProofResponse proof;
  std::vector<v1::AuditExportChunk> chunks;
  uint64_t size1 = 0, size2 = 0, index = 0;  // audit requests as sent
  uint64_t begin = 0, end = 0;
};

// The identifier of the kit case the runner seeds (Office.AddCase): a
// Telegram username, and its OPRF output y under the target's key.
inline constexpr char kKitCaseNumber[] = "KIT-0001";
inline constexpr char kKitUsername[] = "cbx_kit_admin";
Bytes KitOutput(const Kit& kit);

// Checks the property `name` on `ex`; OK, or why it does not hold.
// INVALID_ARGUMENT "unknown property" for a name the runner does not know.
absl::Status CheckProperty(const std::string& name, const Kit& kit,
                           const Exchange& ex, Runner::Seen& seen);

}  // namespace cbx::conformance

#endif  // CBX_CONFORMANCE_EXCHANGE_H_
