// Checks the committed spec vectors (spec/vectors/audit.json) against
// core/merkle and core/note independently of the log, and that the
// generator (a real AuditLog under a fake clock) still produces them.
#include "node/audit/testing/audit_vectors.h"

#include <string>
#include <vector>

#include "core/merkle/hash.h"
#include "core/merkle/in_memory_tree.h"
#include "core/merkle/proof_builder.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"
#include "gtest/gtest.h"
#include "node/audit/leaf.h"
#include "node/audit/testing/test_util.h"
#include "tests/testing/vectors.h"

namespace cbx::node::audit {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

nlohmann::json Vectors() {
  return LoadJson(std::string(CBX_SPEC_VECTORS_DIR) + "/audit.json");
}

std::vector<Bytes> Hashes(const nlohmann::json& list) {
  std::vector<Bytes> out;
  for (const auto& hex : list) out.push_back(Unhex(hex));
  return out;
}

TEST(AuditVectorsTest, LeavesRootsProofsAndCheckpoint) {
  const nlohmann::json doc = Vectors();
  ASSERT_FALSE(doc.is_null());
  merkle::InMemoryTree tree;
  uint64_t seq = 0;
  for (const auto& item : doc["entries"]) {
    const Bytes leaf = Unhex(item["leaf"]);
    EXPECT_EQ(HexEncode(merkle::LeafHash(leaf)),
              item["leaf_hash"].get<std::string>());
    absl::StatusOr<v1::AuditEntry> entry = DecodeLeaf(leaf);
    ASSERT_TRUE(entry.ok());
    EXPECT_EQ(entry->sequence(), seq);
    // The leaf is the entry's encoding: re-encoding gives the same bytes.
    EXPECT_EQ(EncodeLeaf(*entry).value(), leaf);
    tree.AppendLeaf(leaf);
    ++seq;
  }
  ASSERT_EQ(seq, 10u);
  const auto& roots = doc["roots"];
  ASSERT_EQ(roots.size(), 11u);
  for (uint64_t size = 0; size <= 10; ++size) {
    EXPECT_EQ(Unhex(roots[size]), size == 0
                                      ? merkle::EmptyRoot()
                                      : merkle::RootHash(tree, size).value());
  }
  for (const auto& p : doc["inclusion"]) {
    const uint64_t index = p["index"], size = p["size"];
    EXPECT_TRUE(merkle::VerifyInclusion(
                    index, size,
                    merkle::LeafHash(Unhex(doc["entries"][index]["leaf"])),
                    Hashes(p["proof"]), Unhex(roots[size]))
                    .ok())
        << index << " " << size;
  }
  for (const auto& p : doc["consistency"]) {
    const uint64_t size1 = p["size1"], size2 = p["size2"];
    EXPECT_TRUE(merkle::VerifyConsistency(size1, size2, Hashes(p["proof"]),
                                          Unhex(roots[size1]),
                                          Unhex(roots[size2]))
                    .ok())
        << size1 << " " << size2;
  }
  absl::StatusOr<note::Verifier> verifier =
      note::Verifier::Parse(doc["verifier_key"].get<std::string>());
  ASSERT_TRUE(verifier.ok());
  absl::StatusOr<note::SignedCheckpoint> checkpoint =
      note::OpenCheckpoint(doc["checkpoint"].get<std::string>(),
                           doc["origin"].get<std::string>(), *verifier);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->checkpoint.size, 10u);
  EXPECT_EQ(checkpoint->checkpoint.root_hash, Unhex(roots[10]));
}

TEST(AuditVectorsTest, GeneratorReproducesTheCommittedFile) {
  testing::ScopedTempDir tmp;
  absl::StatusOr<nlohmann::json> built = testing::BuildAuditVectors(tmp.path());
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(*built, Vectors())
      << "regenerate with cbx_gen_audit_vectors spec/vectors/audit.json";
}

}  // namespace
}  // namespace cbx::node::audit
