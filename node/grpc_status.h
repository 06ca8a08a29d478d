// The one place where the node's absl::Status meets gRPC's status, and the
// status a caller is given when the audit log cannot record its exchange.
#ifndef CBX_NODE_GRPC_STATUS_H_
#define CBX_NODE_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cbx::node {

// What a caller is told when the audit log cannot record its exchange:
// DATA_LOSS stays DATA_LOSS (the log was tampered with), anything else is
// UNAVAILABLE (retry later). spec/audit-log.md §2.5, §2.10.
absl::Status AuditFailure(const absl::Status& log_status);

// absl codes map one-to-one onto gRPC codes.
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace cbx::node

#endif  // CBX_NODE_GRPC_STATUS_H_
