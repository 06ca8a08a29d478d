// The auditor across a node key rotation (spec/keys.md §4): MK's log is
// signed with MK/node/1, then — in the overlap of directory v2 — with both
// MK/node/1 and MK/node/2, then with MK/node/2 alone, while a later
// version drops MK/node/1. The auditor's trusted checkpoint (signed by the
// old key) is extended to one signed by the new key, and an export whose
// entries span both keys verifies from the pinned genesis.
#include <string>
#include <vector>

#include "client/audit/export.h"
#include "client/audit/test_log.h"
#include "client/audit/verify.h"
#include "core/directory/testing/test_federation.h"
#include "core/note/note.h"
#include "gtest/gtest.h"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
using testing::TestLog;
using testing::Witness;

// v4: v3 without MK/node/1 (the end of MK's rotation), signed with v3's
// governance keys.
v1::SignedDirectory V4WithoutMkNode1() {
  v1::Directory d = fed::V3Directory();
  d.set_version(4);
  d.set_issued_at_ms(fed::kV3IssuedAtMs + 86'400'000);
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() == "MK") {
      m.mutable_node_keys()->erase(m.mutable_node_keys()->begin());
    }
  }
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/2"}});
}

class RotationTest : public ::testing::Test {
 protected:
  RotationTest() : log_("MK", "MK/node/1") {
    for (int i = 0; i < 9; ++i) {
      log_.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS",
                                     "envelope " + std::to_string(i),
                                     testing::kTestNowMs + i * 1000));
    }
    chain_ = {fed::SignedGenesis(), fed::SignedV2(), fed::SignedV3(),
              V4WithoutMkNode1()};
  }
  // The checkpoint of `size` signed by the log keys `labels` in that order,
  // cosigned by RS and AL.
  std::string Checkpoint(uint64_t size,
                         const std::vector<std::string>& labels) {
    const std::string text = log_.CheckpointText(size);
    std::string note;
    for (const std::string& label : labels) {
      note = testing::AddNoteSignature(note, text, "cbx/MK/audit", label);
    }
    note = testing::AddCosignature(note, text, Witness("RS"));
    return testing::AddCosignature(note, text, Witness("AL"));
  }
  std::shared_ptr<const directory::Directory> Latest(size_t versions) {
    auto chain = VerifyDirectoryChain(
        fed::SignedGenesis(), std::vector<v1::SignedDirectory>(
                                  chain_.begin(), chain_.begin() + versions));
    EXPECT_TRUE(chain.ok()) << chain.status();
    return chain->latest;
  }

  TestLog log_;
  std::vector<v1::SignedDirectory> chain_;
};

TEST_F(RotationTest, TrustMovesFromTheOldKeysCheckpointToTheNewKeys) {
  // Before the rotation: trusted under the genesis, signed by MK/node/1.
  const std::string old_note = Checkpoint(3, {"MK/node/1"});
  auto trusted =
      VerifyCheckpoint(*Latest(1), "MK", old_note, testing::kTestNowMs);
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  ASSERT_TRUE(trusted->witnessed);
  // In the overlap (v2): both keys sign; an auditor holding the genesis
  // and one holding v2 both verify it.
  const std::string overlap_note = Checkpoint(6, {"MK/node/2", "MK/node/1"});
  for (size_t versions : {1, 2, 3, 4}) {
    auto r = VerifyCheckpoint(*Latest(versions), "MK", overlap_note,
                              testing::kTestNowMs);
    ASSERT_TRUE(r.ok()) << "directory version " << versions << ": "
                        << r.status();
    EXPECT_TRUE(r->witnessed);
  }
  // After it, MK/node/2 alone; v4 has dropped MK/node/1.
  const std::string new_note = Checkpoint(9, {"MK/node/2"});
  auto latest =
      VerifyCheckpoint(*Latest(4), "MK", new_note, testing::kTestNowMs);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_TRUE(latest->witnessed);
  // The trusted checkpoint is extended by a Merkle proof, whatever key
  // signed either.
  auto consistent = CheckConsistency(trusted->checkpoint, latest->checkpoint,
                                     log_.ConsistencyProof(3, 9));
  ASSERT_TRUE(consistent.ok()) << consistent.status();
  EXPECT_EQ(*consistent, Consistency::kExtended);
  // A checkpoint signed by the dropped key alone verifies no more under v4:
  // why the node adds the new key's signature to its latest checkpoint.
  EXPECT_EQ(VerifyCheckpoint(*Latest(4), "MK", old_note, testing::kTestNowMs)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(RotationTest, AnExportWhoseEntriesSpanBothKeysVerifies) {
  // Entries 0-2 were logged under MK/node/1, 3-8 under MK/node/2; the
  // export's checkpoint is the latest, by MK/node/2, and the chain ends
  // with v4.
  const std::string note = Checkpoint(9, {"MK/node/2"});
  AuditExport file = log_.Export(0, 9, 9, note, chain_);
  ExportCheckOptions options;
  options.now_ms = testing::kTestNowMs;
  auto verified = VerifyExport(fed::SignedGenesis(), file, options);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->entries.size(), 9u);
  EXPECT_EQ(verified->directory.latest->version(), 4u);
  // The overlap checkpoint, signed by both, verifies in an export too.
  file =
      log_.Export(0, 6, 6, Checkpoint(6, {"MK/node/2", "MK/node/1"}), chain_);
  EXPECT_TRUE(VerifyExport(fed::SignedGenesis(), file, options).ok());
}

}  // namespace
}  // namespace cbx::client::audit
