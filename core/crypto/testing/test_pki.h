// A tiny PKI for tests: CAs, certificates and CRLs made in memory with
// OpenSSL (EC P-256, SHA-256), returned as PEM text, so that tests outside
// core/crypto never touch an OpenSSL type. Not for production: keys are
// unencrypted and nothing is checked. Thread-safe (no shared state); a
// failure inside OpenSSL aborts the test binary.
#ifndef CBX_CORE_CRYPTO_TESTING_TEST_PKI_H_
#define CBX_CORE_CRYPTO_TESTING_TEST_PKI_H_

#include <cstdint>
#include <string>
#include <vector>

namespace cbx::crypto::testing {

struct TestKeyPair {
  std::string certificate_pem;
  std::string private_key_pem;
};

// A self-signed CA named "/CN=<common_name>", valid from `not_before_s` to
// `not_after_s` (Unix seconds).
TestKeyPair MakeTestCa(const std::string& common_name, int64_t not_before_s,
                       int64_t not_after_s);

// An end-entity certificate issued by `ca` with serial `serial`, subject
// "/CN=<common_name>", the URI SAN `uri` (none if empty), usable for server
// and client authentication.
TestKeyPair IssueTestCertificate(const TestKeyPair& ca, uint64_t serial,
                                 const std::string& common_name,
                                 const std::string& uri, int64_t not_before_s,
                                 int64_t not_after_s);

// A CRL signed by `ca` revoking `serials` (revoked at `this_update_s`);
// next_update_s 0 leaves nextUpdate out.
std::string MakeTestCrl(const TestKeyPair& ca,
                        const std::vector<uint64_t>& serials,
                        int64_t this_update_s, int64_t next_update_s);

}  // namespace cbx::crypto::testing

#endif  // CBX_CORE_CRYPTO_TESTING_TEST_PKI_H_
