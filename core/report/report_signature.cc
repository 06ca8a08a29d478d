#include "core/report/report_signature.h"

#include <string>

#include "core/util/status_macros.h"

namespace cbx::report {
namespace {
constexpr std::string_view kReportLabel = "cbx/v1/report";
}  // namespace

Bytes ReportSigningInput(std::string_view report_bytes) {
  Bytes input(kReportLabel);
  input.push_back('\0');
  input.append(report_bytes);
  return input;
}

absl::StatusOr<v1::SignedReport> SignReport(const v1::Report& report,
                                            const crypto::Signer& signer) {
  v1::SignedReport out;
  out.set_report(report.SerializeAsString());
  ASSIGN_OR_RETURN(Bytes signature,
                   signer.Sign(ReportSigningInput(out.report())));
  out.set_key_id(directory::NodeKeyId(signer.public_key().bytes()));
  out.set_signature(std::move(signature));
  return out;
}

absl::StatusOr<v1::Report> VerifySignedReport(const v1::SignedReport& signed_,
                                              const directory::Directory& dir) {
  v1::Report report;
  if (!report.ParseFromString(signed_.report())) {
    return absl::InvalidArgumentError("report: does not parse as cbx.v1.Report");
  }
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                   dir.NodeKeyAt(report.member(), signed_.key_id(),
                                 report.signed_at_ms()));
  if (!key.Verify(ReportSigningInput(signed_.report()), signed_.signature())) {
    return absl::UnauthenticatedError(
        "report: the signature does not verify with " + report.member() +
        "'s node key");
  }
  return report;
}

}  // namespace cbx::report
