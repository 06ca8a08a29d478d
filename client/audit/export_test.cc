#include "client/audit/export.h"

#include <string>
#include <vector>

#include "client/audit/test_log.h"
#include "core/crypto/sha256.h"
#include "core/directory/testing/directory_vectors.h"
#include "core/directory/testing/test_federation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
using ::testing::HasSubstr;
using testing::TestCosigner;
using testing::TestLog;
using testing::Witness;

std::string Msg(const absl::Status& s) {
  return std::string(s.message().data(), s.message().size());
}

class ExportTest : public ::testing::Test {
 protected:
  ExportTest() : log_("MK") {
    for (int i = 0; i < 12; ++i) {
      log_.Append(testing::MakeEntry(
          i % 3 == 0 ? v1::AUDIT_DIRECTION_RECEIVED : v1::AUDIT_DIRECTION_SENT,
          i % 2 == 0 ? "RS" : "AL", "envelope " + std::to_string(i),
          testing::kTestNowMs + i * 1000));
    }
  }

  std::vector<v1::SignedDirectory> Chain() const {
    return {fed::SignedGenesis(), fed::SignedV2(), fed::SignedV3()};
  }

  // Entries [3, 10) against checkpoint 12, witnessed by RS and AL.
  AuditExport Valid() const {
    return log_.Export(3, 10, 12,
                       log_.Checkpoint(12, {Witness("RS"), Witness("AL")}),
                       Chain());
  }

  absl::StatusOr<VerifiedExport> Verify(AuditExport e,
                                        bool require_witnessed = true) const {
    ExportCheckOptions o;
    o.now_ms = testing::kTestNowMs;
    o.require_witnessed = require_witnessed;
    return VerifyExport(fed::SignedGenesis(), std::move(e), o);
  }

  TestLog log_;
};

TEST_F(ExportTest, ValidExportVerifies) {
  auto v = Verify(Valid());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->begin, 3u);
  EXPECT_EQ(v->end, 10u);
  ASSERT_EQ(v->entries.size(), 7u);
  EXPECT_EQ(v->entries[0].index, 3u);
  EXPECT_EQ(v->entries[0].entry.sequence(), 3u);
  EXPECT_EQ(v->entries[0].entry.direction(), v1::AUDIT_DIRECTION_RECEIVED);
  EXPECT_EQ(v->checkpoint.checkpoint.size, 12u);
  EXPECT_EQ(v->directory.latest->version(), 3u);
  EXPECT_TRUE(v->checkpoint.witnessed);
}

TEST_F(ExportTest, EmptyRangeVerifiesTheCheckpointOnly) {
  auto v = Verify(log_.Export(
      5, 5, 12, log_.Checkpoint(12, {Witness("RS"), Witness("AL")}), Chain()));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->entries.empty());
  EXPECT_EQ(v->begin, 0u);
  EXPECT_EQ(v->end, 0u);
}

TEST_F(ExportTest, FormatThenParseRoundTrips) {
  AuditExport e = Valid();
  const std::string text = FormatExport(e);
  auto parsed = ParseExport(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->member, "MK");
  EXPECT_EQ(parsed->checkpoint, e.checkpoint);
  ASSERT_EQ(parsed->directory_versions.size(), 3u);
  EXPECT_EQ(parsed->directory_versions[2].SerializeAsString(),
            fed::SignedV3().SerializeAsString());
  ASSERT_EQ(parsed->entries.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(parsed->entries[i].index, e.entries[i].index);
    EXPECT_EQ(parsed->entries[i].leaf, e.entries[i].leaf);
    EXPECT_EQ(parsed->entries[i].inclusion_proof, e.entries[i].inclusion_proof);
  }
  // The documented shape.
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["format"], "cbx-audit-export/1");
  EXPECT_EQ(doc["entries"][0]["index"], 3);
  EXPECT_EQ(doc["entries"][0]["leaf_hex"], HexEncode(e.entries[0].leaf));
  EXPECT_EQ(doc["directory_versions"][0],
            HexEncode(fed::SignedGenesis().SerializeAsString()));
  EXPECT_TRUE(Verify(*std::move(parsed)).ok());
}

TEST_F(ExportTest, FlippedByteInTheFileFails) {
  std::string text = FormatExport(Valid());
  // Flip one hex digit of entry 5's leaf (the third entry line).
  size_t line = text.find("{\"index\":5,");
  ASSERT_NE(line, std::string::npos);
  size_t leaf = text.find("\"leaf_hex\":\"", line) + 12 + 10;
  text[leaf] = text[leaf] == '0' ? '1' : '0';
  auto parsed = ParseExport(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto v = Verify(*std::move(parsed));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(v.status()),
              HasSubstr("entry 5: the leaf and its inclusion proof do not "
                        "lead to the root of the tree of size 12"));
}

TEST_F(ExportTest, WrongProofFails) {
  AuditExport e = Valid();
  std::swap(e.entries[1].inclusion_proof, e.entries[2].inclusion_proof);
  auto v = Verify(std::move(e));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(v.status()), HasSubstr("entry 4: "));
}

TEST_F(ExportTest, CheckpointSignedByAnotherKeyFails) {
  TestLog forged("MK", "AL/node/1");
  for (uint64_t i = 0; i < log_.size(); ++i) forged.AppendLeaf(log_.leaf(i));
  AuditExport e = forged.Export(
      3, 10, 12, forged.Checkpoint(12, {Witness("RS"), Witness("AL")}),
      Chain());
  auto v = Verify(std::move(e));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(v.status()),
              HasSubstr("checkpoint: the checkpoint is not signed by a node "
                        "key of MK in directory version 3"));
}

TEST_F(ExportTest, CosignatureByNonMemberDoesNotWitness) {
  TestCosigner zz{"cbx/ZZ/witness", "ZZ/node/1", testing::kTestNowMs / 1000};
  AuditExport e =
      log_.Export(3, 10, 12, log_.Checkpoint(12, {Witness("RS"), zz}), Chain());
  auto v = Verify(e);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(v.status()),
              HasSubstr("checkpoint: checkpoint 12 of cbx/MK/audit is not "
                        "witnessed: 1 witness cosigned it (RS), directory "
                        "version 3 requires 2 (witness_threshold); ignored "
                        "cbx/ZZ/witness+"));
  EXPECT_THAT(Msg(v.status()),
              HasSubstr("ZZ is not a member of directory version 3"));
  // Accepting unwitnessed checkpoints, the rest verifies.
  auto allowed = Verify(e, /*require_witnessed=*/false);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_FALSE(allowed->checkpoint.witnessed);
  ASSERT_EQ(allowed->checkpoint.ignored.size(), 1u);
}

TEST_F(ExportTest, DirectoryChainNotFromThePinnedGenesisFails) {
  v1::Directory other = fed::GenesisDirectory();
  other.set_federation("another-federation");
  AuditExport e = Valid();
  e.directory_versions = {fed::SignAs(
      other, {{"MK", "MK/governance/1"}, {"AL", "AL/governance/1"}})};
  auto v = Verify(std::move(e));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(Msg(v.status()),
            "directory: directory chain, item 1: version 1 is not the pinned "
            "genesis (--genesis): this log belongs to another federation, or "
            "its genesis was replaced");
}

TEST_F(ExportTest, MemberThatDoesNotMatchTheCheckpointFails) {
  AuditExport e = Valid();
  e.member = "RS";
  auto v = Verify(std::move(e));
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(Msg(v.status()),
              HasSubstr("checkpoint: the checkpoint is not signed by a node "
                        "key of RS"));
}

TEST_F(ExportTest, EntriesMustBeConsecutiveAndInTheTree) {
  AuditExport gap = Valid();
  gap.entries.erase(gap.entries.begin() + 2);
  auto v = Verify(std::move(gap));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(Msg(v.status()),
            "entry 6: follows entry 4 (entries[2]): an export's entries must "
            "be consecutive and ascending");

  AuditExport beyond = log_.Export(
      3, 9, 9, log_.Checkpoint(9, {Witness("RS"), Witness("AL")}), Chain());
  beyond.entries.push_back(ExportedEntry{9, log_.leaf(9), {}});
  auto b = Verify(std::move(beyond));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(Msg(b.status()), "entry 9: beyond the checkpoint's size 9");
}

TEST_F(ExportTest, EntryWhoseSequenceIsNotItsIndexFails) {
  TestLog log("MK");
  v1::AuditEntry e = testing::MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "x",
                                        testing::kTestNowMs);
  log.Append(e);
  e.set_sequence(0);  // a second entry claiming to be entry 0
  log.AppendLeaf(e.SerializeAsString());
  auto v = Verify(log.Export(
      0, 2, 2, log.Checkpoint(2, {Witness("RS"), Witness("AL")}), {}));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(Msg(v.status()),
            "entry 1: the entry says sequence 0, not its index 1");
}

// Entry 0 of a recovered log against the directory version that announced
// it (spec/audit-log.md §12): the auditor, not only the node, checks it.
class FirstEntryTest : public ::testing::Test {
 protected:
  FirstEntryTest() {
    v1::SignedDirectory v2 =
        fed::SignAs(fed::V2WithMkLogGeneration(2, {"RS", "AL"}),
                    {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
    auto dir = VerifyDirectoryChain(fed::SignedGenesis(), {v2});
    EXPECT_TRUE(dir.ok()) << dir.status();
    if (dir.ok()) dir_ = *dir;
    entry_.set_kind("log_predecessor");
    v1::AuditLogPredecessor* p = entry_.mutable_log_predecessor();
    p->set_generation(2);
    p->set_predecessor_origin("cbx/MK/audit");
    p->set_predecessor_size(12);
    p->set_predecessor_root_hash(crypto::Sha256("cbx vector root"));
    p->set_directory_version(2);
  }

  absl::Status Check(const v1::AuditEntry& e,
                     const std::string& origin = "cbx/MK/audit/2") const {
    return CheckFirstEntry(dir_, "MK", origin, e);
  }

  VerifiedDirectory dir_;
  v1::AuditEntry entry_;
};

TEST_F(FirstEntryTest, TheAnnouncedPredecessorIsAccepted) {
  EXPECT_TRUE(Check(entry_).ok()) << Check(entry_);
}

TEST_F(FirstEntryTest, APredecessorOtherThanTheAnnouncedOneFails) {
  v1::AuditEntry e = entry_;
  e.mutable_log_predecessor()->set_predecessor_size(11);
  EXPECT_EQ(Check(e).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(Check(e)), HasSubstr("directory announced cbx/MK/audit/2 "
                                       "after cbx/MK/audit checkpoint 12"));
  e = entry_;
  e.mutable_log_predecessor()->set_predecessor_root_hash(std::string(32, 'x'));
  EXPECT_THAT(Msg(Check(e)), HasSubstr("with another root"));
  e = entry_;
  e.mutable_log_predecessor()->set_generation(3);
  EXPECT_EQ(Check(e).code(), absl::StatusCode::kDataLoss);
}

TEST_F(FirstEntryTest, ARecoveredLogMustStartWithItsPredecessor) {
  v1::AuditEntry e;
  e.set_kind("evaluate_request");
  EXPECT_EQ(Check(e).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(Check(e)), HasSubstr("not the log_predecessor entry"));
}

TEST_F(FirstEntryTest, TheFirstGenerationHasNoPredecessorEntry) {
  EXPECT_EQ(Check(entry_, "cbx/MK/audit").code(), absl::StatusCode::kDataLoss);
  v1::AuditEntry e;
  e.set_kind("evaluate_request");
  EXPECT_TRUE(Check(e, "cbx/MK/audit").ok());
}

TEST_F(FirstEntryTest, AGenerationNoVersionAnnouncesCannotBeChecked) {
  v1::AuditEntry e = entry_;
  e.mutable_log_predecessor()->set_generation(3);
  EXPECT_EQ(Check(e, "cbx/MK/audit/3").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(DirectoryChainTest, AVersionSkippingALogGenerationDoesNotFollow) {
  v1::SignedDirectory v2 =
      fed::SignAs(fed::V2WithMkLogGeneration(3, {"RS", "AL"}),
                  {{"RS", "RS/governance/1"}, {"AL", "AL/governance/1"}});
  auto dir = VerifyDirectoryChain(fed::SignedGenesis(), {v2});
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(dir.status()), HasSubstr("skips generations"));
}

TEST(ParseExportTest, ReportsTheFieldThatIsWrong) {
  auto not_json = ParseExport("{\"format\": ");
  ASSERT_FALSE(not_json.ok());
  EXPECT_THAT(Msg(not_json.status()), HasSubstr("not JSON: "));

  auto format = ParseExport(
      R"({"format": "cbx-audit-export/2", "member": "MK", "checkpoint": "",
          "directory_versions": [], "entries": []})");
  ASSERT_FALSE(format.ok());
  EXPECT_EQ(Msg(format.status()),
            "format: \"cbx-audit-export/2\" is not a format this cbx reads "
            "(cbx-audit-export/1)");

  auto missing = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "MK",
          "directory_versions": [], "entries": []})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(Msg(missing.status()),
            "the export: the field \"checkpoint\" is missing");

  auto unknown = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "MK", "checkpoint": "",
          "directory_versions": [], "entries": [], "extra": 1})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(Msg(unknown.status()), "the export: unknown field \"extra\"");

  auto member = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "mk", "checkpoint": "",
          "directory_versions": [], "entries": []})");
  ASSERT_FALSE(member.ok());
  EXPECT_THAT(Msg(member.status()),
              HasSubstr("member: \"mk\" is not a member"));

  auto hex = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "MK", "checkpoint": "",
          "directory_versions": [],
          "entries": [{"index": 0, "leaf_hex": "0g", "inclusion_proof": []}]})");
  ASSERT_FALSE(hex.ok());
  EXPECT_THAT(Msg(hex.status()), HasSubstr("entries[0].leaf_hex: not hex"));

  auto proof = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "MK", "checkpoint": "",
          "directory_versions": [],
          "entries": [{"index": 0, "leaf_hex": "00",
                       "inclusion_proof": ["00", 5]}]})");
  ASSERT_FALSE(proof.ok());
  EXPECT_EQ(Msg(proof.status()), "entries[0].inclusion_proof[1]: not a string");

  auto index = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "MK", "checkpoint": "",
          "directory_versions": [],
          "entries": [{"index": -1, "leaf_hex": "00", "inclusion_proof": []}]})");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(Msg(index.status()),
            "entries[0].index: not a non-negative integer");

  auto dir = ParseExport(
      R"({"format": "cbx-audit-export/1", "member": "MK", "checkpoint": "",
          "directory_versions": ["ffff"], "entries": []})");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(Msg(dir.status()),
            "directory_versions[0]: not a binary SignedDirectory");
}

}  // namespace
}  // namespace cbx::client::audit
