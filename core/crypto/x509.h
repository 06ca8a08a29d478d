// X.509 checks the node needs beyond what gRPC does: gRPC verifies a client
// certificate's chain against the union of all members' CAs, so the node
// must itself check that a certificate naming member CC was issued by CC's
// own CA (otherwise one country's CA could mint another country's identity).
#ifndef CBX_CORE_CRYPTO_X509_H_
#define CBX_CORE_CRYPTO_X509_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cbx::crypto {

// The URI subject alternative names of the PEM certificate `pem`.
// INVALID_ARGUMENT if it does not parse.
absl::StatusOr<std::vector<std::string>> CertificateUriSans(
    std::string_view pem);

// OK if the PEM certificate `leaf_pem` chains to one of the PEM CA
// certificates `ca_pems` (each may hold several certificates) and is valid
// now. UNAUTHENTICATED otherwise, with OpenSSL's reason.
absl::Status VerifyCertificateIssuedBy(std::string_view leaf_pem,
                                       const std::vector<std::string>& ca_pems);

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_X509_H_
