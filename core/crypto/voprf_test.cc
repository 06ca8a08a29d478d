#include "core/crypto/voprf.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/hash_to_curve.h"
#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::crypto {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;
using namespace std::string_literals;

const std::string kDir = std::string(CBX_VECTORS_DIR) + "/oprf/";

// The P-256 group order n, and a valid element that is not on the path of any
// vector (x = 5 is on the curve; x = 1 is not).
const char kOrderHex[] =
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const char kOnCurveX5[] =
    "020000000000000000000000000000000000000000000000000000000000000005";
const char kOffCurveX1[] =
    "020000000000000000000000000000000000000000000000000000000000000001";

std::vector<Bytes> UnhexAll(const nlohmann::json& list) {
  std::vector<Bytes> out;
  for (const auto& h : list) out.push_back(Unhex(h.get<std::string>()));
  return out;
}

// RFC 9497 Appendix A.3.1 / A.3.2: every step of every vector.
// A.3.1 has two vectors of batch size 1; A.3.2 adds a third, of batch size 2
// with one proof.
void CheckRfc9497Vectors(const std::string& file, OprfMode mode,
                         size_t vector_count) {
  nlohmann::json doc = LoadJson(kDir + file);
  ASSERT_EQ(doc["mode"].get<int>(), static_cast<int>(mode));
  EXPECT_EQ(HexEncode(OprfContextString(mode)),
            doc["context_string_hex"].get<std::string>());

  auto key = OprfServerKey::DeriveKeyPair(
      Unhex(doc["seed"].get<std::string>()),
      Unhex(doc["key_info"].get<std::string>()), mode);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(HexEncode(key->PrivateBytes()), doc["skSm"].get<std::string>());
  EXPECT_EQ(key->mode(), mode);
  Bytes pk = key->public_key();
  EXPECT_EQ(pk.size(), kP256ElementSize);
  if (mode == OprfMode::kVoprf) {
    EXPECT_EQ(HexEncode(pk), doc["pkSm"].get<std::string>());
  }
  auto same = OprfServerKey::FromPrivateBytes(key->PrivateBytes(), mode);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->public_key(), pk);

  ASSERT_EQ(doc["vectors"].size(), vector_count);
  for (const auto& v : doc["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    const std::vector<Bytes> inputs = UnhexAll(v["input"]);
    const std::vector<Bytes> blinds = UnhexAll(v["blind"]);
    const std::vector<Bytes> outputs = UnhexAll(v["output"]);
    ASSERT_EQ(inputs.size(), v["batch_size"].get<size_t>());

    std::vector<Bytes> blinded;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto b = OprfBlindWithScalar(inputs[i], blinds[i], mode);
      ASSERT_TRUE(b.ok()) << b.status();
      EXPECT_EQ(b->blind, blinds[i]);
      blinded.push_back(b->blinded_element);
    }
    EXPECT_EQ(blinded, UnhexAll(v["blinded_element"]));

    absl::StatusOr<BlindEvaluation> eval;
    if (mode == OprfMode::kVoprf) {
      eval = key->BlindEvaluateWithProofScalar(
          blinded, Unhex(v["proof_random_scalar"].get<std::string>()));
    } else {
      eval = key->BlindEvaluate(blinded);
    }
    ASSERT_TRUE(eval.ok()) << eval.status();
    EXPECT_EQ(eval->evaluated_elements, UnhexAll(v["evaluation_element"]));
    if (mode == OprfMode::kVoprf) {
      EXPECT_EQ(HexEncode(eval->proof), v["proof"].get<std::string>());
      EXPECT_EQ(HexEncode(eval->proof.substr(0, 32)),
                v["proof_c"].get<std::string>());
    } else {
      EXPECT_TRUE(eval->proof.empty());
    }

    auto finalized =
        OprfFinalize(inputs, blinds, blinded, eval->evaluated_elements,
                     eval->proof, pk, mode);
    ASSERT_TRUE(finalized.ok()) << finalized.status();
    EXPECT_EQ(*finalized, outputs);

    for (size_t i = 0; i < inputs.size(); ++i) {
      auto y = key->Evaluate(inputs[i]);
      ASSERT_TRUE(y.ok()) << y.status();
      EXPECT_EQ(*y, outputs[i]);
      EXPECT_EQ(y->size(), kOprfOutputSize);
    }
  }
}

TEST(VoprfVectorsTest, Rfc9497A31OprfMode) {
  CheckRfc9497Vectors("rfc9497_p256_sha256_oprf.json", OprfMode::kOprf, 2);
}

TEST(VoprfVectorsTest, Rfc9497A32VoprfMode) {
  CheckRfc9497Vectors("rfc9497_p256_sha256_voprf.json", OprfMode::kVoprf, 3);
  // The batch vector really is a batch.
  nlohmann::json doc = LoadJson(kDir + "rfc9497_p256_sha256_voprf.json");
  EXPECT_EQ(doc["vectors"][2]["batch_size"].get<int>(), 2);
}

// A VOPRF exchange over a fresh key with random blinds and proof nonce.
struct Exchange {
  OprfServerKey key = OprfServerKey::Generate();
  std::vector<Bytes> inputs;
  std::vector<Bytes> blinds;
  std::vector<Bytes> blinded;
  BlindEvaluation eval;

  explicit Exchange(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      inputs.push_back("cbx/v1/id\0phone\0+3897000000"s + std::to_string(i));
      auto b = OprfBlind(inputs.back());
      if (!b.ok()) ADD_FAILURE() << b.status();
      blinds.push_back(b->blind);
      blinded.push_back(b->blinded_element);
    }
    auto e = key.BlindEvaluate(blinded);
    if (!e.ok()) ADD_FAILURE() << e.status();
    eval = *std::move(e);
  }

  absl::StatusOr<std::vector<Bytes>> Finalize() const {
    return OprfFinalize(inputs, blinds, blinded, eval.evaluated_elements,
                        eval.proof, key.public_key());
  }
};

TEST(VoprfTest, RandomBatchMatchesServerEvaluate) {
  Exchange ex(7);
  EXPECT_EQ(ex.eval.proof.size(), kVoprfProofSize);
  auto outputs = ex.Finalize();
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ((*outputs)[i], *ex.key.Evaluate(ex.inputs[i]));
  }
  // Fresh blinds: blinding the same input twice gives unlinkable elements,
  // and the same output.
  auto again = OprfBlind(ex.inputs[0]);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->blinded_element, ex.blinded[0]);
}

// A bulk check hashes each input once and blinds it afresh for each peer,
// additively; the outputs are RFC 9497's.
TEST(VoprfTest, AdditiveBlindingGivesTheSameOutputs) {
  const std::vector<OprfServerKey> peers = {OprfServerKey::Generate(),
                                            OprfServerKey::Generate()};
  std::vector<Bytes> inputs;
  std::vector<HashedInput> hashed;
  for (int i = 0; i < 5; ++i) {
    inputs.push_back("cbx/v1/id\0email\0contact"s + std::to_string(i));
    auto h = OprfHashInput(inputs.back());
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->point.size(), 65u);
    hashed.push_back(*std::move(h));
  }
  std::vector<Bytes> first_blinded;
  for (int round = 0; round < 2; ++round) {  // the second from the cache
    for (const OprfServerKey& key : peers) {
      std::vector<Bytes> blinds, blinded, points;
      for (const HashedInput& h : hashed) {
        auto b = OprfBlindAdditive(h);
        ASSERT_TRUE(b.ok()) << b.status();
        EXPECT_EQ(b->blinded_element.size(), kP256ElementSize);
        EXPECT_EQ(b->blinded_point.size(), 65u);
        blinds.push_back(b->blind);
        blinded.push_back(b->blinded_element);
        points.push_back(b->blinded_point);
      }
      if (first_blinded.empty()) {
        first_blinded = blinded;
      } else {
        for (size_t i = 0; i < blinded.size(); ++i) {
          EXPECT_NE(blinded[i], first_blinded[i]) << i;  // unlinkable
        }
      }
      auto eval = key.BlindEvaluate(blinded);
      ASSERT_TRUE(eval.ok()) << eval.status();
      auto outputs = OprfFinalizeAdditive(inputs, blinds, blinded, points,
                                          eval->evaluated_elements, eval->proof,
                                          key.public_key());
      ASSERT_TRUE(outputs.ok()) << outputs.status();
      for (size_t i = 0; i < inputs.size(); ++i) {
        EXPECT_EQ((*outputs)[i], *key.Evaluate(inputs[i]));
      }
      // Multiplicative Finalize of additive blinds gives other outputs: the
      // two ways are not interchangeable on the client.
      auto wrong_way =
          OprfFinalize(inputs, blinds, blinded, eval->evaluated_elements,
                       eval->proof, key.public_key());
      ASSERT_TRUE(wrong_way.ok());
      EXPECT_NE((*wrong_way)[0], (*outputs)[0]);
    }
  }
}

// The proof is checked as OprfFinalize checks it, and the kept points must
// be the elements sent.
TEST(VoprfTest, AdditiveFinalizeRefusesWhatFinalizeRefuses) {
  OprfServerKey key = OprfServerKey::Generate();
  std::vector<Bytes> inputs, blinds, blinded, points;
  for (int i = 0; i < 3; ++i) {
    inputs.push_back("input "s + std::to_string(i));
    auto h = OprfHashInput(inputs.back());
    ASSERT_TRUE(h.ok());
    auto b = OprfBlindAdditive(*h);
    ASSERT_TRUE(b.ok());
    blinds.push_back(b->blind);
    blinded.push_back(b->blinded_element);
    points.push_back(b->blinded_point);
  }
  auto eval = key.BlindEvaluate(blinded);
  ASSERT_TRUE(eval.ok());
  auto finalize = [&](const std::vector<Bytes>& pts, const Bytes& proof,
                      const Bytes& pk) {
    return OprfFinalizeAdditive(inputs, blinds, blinded, pts,
                                eval->evaluated_elements, proof, pk)
        .status();
  };
  Bytes tampered = eval->proof;
  tampered[63] ^= 0x01;
  EXPECT_EQ(finalize(points, tampered, key.public_key()).code(),
            absl::StatusCode::kUnauthenticated);
  // Another key: a peer answering under a key the directory does not list.
  EXPECT_EQ(
      finalize(points, eval->proof, OprfServerKey::Generate().public_key())
          .code(),
      absl::StatusCode::kUnauthenticated);
  std::vector<Bytes> swapped = points;
  std::swap(swapped[0], swapped[1]);
  absl::Status s = finalize(swapped, eval->proof, key.public_key());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "blinded point 0 is not blinded element 0");
  std::vector<Bytes> off_curve = points;
  off_curve[2][40] ^= 0x01;
  EXPECT_EQ(finalize(off_curve, eval->proof, key.public_key()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(finalize({points.begin(), points.end() - 1}, eval->proof,
                     key.public_key())
                .code(),
            absl::StatusCode::kInvalidArgument);

  // Only the verifiable mode: without the proof, N = Z - r * pkS would
  // trust a key the evaluation was never bound to.
  auto oprf_mode = OprfHashInput("input", OprfMode::kOprf);
  ASSERT_TRUE(oprf_mode.ok());
  EXPECT_EQ(OprfBlindAdditive(*oprf_mode).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A hashed point that is not a point is refused, not blinded.
  auto h = OprfHashInput("input");
  ASSERT_TRUE(h.ok());
  HashedInput bad = *h;
  bad.point[64] ^= 0x01;
  EXPECT_EQ(OprfBlindAdditive(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  bad.point = h->point.substr(0, 33);
  EXPECT_EQ(OprfBlindAdditive(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfHashInput(Bytes(kOprfMaxInputSize + 1, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Many threads finalize against keys whose tables are built meanwhile.
TEST(VoprfTest, AdditiveFinalizeFromManyThreads) {
  const std::vector<OprfServerKey> keys = {OprfServerKey::Generate(),
                                           OprfServerKey::Generate(),
                                           OprfServerKey::Generate()};
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      const OprfServerKey& key = keys[t % keys.size()];
      const Bytes input = "thread input "s + std::to_string(t);
      auto h = OprfHashInput(input);
      auto b = h.ok() ? OprfBlindAdditive(*h)
                      : absl::StatusOr<BlindedInput>(h.status());
      if (!b.ok()) {
        ++failures;
        return;
      }
      auto eval = key.BlindEvaluate({b->blinded_element});
      auto y = eval.ok() ? OprfFinalizeAdditive(
                               {input}, {b->blind}, {b->blinded_element},
                               {b->blinded_point}, eval->evaluated_elements,
                               eval->proof, key.public_key())
                         : absl::StatusOr<std::vector<Bytes>>(eval.status());
      if (!y.ok() || (*y)[0] != *key.Evaluate(input)) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(VoprfTest, KeyRoundTripsThroughPrivateBytes) {
  OprfServerKey key = OprfServerKey::Generate();
  auto copy = OprfServerKey::FromPrivateBytes(key.PrivateBytes());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->public_key(), key.public_key());
  EXPECT_EQ(*copy->Evaluate("x"), *key.Evaluate("x"));
  EXPECT_NE(OprfServerKey::Generate().public_key(), key.public_key());
}

TEST(VoprfTest, ModesAreDomainSeparated) {
  const Bytes sk = OprfServerKey::Generate().PrivateBytes();
  auto voprf = OprfServerKey::FromPrivateBytes(sk, OprfMode::kVoprf);
  auto oprf = OprfServerKey::FromPrivateBytes(sk, OprfMode::kOprf);
  ASSERT_TRUE(voprf.ok() && oprf.ok());
  EXPECT_NE(*voprf->Evaluate("input"), *oprf->Evaluate("input"));
}

TEST(VoprfTest, TamperedProofIsUnauthenticated) {
  Exchange ex(3);
  for (size_t byte : {size_t{31}, size_t{63}}) {  // last byte of c, of s
    Bytes proof = ex.eval.proof;
    proof[byte] ^= 0x01;
    auto r =
        OprfFinalize(ex.inputs, ex.blinds, ex.blinded,
                     ex.eval.evaluated_elements, proof, ex.key.public_key());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "DLEQ proof does not verify");
  }
}

TEST(VoprfTest, WrongPublicKeyIsUnauthenticated) {
  Exchange ex(2);
  const Bytes other = OprfServerKey::Generate().public_key();
  auto r = OprfFinalize(ex.inputs, ex.blinds, ex.blinded,
                        ex.eval.evaluated_elements, ex.eval.proof, other);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(VoprfTest, ElementsEvaluatedUnderAnotherKeyAreUnauthenticated) {
  Exchange ex(2);
  // A server that evaluates with a different key, proving against its own
  // key, is caught against the directory's key.
  OprfServerKey rogue = OprfServerKey::Generate();
  auto rogue_eval = rogue.BlindEvaluate(ex.blinded);
  ASSERT_TRUE(rogue_eval.ok());
  auto r = OprfFinalize(ex.inputs, ex.blinds, ex.blinded,
                        rogue_eval->evaluated_elements, rogue_eval->proof,
                        ex.key.public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  // One substituted element in an otherwise honest batch.
  std::vector<Bytes> mixed = ex.eval.evaluated_elements;
  mixed[1] = rogue_eval->evaluated_elements[1];
  r = OprfFinalize(ex.inputs, ex.blinds, ex.blinded, mixed, ex.eval.proof,
                   ex.key.public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(VoprfTest, ReorderedBatchIsUnauthenticated) {
  Exchange ex(2);
  std::vector<Bytes> swapped = {ex.eval.evaluated_elements[1],
                                ex.eval.evaluated_elements[0]};
  std::vector<Bytes> swapped_blinded = {ex.blinded[1], ex.blinded[0]};
  auto r = OprfFinalize(ex.inputs, ex.blinds, swapped_blinded, swapped,
                        ex.eval.proof, ex.key.public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(VoprfTest, MalformedProofIsInvalidArgument) {
  Exchange ex(1);
  auto finalize = [&](std::string_view proof) {
    return OprfFinalize(ex.inputs, ex.blinds, ex.blinded,
                        ex.eval.evaluated_elements, proof, ex.key.public_key())
        .status()
        .code();
  };
  EXPECT_EQ(finalize(ex.eval.proof.substr(0, 63)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(finalize(ex.eval.proof + "x"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(finalize(""), absl::StatusCode::kInvalidArgument);
  // c = n and s = n are not scalars.
  const Bytes n = Unhex(kOrderHex);
  EXPECT_EQ(finalize(n + ex.eval.proof.substr(32)),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(finalize(ex.eval.proof.substr(0, 32) + n),
            absl::StatusCode::kInvalidArgument);
}

TEST(VoprfTest, MalformedPublicKeyIsInvalidArgument) {
  Exchange ex(1);
  for (const Bytes& pk : {Bytes(), Bytes(1, '\0'), Unhex(kOffCurveX1),
                          ex.key.public_key().substr(0, 32)}) {
    auto r = OprfFinalize(ex.inputs, ex.blinds, ex.blinded,
                          ex.eval.evaluated_elements, ex.eval.proof, pk);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// Encodings every element parser must refuse.
std::vector<Bytes> InvalidElements() {
  const Bytes valid = Unhex(kOnCurveX5);
  Bytes not_compressed = valid;
  not_compressed[0] = 0x04;
  // The uncompressed form (spec/oprf.md §1) taken apart.
  const Bytes point = *HashToCurveP256Uncompressed("x", "dst");
  Bytes off_curve = point, hybrid = point, prefix_02 = point;
  off_curve[64] ^= 0x01;
  hybrid[0] = static_cast<char>(0x06 | (point[64] & 1));  // SEC1 hybrid
  prefix_02[0] = 0x02;
  return {
      Bytes(),                     // empty
      Bytes(1, '\0'),              // SEC1 identity
      Bytes(33, '\0'),             // zero prefix
      valid.substr(0, 32),         // short
      valid + Bytes(1, '\0'),      // long
      not_compressed,              // prefix 0x04 on 33 bytes
      Unhex(kOffCurveX1),          // x not on the curve
      "\x02" + Bytes(32, '\xff'),  // x >= p
      off_curve,                   // (x, y) not on the curve
      hybrid,                      // the hybrid form, never accepted
      prefix_02,                   // 65 bytes behind a compressed prefix
      point.substr(0, 64),         // uncompressed, short
      point + Bytes(1, '\0'),      // uncompressed, long
      "\x04" + Bytes(32, '\xff') + point.substr(33),  // x >= p
      Bytes(65, '\0'),                                // zero prefix, 65 bytes
  };
}

// The same batch on the wire in either form: the answer comes in the
// request's form, the proof is the same bytes (it hashes the compressed
// form either way), and Finalize gives the same outputs.
TEST(VoprfTest, UncompressedElementsGetTheSameEvaluationAndProof) {
  OprfServerKey key = OprfServerKey::Generate();
  std::vector<Bytes> inputs, blinds, compressed, uncompressed;
  for (int i = 0; i < 5; ++i) {
    inputs.push_back("cbx/v1/id\0email\0contact"s + std::to_string(i));
    auto h = OprfHashInput(inputs.back());
    ASSERT_TRUE(h.ok());
    auto b = OprfBlindAdditive(*h);
    ASSERT_TRUE(b.ok());
    blinds.push_back(b->blind);
    compressed.push_back(b->blinded_element);
    uncompressed.push_back(b->blinded_point);
  }
  const Bytes proof_scalar(31, '\0');
  auto a = key.BlindEvaluateWithProofScalar(compressed, proof_scalar + "\x07");
  auto b =
      key.BlindEvaluateWithProofScalar(uncompressed, proof_scalar + "\x07");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->proof, b->proof);
  ASSERT_EQ(b->evaluated_elements.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(a->evaluated_elements[i].size(), kP256ElementSize);
    ASSERT_EQ(b->evaluated_elements[i].size(), kP256UncompressedElementSize);
    EXPECT_EQ(a->evaluated_elements[i].substr(1, 32),
              b->evaluated_elements[i].substr(1, 32));
  }
  auto via_compressed =
      OprfFinalizeAdditive(inputs, blinds, compressed, uncompressed,
                           a->evaluated_elements, a->proof, key.public_key());
  auto via_uncompressed =
      OprfFinalizeAdditive(inputs, blinds, uncompressed, uncompressed,
                           b->evaluated_elements, b->proof, key.public_key());
  ASSERT_TRUE(via_compressed.ok()) << via_compressed.status();
  ASSERT_TRUE(via_uncompressed.ok()) << via_uncompressed.status();
  EXPECT_EQ(*via_compressed, *via_uncompressed);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ((*via_uncompressed)[i], *key.Evaluate(inputs[i]));
  }
  // The multiplicative way too, and from a decoded batch.
  auto decoded = DecodedBatch::Decode(uncompressed);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  auto c = key.BlindEvaluate(*decoded);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->evaluated_elements, b->evaluated_elements);

  // An answer in the other form than the request's is refused.
  absl::Status mixed =
      OprfFinalizeAdditive(inputs, blinds, uncompressed, uncompressed,
                           a->evaluated_elements, a->proof, key.public_key())
          .status();
  EXPECT_EQ(mixed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mixed.message(),
            "the evaluated elements are not in the blinded elements' form");
  // So is a batch in both forms, at the server and in an answer.
  std::vector<Bytes> both = compressed;
  both[3] = uncompressed[3];
  absl::Status s = key.BlindEvaluate(both).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "element 3 is not in element 0's form: a batch is all compressed "
            "or all uncompressed");
  EXPECT_EQ(OprfCheckElements(both).code(), absl::StatusCode::kInvalidArgument);
  std::vector<Bytes> answer_both = b->evaluated_elements;
  answer_both[1] = a->evaluated_elements[1];
  EXPECT_EQ(OprfFinalizeAdditive(inputs, blinds, uncompressed, uncompressed,
                                 answer_both, b->proof, key.public_key())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// A batch blinded at once is blinded as one by one: a fresh r each, the
// outputs RFC 9497's.
TEST(VoprfTest, AdditiveBatchBlindsEachAfresh) {
  OprfServerKey key = OprfServerKey::Generate();
  std::vector<HashedInput> hashed;
  std::vector<const HashedInput*> batch;
  std::vector<Bytes> inputs;
  for (int i = 0; i < 4; ++i) {
    inputs.push_back("cbx/v1/id\0phone\0+3897000000"s + std::to_string(i));
    hashed.push_back(*OprfHashInput(inputs.back()));
  }
  for (const HashedInput& h : hashed) batch.push_back(&h);
  batch.push_back(&hashed[0]);  // the same input twice: two blinds
  auto blinded = OprfBlindAdditive(batch);
  ASSERT_TRUE(blinded.ok()) << blinded.status();
  ASSERT_EQ(blinded->size(), batch.size());
  EXPECT_NE((*blinded)[0].blind, (*blinded)[4].blind);
  EXPECT_NE((*blinded)[0].blinded_point, (*blinded)[4].blinded_point);
  inputs.push_back(inputs[0]);
  std::vector<Bytes> blinds, points, elements;
  for (const BlindedInput& b : *blinded) {
    Bytes compressed(1, static_cast<char>(0x02 | (b.blinded_point[64] & 1)));
    compressed += b.blinded_point.substr(1, 32);
    EXPECT_EQ(b.blinded_element, compressed);
    blinds.push_back(b.blind);
    points.push_back(b.blinded_point);
    elements.push_back(b.blinded_element);
  }
  auto eval = key.BlindEvaluate(points);
  ASSERT_TRUE(eval.ok());
  auto outputs = OprfFinalizeAdditive(inputs, blinds, points, points,
                                      eval->evaluated_elements, eval->proof,
                                      key.public_key());
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ((*outputs)[i], *key.Evaluate(inputs[i])) << i;
  }
  EXPECT_TRUE(OprfBlindAdditive(std::vector<const HashedInput*>())->empty());
  HashedInput bad = hashed[1];
  bad.point[64] ^= 0x01;
  EXPECT_EQ(OprfBlindAdditive({&hashed[0], &bad}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VoprfTest, BlindEvaluateRefusesInvalidElements) {
  OprfServerKey key = OprfServerKey::Generate();
  ASSERT_TRUE(key.BlindEvaluate({Unhex(kOnCurveX5)}).ok());
  for (const Bytes& bad : InvalidElements()) {
    SCOPED_TRACE(HexEncode(bad));
    EXPECT_EQ(key.BlindEvaluate({bad}).status().code(),
              absl::StatusCode::kInvalidArgument);
    // Also when it hides behind a valid element.
    EXPECT_EQ(key.BlindEvaluate({Unhex(kOnCurveX5), bad}).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(VoprfTest, FinalizeRefusesInvalidElements) {
  Exchange ex(1);
  for (const Bytes& bad : InvalidElements()) {
    SCOPED_TRACE(HexEncode(bad));
    auto r = OprfFinalize(ex.inputs, ex.blinds, ex.blinded, {bad},
                          ex.eval.proof, ex.key.public_key());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    r = OprfFinalize(ex.inputs, ex.blinds, {bad}, ex.eval.evaluated_elements,
                     ex.eval.proof, ex.key.public_key());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(VoprfTest, EmptyBatchIsInvalidArgument) {
  OprfServerKey key = OprfServerKey::Generate();
  EXPECT_EQ(key.BlindEvaluate({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::Generate(OprfMode::kOprf)
                .BlindEvaluate({})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfFinalize({}, {}, {}, {}, "", key.public_key()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VoprfTest, MismatchedSizesAreInvalidArgument) {
  Exchange ex(2);
  const Bytes& pk = ex.key.public_key();
  const auto& ev = ex.eval.evaluated_elements;
  auto one = [](const std::vector<Bytes>& v) {
    return std::vector<Bytes>(v.begin(), v.begin() + 1);
  };
  EXPECT_EQ(
      OprfFinalize(one(ex.inputs), ex.blinds, ex.blinded, ev, ex.eval.proof, pk)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      OprfFinalize(ex.inputs, one(ex.blinds), ex.blinded, ev, ex.eval.proof, pk)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      OprfFinalize(ex.inputs, ex.blinds, one(ex.blinded), ev, ex.eval.proof, pk)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      OprfFinalize(ex.inputs, ex.blinds, ex.blinded, one(ev), ex.eval.proof, pk)
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(VoprfTest, PrivateKeyRange) {
  const Bytes n = Unhex(kOrderHex);
  Bytes n_minus_1 = n;
  n_minus_1.back() -= 1;
  Bytes n_plus_1 = n;
  n_plus_1.back() += 1;
  EXPECT_EQ(OprfServerKey::FromPrivateBytes(Bytes(32, '\0')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::FromPrivateBytes(n).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::FromPrivateBytes(n_plus_1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::FromPrivateBytes(Bytes(32, '\xff')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::FromPrivateBytes(Bytes(31, '\x01')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::FromPrivateBytes(Bytes(33, '\x01')).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The extremes of the range are keys: 1 gives the generator, n-1 its
  // negation (same x, the other y).
  auto one = OprfServerKey::FromPrivateBytes(Bytes(31, '\0') + "\x01");
  auto minus_one = OprfServerKey::FromPrivateBytes(n_minus_1);
  ASSERT_TRUE(one.ok() && minus_one.ok());
  EXPECT_EQ(
      HexEncode(one->public_key()),
      "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
  EXPECT_EQ(
      HexEncode(minus_one->public_key()),
      "026b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
}

TEST(VoprfTest, DeriveKeyPairChecksSeed) {
  EXPECT_EQ(
      OprfServerKey::DeriveKeyPair(Bytes(31, 'a'), "info").status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfServerKey::DeriveKeyPair(Bytes(32, 'a'), Bytes(65536, 'i'))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto a = OprfServerKey::DeriveKeyPair(Bytes(32, 'a'), "epoch 1");
  auto b = OprfServerKey::DeriveKeyPair(Bytes(32, 'a'), "epoch 2");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key(), b->public_key());
}

TEST(VoprfTest, BlindAndProofScalarRange) {
  const Bytes zero(32, '\0');
  const Bytes n = Unhex(kOrderHex);
  EXPECT_EQ(OprfBlindWithScalar("input", zero).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfBlindWithScalar("input", n).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OprfBlindWithScalar("input", "short").status().code(),
            absl::StatusCode::kInvalidArgument);

  Exchange ex(1);
  EXPECT_EQ(
      OprfFinalize(ex.inputs, {zero}, ex.blinded, ex.eval.evaluated_elements,
                   ex.eval.proof, ex.key.public_key())
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ex.key.BlindEvaluateWithProofScalar(ex.blinded, zero).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.key.BlindEvaluateWithProofScalar(ex.blinded, n).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(VoprfTest, OverlongInputIsInvalidArgument) {
  const Bytes input(kOprfMaxInputSize + 1, 'x');
  OprfServerKey key = OprfServerKey::Generate();
  EXPECT_EQ(OprfBlind(input).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(key.Evaluate(input).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(key.Evaluate(input.substr(1)).ok());
}

TEST(VoprfTest, OprfModeIgnoresProofAndPublicKey) {
  OprfServerKey key = OprfServerKey::Generate(OprfMode::kOprf);
  auto blinded = OprfBlind("input", OprfMode::kOprf);
  ASSERT_TRUE(blinded.ok());
  auto eval = key.BlindEvaluate({blinded->blinded_element});
  ASSERT_TRUE(eval.ok());
  EXPECT_TRUE(eval->proof.empty());
  auto out = OprfFinalize({"input"}, {blinded->blind},
                          {blinded->blinded_element}, eval->evaluated_elements,
                          "not a proof", "not a key", OprfMode::kOprf);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0], *key.Evaluate("input"));
}

TEST(VoprfTest, KeyIsUsableFromManyThreads) {
  Exchange ex(4);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        auto e = ex.key.BlindEvaluate(ex.blinded);
        if (!e.ok()) return;
        auto out =
            OprfFinalize(ex.inputs, ex.blinds, ex.blinded,
                         e->evaluated_elements, e->proof, ex.key.public_key());
        if (!out.ok() || (*out)[3] != *ex.key.Evaluate(ex.inputs[3])) return;
      }
      ok[t] = 1;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

}  // namespace
}  // namespace cbx::crypto
