#include "core/crypto/p256_baseline.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <cstdlib>

namespace cbx::crypto {

struct P256ScalarMulBaseline::Impl {
  EC_GROUP* group = nullptr;
  BN_CTX* ctx = nullptr;
  BIGNUM* scalar = nullptr;
  EC_POINT* point = nullptr;
  EC_POINT* result = nullptr;

  ~Impl() {
    EC_POINT_free(result);
    EC_POINT_free(point);
    BN_clear_free(scalar);
    BN_CTX_free(ctx);
    EC_GROUP_free(group);
  }
};

P256ScalarMulBaseline::P256ScalarMulBaseline()
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  // The same group constructor as voprf.cc, so the same (nistz256) code.
  s.group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  s.ctx = BN_CTX_new();
  s.scalar = BN_new();
  BIGNUM* base_scalar = BN_new();
  if (s.group == nullptr || s.ctx == nullptr || s.scalar == nullptr ||
      base_scalar == nullptr) {
    std::abort();
  }
  s.point = EC_POINT_new(s.group);
  s.result = EC_POINT_new(s.group);
  const BIGNUM* order = EC_GROUP_get0_order(s.group);
  // The base is a parsed point (affine, Z = 1), as an element received from
  // a peer is.
  unsigned char encoded[65];
  if (s.point == nullptr || s.result == nullptr ||
      BN_priv_rand_range(base_scalar, order) != 1 ||
      BN_priv_rand_range(s.scalar, order) != 1 ||
      EC_POINT_mul(s.group, s.result, base_scalar, nullptr, nullptr, s.ctx) !=
          1 ||
      EC_POINT_point2oct(s.group, s.result, POINT_CONVERSION_UNCOMPRESSED,
                         encoded, sizeof(encoded), s.ctx) != sizeof(encoded) ||
      EC_POINT_oct2point(s.group, s.point, encoded, sizeof(encoded), s.ctx) !=
          1) {
    std::abort();
  }
  BN_set_flags(s.scalar, BN_FLG_CONSTTIME);
  BN_clear_free(base_scalar);
}

P256ScalarMulBaseline::~P256ScalarMulBaseline() = default;

void P256ScalarMulBaseline::Run() {
  Impl& s = *impl_;
  if (EC_POINT_mul(s.group, s.result, nullptr, s.point, s.scalar, s.ctx) != 1) {
    std::abort();
  }
}

}  // namespace cbx::crypto
