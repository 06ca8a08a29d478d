#include "core/logcheck/log_keys.h"

#include <memory>

#include "core/directory/testing/test_federation.h"
#include "core/note/key_id.h"
#include "gtest/gtest.h"

namespace cbx::logcheck {
namespace {

namespace fed = directory::testing;

std::shared_ptr<const directory::Directory> Genesis() {
  auto dir = directory::Directory::FromGenesis(fed::SignedGenesis());
  EXPECT_TRUE(dir.ok()) << dir.status();
  return *dir;
}

std::shared_ptr<const directory::Directory> V2() {
  auto v2 = Genesis()->Adopt(fed::SignedV2());
  EXPECT_TRUE(v2.ok()) << v2.status();
  return *v2;
}

TEST(LogKeysTest, Names) {
  EXPECT_EQ(LogOrigin("MK"), "cbx/MK/audit");
  EXPECT_EQ(WitnessName("RS"), "cbx/RS/witness");
  EXPECT_EQ(KeyIdHex(0x0a1b2c3d), "0a1b2c3d");
  EXPECT_EQ(KeyIdHex(0), "00000000");
}

TEST(LogKeysTest, LogKeysAreTheMembersNodeKeysWitnessKeysTheOthers) {
  auto keys = KeysOfLog(*Genesis(), "MK");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->member, "MK");
  EXPECT_EQ(keys->origin, "cbx/MK/audit");
  EXPECT_EQ(keys->directory_version, 1u);
  EXPECT_EQ(keys->threshold, 2u);
  EXPECT_EQ(keys->eligible_witnesses(), 2u);
  ASSERT_EQ(keys->log_keys.size(), 1u);
  EXPECT_EQ(keys->log_keys[0].name(), "cbx/MK/audit");
  EXPECT_EQ(keys->log_keys[0].type(), note::SignatureType::kEd25519);
  EXPECT_EQ(keys->log_keys[0].key_id(),
            note::KeyId("cbx/MK/audit", note::SignatureType::kEd25519,
                        fed::TestKey("MK/node/1").public_key().bytes()));
  ASSERT_EQ(keys->witness_keys.size(), 2u);
  EXPECT_EQ(keys->witness_keys[0].member, "RS");
  EXPECT_EQ(keys->witness_keys[0].verifier.name(), "cbx/RS/witness");
  EXPECT_EQ(keys->witness_keys[0].verifier.type(),
            note::SignatureType::kCosignatureV1);
  EXPECT_EQ(keys->witness_keys[1].member, "AL");
}

TEST(LogKeysTest, EveryNodeKeyCountsAndSuspendedMembersStillWitness) {
  // v2: MK has two node keys, RS pre-publishes a second one, AL is suspended.
  auto keys = KeysOfLog(*V2(), "MK");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->log_keys.size(), 2u);
  ASSERT_EQ(keys->witness_keys.size(), 3u);
  EXPECT_EQ(keys->witness_keys[0].member, "RS");
  EXPECT_EQ(keys->witness_keys[1].member, "RS");
  EXPECT_EQ(keys->witness_keys[2].member, "AL");
}

TEST(LogKeysTest, UnknownMemberIsInvalidArgument) {
  auto keys = KeysOfLog(*Genesis(), "ZZ");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(keys.status().message(),
            "the log's member 'ZZ' is not in directory version 1");
}

}  // namespace
}  // namespace cbx::logcheck
