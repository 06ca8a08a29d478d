// Hashing to the P-256 curve (RFC 9380): expand_message_xmd with SHA-256 and
// the suite P256_XMD:SHA-256_SSWU_RO_ (hash_to_curve, the random-oracle
// encoding). Used by the OPRF (voprf.h) as HashToGroup.
//
// The field arithmetic runs on OpenSSL BIGNUMs and is NOT constant-time: the
// running time may depend on `msg`. spec/oprf.md says why that is acceptable
// in cbx. All functions are thread-safe.
#ifndef CBX_CORE_CRYPTO_HASH_TO_CURVE_H_
#define CBX_CORE_CRYPTO_HASH_TO_CURVE_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::crypto {

// RFC 9380 section 5.3.1 expand_message_xmd with SHA-256 (oversize DST reduced
// per 5.3.3).
// Returns `len_in_bytes` uniform bytes. INVALID_ARGUMENT if `dst` is empty or
// `len_in_bytes` is 0 or above 8160 (255 SHA-256 blocks).
absl::StatusOr<Bytes> ExpandMessageXmdSha256(std::string_view msg,
                                             std::string_view dst,
                                             size_t len_in_bytes);

// hash_to_curve with suite P256_XMD:SHA-256_SSWU_RO_; returns the 33-byte SEC1
// compressed point.
// INVALID_ARGUMENT if `dst` is empty, or in the (probability ~2^-256) case
// that `msg` hashes to the point at infinity, which has no such encoding.
absl::StatusOr<Bytes> HashToCurveP256(std::string_view msg,
                                      std::string_view dst);

// The same point as HashToCurveP256, as the 65-byte SEC1 uncompressed encoding
// 0x04 || x || y. For callers that go on to compute with the point: parsing
// it needs no square root, unlike the compressed form.
absl::StatusOr<Bytes> HashToCurveP256Uncompressed(std::string_view msg,
                                                  std::string_view dst);

// The intermediate values of hash_to_curve that RFC 9380 Appendix J prints,
// so tests can check each step. Not for protocol use.
struct HashToCurveP256Trace {
  Bytes u0, u1;  // hash_to_field(msg, 2): 32-byte big-endian field elements
  Bytes q0, q1;  // map_to_curve(u0), map_to_curve(u1): 65-byte uncompressed
  Bytes p;       // q0 + q1 (h_eff = 1): 65-byte uncompressed
};
absl::StatusOr<HashToCurveP256Trace> HashToCurveP256WithTrace(
    std::string_view msg, std::string_view dst);

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_HASH_TO_CURVE_H_
