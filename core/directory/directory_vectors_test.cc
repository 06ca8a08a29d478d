// Checks the committed spec vectors (spec/vectors/directory.json) against the
// implementation, and that the generator still produces them unchanged.
#include "core/directory/testing/directory_vectors.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/directory/directory.h"
#include "core/logcheck/log_generation.h"
#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::directory {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

nlohmann::json Vectors() {
  return LoadJson(std::string(CBX_SPEC_VECTORS_DIR) + "/directory.json");
}

v1::SignedDirectory ParseSigned(const std::string& hex) {
  v1::SignedDirectory s;
  EXPECT_TRUE(s.ParseFromString(Unhex(hex)));
  return s;
}

std::string CodeName(const absl::Status& s) {
  return s.ok() ? "OK" : absl::StatusCodeToString(s.code());
}

TEST(DirectoryVectorsTest, Keys) {
  auto doc = Vectors();
  ASSERT_GE(doc["keys"].size(), 9u);
  for (const auto& k : doc["keys"]) {
    SCOPED_TRACE(k["label"].get<std::string>());
    auto key = crypto::Ed25519PrivateKey::FromSeed(Unhex(k["seed"]));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(HexEncode(key->public_key().bytes()),
              k["public_key"].get<std::string>());
    EXPECT_EQ(HexEncode(NodeKeyId(Unhex(k["public_key"]))),
              k["key_id"].get<std::string>());
  }
}

TEST(DirectoryVectorsTest, GenesisAndChain) {
  auto doc = Vectors();
  v1::SignedDirectory genesis = ParseSigned(doc["genesis"]["signed_directory"]);
  EXPECT_EQ(HexEncode(genesis.directory()),
            doc["genesis"]["directory"].get<std::string>());
  EXPECT_EQ(HexEncode(DirectorySigningInput(genesis.directory())),
            doc["genesis"]["signing_input"].get<std::string>());
  auto dir = Directory::FromGenesis(genesis);
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::shared_ptr<const Directory> current = *dir;
  for (const auto& v : doc["chain"]) {
    auto next = current->Adopt(ParseSigned(v["signed_directory"]));
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ((*next)->version(), v["version"].get<uint64_t>());
    current = *next;
  }
  EXPECT_EQ(current->version(), 3u);
}

TEST(DirectoryVectorsTest, Cases) {
  auto doc = Vectors();
  std::vector<std::shared_ptr<const Directory>> chain;
  chain.push_back(
      *Directory::FromGenesis(ParseSigned(doc["genesis"]["signed_directory"])));
  for (const auto& v : doc["chain"]) {
    chain.push_back(*chain.back()->Adopt(ParseSigned(v["signed_directory"])));
  }
  ASSERT_GE(doc["cases"].size(), 20u);
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const uint64_t base = c["base_version"].get<uint64_t>();
    const v1::SignedDirectory s = ParseSigned(c["signed_directory"]);
    absl::Status got;
    if (base == 0) {
      got = Directory::FromGenesis(s).status();
    } else {
      ASSERT_LE(base, chain.size());
      auto adopted = chain[base - 1]->Adopt(s);
      got = adopted.status();
      // Step 8 of spec/directory.md §5.2, applied by every node above
      // Directory::Adopt (DirectoryState's successor rule).
      if (got.ok()) {
        got = logcheck::CheckGenerationSuccessor(chain[base - 1]->proto(),
                                                 (*adopted)->proto());
      }
    }
    EXPECT_EQ(CodeName(got), c["expected"].get<std::string>()) << got;
  }
}

TEST(DirectoryVectorsTest, GeneratorReproducesCommittedFile) {
  EXPECT_EQ(testing::MakeDirectoryVectors(), Vectors())
      << "regenerate with cbx_gen_spec_vectors and review the diff";
}

}  // namespace
}  // namespace cbx::directory
