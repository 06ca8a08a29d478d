#include "node/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace cbx::node {

absl::Status AuditFailure(const absl::Status& log_status) {
  if (log_status.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        absl::StrCat("audit log: ", log_status.message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "audit log cannot record this exchange now: ", log_status.message()));
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace cbx::node
