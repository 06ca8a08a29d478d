// What the node needs to reload its TLS identity and to honour certificate
// revocation lists (spec/keys.md §5): a certificate's serial, issuer and
// validity; whether a private key belongs to a certificate; a CRL parsed
// and verified against the CA that signed it. OpenSSL stays inside this
// folder: everything here is PEM text in, plain values out. Thread-safe
// (no shared state).
#ifndef CBX_CORE_CRYPTO_X509_CRL_H_
#define CBX_CORE_CRYPTO_X509_CRL_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cbx::crypto {

// The facts of one certificate the node logs and checks.
struct CertificateSummary {
  std::string serial_hex;    // upper-case hex, as `openssl x509 -serial` prints
  std::string issuer_der;    // the issuer name, DER: matches a CRL's issuer
  std::string issuer;        // the issuer name, one line, for messages
  std::string subject;       // the subject name, one line, for messages
  int64_t not_before_s = 0;  // Unix seconds
  int64_t not_after_s = 0;
  std::vector<std::string> uris;  // URI subject alternative names
  // SHA-256 of the certificate's DER, upper-case hex bytes joined by ':',
  // as `openssl x509 -noout -fingerprint -sha256` prints it.
  std::string sha256_fingerprint;
};

// The summary of the first certificate in `pem`. INVALID_ARGUMENT if there
// is none or it does not parse.
absl::StatusOr<CertificateSummary> SummarizeCertificate(std::string_view pem);

// OK if `key_pem` holds a private key whose public half is the one in the
// first certificate of `cert_pem`. INVALID_ARGUMENT saying which part does
// not parse, or "the private key does not match the certificate".
absl::Status CheckKeyMatchesCertificate(std::string_view key_pem,
                                        std::string_view cert_pem);

// A certificate revocation list whose signature was verified.
struct RevocationList {
  std::string issuer_der;  // the CRL's issuer name, DER
  std::string issuer;      // one line, for messages
  int64_t this_update_s = 0;
  int64_t next_update_s = 0;  // 0: the CRL names no next update
  // Serial (upper-case hex) -> revocation time (Unix seconds).
  std::map<std::string, int64_t> revoked;
};

// Parses the PEM CRL `crl_pem` and verifies its signature with the key of a
// certificate in `ca_pems` (each may hold several) whose subject is the
// CRL's issuer. INVALID_ARGUMENT if it does not parse; UNAUTHENTICATED if
// no such CA is given or none verifies the signature. Neither thisUpdate nor
// nextUpdate is judged here: the caller decides what an old CRL means.
absl::StatusOr<RevocationList> ParseVerifiedCrl(
    std::string_view crl_pem, const std::vector<std::string>& ca_pems);

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_X509_CRL_H_
