// The (verifiable) oblivious pseudorandom function of RFC 9497, suite
// P256-SHA256, over OpenSSL 3.0. cbx runs it in VOPRF mode (spec/oprf.md):
//
//   querier                                   peer (OprfServerKey)
//   OprfBlind(input) -> blind, blinded  ---->
//                                       <---- BlindEvaluate(blinded...)
//   OprfFinalize(...) -> y                     = evaluated..., one DLEQ proof
//
// and a node computes y for its own identifiers with OprfServerKey::Evaluate.
//
// Elements are SEC1 P-256 points, 33 bytes compressed as RFC 9497
// serializes them or, on the wire, 65 bytes uncompressed (spec/oprf.md §1:
// a batch is in one form, answered in the same; the proof hashes the
// compressed form either way); scalars 32-byte big-endian integers below
// the group order. No OpenSSL type leaves
// core/crypto. Every step that touches a secret scalar (the server key, a
// blind, the proof nonce) uses OpenSSL's constant-time P-256 code; hashing to
// the curve does not (see hash_to_curve.h). All functions are thread-safe.
#ifndef CBX_CORE_CRYPTO_VOPRF_H_
#define CBX_CORE_CRYPTO_VOPRF_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/util/bytes.h"

namespace cbx::crypto {

inline constexpr size_t kP256ElementSize = 33;  // compressed point
// The uncompressed form an element may take on the wire (spec/oprf.md §1).
inline constexpr size_t kP256UncompressedElementSize = 65;
inline constexpr size_t kP256ScalarSize = 32;
inline constexpr size_t kVoprfProofSize = 64;  // c || s
inline constexpr size_t kOprfOutputSize = 32;
// RFC 9497 encodes an element's index in a batch and an input's length in two
// bytes.
inline constexpr size_t kOprfMaxBatchSize = 65535;
inline constexpr size_t kOprfMaxInputSize = 65535;

enum class OprfMode : uint8_t { kOprf = 0x00, kVoprf = 0x01 };

// The RFC 9497 contextString: "OPRFV1-" || I2OSP(mode, 1) || "-P256-SHA256".
Bytes OprfContextString(OprfMode mode);

struct BlindEvaluation {
  std::vector<Bytes> evaluated_elements;
  Bytes proof;  // empty in kOprf mode
};

// A batch of blinded elements decoded once, which checks each is a valid,
// non-identity point, all in one form (OprfCheckElements' check), kept for
// OprfServerKey::BlindEvaluate: a receiver that refuses a bad batch before
// charging for it then does not decompress every point again (a square
// root each, about a sixth of the evaluation's cost). Immutable.
class DecodedBatch {
 public:
  // INVALID_ARGUMENT naming the first element that is not a point.
  static absl::StatusOr<DecodedBatch> Decode(std::vector<Bytes> elements);
  const std::vector<Bytes>& elements() const;

 private:
  friend class OprfServerKey;
  struct Impl;
  explicit DecodedBatch(std::shared_ptr<const Impl> impl)
      : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Server key. Immutable, thread-safe.
class OprfServerKey {
 public:
  // RFC 9497 section 3.2.1 DeriveKeyPair. INVALID_ARGUMENT if `seed` is not
  // 32 bytes or `info` is longer than 65535 bytes; INTERNAL if all 256
  // counters hash to zero (probability about 2^-65536).
  static absl::StatusOr<OprfServerKey> DeriveKeyPair(
      std::string_view seed, std::string_view info,
      OprfMode mode = OprfMode::kVoprf);
  // A fresh key, uniform in [1, n-1], from the system's secure random source.
  static OprfServerKey Generate(OprfMode mode = OprfMode::kVoprf);
  // 32-byte big-endian scalar in [1, n-1]; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<OprfServerKey> FromPrivateBytes(
      std::string_view sk, OprfMode mode = OprfMode::kVoprf);

  // The 32-byte private scalar. Secret: store it only where the node can
  // read it.
  Bytes PrivateBytes() const;
  const Bytes& public_key() const { return public_key_; }  // 33-byte pkS
  OprfMode mode() const { return mode_; }

  // Batched BlindEvaluate with ONE DLEQ proof over the whole batch (VOPRF).
  // INVALID_ARGUMENT if the batch is empty or any element is not a valid,
  // non-identity point, or the elements are not all in one form.
  // Returns one evaluated element per blinded element, in order and in the
  // blinded elements' form (compressed or uncompressed); in kVoprf
  // mode also the 64-byte proof (RFC 9497 GenerateProof with
  // ComputeCompositesFast). INVALID_ARGUMENT too for a batch above
  // kOprfMaxBatchSize.
  absl::StatusOr<BlindEvaluation> BlindEvaluate(
      const std::vector<Bytes>& blinded_elements) const;
  // The same for a batch already decoded (INVALID_ARGUMENT only for its
  // size).
  absl::StatusOr<BlindEvaluation> BlindEvaluate(
      const DecodedBatch& batch) const;
  // Same with a fixed proof random scalar (tests and vectors only).
  // `proof_random_scalar` is 32 bytes in [1, n-1] (INVALID_ARGUMENT otherwise);
  // ignored in kOprf mode.
  absl::StatusOr<BlindEvaluation> BlindEvaluateWithProofScalar(
      const std::vector<Bytes>& blinded_elements,
      std::string_view proof_random_scalar) const;

  // Server-side unblinded Evaluate(skS, input) (RFC 9497 3.3.1/3.3.2): the
  // 32-byte output, equal to what a client's OprfFinalize yields for `input`.
  // INVALID_ARGUMENT if `input` is longer than kOprfMaxInputSize.
  absl::StatusOr<Bytes> Evaluate(std::string_view input) const;

 private:
  struct Impl;
  OprfServerKey(std::shared_ptr<const Impl> impl, Bytes public_key,
                OprfMode mode);

  std::shared_ptr<const Impl> impl_;
  Bytes public_key_;
  OprfMode mode_;
};

// INVALID_ARGUMENT naming the first of `elements` that is not a valid,
// non-identity P-256 point in element 0's form (the check BlindEvaluate
// makes), for a receiver that refuses a bad batch before charging for it;
// OK otherwise. Thread-safe.
absl::Status OprfCheckElements(const std::vector<Bytes>& elements);

struct BlindedInput {
  Bytes blind;            // 32-byte secret scalar; keep private
  Bytes blinded_element;  // 33 bytes compressed, for a server that takes only
                          // that form
  // The same point as 65 bytes uncompressed: sent instead of
  // blinded_element to a server that takes it (it then needs no square
  // root to decode it), and kept for OprfFinalizeAdditive's
  // `blinded_points` (the client's own points need no decompression to
  // verify the proof).
  Bytes blinded_point;
};

// An input hashed to the group (RFC 9497 Blind's first step, HashToGroup),
// to be blinded afresh for each peer with OprfBlindAdditive: a bulk check
// of 10,000 identifiers against 7 peers hashes 10,000 times, not 70,000.
// The point is not secret in the sense a blind is (anyone can hash an
// input), but it stands for the input: keep it as the input is kept.
struct HashedInput {
  Bytes input;
  Bytes point;  // 65-byte uncompressed HashToGroup(input)
  OprfMode mode = OprfMode::kVoprf;
};

// HashToGroup(input) for `mode`. INVALID_ARGUMENT if `input` is longer than
// kOprfMaxInputSize.
absl::StatusOr<HashedInput> OprfHashInput(std::string_view input,
                                          OprfMode mode = OprfMode::kVoprf);

// Additive blinding, for the verifiable mode only (spec/oprf.md §4): the
// blinded element is HashToGroup(input) + r * G with a fresh random r, and
// OprfFinalizeAdditive unblinds with N = Z - r * pkS. The element is
// uniformly random, as RFC 9497's multiplicative r * HashToGroup(input) is,
// and the output is the same; the server cannot tell the two apart and
// answers both alike. The CFRG draft that became RFC 9497
// (draft-irtf-cfrg-voprf, "Blinding Considerations", after Jarecki,
// Krawczyk and Xu 2021) holds it safe when the client has a certified copy
// of the server's public key, as here: the key comes from the signed directory
// and the DLEQ proof binds the evaluation to it. Both multiplications are
// fixed-base (G's table, and a table per server key), about a fifth of the
// variable-base ones the multiplicative way needs. INVALID_ARGUMENT for an
// OPRF-mode input or a `hashed.point` that is not a point on the curve.
absl::StatusOr<BlindedInput> OprfBlindAdditive(const HashedInput& hashed);
// The same for a batch, each with its own fresh r, the blinded points
// converted to affine coordinates with one field inversion for all of them
// (about 9 us a point less than one by one). Empty for an empty batch.
absl::StatusOr<std::vector<BlindedInput>> OprfBlindAdditive(
    const std::vector<const HashedInput*>& hashed);
// Builds the table OprfFinalizeAdditive uses for `server_public_key` (about
// 18 ms, once per key for the process), so that a query does not wait for
// it; OprfFinalizeAdditive builds it itself otherwise. INVALID_ARGUMENT if
// the key is not a point.
absl::Status OprfPrepareServerKey(std::string_view server_public_key);

// RFC 9497 Blind with a fresh random blind. Use a new blind for every
// evaluation request; never reuse one across peers. INVALID_ARGUMENT if
// `input` is longer than kOprfMaxInputSize.
absl::StatusOr<BlindedInput> OprfBlind(std::string_view input,
                                       OprfMode mode = OprfMode::kVoprf);
// Same with a given blind (tests and vectors only): 32 bytes in [1, n-1],
// INVALID_ARGUMENT otherwise.
absl::StatusOr<BlindedInput> OprfBlindWithScalar(
    std::string_view input, std::string_view blind,
    OprfMode mode = OprfMode::kVoprf);

// VOPRF: verifies the batched proof against server_public_key (UNAUTHENTICATED
// "DLEQ proof does not verify" if it fails; INVALID_ARGUMENT for
// malformed/mismatched sizes), then Finalize for each input.
// OPRF mode: proof and server_public_key are ignored.
// The four vectors must be non-empty and of equal length (at most
// kOprfMaxBatchSize); every element must be a valid point, the evaluated
// ones in the blinded ones' form (compressed or uncompressed), every
// blind a scalar in [1, n-1], every input at most kOprfMaxInputSize bytes
// and the proof 64 bytes of two scalars below n, else INVALID_ARGUMENT (in
// kOprf mode the blinded elements are only counted, not parsed). Returns the
// 32-byte outputs, in input order.
absl::StatusOr<std::vector<Bytes>> OprfFinalize(
    const std::vector<Bytes>& inputs, const std::vector<Bytes>& blinds,
    const std::vector<Bytes>& blinded_elements,
    const std::vector<Bytes>& evaluated_elements, std::string_view proof,
    std::string_view server_public_key, OprfMode mode = OprfMode::kVoprf);
// Finalize for elements blinded by OprfBlindAdditive (VOPRF only): the
// proof is verified as OprfFinalize verifies it, then N = Z - r * pkS.
// `blinded_points` are the BlindedInput::blinded_point of the elements
// (65 bytes uncompressed, in order), checked against `blinded_elements`
// (what was sent, in either form) byte for byte (INVALID_ARGUMENT if one
// differs or is not on the curve) instead of being decompressed. Otherwise
// as OprfFinalize.
absl::StatusOr<std::vector<Bytes>> OprfFinalizeAdditive(
    const std::vector<Bytes>& inputs, const std::vector<Bytes>& blinds,
    const std::vector<Bytes>& blinded_elements,
    const std::vector<Bytes>& blinded_points,
    const std::vector<Bytes>& evaluated_elements, std::string_view proof,
    std::string_view server_public_key);

}  // namespace cbx::crypto

#endif  // CBX_CORE_CRYPTO_VOPRF_H_
