#include "core/crypto/hash_to_curve.h"

#include <openssl/bn.h>

#include <cstdlib>
#include <memory>

#include "absl/status/status.h"
#include "core/crypto/sha256.h"
#include "core/util/status_macros.h"

namespace cbx::crypto {
namespace {

constexpr size_t kSha256BlockSize = 64;  // r_in_bytes of SHA-256
constexpr size_t kMaxExpandBlocks = 255;
constexpr size_t kMaxDstSize = 255;
constexpr size_t kFieldSize = 32;
// L = ceil((ceil(log2(p)) + k) / 8) with k = 128 (RFC 9380 section 8.2).
constexpr size_t kHashToFieldL = 48;
constexpr std::string_view kOversizeDstPrefix = "H2C-OVERSIZE-DST-";

// OpenSSL arithmetic on valid operands fails only when memory runs out: a
// broken process, not bad input.
void Check(int ok) {
  if (ok != 1) std::abort();
}

const unsigned char* U8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BnCtxDeleter {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct MontDeleter {
  void operator()(BN_MONT_CTX* m) const { BN_MONT_CTX_free(m); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

BnPtr NewBn() {
  BnPtr b(BN_new());
  if (!b) std::abort();
  return b;
}

BnPtr BnFromHex(const char* hex) {
  BIGNUM* b = nullptr;
  if (BN_hex2bn(&b, hex) == 0) std::abort();
  return BnPtr(b);
}

// One BN_CTX per thread, reused by every call on that thread.
BN_CTX* ThreadBnCtx() {
  thread_local std::unique_ptr<BN_CTX, BnCtxDeleter> ctx(BN_CTX_new());
  if (!ctx) std::abort();
  return ctx.get();
}

// Scoped BN_CTX_start / BN_CTX_end: temporaries without allocations.
class CtxFrame {
 public:
  explicit CtxFrame(BN_CTX* ctx) : ctx_(ctx) { BN_CTX_start(ctx_); }
  ~CtxFrame() { BN_CTX_end(ctx_); }
  CtxFrame(const CtxFrame&) = delete;
  CtxFrame& operator=(const CtxFrame&) = delete;
  BIGNUM* Get() {
    BIGNUM* b = BN_CTX_get(ctx_);
    if (b == nullptr) std::abort();
    return b;
  }

 private:
  BN_CTX* ctx_;
};

// GF(p) for the P-256 prime, elements in Montgomery form (x*R mod p) unless a
// name says otherwise. Immutable after construction; shared by all threads.
class P256Field {
 public:
  static const P256Field& Get() {
    static const P256Field* field = new P256Field();
    return *field;
  }

  const BIGNUM* p() const { return p_.get(); }
  const BIGNUM* a() const { return a_.get(); }
  const BIGNUM* b() const { return b_.get(); }
  const BIGNUM* z() const { return z_.get(); }
  const BIGNUM* one() const { return one_.get(); }

  void Mul(BIGNUM* r, const BIGNUM* x, const BIGNUM* y, BN_CTX* ctx) const {
    Check(BN_mod_mul_montgomery(r, x, y, mont_.get(), ctx));
  }
  void Sqr(BIGNUM* r, const BIGNUM* x, BN_CTX* ctx) const { Mul(r, x, x, ctx); }
  void Add(BIGNUM* r, const BIGNUM* x, const BIGNUM* y) const {
    Check(BN_mod_add_quick(r, x, y, p_.get()));
  }
  void Sub(BIGNUM* r, const BIGNUM* x, const BIGNUM* y) const {
    Check(BN_mod_sub_quick(r, x, y, p_.get()));
  }
  void Neg(BIGNUM* r, const BIGNUM* x) const { Sub(r, zero_.get(), x); }
  void ToMont(BIGNUM* r, const BIGNUM* x_plain, BN_CTX* ctx) const {
    Check(BN_to_montgomery(r, x_plain, mont_.get(), ctx));
  }
  void FromMont(BIGNUM* r_plain, const BIGNUM* x, BN_CTX* ctx) const {
    Check(BN_from_montgomery(r_plain, x, mont_.get(), ctx));
  }
  // r = 1/x for x != 0.
  void Inv(BIGNUM* r, const BIGNUM* x, BN_CTX* ctx) const {
    CtxFrame frame(ctx);
    BIGNUM* t = frame.Get();
    FromMont(t, x, ctx);
    if (BN_mod_inverse(t, t, p_.get(), ctx) == nullptr) std::abort();
    ToMont(r, t, ctx);
  }
  // sgn0(x) for m = 1 (RFC 9380 section 4.1): the parity of x.
  bool Sgn0(const BIGNUM* x, BN_CTX* ctx) const {
    CtxFrame frame(ctx);
    BIGNUM* t = frame.Get();
    FromMont(t, x, ctx);
    return BN_is_odd(t);
  }

  // sqrt_ratio(u, v) for q = 3 mod 4 (RFC 9380 appendix F.2.1.2): sets y to
  // sqrt(u/v) and returns true if u/v is square, else sets y to
  // sqrt(Z * u/v) and returns false.
  bool SqrtRatio(BIGNUM* y, const BIGNUM* u, const BIGNUM* v,
                 BN_CTX* ctx) const {
    CtxFrame frame(ctx);
    BIGNUM* tv1 = frame.Get();
    BIGNUM* tv2 = frame.Get();
    BIGNUM* tv3 = frame.Get();
    BIGNUM* y1 = frame.Get();
    Sqr(tv1, v, ctx);         // 1. tv1 = v^2
    Mul(tv2, u, v, ctx);      // 2. tv2 = u * v
    Mul(tv1, tv1, tv2, ctx);  // 3. tv1 = tv1 * tv2
    FromMont(y1, tv1, ctx);   // 4. y1 = tv1^c1
    Check(BN_mod_exp_mont(y1, y1, c1_.get(), p_.get(), ctx, mont_.get()));
    ToMont(y1, y1, ctx);
    Mul(y1, y1, tv2, ctx);             // 5. y1 = y1 * tv2
    Sqr(tv3, y1, ctx);                 // 7. tv3 = y1^2
    Mul(tv3, tv3, v, ctx);             // 8. tv3 = tv3 * v
    bool is_qr = BN_cmp(tv3, u) == 0;  // 9. isQR = tv3 == u
    if (is_qr) {                       // 10. y = CMOV(y2, y1, isQR)
      Check(BN_copy(y, y1) != nullptr);
    } else {
      Mul(y, y1, c2_.get(), ctx);  // 6. y2 = y1 * c2
    }
    return is_qr;
  }

 private:
  P256Field() {
    BN_CTX* ctx = ThreadBnCtx();
    p_ = BnFromHex(
        "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    mont_.reset(BN_MONT_CTX_new());
    if (!mont_) std::abort();
    Check(BN_MONT_CTX_set(mont_.get(), p_.get(), ctx));
    zero_ = NewBn();
    BN_zero(zero_.get());
    auto mont_of = [&](BnPtr plain) {
      BnPtr m = NewBn();
      ToMont(m.get(), plain.get(), ctx);
      return m;
    };
    one_ = mont_of(BnFromHex("1"));
    // A = -3, Z = -10 (RFC 9380 section 8.2).
    a_ = mont_of(BnFromHex(
        "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc"));
    b_ = mont_of(BnFromHex(
        "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"));
    z_ = mont_of(BnFromHex(
        "ffffffff00000001000000000000000000000000fffffffffffffffffffffff5"));
    // c1 = (p - 3) / 4 (a plain integer exponent); c2 = sqrt(-Z) = sqrt(10).
    c1_ = NewBn();
    Check(BN_copy(c1_.get(), p_.get()) != nullptr);
    Check(BN_sub_word(c1_.get(), 3));
    Check(BN_rshift(c1_.get(), c1_.get(), 2));
    BnPtr ten = BnFromHex("a");
    BnPtr root(BN_mod_sqrt(nullptr, ten.get(), p_.get(), ctx));
    if (!root) std::abort();
    c2_ = mont_of(std::move(root));
  }

  BnPtr p_, zero_, one_, a_, b_, z_, c1_, c2_;
  std::unique_ptr<BN_MONT_CTX, MontDeleter> mont_;
};

// map_to_curve_simple_swu for P-256 (RFC 9380 appendix F.2, the straight-line
// form with one exponentiation). `u` is in Montgomery form. Sets the affine
// point (xn / xd, y), Montgomery form.
void MapToCurveSswu(const P256Field& f, const BIGNUM* u, BIGNUM* xn, BIGNUM* xd,
                    BIGNUM* y, BN_CTX* ctx) {
  CtxFrame frame(ctx);
  BIGNUM* tv1 = frame.Get();
  BIGNUM* tv2 = frame.Get();
  BIGNUM* tv3 = frame.Get();
  BIGNUM* tv4 = frame.Get();
  BIGNUM* tv5 = frame.Get();
  BIGNUM* tv6 = frame.Get();
  BIGNUM* y1 = frame.Get();
  f.Sqr(tv1, u, ctx);           // 1.  tv1 = u^2
  f.Mul(tv1, f.z(), tv1, ctx);  // 2.  tv1 = Z * tv1
  f.Sqr(tv2, tv1, ctx);         // 3.  tv2 = tv1^2
  f.Add(tv2, tv2, tv1);         // 4.  tv2 = tv2 + tv1
  f.Add(tv3, tv2, f.one());     // 5.  tv3 = tv2 + 1
  f.Mul(tv3, f.b(), tv3, ctx);  // 6.  tv3 = B * tv3
  if (BN_is_zero(tv2)) {        // 7.  tv4 = CMOV(Z, -tv2, tv2 != 0)
    Check(BN_copy(tv4, f.z()) != nullptr);
  } else {
    f.Neg(tv4, tv2);
  }
  f.Mul(tv4, f.a(), tv4, ctx);                          // 8.  tv4 = A * tv4
  f.Sqr(tv2, tv3, ctx);                                 // 9.  tv2 = tv3^2
  f.Sqr(tv6, tv4, ctx);                                 // 10. tv6 = tv4^2
  f.Mul(tv5, f.a(), tv6, ctx);                          // 11. tv5 = A * tv6
  f.Add(tv2, tv2, tv5);                                 // 12. tv2 = tv2 + tv5
  f.Mul(tv2, tv2, tv3, ctx);                            // 13. tv2 = tv2 * tv3
  f.Mul(tv6, tv6, tv4, ctx);                            // 14. tv6 = tv6 * tv4
  f.Mul(tv5, f.b(), tv6, ctx);                          // 15. tv5 = B * tv6
  f.Add(tv2, tv2, tv5);                                 // 16. tv2 = tv2 + tv5
  bool is_gx1_square = f.SqrtRatio(y1, tv2, tv6, ctx);  // 18.
  if (is_gx1_square) {
    Check(BN_copy(xn, tv3) != nullptr);  // 21. x = CMOV(x, tv3, is_gx1_sq)
    Check(BN_copy(y, y1) != nullptr);    // 22. y = CMOV(y, y1, is_gx1_sq)
  } else {
    f.Mul(xn, tv1, tv3, ctx);  // 17. x = tv1 * tv3
    f.Mul(y, tv1, u, ctx);     // 19. y = tv1 * u
    f.Mul(y, y, y1, ctx);      // 20. y = y * y1
  }
  if (f.Sgn0(u, ctx) != f.Sgn0(y, ctx)) {  // 23-24. fix the sign of y
    f.Neg(y, y);
  }
  Check(BN_copy(xd, tv4) != nullptr);  // 25. x = x / tv4 (done by the caller)
}

void AppendField(Bytes& out, const P256Field& f, const BIGNUM* x_mont,
                 BN_CTX* ctx) {
  CtxFrame frame(ctx);
  BIGNUM* t = frame.Get();
  f.FromMont(t, x_mont, ctx);
  size_t at = out.size();
  out.resize(at + kFieldSize);
  if (BN_bn2binpad(t, reinterpret_cast<unsigned char*>(&out[at]), kFieldSize) !=
      static_cast<int>(kFieldSize)) {
    std::abort();
  }
}

Bytes Uncompressed(const P256Field& f, const BIGNUM* x, const BIGNUM* y,
                   BN_CTX* ctx) {
  Bytes out(1, '\x04');
  out.reserve(1 + 2 * kFieldSize);
  AppendField(out, f, x, ctx);
  AppendField(out, f, y, ctx);
  return out;
}

// Q0 + Q1, SEC1 uncompressed, for the two mapped points Q_i = (xn_i / xd_i,
// y_i) (Montgomery form); x[] receives their affine x. Temporaries come
// from `frame`. Fills trace->q0, q1 and p if `trace` is not null.
absl::StatusOr<Bytes> AddMappedPoints(const P256Field& f, BIGNUM* const xn[2],
                                      BIGNUM* const xd[2], BIGNUM* const y[2],
                                      BIGNUM* const x[2], CtxFrame& frame,
                                      BN_CTX* ctx,
                                      HashToCurveP256Trace* trace) {
  // P = Q0 + Q1 (clear_cofactor is the identity map for P-256, h_eff = 1),
  // affine, with a single field inversion (Montgomery's trick):
  //   x_i = xn_i / xd_i,  lambda = (y1 - y0) / (x1 - x0) = (y1 - y0) xd / l
  // where xd = xd0 xd1, l = xn1 xd0 - xn0 xd1. With w = 1 / (xd l):
  //   1 / xd = l w,  1 / l = xd w.
  BIGNUM* t0 = frame.Get();
  BIGNUM* t1 = frame.Get();
  BIGNUM* l = frame.Get();
  BIGNUM* xd01 = frame.Get();
  BIGNUM* w = frame.Get();
  BIGNUM* lambda = frame.Get();
  f.Mul(t0, xn[0], xd[1], ctx);
  f.Mul(t1, xn[1], xd[0], ctx);
  f.Sub(l, t1, t0);
  f.Mul(xd01, xd[0], xd[1], ctx);
  const bool distinct_x = !BN_is_zero(l);
  if (distinct_x) {
    f.Mul(w, xd01, l, ctx);
    f.Inv(w, w, ctx);
    f.Mul(lambda, l, w, ctx);  // 1 / xd
    f.Mul(x[0], t0, lambda, ctx);
    f.Mul(x[1], t1, lambda, ctx);
    f.Mul(w, w, xd01, ctx);  // 1 / l
    f.Sub(lambda, y[1], y[0]);
    f.Mul(lambda, lambda, xd01, ctx);
    f.Mul(lambda, lambda, w, ctx);
  } else {
    f.Inv(w, xd01, ctx);
    f.Mul(x[0], t0, w, ctx);
    f.Mul(x[1], t1, w, ctx);
  }
  if (trace != nullptr) {
    trace->q0 = Uncompressed(f, x[0], y[0], ctx);
    trace->q1 = Uncompressed(f, x[1], y[1], ctx);
  }
  if (!distinct_x) {
    // Q0 = -Q1 gives the identity; Q0 = Q1 (probability ~2^-256) doubles:
    // lambda = (3 x0^2 + A) / (2 y0).
    if (BN_cmp(y[0], y[1]) != 0 || BN_is_zero(y[0])) {
      return absl::InvalidArgumentError(
          "message hashes to the point at infinity");
    }
    f.Sqr(t0, x[0], ctx);
    f.Add(lambda, t0, t0);
    f.Add(lambda, lambda, t0);
    f.Add(lambda, lambda, f.a());
    f.Add(w, y[0], y[0]);
    f.Inv(w, w, ctx);
    f.Mul(lambda, lambda, w, ctx);
  }
  BIGNUM* x3 = frame.Get();
  BIGNUM* y3 = frame.Get();
  f.Sqr(x3, lambda, ctx);  // x3 = lambda^2 - x0 - x1
  f.Sub(x3, x3, x[0]);
  f.Sub(x3, x3, x[1]);
  f.Sub(y3, x[0], x3);  // y3 = lambda (x0 - x3) - y0
  f.Mul(y3, lambda, y3, ctx);
  f.Sub(y3, y3, y[0]);
  Bytes point = Uncompressed(f, x3, y3, ctx);
  if (trace != nullptr) trace->p = point;
  return point;
}

// hash_to_curve(msg) as affine (x, y), SEC1 uncompressed. Fills `trace` if
// it is not null.
absl::StatusOr<Bytes> HashToCurveImpl(std::string_view msg,
                                      std::string_view dst,
                                      HashToCurveP256Trace* trace) {
  // hash_to_field(msg, 2): u_i = OS2IP(uniform[48 i, 48 i + 48)) mod p.
  ASSIGN_OR_RETURN(Bytes uniform,
                   ExpandMessageXmdSha256(msg, dst, 2 * kHashToFieldL));
  const P256Field& f = P256Field::Get();
  BN_CTX* ctx = ThreadBnCtx();
  CtxFrame frame(ctx);
  BIGNUM* u[2];
  BIGNUM* xn[2];
  BIGNUM* xd[2];
  BIGNUM* y[2];
  BIGNUM* x[2];
  for (int i = 0; i < 2; ++i) {
    u[i] = frame.Get();
    xn[i] = frame.Get();
    xd[i] = frame.Get();
    y[i] = frame.Get();
    x[i] = frame.Get();
    std::string_view part =
        std::string_view(uniform).substr(i * kHashToFieldL, kHashToFieldL);
    Check(BN_bin2bn(U8(part), part.size(), u[i]) != nullptr);
    Check(BN_nnmod(u[i], u[i], f.p(), ctx));
    if (trace != nullptr) {
      Bytes& out = i == 0 ? trace->u0 : trace->u1;
      out.assign(kFieldSize, '\0');
      BN_bn2binpad(u[i], reinterpret_cast<unsigned char*>(out.data()),
                   kFieldSize);
    }
    f.ToMont(u[i], u[i], ctx);
    MapToCurveSswu(f, u[i], xn[i], xd[i], y[i], ctx);
  }
  return AddMappedPoints(f, xn, xd, y, x, frame, ctx, trace);
}

}  // namespace

absl::StatusOr<Bytes> ExpandMessageXmdSha256(std::string_view msg,
                                             std::string_view dst,
                                             size_t len_in_bytes) {
  if (dst.empty()) {
    return absl::InvalidArgumentError("hash-to-curve DST must not be empty");
  }
  const size_t ell = (len_in_bytes + kSha256Size - 1) / kSha256Size;
  if (len_in_bytes == 0 || ell > kMaxExpandBlocks) {
    return absl::InvalidArgumentError(
        "expand_message_xmd length must be in [1, 8160] bytes");
  }
  Sha256Hasher hasher;
  // RFC 9380 section 5.3.3: a DST longer than 255 bytes is replaced by
  // SHA-256("H2C-OVERSIZE-DST-" || DST).
  Bytes reduced_dst;
  if (dst.size() > kMaxDstSize) {
    hasher.Update(kOversizeDstPrefix);
    hasher.Update(dst);
    reduced_dst = hasher.Finish();
    dst = reduced_dst;
  }
  // DST_prime = DST || I2OSP(len(DST), 1)
  Bytes dst_prime(dst);
  dst_prime.push_back(static_cast<char>(dst.size()));

  // b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST')
  static constexpr char kZeroPad[kSha256BlockSize] = {};
  hasher.Update(std::string_view(kZeroPad, sizeof(kZeroPad)));
  hasher.Update(msg);
  Bytes suffix;
  AppendUint16BE(suffix, static_cast<uint16_t>(len_in_bytes));
  suffix.push_back('\0');
  hasher.Update(suffix);
  hasher.Update(dst_prime);
  const Bytes b0 = hasher.Finish();

  // b_1 = H(b_0 || I2OSP(1, 1) || DST');
  // b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST')
  Bytes out;
  out.reserve(ell * kSha256Size);
  Bytes chain = b0;
  for (size_t i = 1; i <= ell; ++i) {
    if (i > 1) {
      std::string_view prev =
          std::string_view(out).substr((i - 2) * kSha256Size, kSha256Size);
      for (size_t j = 0; j < kSha256Size; ++j) chain[j] = b0[j] ^ prev[j];
    }
    hasher.Update(chain);
    const char index = static_cast<char>(i);
    hasher.Update(std::string_view(&index, 1));
    hasher.Update(dst_prime);
    out += hasher.Finish();
  }
  out.resize(len_in_bytes);
  return out;
}

absl::StatusOr<Bytes> HashToCurveP256Uncompressed(std::string_view msg,
                                                  std::string_view dst) {
  return HashToCurveImpl(msg, dst, nullptr);
}

absl::StatusOr<Bytes> HashToCurveP256(std::string_view msg,
                                      std::string_view dst) {
  ASSIGN_OR_RETURN(Bytes point, HashToCurveImpl(msg, dst, nullptr));
  // SEC1 compressed: 0x02 | (y mod 2), then x.
  Bytes out(1, static_cast<char>(0x02 | (point.back() & 1)));
  out.append(point, 1, kFieldSize);
  return out;
}

absl::StatusOr<HashToCurveP256Trace> HashToCurveP256WithTrace(
    std::string_view msg, std::string_view dst) {
  HashToCurveP256Trace trace;
  RETURN_IF_ERROR(HashToCurveImpl(msg, dst, &trace).status());
  return trace;
}

}  // namespace cbx::crypto
