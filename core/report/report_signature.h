// Signing and verifying a transparency report (spec/cooperation.md §7.5):
// Ed25519 by the member's node key over "cbx/v1/report" || 0x00 || the
// serialized Report, as envelopes are signed (core/envelope) with their
// own label. Pure functions; callable from any thread.
#ifndef CBX_CORE_REPORT_REPORT_SIGNATURE_H_
#define CBX_CORE_REPORT_REPORT_SIGNATURE_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "cbx/v1/report.pb.h"
#include "core/crypto/signer.h"
#include "core/directory/directory.h"
#include "core/util/bytes.h"

namespace cbx::report {

// "cbx/v1/report" || 0x00 || report_bytes.
Bytes ReportSigningInput(std::string_view report_bytes);

// Serializes `report` once and signs those bytes with `signer`; key_id =
// directory::NodeKeyId of its public key. The signer's error if it fails.
absl::StatusOr<v1::SignedReport> SignReport(const v1::Report& report,
                                            const crypto::Signer& signer);

// Parses the signed bytes and checks the signature: the key `key_id` must
// be a node key of the report's member in `dir` valid at its signed_at_ms
// (directory::Directory::NodeKeyAt). INVALID_ARGUMENT if the report does not
// parse; UNAUTHENTICATED if the key or the signature does not verify.
absl::StatusOr<v1::Report> VerifySignedReport(const v1::SignedReport& signed_,
                                              const directory::Directory& dir);

}  // namespace cbx::report

#endif  // CBX_CORE_REPORT_REPORT_SIGNATURE_H_
