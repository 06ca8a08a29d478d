// The unit the crypto benchmarks are measured in: one bare constant-time
// P-256 variable-base scalar multiplication (OpenSSL EC_POINT_mul on the
// group the OPRF uses). Lets bench/ report "x EC_POINT_mul" ratios without
// OpenSSL types leaving core/crypto.
#ifndef CBX_CORE_CRYPTO_P256_BASELINE_H_
#define CBX_CORE_CRYPTO_P256_BASELINE_H_

#include <memory>

namespace cbx::crypto {

// Holds a random point and a random secret scalar. Not thread-safe: one
// instance per benchmark thread.
class P256ScalarMulBaseline {
 public:
  P256ScalarMulBaseline();
  ~P256ScalarMulBaseline();
  P256ScalarMulBaseline(const P256ScalarMulBaseline&) = delete;
  P256ScalarMulBaseline& operator=(const P256ScalarMulBaseline&) = delete;

  // One EC_POINT_mul(group, r, NULL, point, scalar, ctx): the result is kept
  // in the object and not serialized.
  void Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_P256_BASELINE_H_
