// The node's key files (spec/keys.md §3), read by ReadNodeKeys: strict
// content, an OPRF scalar in [1, n-1], and no access for group or others;
// each refusal names the config field and the file.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"
#include "node/node.h"

namespace cbx::node {
namespace {

class NodeKeysTest : public ::testing::Test {
 protected:
  NodeKeysTest() {
    std::string tmpl =
        (std::filesystem::path(::testing::TempDir()) / "cbx_keys_XXXXXX")
            .string();
    dir_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
    config_.node_signing_key = dir_ + "/node-signing.key";
    config_.oprf_key = dir_ + "/oprf.key";
    Write(config_.node_signing_key,
          HexEncode(directory::testing::TestSeed("MK/node/1")) + "\n");
    Write(config_.oprf_key,
          HexEncode(directory::testing::TestOprfScalar("MK", 1)) + "\n");
  }
  ~NodeKeysTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  static void Write(const std::string& path, const std::string& contents,
                    unsigned mode = 0600) {
    std::filesystem::remove(path);
    std::ofstream(path, std::ios::binary) << contents;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }

  std::string dir_;
  Config config_;
};

TEST_F(NodeKeysTest, ReadsWellFormedPrivateKeyFiles) {
  absl::StatusOr<NodeKeys> keys = ReadNodeKeys(config_);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->signing->public_key().bytes(),
            directory::testing::TestKey("MK/node/1").public_key().bytes());
  EXPECT_EQ(keys->oprf->public_key(),
            directory::testing::TestOprfPublicKey("MK", 1));
}

TEST_F(NodeKeysTest, RefusesWhitespaceTheOldReaderStripped) {
  const std::string hex = HexEncode(directory::testing::TestSeed("MK/node/1"));
  for (const std::string& contents :
       {"  " + hex + "\n", hex + "\r\n", hex + "\n\n", "\t" + hex,
        hex.substr(0, 32) + " " + hex.substr(32)}) {
    Write(config_.node_signing_key, contents);
    absl::StatusOr<NodeKeys> keys = ReadNodeKeys(config_);
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(keys.status().message().find(
                  "keys.node_signing_key: " + config_.node_signing_key +
                  ": not a node signing key file"),
              std::string::npos)
        << keys.status();
  }
}

TEST_F(NodeKeysTest, RefusesAnOprfScalarOfZeroOrNotBelowTheOrder) {
  // n, the P-256 group order, and 0.
  for (const std::string& hex :
       {std::string(64, '0'),
        std::string("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2"
                    "fc632551"),
        std::string(64, 'f')}) {
    Write(config_.oprf_key, hex + "\n");
    absl::StatusOr<NodeKeys> keys = ReadNodeKeys(config_);
    EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument) << hex;
    EXPECT_NE(
        keys.status().message().find("keys.oprf_key: " + config_.oprf_key),
        std::string::npos)
        << keys.status();
  }
}

TEST_F(NodeKeysTest, RefusesAKeyFileGroupOrOthersMayRead) {
  ASSERT_EQ(::chmod(config_.oprf_key.c_str(), 0640), 0);
  absl::StatusOr<NodeKeys> keys = ReadNodeKeys(config_);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(keys.status().message(),
            "keys.oprf_key: " + config_.oprf_key +
                " has mode 0640: an OPRF key file must not be readable by "
                "group or others; run: chmod 600 " +
                config_.oprf_key);
  ASSERT_EQ(::chmod(config_.oprf_key.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(config_.node_signing_key.c_str(), 0604), 0);
  EXPECT_EQ(ReadNodeKeys(config_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cbx::node
