#include "core/util/bytes.h"

#include "gtest/gtest.h"

namespace cbx {
namespace {

TEST(HexTest, RoundTrip) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  auto decoded = HexDecode("00FF10");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string("\x00\xff\x10", 3));
}

TEST(HexTest, RejectsOddLengthAndBadDigits) {
  EXPECT_EQ(HexDecode("abc").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HexDecode("zz").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Base64Test, RoundTripAndCanonical) {
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  auto decoded = Base64Decode("aGVsbG8=");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "hello");
  EXPECT_EQ(Base64Decode("aGVsbG8").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Base64Decode("a*==").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IntegerTest, BigEndian) {
  Bytes out;
  AppendUint16BE(out, 0x0102);
  AppendUint32BE(out, 0x03040506);
  AppendUint64BE(out, 0x0708090a0b0c0d0eULL);
  EXPECT_EQ(HexEncode(out), "0102030405060708090a0b0c0d0e");
  EXPECT_EQ(ReadUint64BE(std::string_view(out).substr(6)),
            0x0708090a0b0c0d0eULL);
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace cbx
