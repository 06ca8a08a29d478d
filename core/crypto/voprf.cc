// RFC 9497 P256-SHA256 over OpenSSL 3.0. The P-256 group and scalar helpers
// live in this file rather than in a shared header because they are written
// in OpenSSL types, which no header may expose; hash_to_curve.cc hands points
// over as SEC1 bytes instead.
#include "core/crypto/voprf.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/hash_to_curve.h"
#include "core/crypto/sha256.h"
#include "core/util/status_macros.h"

namespace cbx::crypto {
namespace {

constexpr std::string_view kHashToGroupPrefix = "HashToGroup-";
constexpr std::string_view kHashToScalarPrefix = "HashToScalar-";
constexpr std::string_view kDeriveKeyPairPrefix = "DeriveKeyPair";
constexpr std::string_view kSeedPrefix = "Seed-";
constexpr std::string_view kCompositeLabel = "Composite";
constexpr std::string_view kChallengeLabel = "Challenge";
constexpr std::string_view kFinalizeLabel = "Finalize";
// hash_to_field's L for the group order: ceil((256 + 128) / 8).
constexpr size_t kHashToScalarL = 48;
constexpr size_t kHalfL = kHashToScalarL / 2;  // 24 bytes = 192 bits

// OpenSSL arithmetic on valid operands fails only when memory runs out: a
// broken process, not bad input.
void Check(int ok) {
  if (ok != 1) std::abort();
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

struct BnDeleter {
  // Clears as it frees: most scalars here are secrets.
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct PointDeleter {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct BnCtxDeleter {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct MontDeleter {
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
struct GroupDeleter {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
using PointPtr = std::unique_ptr<EC_POINT, PointDeleter>;

BnPtr NewBn() {
  BnPtr b(BN_new());
  if (!b) std::abort();
  return b;
}

BnPtr NewSecretBn() {
  BnPtr b = NewBn();
  BN_set_flags(b.get(), BN_FLG_CONSTTIME);
  return b;
}

// One BN_CTX per thread, reused by every call on that thread.
BN_CTX* ThreadBnCtx() {
  thread_local std::unique_ptr<BN_CTX, BnCtxDeleter> ctx(BN_CTX_new());
  if (!ctx) std::abort();
  return ctx.get();
}

// The P-256 group and its scalar field. EC_GROUP_new_by_curve_name selects
// OpenSSL's nistz256 implementation on x86-64 and ARMv8 (constant-time
// fixed-window multiplication, precomputed generator table) and the
// constant-time nistp256 or ladder code elsewhere. Immutable after
// construction and shared by all threads.
class P256 {
 public:
  static const P256& Get() {
    static const P256* p256 = new P256();
    return *p256;
  }

  const EC_GROUP* group() const { return group_.get(); }
  const BIGNUM* order() const { return order_.get(); }

  PointPtr NewPoint() const {
    PointPtr p(EC_POINT_new(group_.get()));
    if (!p) std::abort();
    return p;
  }

  // k * p, constant-time in k.
  PointPtr Mul(const EC_POINT* p, const BIGNUM* k) const {
    PointPtr r = NewPoint();
    Check(EC_POINT_mul(group_.get(), r.get(), nullptr, p, k, ThreadBnCtx()));
    return r;
  }
  // g * G + k * p (either scalar may be null).
  PointPtr MulWithGenerator(const BIGNUM* g, const EC_POINT* p,
                            const BIGNUM* k) const {
    PointPtr r = NewPoint();
    Check(EC_POINT_mul(group_.get(), r.get(), g, p, k, ThreadBnCtx()));
    return r;
  }
  // sum_i scalars[i] * points[i].
  PointPtr LinearCombination(const std::vector<const EC_POINT*>& points,
                             const std::vector<const BIGNUM*>& scalars) const {
    PointPtr r = NewPoint();
    PointPtr part = NewPoint();
    // OpenSSL 3.0 deprecates EC_POINTs_mul without offering a replacement.
    // On P-256 it runs an interleaved fixed-window multi-scalar
    // multiplication that shares the 256 doublings across all points, with
    // a 16-point table per point. In runs of kCombinationRun points those
    // tables stay in cache: about a fifth less per point than one call
    // over a batch of 1,000, and a third of separate EC_POINT_mul calls.
    for (size_t at = 0; at < points.size(); at += kCombinationRun) {
      const size_t run = std::min(kCombinationRun, points.size() - at);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      // The arrays are only read; OpenSSL's prototype lacks the inner const.
      Check(EC_POINTs_mul(group_.get(), at == 0 ? r.get() : part.get(), nullptr,
                          run, const_cast<const EC_POINT**>(points.data() + at),
                          const_cast<const BIGNUM**>(scalars.data() + at),
                          ThreadBnCtx()));
#pragma GCC diagnostic pop
      if (at != 0) {
        Check(EC_POINT_add(group_.get(), r.get(), r.get(), part.get(),
                           ThreadBnCtx()));
      }
    }
    return r;
  }
  static constexpr size_t kCombinationRun = 64;

  // SerializeElement: 33-byte SEC1 compressed. INVALID_ARGUMENT for the
  // identity, which has no such encoding (RFC 9497 section 2.1).
  absl::StatusOr<Bytes> Encode(const EC_POINT* p) const {
    if (EC_POINT_is_at_infinity(group_.get(), p)) {
      return absl::InvalidArgumentError(
          "the identity element cannot be serialized");
    }
    Bytes out(kP256ElementSize, '\0');
    if (EC_POINT_point2oct(group_.get(), p, POINT_CONVERSION_COMPRESSED,
                           reinterpret_cast<unsigned char*>(out.data()),
                           out.size(), ThreadBnCtx()) != kP256ElementSize) {
      std::abort();
    }
    return out;
  }

  // The point SEC1 `bytes` (their form already checked) encode: null if
  // it is not on the curve (OpenSSL's oct2point checks it, and x, y < p)
  // or is the identity.
  PointPtr PointOnCurve(std::string_view bytes) const {
    PointPtr p = NewPoint();
    if (EC_POINT_oct2point(group_.get(), p.get(), U8(bytes), bytes.size(),
                           ThreadBnCtx()) != 1 ||
        EC_POINT_is_at_infinity(group_.get(), p.get())) {
      ERR_clear_error();
      return nullptr;
    }
    return p;
  }

  // DeserializeElement: a 33-byte SEC1 compressed point on the curve; the
  // identity cannot be written in 33 bytes.
  absl::StatusOr<PointPtr> Decode(std::string_view bytes) const {
    if (bytes.size() != kP256ElementSize ||
        (bytes[0] != 0x02 && bytes[0] != 0x03)) {
      return absl::InvalidArgumentError(
          "P-256 element must be a 33-byte compressed point");
    }
    return OnCurveOrRefused(bytes);
  }

  // A wire element (spec/oprf.md §1): 33 bytes compressed (`0x02`/`0x03`
  // || x) or 65 bytes uncompressed (`0x04` || x || y), on the curve, not
  // the identity (which has neither encoding). The uncompressed form costs
  // a check of the curve equation where the compressed one costs a square
  // root (about 0.7 against 13 us).
  absl::StatusOr<PointPtr> DecodeElement(std::string_view bytes) const {
    const bool uncompressed =
        bytes.size() == kP256UncompressedElementSize && bytes[0] == 0x04;
    const bool compressed = bytes.size() == kP256ElementSize &&
                            (bytes[0] == 0x02 || bytes[0] == 0x03);
    if (!uncompressed && !compressed) {
      return absl::InvalidArgumentError(
          "P-256 element must be a 33-byte compressed or a 65-byte "
          "uncompressed point");
    }
    return OnCurveOrRefused(bytes);
  }
  absl::StatusOr<PointPtr> OnCurveOrRefused(std::string_view bytes) const {
    PointPtr p = PointOnCurve(bytes);
    if (p == nullptr) {
      return absl::InvalidArgumentError("P-256 element is not on the curve");
    }
    return p;
  }

  // The 65-byte uncompressed encodings of `points`, none the identity
  // (INVALID_ARGUMENT otherwise), with one field inversion for all of them
  // (Montgomery's trick, OpenSSL's EC_POINTs_make_affine, which inverts
  // with its constant-time field inversion and does the rest in Montgomery
  // multiplications) instead of one each (about 9 us on nistz256, whose
  // affine conversion inverts even a point already affine). The points are
  // left in affine form. For the elements sent and the unblinded ones
  // (spec/oprf.md §7 says what that exposes).
  absl::StatusOr<std::vector<Bytes>> EncodeUncompressedBatch(
      std::vector<PointPtr>& points) const {
    if (points.empty()) return std::vector<Bytes>();
    std::vector<EC_POINT*> raw;
    raw.reserve(points.size());
    for (const PointPtr& p : points) {
      if (EC_POINT_is_at_infinity(group_.get(), p.get())) {
        return absl::InvalidArgumentError(
            "the identity element cannot be serialized");
      }
      raw.push_back(p.get());
    }
    BN_CTX* ctx = ThreadBnCtx();
    BN_CTX_start(ctx);
    BIGNUM* x = BN_CTX_get(ctx);
    BIGNUM* y = BN_CTX_get(ctx);
    BIGNUM* z = BN_CTX_get(ctx);
    if (z == nullptr) std::abort();
      // Both deprecated in OpenSSL 3.0 with no replacement: the affine
      // coordinates of a point made affine are its Jacobian X and Y.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    Check(EC_POINTs_make_affine(group_.get(), raw.size(), raw.data(), ctx));
    std::vector<Bytes> out;
    out.reserve(points.size());
    for (EC_POINT* p : raw) {
      Check(EC_POINT_get_Jprojective_coordinates_GFp(group_.get(), p, x, y, z,
                                                     ctx));
      if (!BN_is_one(z)) std::abort();
      Bytes e(kP256UncompressedElementSize, '\0');
      e[0] = 0x04;
      auto* at = reinterpret_cast<unsigned char*>(e.data());
      if (BN_bn2binpad(x, at + 1, 32) != 32 ||
          BN_bn2binpad(y, at + 33, 32) != 32) {
        std::abort();
      }
      out.push_back(std::move(e));
    }
#pragma GCC diagnostic pop
    BN_CTX_end(ctx);
    return out;
  }

  // A 65-byte uncompressed point from our own hash_to_curve.
  PointPtr DecodeUncompressed(std::string_view bytes) const {
    PointPtr p = NewPoint();
    Check(EC_POINT_oct2point(group_.get(), p.get(), U8(bytes), bytes.size(),
                             ThreadBnCtx()));
    return p;
  }
  // A 65-byte uncompressed point from a caller: on the curve (OpenSSL's
  // oct2point checks it), not the identity.
  absl::StatusOr<PointPtr> DecodeUncompressedChecked(
      std::string_view bytes, std::string_view what) const {
    PointPtr p;
    if (bytes.size() == kUncompressedSize && bytes[0] == 0x04) {
      p = PointOnCurve(bytes);
    }
    if (p == nullptr) {
      return absl::InvalidArgumentError(
          std::string(what) + " is not a 65-byte uncompressed P-256 point");
    }
    return p;
  }
  // The 65-byte uncompressed encoding of a point other than the identity.
  Bytes EncodeUncompressed(const EC_POINT* p) const {
    Bytes out(kUncompressedSize, '\0');
    if (EC_POINT_point2oct(group_.get(), p, POINT_CONVERSION_UNCOMPRESSED,
                           reinterpret_cast<unsigned char*>(out.data()),
                           out.size(), ThreadBnCtx()) != kUncompressedSize) {
      std::abort();
    }
    return out;
  }
  // SEC1's compressed encoding of an uncompressed one, from its bytes: the
  // x coordinate after 0x02 or 0x03 for y's parity.
  static Bytes CompressedFromUncompressed(std::string_view uncompressed) {
    Bytes out(1, static_cast<char>(0x02 | (uncompressed[64] & 1)));
    out.append(uncompressed.substr(1, 32));
    return out;
  }
  // A decoded wire element as RFC 9497 serializes it (compressed), for the
  // hashes of the proof: `element` itself if it is compressed, else its
  // compression written to `scratch`.
  static std::string_view AsSerialized(const Bytes& element, Bytes& scratch) {
    if (element.size() != kP256UncompressedElementSize) return element;
    scratch = CompressedFromUncompressed(element);
    return scratch;
  }
  static constexpr size_t kUncompressedSize = kP256UncompressedElementSize;

  // DeserializeScalar: 32 bytes big-endian, below the order; with
  // `nonzero`, zero is refused too.
  absl::StatusOr<BnPtr> DecodeScalar(std::string_view bytes, bool nonzero,
                                     std::string_view what) const {
    if (bytes.size() != kP256ScalarSize) {
      return absl::InvalidArgumentError(std::string(what) +
                                        " must be 32 bytes");
    }
    BnPtr s = NewSecretBn();
    Check(BN_bin2bn(U8(bytes), bytes.size(), s.get()) != nullptr);
    if (BN_cmp(s.get(), order_.get()) >= 0 ||
        (nonzero && BN_is_zero(s.get()))) {
      return absl::InvalidArgumentError(
          std::string(what) + (nonzero ? " must be in [1, n-1]"
                                       : " must be below the group order"));
    }
    return s;
  }

  static void AppendScalar(Bytes& out, const BIGNUM* s) {
    size_t at = out.size();
    out.resize(at + kP256ScalarSize);
    if (BN_bn2binpad(s, reinterpret_cast<unsigned char*>(&out[at]),
                     kP256ScalarSize) != static_cast<int>(kP256ScalarSize)) {
      std::abort();
    }
  }
  static Bytes EncodeScalar(const BIGNUM* s) {
    Bytes out;
    AppendScalar(out, s);
    return out;
  }

  // hash_to_field(msg, 1) modulo the group order (RFC 9497 HashToScalar),
  // reducing the 48 uniform bytes without branches on their value:
  // hi * 2^192 + lo with hi, lo < 2^192 < n, hi * 2^192 computed by one
  // Montgomery multiplication by 2^(192+256) mod n.
  absl::StatusOr<BnPtr> HashToScalar(std::string_view msg,
                                     std::string_view dst) const {
    ASSIGN_OR_RETURN(Bytes uniform,
                     ExpandMessageXmdSha256(msg, dst, kHashToScalarL));
    BnPtr hi = NewSecretBn();
    BnPtr lo = NewSecretBn();
    Check(BN_bin2bn(U8(uniform), kHalfL, hi.get()) != nullptr);
    Check(BN_bin2bn(U8(uniform) + kHalfL, kHalfL, lo.get()) != nullptr);
    OPENSSL_cleanse(uniform.data(), uniform.size());
    Check(BN_mod_mul_montgomery(hi.get(), hi.get(), shift192_mont_.get(),
                                order_mont_.get(), ThreadBnCtx()));
    Check(BN_mod_add_quick(hi.get(), hi.get(), lo.get(), order_.get()));
    return hi;
  }

  // A uniform scalar in [1, n-1].
  BnPtr RandomScalar() const {
    BnPtr r = NewSecretBn();
    do {
      Check(BN_priv_rand_range(r.get(), order_.get()));
    } while (BN_is_zero(r.get()));
    return r;
  }

  // 1/a mod n as a^(n-2), constant-time in a.
  BnPtr InvertScalar(const BIGNUM* a) const {
    BnPtr r = NewSecretBn();
    Check(BN_mod_exp_mont_consttime(r.get(), a, order_minus_two_.get(),
                                    order_.get(), ThreadBnCtx(),
                                    order_mont_.get()));
    return r;
  }

  // 1/a_i mod n for every a_i with one inversion (Montgomery's trick), in
  // Montgomery form throughout; constant-time in the a_i.
  std::vector<BnPtr> InvertScalars(const std::vector<BnPtr>& a) const {
    const size_t n = a.size();
    std::vector<BnPtr> a_mont, prefix, out(n);
    a_mont.reserve(n);
    prefix.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      a_mont.push_back(ToMontScalar(a[i].get()));
      BnPtr p = NewSecretBn();
      if (i == 0) {
        Check(BN_copy(p.get(), a_mont[0].get()) != nullptr);
      } else {
        MulMontScalar(p.get(), prefix[i - 1].get(), a_mont[i].get());
      }
      prefix.push_back(std::move(p));
    }
    // acc = (a_0 ... a_(n-1))^-1 * R.
    BnPtr acc = NewSecretBn();
    Check(BN_from_montgomery(acc.get(), prefix[n - 1].get(), order_mont_.get(),
                             ThreadBnCtx()));
    acc = ToMontScalar(InvertScalar(acc.get()).get());
    for (size_t i = n; i-- > 0;) {
      BnPtr inv_mont = NewSecretBn();
      if (i == 0) {
        Check(BN_copy(inv_mont.get(), acc.get()) != nullptr);
      } else {
        MulMontScalar(inv_mont.get(), acc.get(), prefix[i - 1].get());
        MulMontScalar(acc.get(), acc.get(), a_mont[i].get());
      }
      out[i] = NewSecretBn();
      Check(BN_from_montgomery(out[i].get(), inv_mont.get(), order_mont_.get(),
                               ThreadBnCtx()));
    }
    return out;
  }

  // a * R mod n (Montgomery form), for MulMontScalar.
  BnPtr ToMontScalar(const BIGNUM* a) const {
    BnPtr r = NewSecretBn();
    Check(BN_to_montgomery(r.get(), a, order_mont_.get(), ThreadBnCtx()));
    return r;
  }
  // a * b mod n where b_mont = b * R mod n: one Montgomery multiplication.
  void MulMontScalar(BIGNUM* r, const BIGNUM* a, const BIGNUM* b_mont) const {
    Check(
        BN_mod_mul_montgomery(r, a, b_mont, order_mont_.get(), ThreadBnCtx()));
  }
  void AddScalar(BIGNUM* r, const BIGNUM* a, const BIGNUM* b) const {
    Check(BN_mod_add_quick(r, a, b, order_.get()));
  }

 private:
  P256() {
    BN_CTX* ctx = ThreadBnCtx();
    group_.reset(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    if (!group_) std::abort();
    order_ = NewBn();
    Check(EC_GROUP_get_order(group_.get(), order_.get(), ctx));
    order_mont_.reset(BN_MONT_CTX_new());
    if (!order_mont_) std::abort();
    Check(BN_MONT_CTX_set(order_mont_.get(), order_.get(), ctx));
    order_minus_two_ = NewBn();
    Check(BN_copy(order_minus_two_.get(), order_.get()) != nullptr);
    Check(BN_sub_word(order_minus_two_.get(), 2));
    // Montgomery form of 2^192 is 2^(192+256) mod n (R = 2^256).
    shift192_mont_ = NewBn();
    Check(BN_set_bit(shift192_mont_.get(), 192 + 256));
    Check(BN_nnmod(shift192_mont_.get(), shift192_mont_.get(), order_.get(),
                   ctx));
  }

  std::unique_ptr<EC_GROUP, GroupDeleter> group_;
  BnPtr order_;
  std::unique_ptr<BN_MONT_CTX, MontDeleter> order_mont_;
  BnPtr order_minus_two_;
  BnPtr shift192_mont_;
};

void AppendLengthPrefixed(Bytes& out, std::string_view part) {
  AppendUint16BE(out, static_cast<uint16_t>(part.size()));
  out.append(part);
}

Bytes Dst(std::string_view prefix, OprfMode mode) {
  Bytes dst(prefix);
  dst += OprfContextString(mode);
  return dst;
}

absl::Status CheckInputSize(std::string_view input) {
  if (input.size() > kOprfMaxInputSize) {
    return absl::InvalidArgumentError("OPRF input longer than 65535 bytes");
  }
  return absl::OkStatus();
}

// HashToGroup (RFC 9497 section 4.3): hash_to_curve with
// DST = "HashToGroup-" || contextString.
absl::StatusOr<PointPtr> HashToGroup(const P256& g, std::string_view input,
                                     OprfMode mode) {
  ASSIGN_OR_RETURN(Bytes point, HashToCurveP256Uncompressed(
                                    input, Dst(kHashToGroupPrefix, mode)));
  return g.DecodeUncompressed(point);
}

// Finalize's hash: Hash(I2OSP(len(input), 2) || input ||
// I2OSP(len(element), 2) || element || "Finalize").
Bytes FinalizeHashOf(std::string_view input, std::string_view element) {
  Bytes hash_input;
  hash_input.reserve(2 + input.size() + 2 + element.size() +
                     kFinalizeLabel.size());
  AppendLengthPrefixed(hash_input, input);
  AppendLengthPrefixed(hash_input, element);
  hash_input.append(kFinalizeLabel);
  return Sha256(hash_input);
}
absl::StatusOr<Bytes> FinalizeHash(const P256& g, std::string_view input,
                                   const EC_POINT* unblinded) {
  ASSIGN_OR_RETURN(Bytes element, g.Encode(unblinded));
  return FinalizeHashOf(input, element);
}

// The weights d_i of RFC 9497 ComputeComposites / ComputeCompositesFast for
// B = pk, C = blinded, D = evaluated (wire elements, hashed in RFC 9497's
// compressed serialization whichever form they came in).
absl::StatusOr<std::vector<BnPtr>> CompositeWeights(
    const P256& g, std::string_view pk, const std::vector<Bytes>& blinded,
    const std::vector<Bytes>& evaluated, OprfMode mode) {
  const Bytes seed_dst = Dst(kSeedPrefix, mode);
  Bytes h1_input;
  AppendLengthPrefixed(h1_input, pk);
  AppendLengthPrefixed(h1_input, seed_dst);
  const Bytes seed = Sha256(h1_input);
  const Bytes dst = Dst(kHashToScalarPrefix, mode);
  std::vector<BnPtr> weights;
  weights.reserve(blinded.size());
  Bytes h2_input, c_scratch, d_scratch;
  for (size_t i = 0; i < blinded.size(); ++i) {
    h2_input.clear();
    AppendLengthPrefixed(h2_input, seed);
    AppendUint16BE(h2_input, static_cast<uint16_t>(i));
    AppendLengthPrefixed(h2_input, P256::AsSerialized(blinded[i], c_scratch));
    AppendLengthPrefixed(h2_input, P256::AsSerialized(evaluated[i], d_scratch));
    h2_input.append(kCompositeLabel);
    ASSIGN_OR_RETURN(BnPtr d, g.HashToScalar(h2_input, dst));
    weights.push_back(std::move(d));
  }
  return weights;
}

// The DLEQ challenge c = HashToScalar(transcript of B, M, Z, t2, t3).
absl::StatusOr<BnPtr> Challenge(const P256& g, std::string_view pk,
                                const EC_POINT* m, const EC_POINT* z,
                                const EC_POINT* t2, const EC_POINT* t3,
                                OprfMode mode) {
  Bytes transcript;
  transcript.reserve(5 * (2 + kP256ElementSize) + kChallengeLabel.size());
  AppendLengthPrefixed(transcript, pk);
  for (const EC_POINT* p : {m, z, t2, t3}) {
    ASSIGN_OR_RETURN(Bytes element, g.Encode(p));
    AppendLengthPrefixed(transcript, element);
  }
  transcript.append(kChallengeLabel);
  return g.HashToScalar(transcript, Dst(kHashToScalarPrefix, mode));
}

absl::Status CheckBatchSize(size_t n) {
  if (n == 0) return absl::InvalidArgumentError("empty OPRF batch");
  if (n > kOprfMaxBatchSize) {
    return absl::InvalidArgumentError("OPRF batch larger than 65535");
  }
  return absl::OkStatus();
}

// The points of a batch of wire elements, all in one form (spec/oprf.md
// §1): INVALID_ARGUMENT naming the first element that is not a point or
// not in element 0's form.
absl::StatusOr<std::vector<PointPtr>> DecodeAll(
    const P256& g, const std::vector<Bytes>& elements) {
  std::vector<PointPtr> points;
  points.reserve(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    absl::StatusOr<PointPtr> p = g.DecodeElement(elements[i]);
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", i, ": ", p.status().message()));
    }
    if (elements[i].size() != elements[0].size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", i,
                       " is not in element 0's form: a batch is all "
                       "compressed or all uncompressed"));
    }
    points.push_back(*std::move(p));
  }
  return points;
}

std::vector<const BIGNUM*> Raw(const std::vector<BnPtr>& v) {
  std::vector<const BIGNUM*> out;
  out.reserve(v.size());
  for (const auto& p : v) out.push_back(p.get());
  return out;
}
std::vector<const EC_POINT*> Raw(const std::vector<PointPtr>& v) {
  std::vector<const EC_POINT*> out;
  out.reserve(v.size());
  for (const auto& p : v) out.push_back(p.get());
  return out;
}

// RFC 9497 VerifyProof(G, pkS, C, D, proof) with ComputeComposites.
absl::Status VerifyProof(const P256& g, std::string_view pk_bytes,
                         const std::vector<Bytes>& blinded,
                         const std::vector<PointPtr>& blinded_points,
                         const std::vector<Bytes>& evaluated,
                         const std::vector<PointPtr>& evaluated_points,
                         std::string_view proof, OprfMode mode) {
  if (proof.size() != kVoprfProofSize) {
    return absl::InvalidArgumentError("DLEQ proof must be 64 bytes");
  }
  ASSIGN_OR_RETURN(PointPtr pk, g.Decode(pk_bytes));
  ASSIGN_OR_RETURN(BnPtr c, g.DecodeScalar(proof.substr(0, kP256ScalarSize),
                                           false, "proof scalar c"));
  ASSIGN_OR_RETURN(BnPtr s, g.DecodeScalar(proof.substr(kP256ScalarSize), false,
                                           "proof scalar s"));
  ASSIGN_OR_RETURN(std::vector<BnPtr> weights,
                   CompositeWeights(g, pk_bytes, blinded, evaluated, mode));
  const std::vector<const BIGNUM*> w = Raw(weights);
  PointPtr m = g.LinearCombination(Raw(blinded_points), w);
  PointPtr z = g.LinearCombination(Raw(evaluated_points), w);
  // t2 = s*G + c*pkS; t3 = s*M + c*Z.
  PointPtr t2 = g.MulWithGenerator(s.get(), pk.get(), c.get());
  PointPtr t3 = g.LinearCombination({m.get(), z.get()}, {s.get(), c.get()});
  absl::StatusOr<BnPtr> expected =
      Challenge(g, pk_bytes, m.get(), z.get(), t2.get(), t3.get(), mode);
  if (!expected.ok() || BN_cmp(expected->get(), c.get()) != 0) {
    return absl::UnauthenticatedError("DLEQ proof does not verify");
  }
  return absl::OkStatus();
}

// `blind` and the point it blinded, in both encodings.
absl::StatusOr<BlindedInput> BlindedFrom(const P256& g, const EC_POINT* blinded,
                                         const BIGNUM* blind) {
  if (EC_POINT_is_at_infinity(g.group(), blinded)) {
    return absl::InvalidArgumentError(
        "the identity element cannot be serialized");
  }
  Bytes blinded_point = g.EncodeUncompressed(blinded);
  Bytes blinded_element = P256::CompressedFromUncompressed(blinded_point);
  return BlindedInput{P256::EncodeScalar(blind), std::move(blinded_element),
                      std::move(blinded_point)};
}

// r * pkS for the additive unblinding, by a fixed-base table per server
// key: OpenSSL's nistz256 precomputation for a copy of the group whose
// generator is pkS (about 18 ms and 150 KB once per key, then a sixth of a
// variable-base multiplication, constant-time in r as the generator's
// table is). A federation has a few dozen keys; the cache holds at most
// 128, dropping one to make room.
class PublicKeyTables {
 public:
  static PublicKeyTables& Get() {
    static PublicKeyTables* tables = new PublicKeyTables();
    return *tables;
  }

  // The group with generator `pk` (decoded from `pk_bytes`) and its table.
  std::shared_ptr<const EC_GROUP> For(const P256& g, std::string_view pk_bytes,
                                      const EC_POINT* pk) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tables_.find(Bytes(pk_bytes));
      if (it != tables_.end()) return it->second;
    }
    // Built outside the lock: two threads may both build one; either is
    // kept.
    std::shared_ptr<EC_GROUP> group(EC_GROUP_dup(g.group()), GroupDeleter());
    if (!group) std::abort();
    Check(EC_GROUP_set_generator(group.get(), pk, g.order(),
                                 EC_GROUP_get0_cofactor(g.group())));
    // Deprecated in OpenSSL 3.0 with no replacement, as EC_POINTs_mul.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    Check(EC_GROUP_precompute_mult(group.get(), ThreadBnCtx()));
#pragma GCC diagnostic pop
    std::lock_guard<std::mutex> lock(mu_);
    if (tables_.size() >= kMaxTables) tables_.erase(tables_.begin());
    return tables_.emplace(Bytes(pk_bytes), std::move(group)).first->second;
  }

 private:
  static constexpr size_t kMaxTables = 128;
  std::mutex mu_;
  std::map<Bytes, std::shared_ptr<const EC_GROUP>> tables_;
};

// Additive unblinding: N = Z - r * pkS, r * pkS from `table`.
PointPtr UnblindAdditive(const P256& g, const EC_GROUP* table,
                         const EC_POINT* z, const BIGNUM* r) {
  PointPtr r_pk(EC_POINT_new(table));
  if (!r_pk) std::abort();
  Check(EC_POINT_mul(table, r_pk.get(), r, nullptr, nullptr, ThreadBnCtx()));
  Check(EC_POINT_invert(g.group(), r_pk.get(), ThreadBnCtx()));
  PointPtr n = g.NewPoint();
  Check(EC_POINT_add(g.group(), n.get(), z, r_pk.get(), ThreadBnCtx()));
  return n;
}

absl::StatusOr<BlindedInput> BlindImpl(const P256& g, std::string_view input,
                                       BnPtr blind, OprfMode mode) {
  RETURN_IF_ERROR(CheckInputSize(input));
  ASSIGN_OR_RETURN(PointPtr p, HashToGroup(g, input, mode));
  PointPtr blinded = g.Mul(p.get(), blind.get());
  return BlindedFrom(g, blinded.get(), blind.get());
}

// The client's own blinded points, kept uncompressed, each checked to be
// the element of the same index that was sent (in either form).
absl::StatusOr<std::vector<PointPtr>> KeptPoints(
    const P256& g, const std::vector<Bytes>& points,
    const std::vector<Bytes>& elements) {
  std::vector<PointPtr> out;
  out.reserve(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    ASSIGN_OR_RETURN(PointPtr c,
                     g.DecodeUncompressedChecked(points[i], "blinded point"));
    if (points[i] != elements[i] &&
        P256::CompressedFromUncompressed(points[i]) != elements[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("blinded point ", i, " is not blinded element ", i));
    }
    out.push_back(std::move(c));
  }
  return out;
}

// N_i for every evaluated element: blind^-1 * D_i (multiplicative), or
// D_i - blind * pkS (additive, the key's table built if need be).
absl::StatusOr<std::vector<PointPtr>> Unblind(
    const P256& g, const std::vector<PointPtr>& d_points,
    const std::vector<BnPtr>& blinds, std::string_view server_public_key,
    bool additive) {
  std::vector<PointPtr> out;
  out.reserve(d_points.size());
  if (!additive) {
    const std::vector<BnPtr> inverses = g.InvertScalars(blinds);
    for (size_t i = 0; i < d_points.size(); ++i) {
      out.push_back(g.Mul(d_points[i].get(), inverses[i].get()));
    }
    return out;
  }
  ASSIGN_OR_RETURN(PointPtr pk, g.Decode(server_public_key));
  const std::shared_ptr<const EC_GROUP> table =
      PublicKeyTables::Get().For(g, server_public_key, pk.get());
  for (size_t i = 0; i < d_points.size(); ++i) {
    out.push_back(
        UnblindAdditive(g, table.get(), d_points[i].get(), blinds[i].get()));
  }
  return out;
}

// Finalize. With `blinded_points` (the client's own points, kept
// uncompressed) the elements were blinded additively, which only
// OprfFinalizeAdditive asks for, in the verifiable mode; without, they are
// decompressed from `blinded_elements` and unblinded multiplicatively.
absl::StatusOr<std::vector<Bytes>> FinalizeImpl(
    const std::vector<Bytes>& inputs, const std::vector<Bytes>& blinds,
    const std::vector<Bytes>& blinded_elements,
    const std::vector<Bytes>* blinded_points,
    const std::vector<Bytes>& evaluated_elements, std::string_view proof,
    std::string_view server_public_key, OprfMode mode) {
  const size_t n = inputs.size();
  RETURN_IF_ERROR(CheckBatchSize(n));
  if (blinds.size() != n || blinded_elements.size() != n ||
      evaluated_elements.size() != n ||
      (blinded_points != nullptr && blinded_points->size() != n)) {
    return absl::InvalidArgumentError(
        "OPRF inputs, blinds, blinded and evaluated elements differ in count");
  }
  const P256& g = P256::Get();
  for (const Bytes& input : inputs) RETURN_IF_ERROR(CheckInputSize(input));
  std::vector<BnPtr> blind_scalars;
  blind_scalars.reserve(n);
  for (const Bytes& blind : blinds) {
    ASSIGN_OR_RETURN(BnPtr r, g.DecodeScalar(blind, true, "blind"));
    blind_scalars.push_back(std::move(r));
  }
  ASSIGN_OR_RETURN(std::vector<PointPtr> d_points,
                   DecodeAll(g, evaluated_elements));
  // The answer comes in the request's form (spec/oprf.md §1).
  if (mode == OprfMode::kVoprf &&
      evaluated_elements[0].size() != blinded_elements[0].size()) {
    return absl::InvalidArgumentError(
        "the evaluated elements are not in the blinded elements' form");
  }
  if (mode == OprfMode::kVoprf) {
    ASSIGN_OR_RETURN(std::vector<PointPtr> c_points,
                     blinded_points != nullptr
                         ? KeptPoints(g, *blinded_points, blinded_elements)
                         : DecodeAll(g, blinded_elements));
    RETURN_IF_ERROR(VerifyProof(g, server_public_key, blinded_elements,
                                c_points, evaluated_elements, d_points, proof,
                                mode));
  }
  // Additive unblinding only after the proof bound D to this key.
  ASSIGN_OR_RETURN(std::vector<PointPtr> unblinded,
                   Unblind(g, d_points, blind_scalars, server_public_key,
                           /*additive=*/blinded_points != nullptr));
  // The unblinded points made affine together (spec/oprf.md §7).
  ASSIGN_OR_RETURN(std::vector<Bytes> points,
                   g.EncodeUncompressedBatch(unblinded));
  std::vector<Bytes> outputs;
  outputs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    outputs.push_back(
        FinalizeHashOf(inputs[i], P256::CompressedFromUncompressed(points[i])));
    OPENSSL_cleanse(points[i].data(), points[i].size());
  }
  return outputs;
}

}  // namespace

Bytes OprfContextString(OprfMode mode) {
  Bytes context("OPRFV1-");
  context.push_back(static_cast<char>(mode));
  context.append("-P256-SHA256");
  return context;
}

struct OprfServerKey::Impl {
  BnPtr sk;           // skS, in [1, n-1]
  BnPtr neg_sk_mont;  // (n - skS) * R mod n: s = r - c*skS = r + c*(n - skS)
  PointPtr pk;        // pkS = skS * G

  // BlindEvaluate; `proof_scalar` null means a fresh random one.
  absl::StatusOr<BlindEvaluation> BlindEvaluate(
      const std::vector<Bytes>& blinded, const BIGNUM* proof_scalar,
      OprfMode mode, const Bytes& pk_bytes) const {
    RETURN_IF_ERROR(CheckBatchSize(blinded.size()));
    ASSIGN_OR_RETURN(std::vector<PointPtr> c_points,
                     DecodeAll(P256::Get(), blinded));
    return BlindEvaluatePoints(blinded, c_points, proof_scalar, mode, pk_bytes);
  }

  // The same with `blinded` decoded into `c_points`.
  absl::StatusOr<BlindEvaluation> BlindEvaluatePoints(
      const std::vector<Bytes>& blinded, const std::vector<PointPtr>& c_points,
      const BIGNUM* proof_scalar, OprfMode mode, const Bytes& pk_bytes) const {
    const P256& g = P256::Get();
    RETURN_IF_ERROR(CheckBatchSize(blinded.size()));
    std::vector<PointPtr> d_points;
    d_points.reserve(c_points.size());
    for (const PointPtr& c : c_points)
      d_points.push_back(g.Mul(c.get(), sk.get()));
    // Answered in the request's form (spec/oprf.md §1), all converted to
    // affine coordinates with one inversion.
    BlindEvaluation result;
    ASSIGN_OR_RETURN(result.evaluated_elements,
                     g.EncodeUncompressedBatch(d_points));
    if (blinded[0].size() != kP256UncompressedElementSize) {
      for (Bytes& e : result.evaluated_elements) {
        e = P256::CompressedFromUncompressed(e);
      }
    }
    if (mode == OprfMode::kOprf) return result;

    // GenerateProof(skS, G, pkS, C, D) with ComputeCompositesFast:
    // M = sum d_i C_i, Z = skS * M.
    ASSIGN_OR_RETURN(std::vector<BnPtr> weights,
                     CompositeWeights(g, pk_bytes, blinded,
                                      result.evaluated_elements, mode));
    PointPtr m = g.LinearCombination(Raw(c_points), Raw(weights));
    PointPtr z = g.Mul(m.get(), sk.get());
    BnPtr fresh;
    if (proof_scalar == nullptr) {
      fresh = g.RandomScalar();
      proof_scalar = fresh.get();
    }
    PointPtr t2 = g.MulWithGenerator(proof_scalar, nullptr, nullptr);
    PointPtr t3 = g.Mul(m.get(), proof_scalar);
    ASSIGN_OR_RETURN(BnPtr c, Challenge(g, pk_bytes, m.get(), z.get(), t2.get(),
                                        t3.get(), mode));
    BnPtr s = NewSecretBn();
    g.MulMontScalar(s.get(), c.get(), neg_sk_mont.get());
    g.AddScalar(s.get(), s.get(), proof_scalar);
    result.proof.reserve(kVoprfProofSize);
    P256::AppendScalar(result.proof, c.get());
    P256::AppendScalar(result.proof, s.get());
    return result;
  }
};

OprfServerKey::OprfServerKey(std::shared_ptr<const Impl> impl, Bytes public_key,
                             OprfMode mode)
    : impl_(std::move(impl)), public_key_(std::move(public_key)), mode_(mode) {}

absl::StatusOr<OprfServerKey> OprfServerKey::FromPrivateBytes(
    std::string_view sk, OprfMode mode) {
  const P256& g = P256::Get();
  auto impl = std::make_shared<Impl>();
  ASSIGN_OR_RETURN(impl->sk, g.DecodeScalar(sk, true, "OPRF private key"));
  BnPtr neg = NewSecretBn();
  Check(BN_sub(neg.get(), g.order(), impl->sk.get()));
  impl->neg_sk_mont = g.ToMontScalar(neg.get());
  impl->pk = g.MulWithGenerator(impl->sk.get(), nullptr, nullptr);
  ASSIGN_OR_RETURN(Bytes pk_bytes, g.Encode(impl->pk.get()));
  return OprfServerKey(std::move(impl), std::move(pk_bytes), mode);
}

absl::StatusOr<OprfServerKey> OprfServerKey::DeriveKeyPair(
    std::string_view seed, std::string_view info, OprfMode mode) {
  if (seed.size() != kP256ScalarSize) {
    return absl::InvalidArgumentError("DeriveKeyPair seed must be 32 bytes");
  }
  if (info.size() > 0xffff) {
    return absl::InvalidArgumentError("DeriveKeyPair info too long");
  }
  const P256& g = P256::Get();
  // deriveInput = seed || I2OSP(len(info), 2) || info; then
  // skS = HashToScalar(deriveInput || I2OSP(counter, 1),
  //                    DST = "DeriveKeyPair" || contextString)
  // for counter = 0, 1, ... until skS != 0.
  Bytes derive_input(seed);
  AppendLengthPrefixed(derive_input, info);
  derive_input.push_back('\0');
  const Bytes dst = Dst(kDeriveKeyPairPrefix, mode);
  for (int counter = 0; counter <= 255; ++counter) {
    derive_input.back() = static_cast<char>(counter);
    ASSIGN_OR_RETURN(BnPtr sk, g.HashToScalar(derive_input, dst));
    if (BN_is_zero(sk.get())) continue;
    OPENSSL_cleanse(derive_input.data(), derive_input.size());
    Bytes sk_bytes = P256::EncodeScalar(sk.get());
    absl::StatusOr<OprfServerKey> key = FromPrivateBytes(sk_bytes, mode);
    OPENSSL_cleanse(sk_bytes.data(), sk_bytes.size());
    return key;
  }
  OPENSSL_cleanse(derive_input.data(), derive_input.size());
  return absl::InternalError("DeriveKeyPair found no nonzero key");
}

OprfServerKey OprfServerKey::Generate(OprfMode mode) {
  Bytes sk_bytes = P256::EncodeScalar(P256::Get().RandomScalar().get());
  absl::StatusOr<OprfServerKey> key = FromPrivateBytes(sk_bytes, mode);
  OPENSSL_cleanse(sk_bytes.data(), sk_bytes.size());
  if (!key.ok()) std::abort();
  return *std::move(key);
}

Bytes OprfServerKey::PrivateBytes() const {
  return P256::EncodeScalar(impl_->sk.get());
}

absl::StatusOr<BlindEvaluation> OprfServerKey::BlindEvaluate(
    const std::vector<Bytes>& blinded_elements) const {
  return impl_->BlindEvaluate(blinded_elements, nullptr, mode_, public_key_);
}

struct DecodedBatch::Impl {
  std::vector<Bytes> elements;
  std::vector<PointPtr> points;
};

absl::StatusOr<DecodedBatch> DecodedBatch::Decode(std::vector<Bytes> elements) {
  auto impl = std::make_shared<Impl>();
  ASSIGN_OR_RETURN(impl->points, DecodeAll(P256::Get(), elements));
  impl->elements = std::move(elements);
  return DecodedBatch(std::move(impl));
}

const std::vector<Bytes>& DecodedBatch::elements() const {
  return impl_->elements;
}

absl::StatusOr<BlindEvaluation> OprfServerKey::BlindEvaluate(
    const DecodedBatch& batch) const {
  return impl_->BlindEvaluatePoints(batch.impl_->elements, batch.impl_->points,
                                    nullptr, mode_, public_key_);
}

absl::StatusOr<BlindEvaluation> OprfServerKey::BlindEvaluateWithProofScalar(
    const std::vector<Bytes>& blinded_elements,
    std::string_view proof_random_scalar) const {
  if (mode_ == OprfMode::kOprf) {
    return impl_->BlindEvaluate(blinded_elements, nullptr, mode_, public_key_);
  }
  ASSIGN_OR_RETURN(BnPtr r, P256::Get().DecodeScalar(proof_random_scalar, true,
                                                     "proof random scalar"));
  return impl_->BlindEvaluate(blinded_elements, r.get(), mode_, public_key_);
}

absl::StatusOr<Bytes> OprfServerKey::Evaluate(std::string_view input) const {
  RETURN_IF_ERROR(CheckInputSize(input));
  const P256& g = P256::Get();
  ASSIGN_OR_RETURN(PointPtr p, HashToGroup(g, input, mode_));
  PointPtr evaluated = g.Mul(p.get(), impl_->sk.get());
  return FinalizeHash(g, input, evaluated.get());
}

absl::StatusOr<BlindedInput> OprfBlind(std::string_view input, OprfMode mode) {
  const P256& g = P256::Get();
  return BlindImpl(g, input, g.RandomScalar(), mode);
}

absl::StatusOr<HashedInput> OprfHashInput(std::string_view input,
                                          OprfMode mode) {
  RETURN_IF_ERROR(CheckInputSize(input));
  ASSIGN_OR_RETURN(Bytes point, HashToCurveP256Uncompressed(
                                    input, Dst(kHashToGroupPrefix, mode)));
  return HashedInput{Bytes(input), std::move(point), mode};
}

absl::Status OprfPrepareServerKey(std::string_view server_public_key) {
  const P256& g = P256::Get();
  ASSIGN_OR_RETURN(PointPtr pk, g.Decode(server_public_key));
  PublicKeyTables::Get().For(g, server_public_key, pk.get());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BlindedInput>> OprfBlindAdditive(
    const std::vector<const HashedInput*>& hashed) {
  const P256& g = P256::Get();
  std::vector<BnPtr> blinds;
  std::vector<PointPtr> blinded;
  blinds.reserve(hashed.size());
  blinded.reserve(hashed.size());
  for (const HashedInput* h : hashed) {
    if (h->mode != OprfMode::kVoprf) {
      return absl::InvalidArgumentError(
          "additive blinding needs the verifiable mode");
    }
    RETURN_IF_ERROR(CheckInputSize(h->input));
    ASSIGN_OR_RETURN(PointPtr p,
                     g.DecodeUncompressedChecked(h->point, "hashed input"));
    // blindedElement = P + r * G: the generator's table, not a
    // variable-base multiplication.
    BnPtr r = g.RandomScalar();
    PointPtr c = g.MulWithGenerator(r.get(), nullptr, nullptr);
    Check(EC_POINT_add(g.group(), c.get(), c.get(), p.get(), ThreadBnCtx()));
    blinds.push_back(std::move(r));
    blinded.push_back(std::move(c));
  }
  ASSIGN_OR_RETURN(std::vector<Bytes> points,
                   g.EncodeUncompressedBatch(blinded));
  std::vector<BlindedInput> out;
  out.reserve(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    Bytes element = P256::CompressedFromUncompressed(points[i]);
    out.push_back(BlindedInput{P256::EncodeScalar(blinds[i].get()),
                               std::move(element), std::move(points[i])});
  }
  return out;
}

absl::StatusOr<BlindedInput> OprfBlindAdditive(const HashedInput& hashed) {
  ASSIGN_OR_RETURN(std::vector<BlindedInput> one, OprfBlindAdditive({&hashed}));
  return std::move(one[0]);
}

absl::StatusOr<BlindedInput> OprfBlindWithScalar(std::string_view input,
                                                 std::string_view blind,
                                                 OprfMode mode) {
  const P256& g = P256::Get();
  ASSIGN_OR_RETURN(BnPtr r, g.DecodeScalar(blind, true, "blind"));
  return BlindImpl(g, input, std::move(r), mode);
}

absl::StatusOr<std::vector<Bytes>> OprfFinalize(
    const std::vector<Bytes>& inputs, const std::vector<Bytes>& blinds,
    const std::vector<Bytes>& blinded_elements,
    const std::vector<Bytes>& evaluated_elements, std::string_view proof,
    std::string_view server_public_key, OprfMode mode) {
  return FinalizeImpl(inputs, blinds, blinded_elements, nullptr,
                      evaluated_elements, proof, server_public_key, mode);
}

absl::StatusOr<std::vector<Bytes>> OprfFinalizeAdditive(
    const std::vector<Bytes>& inputs, const std::vector<Bytes>& blinds,
    const std::vector<Bytes>& blinded_elements,
    const std::vector<Bytes>& blinded_points,
    const std::vector<Bytes>& evaluated_elements, std::string_view proof,
    std::string_view server_public_key) {
  return FinalizeImpl(inputs, blinds, blinded_elements, &blinded_points,
                      evaluated_elements, proof, server_public_key,
                      OprfMode::kVoprf);
}

absl::Status OprfCheckElements(const std::vector<Bytes>& elements) {
  return DecodedBatch::Decode(elements).status();
}

}  // namespace cbx::crypto
