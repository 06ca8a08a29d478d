#include "core/crypto/hash_to_curve.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::crypto {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

const std::string kDir = std::string(CBX_VECTORS_DIR) + "/oprf/";

void CheckExpandVectors(const std::string& file) {
  nlohmann::json doc = LoadJson(kDir + file);
  const Bytes dst = Unhex(doc["dst_hex"].get<std::string>());
  ASSERT_EQ(doc["vectors"].size(), 10u);
  for (const auto& v : doc["vectors"]) {
    SCOPED_TRACE(v["msg"].get<std::string>().substr(0, 20));
    const Bytes msg = Unhex(v["msg_hex"].get<std::string>());
    EXPECT_EQ(msg, v["msg"].get<std::string>());
    auto out =
        ExpandMessageXmdSha256(msg, dst, v["len_in_bytes"].get<size_t>());
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(HexEncode(*out), v["uniform_bytes"].get<std::string>());
  }
}

// RFC 9380 Appendix K.1.
TEST(ExpandMessageXmdTest, Rfc9380K1Vectors) {
  CheckExpandVectors("rfc9380_expand_message_xmd_sha256.json");
}

// RFC 9380 Appendix K.2: a 256-byte DST, reduced per section 5.3.3.
TEST(ExpandMessageXmdTest, Rfc9380K2LongDstVectors) {
  nlohmann::json doc =
      LoadJson(kDir + "rfc9380_expand_message_xmd_sha256_long_dst.json");
  ASSERT_GT(doc["dst"].get<std::string>().size(), 255u);
  CheckExpandVectors("rfc9380_expand_message_xmd_sha256_long_dst.json");
}

TEST(ExpandMessageXmdTest, LengthLimits) {
  EXPECT_EQ(ExpandMessageXmdSha256("msg", "dst", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExpandMessageXmdSha256("msg", "dst", 8161).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto longest = ExpandMessageXmdSha256("msg", "dst", 8160);
  ASSERT_TRUE(longest.ok());
  EXPECT_EQ(longest->size(), 8160u);
  // Outputs of different lengths are unrelated (the length is hashed in).
  auto a = ExpandMessageXmdSha256("msg", "dst", 32);
  auto b = ExpandMessageXmdSha256("msg", "dst", 33);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, b->substr(0, 32));
}

TEST(ExpandMessageXmdTest, EmptyDstIsRefused) {
  EXPECT_EQ(ExpandMessageXmdSha256("msg", "", 32).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashToCurveP256("msg", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// RFC 9380 Appendix J.1.1, every intermediate value.
TEST(HashToCurveP256Test, Rfc9380J11Vectors) {
  nlohmann::json doc = LoadJson(kDir + "rfc9380_p256_xmd_sha256_sswu_ro.json");
  const Bytes dst = doc["dst"].get<std::string>();
  ASSERT_EQ(HexEncode(dst), doc["dst_hex"].get<std::string>());
  ASSERT_EQ(doc["vectors"].size(), 5u);
  auto affine = [](const nlohmann::json& point) {
    return "04" + point["x"].get<std::string>() + point["y"].get<std::string>();
  };
  for (const auto& v : doc["vectors"]) {
    const Bytes msg = Unhex(v["msg_hex"].get<std::string>());
    SCOPED_TRACE(v["msg"].get<std::string>().substr(0, 20));
    auto trace = HashToCurveP256WithTrace(msg, dst);
    ASSERT_TRUE(trace.ok()) << trace.status();
    EXPECT_EQ(HexEncode(trace->u0), v["u0"].get<std::string>());
    EXPECT_EQ(HexEncode(trace->u1), v["u1"].get<std::string>());
    EXPECT_EQ(HexEncode(trace->q0), affine(v["Q0"]));
    EXPECT_EQ(HexEncode(trace->q1), affine(v["Q1"]));
    EXPECT_EQ(HexEncode(trace->p), affine(v["P"]));

    auto uncompressed = HashToCurveP256Uncompressed(msg, dst);
    ASSERT_TRUE(uncompressed.ok());
    EXPECT_EQ(HexEncode(*uncompressed), affine(v["P"]));

    auto compressed = HashToCurveP256(msg, dst);
    ASSERT_TRUE(compressed.ok());
    const Bytes y = Unhex(v["P"]["y"].get<std::string>());
    const std::string prefix = (y.back() & 1) ? "03" : "02";
    EXPECT_EQ(HexEncode(*compressed), prefix + v["P"]["x"].get<std::string>());
  }
}

TEST(HashToCurveP256Test, DomainSeparation) {
  auto a = HashToCurveP256("input", "DST-A");
  auto b = HashToCurveP256("input", "DST-B");
  auto c = HashToCurveP256("input2", "DST-A");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->size(), 33u);
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(*a, *HashToCurveP256("input", "DST-A"));
}

}  // namespace
}  // namespace cbx::crypto
