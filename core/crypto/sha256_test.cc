#include "core/crypto/sha256.h"

#include "core/crypto/random.h"
#include "gtest/gtest.h"

namespace cbx::crypto {
namespace {

// FIPS 180-2 Appendix B examples.
TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256(
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, ConcatAndIncrementalAgree) {
  Sha256Hasher hasher;
  hasher.Update("ab");
  hasher.Update("c");
  Bytes incremental = hasher.Finish();
  EXPECT_EQ(incremental, Sha256("abc"));
  EXPECT_EQ(Sha256Concat({"a", "", "bc"}), Sha256("abc"));
  // The hasher resets after Finish.
  hasher.Update("abc");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
}

TEST(RandomTest, LengthAndVariety) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  Bytes a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace cbx::crypto
