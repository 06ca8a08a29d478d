#include "client/audit/verify.h"

#include <string>
#include <vector>

#include "client/audit/test_log.h"
#include "core/directory/testing/test_federation.h"
#include "core/note/key_id.h"
#include "core/note/note.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

std::shared_ptr<const directory::Directory> Genesis() {
  auto dir = directory::Directory::FromGenesis(fed::SignedGenesis());
  EXPECT_TRUE(dir.ok()) << dir.status();
  return *dir;
}

// MK's log with `n` entries.
TestLog MkLog(int n = 8) {
  TestLog log("MK");
  for (int i = 0; i < n; ++i) {
    log.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS",
                                  "envelope " + std::to_string(i),
                                  testing::kTestNowMs + i * 1000));
  }
  return log;
}

v1::SignedDirectory OtherFederationGenesis() {
  v1::Directory d = fed::GenesisDirectory();
  d.set_federation("some-other-federation");
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

// --- directory chain ------------------------------------------------------

TEST(DirectoryChainTest, GenesisThenUpdatesVerify) {
  auto chain = VerifyDirectoryChain(
      fed::SignedGenesis(),
      {fed::SignedGenesis(), fed::SignedV2(), fed::SignedV3()});
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->latest->version(), 3u);
  EXPECT_EQ(chain->versions.size(), 3u);
}

TEST(DirectoryChainTest, EmptyChainIsTheGenesis) {
  auto chain = VerifyDirectoryChain(fed::SignedGenesis(), {});
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->latest->version(), 1u);
}

TEST(DirectoryChainTest, UpdatesWithoutTheGenesisFollowThePinnedOne) {
  auto chain = VerifyDirectoryChain(fed::SignedGenesis(),
                                    {fed::SignedV2(), fed::SignedV3()});
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(chain->latest->version(), 3u);
}

TEST(DirectoryChainTest, ChainFromAnotherGenesisFails) {
  auto chain =
      VerifyDirectoryChain(fed::SignedGenesis(), {OtherFederationGenesis()});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(chain.status()),
            "directory chain, item 1: version 1 is not the pinned genesis "
            "(--genesis): this log belongs to another federation, or its "
            "genesis was replaced");
}

TEST(DirectoryChainTest, PinnedGenesisOfAnotherFederationRejectsTheChain) {
  // The auditor pinned a look-alike genesis (same members and keys, another
  // federation name): the real updates do not follow from it, since an
  // update may not rename the federation.
  auto chain = VerifyDirectoryChain(OtherFederationGenesis(),
                                    {fed::SignedV2(), fed::SignedV3()});
  ASSERT_FALSE(chain.ok());
  EXPECT_THAT(Msg(chain.status()),
              HasSubstr("directory chain, item 1: version 2 does not follow "
                        "from version 1: "));
}

TEST(DirectoryChainTest, GapFails) {
  auto chain = VerifyDirectoryChain(fed::SignedGenesis(),
                                    {fed::SignedGenesis(), fed::SignedV3()});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(chain.status()),
              HasSubstr("directory chain, item 2: version 3 does not follow "
                        "from version 1: "));
}

TEST(DirectoryChainTest, UpdateWithoutEnoughGovernanceSignaturesFails) {
  v1::SignedDirectory v2 =
      fed::SignAs(fed::V2Directory(), {{"RS", "RS/governance/1"}});
  auto chain = VerifyDirectoryChain(fed::SignedGenesis(), {v2});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(chain.status()),
              HasSubstr("version 2 does not follow from version 1"));
}

TEST(DirectoryChainTest, VersionOneAfterLaterVersionFails) {
  auto chain = VerifyDirectoryChain(fed::SignedGenesis(),
                                    {fed::SignedV2(), fed::SignedGenesis()});
  ASSERT_FALSE(chain.ok());
  EXPECT_THAT(Msg(chain.status()), HasSubstr("never go back"));
}

TEST(ParseGenesisTest, AcceptsTheGenesisRejectsOthers) {
  EXPECT_TRUE(ParseGenesis(fed::SignedGenesis().SerializeAsString()).ok());
  auto garbage = ParseGenesis("not a directory");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(Msg(garbage.status()), HasSubstr("not a binary SignedDirectory"));
  auto v2 = ParseGenesis(fed::SignedV2().SerializeAsString());
  ASSERT_FALSE(v2.ok());
  EXPECT_THAT(Msg(v2.status()), HasSubstr("not a valid genesis"));
}

// --- log generations (spec/audit-log.md §12) -------------------------------

// Version 2: MK's log generation 2 after `predecessor` of `log`, at `size`.
std::shared_ptr<const directory::Directory> MkRecovered(
    const TestLog& log, uint64_t size, const std::string& predecessor) {
  v1::Directory d = fed::GenesisDirectory();
  d.set_version(2);
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "MK") continue;
    v1::AuditLogGeneration* g = m.mutable_audit_log();
    g->set_generation(2);
    g->set_predecessor_origin("cbx/MK/audit");
    g->set_predecessor_size(size);
    g->set_predecessor_root_hash(log.Root(size));
    g->set_predecessor_checkpoint(predecessor);
  }
  auto v2 = Genesis()->Adopt(
      fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}}));
  EXPECT_TRUE(v2.ok()) << v2.status();
  return *v2;
}

TEST(LogGenerationTest, OriginsNameTheirGeneration) {
  EXPECT_EQ(GenerationOfOrigin("MK", "cbx/MK/audit"), 1u);
  EXPECT_EQ(GenerationOfOrigin("MK", "cbx/MK/audit/2"), 2u);
  EXPECT_EQ(GenerationOfOrigin("MK", "cbx/MK/audit/02"), 0u);
  EXPECT_EQ(GenerationOfOrigin("MK", "cbx/MK/audit/1"), 0u);
  EXPECT_EQ(GenerationOfOrigin("MK", "cbx/RS/audit"), 0u);
  EXPECT_EQ(GenerationOfOrigin("MK", "cbx/MK/audit/x"), 0u);
}

TEST(LogGenerationTest, TheOldLogVerifiesUnderTheNewGenerationWithItsChain) {
  TestLog log = MkLog(8);
  auto dir =
      MkRecovered(log, 5, log.Checkpoint(5, {Witness("RS"), Witness("AL")}));
  // An old checkpoint up to the predecessor: verified, chained.
  auto at5 = VerifyCheckpoint(*dir, "MK",
                              log.Checkpoint(5, {Witness("RS"), Witness("AL")}),
                              testing::kTestNowMs);
  ASSERT_TRUE(at5.ok()) << at5.status();
  EXPECT_EQ(at5->origin, "cbx/MK/audit");
  EXPECT_THAT(at5->log_chain,
              HasSubstr("generation 1 of 2; counts up to its witnessed "
                        "checkpoint 5, then continues as cbx/MK/audit/2"));
  EXPECT_TRUE(at5->warnings.empty());
  // One beyond it lies in the lost range: said, not refused.
  auto at8 = VerifyCheckpoint(*dir, "MK",
                              log.Checkpoint(8, {Witness("RS"), Witness("AL")}),
                              testing::kTestNowMs);
  ASSERT_TRUE(at8.ok()) << at8.status();
  ASSERT_EQ(at8->warnings.size(), 1u);
  EXPECT_THAT(at8->warnings[0], HasSubstr("lies beyond the predecessor"));
  EXPECT_THAT(DescribeLogChain(*dir, "MK", 2, nullptr),
              HasSubstr("continues cbx/MK/audit after its witnessed "
                        "checkpoint 5"));
  EXPECT_EQ(DescribeLogChain(*Genesis(), "MK", 1, nullptr), "");
}

// --- checkpoints ----------------------------------------------------------

TEST(VerifyCheckpointTest, WitnessedByTwoMembers) {
  TestLog log = MkLog();
  const std::string note = log.Checkpoint(8, {Witness("RS"), Witness("AL")});
  auto r = VerifyCheckpoint(*Genesis(), "MK", note, testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->origin, "cbx/MK/audit");
  EXPECT_EQ(r->checkpoint.size, 8u);
  EXPECT_EQ(r->checkpoint.root_hash, log.Root(8));
  EXPECT_EQ(r->note, note);
  EXPECT_EQ(r->text, log.CheckpointText(8));
  EXPECT_EQ(r->log_key_id,
            note::KeyId("cbx/MK/audit", note::SignatureType::kEd25519,
                        fed::TestKey("MK/node/1").public_key().bytes()));
  ASSERT_EQ(r->cosignatures.size(), 2u);
  EXPECT_EQ(r->cosignatures[0].witness, "RS");
  EXPECT_EQ(r->cosignatures[1].witness, "AL");
  EXPECT_EQ(r->cosignatures[0].timestamp,
            static_cast<uint64_t>(testing::kTestNowMs / 1000));
  EXPECT_EQ(r->witnesses, 2u);
  EXPECT_EQ(r->threshold, 2u);
  EXPECT_EQ(r->eligible_witnesses, 2u);
  EXPECT_TRUE(r->witnessed);
  EXPECT_TRUE(r->ignored.empty());
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_TRUE(RequireWitnessed(*r).ok());
  EXPECT_EQ(DescribeWitnesses(*r), "2 of the 2 needed (RS, AL)");
}

TEST(VerifyCheckpointTest, OneWitnessIsNotEnough) {
  TestLog log = MkLog();
  auto r =
      VerifyCheckpoint(*Genesis(), "MK", log.Checkpoint(8, {Witness("RS")}),
                       testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->witnessed);
  absl::Status s = RequireWitnessed(*r);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Msg(s),
            "checkpoint 8 of cbx/MK/audit is not witnessed: 1 witness "
            "cosigned it (RS), directory version 1 requires 2 "
            "(witness_threshold)");
}

TEST(VerifyCheckpointTest, TwoKeysOfOneWitnessCountOnce) {
  TestLog log = MkLog();
  // v2 lists RS/node/2 as well (pre-published).
  auto chain = VerifyDirectoryChain(fed::SignedGenesis(),
                                    {fed::SignedV2(), fed::SignedV3()});
  ASSERT_TRUE(chain.ok());
  TestCosigner rs2{"cbx/RS/witness", "RS/node/2", testing::kTestNowMs / 1000};
  auto r = VerifyCheckpoint(*chain->latest, "MK",
                            log.Checkpoint(8, {Witness("RS"), rs2}),
                            testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cosignatures.size(), 2u);
  EXPECT_EQ(r->witnesses, 1u);
  EXPECT_FALSE(r->witnessed);
}

TEST(VerifyCheckpointTest, CosignatureByNonMemberIsIgnoredAndDoesNotCount) {
  TestLog log = MkLog();
  TestCosigner zz{"cbx/ZZ/witness", "ZZ/node/1", testing::kTestNowMs / 1000};
  auto r =
      VerifyCheckpoint(*Genesis(), "MK", log.Checkpoint(8, {Witness("RS"), zz}),
                       testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 1u);
  EXPECT_EQ(r->ignored[0].name, "cbx/ZZ/witness");
  EXPECT_EQ(r->ignored[0].reason, "ZZ is not a member of directory version 1");
  EXPECT_EQ(r->witnesses, 1u);
  EXPECT_FALSE(r->witnessed);
  EXPECT_THAT(Msg(RequireWitnessed(*r)),
              HasSubstr("is not witnessed: 1 witness cosigned it (RS), "
                        "directory version 1 requires 2 (witness_threshold); "
                        "ignored cbx/ZZ/witness+"));
  EXPECT_THAT(Msg(RequireWitnessed(*r)),
              HasSubstr(": ZZ is not a member of directory version 1"));
}

TEST(VerifyCheckpointTest, CosignatureUnderAMembersNameWithAnotherKey) {
  TestLog log = MkLog();
  TestCosigner fake{"cbx/AL/witness", "mallory", testing::kTestNowMs / 1000};
  auto r = VerifyCheckpoint(*Genesis(), "MK",
                            log.Checkpoint(8, {Witness("RS"), fake}),
                            testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 1u);
  EXPECT_THAT(
      r->ignored[0].reason,
      HasSubstr("no node key of AL in directory version 1 has key ID "));
  EXPECT_FALSE(r->witnessed);
}

TEST(VerifyCheckpointTest, TheLogsOwnMemberCannotWitnessIt) {
  TestLog log = MkLog();
  auto r = VerifyCheckpoint(*Genesis(), "MK",
                            log.Checkpoint(8, {Witness("RS"), Witness("MK")}),
                            testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ignored.size(), 1u);
  EXPECT_EQ(r->ignored[0].reason,
            "a log cannot be witnessed by its own member");
  EXPECT_EQ(r->witnesses, 1u);
}

TEST(VerifyCheckpointTest, CheckpointSignedByAnotherKeyFails) {
  TestLog log("MK", "RS/node/1");  // MK's origin, RS's key
  log.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "",
                                testing::kTestNowMs));
  auto r = VerifyCheckpoint(*Genesis(), "MK",
                            log.Checkpoint(1, {Witness("RS"), Witness("AL")}),
                            testing::kTestNowMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr("the checkpoint is not signed by a node key of MK in "
                        "directory version 1 (a signature named cbx/MK/audit "
                        "has key ID "));
}

TEST(VerifyCheckpointTest, AlteredCheckpointTextFails) {
  TestLog log = MkLog();
  std::string note = log.Checkpoint(8, {Witness("RS"), Witness("AL")});
  note.replace(note.find("\n8\n"), 3, "\n9\n");
  auto r = VerifyCheckpoint(*Genesis(), "MK", note, testing::kTestNowMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr("the signature by cbx/MK/audit (key ID "));
  EXPECT_THAT(Msg(r.status()), HasSubstr("does not verify"));
}

TEST(VerifyCheckpointTest, BadCosignatureByAWitnessRejectsTheNote) {
  TestLog log = MkLog();
  // RS's cosignature of another checkpoint (size 7), moved onto size 8.
  std::string other =
      testing::AddCosignature("", log.CheckpointText(7), Witness("RS"));
  std::string rs_line = other.substr(other.find("\xE2\x80\x94"));
  std::string note = log.Checkpoint(8, {}) + rs_line;
  auto r = VerifyCheckpoint(*Genesis(), "MK", note, testing::kTestNowMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr("the cosignature by cbx/RS/witness (key ID "));
  EXPECT_THAT(Msg(r.status()), HasSubstr("a node key of RS) does not verify"));
}

TEST(VerifyCheckpointTest, CheckpointOfAnotherOriginFails) {
  TestLog rs = TestLog("RS");
  rs.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "",
                               testing::kTestNowMs));
  // RS's checkpoint text, but signed by MK's key under MK's log name.
  const std::string text = rs.CheckpointText(1);
  std::string note =
      testing::AddNoteSignature("", text, "cbx/MK/audit", "MK/node/1");
  auto r = VerifyCheckpoint(*Genesis(), "MK", note, testing::kTestNowMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(r.status()),
            "the checkpoint is for origin 'cbx/RS/audit', not 'cbx/MK/audit'");
}

TEST(VerifyCheckpointTest, UnknownMemberAndMalformedNote) {
  TestLog log = MkLog();
  auto r = VerifyCheckpoint(*Genesis(), "ZZ", log.Checkpoint(8, {}),
                            testing::kTestNowMs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Msg(r.status()),
            "the log's member 'ZZ' is not in directory version 1");
  auto bad = VerifyCheckpoint(*Genesis(), "MK", "cbx/MK/audit\n8\n",
                              testing::kTestNowMs);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(Msg(bad.status()),
              HasSubstr("the checkpoint is not a valid signed note: "));
}

TEST(VerifyCheckpointTest, CosignatureFromTheFutureIsAWarning) {
  TestLog log = MkLog();
  TestCosigner late = Witness("AL");
  late.timestamp = testing::kTestNowMs / 1000 + 3600;
  auto r = VerifyCheckpoint(*Genesis(), "MK",
                            log.Checkpoint(8, {Witness("RS"), late}),
                            testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->witnessed);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0],
            "the cosignature by AL is dated 2026-01-01T01:00:00Z, in the "
            "future by more than the directory's max_clock_skew_s (60 s)");
}

TEST(VerifyCheckpointTest, RotatedNodeKeyVerifiesWithTheLatestDirectory) {
  auto chain = VerifyDirectoryChain(
      fed::SignedGenesis(),
      {fed::SignedGenesis(), fed::SignedV2(), fed::SignedV3()});
  ASSERT_TRUE(chain.ok());
  TestLog log("MK", "MK/node/2");
  log.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "",
                                testing::kTestNowMs));
  // AL is suspended from v2 on; it is still a member and its cosignature
  // counts.
  const std::string note = log.Checkpoint(1, {Witness("RS"), Witness("AL")});
  auto r = VerifyCheckpoint(*chain->latest, "MK", note, testing::kTestNowMs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->directory_version, 3u);
  EXPECT_TRUE(r->witnessed);
  // The genesis does not know MK/node/2.
  EXPECT_FALSE(
      VerifyCheckpoint(*Genesis(), "MK", note, testing::kTestNowMs).ok());
}

// The consistency rule's tests are core/logcheck/consistency_test.cc.

note::Checkpoint Cp(const TestLog& log, uint64_t size) {
  return note::Checkpoint{
      "cbx/" + log.member() + "/audit", size, log.Root(size), {}};
}

// --- inclusion --------------------------------------------------------------

TEST(VerifyEntryTest, EveryEntryIsIncluded) {
  TestLog log = MkLog(11);
  for (uint64_t i = 0; i < 11; ++i) {
    auto e = VerifyEntry(i, log.leaf(i), log.InclusionProof(i, 11), 11,
                         log.Root(11));
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(e->sequence(), i);
    EXPECT_EQ(e->peer(), "RS");
  }
}

TEST(VerifyEntryTest, FlippedLeafByteFails) {
  TestLog log = MkLog(11);
  std::string leaf = log.leaf(3);
  leaf[leaf.size() - 1] ^= 0x01;
  auto e = VerifyEntry(3, leaf, log.InclusionProof(3, 11), 11, log.Root(11));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(e.status()),
              HasSubstr("entry 3: the leaf and its inclusion proof do not "
                        "lead to the root of the tree of size 11: the leaf or "
                        "the proof was altered"));
}

TEST(VerifyEntryTest, WrongProofFails) {
  TestLog log = MkLog(11);
  auto e =
      VerifyEntry(3, log.leaf(3), log.InclusionProof(4, 11), 11, log.Root(11));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  std::vector<Bytes> short_proof = log.InclusionProof(3, 11);
  short_proof.pop_back();
  auto s = VerifyEntry(3, log.leaf(3), short_proof, 11, log.Root(11));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s.status()),
              HasSubstr("entry 3: malformed inclusion proof for the tree of "
                        "size 11"));
}

TEST(VerifyEntryTest, LeafThatIsNoEntryOrHasAnotherSequence) {
  TestLog log = MkLog(3);
  log.AppendLeaf(std::string("\xff\xff\xff", 3));
  v1::AuditEntry e = testing::MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "",
                                        testing::kTestNowMs);
  e.set_sequence(7);
  log.AppendLeaf(e.SerializeAsString());  // at index 4
  auto bad =
      VerifyEntry(3, log.leaf(3), log.InclusionProof(3, 5), 5, log.Root(5));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Msg(bad.status()),
            "entry 3: the leaf is in the signed log but does not parse as an "
            "AuditEntry");
  auto seq =
      VerifyEntry(4, log.leaf(4), log.InclusionProof(4, 5), 5, log.Root(5));
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(Msg(seq.status()),
            "entry 4: the entry says sequence 7, not its index 4");
}

TEST(VerifyEntryTest, AtAnEarlierSizeThroughConsistency) {
  TestLog log = MkLog(13);
  const note::Checkpoint cp = Cp(log, 13);
  auto e = VerifyEntryAtSize(5, log.leaf(5), log.InclusionProof(5, 9), 9,
                             log.ConsistencyProof(9, 13), cp);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->sequence(), 5u);
  // The same size as the checkpoint needs no consistency proof.
  EXPECT_TRUE(
      VerifyEntryAtSize(5, log.leaf(5), log.InclusionProof(5, 13), 13, {}, cp)
          .ok());
  // A consistency proof for other sizes does not tie size 9 to the
  // checkpoint.
  auto wrong = VerifyEntryAtSize(5, log.leaf(5), log.InclusionProof(5, 9), 9,
                                 log.ConsistencyProof(10, 13), cp);
  ASSERT_FALSE(wrong.ok());
  // Beyond the checkpoint.
  auto beyond =
      VerifyEntryAtSize(5, log.leaf(5), log.InclusionProof(5, 9), 14, {}, cp);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(Msg(beyond.status()), "size 14 is beyond the checkpoint's size 13");
  // A forged leaf: its implied root of size 9 is not a prefix of 13.
  std::string leaf = log.leaf(5);
  leaf[2] ^= 0x40;
  auto forged = VerifyEntryAtSize(5, leaf, log.InclusionProof(5, 9), 9,
                                  log.ConsistencyProof(9, 13), cp);
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Msg(forged.status()),
              HasSubstr("entry 5: the tree of size 9 that the inclusion proof "
                        "implies is not a prefix of checkpoint 13"));
}

}  // namespace
}  // namespace cbx::client::audit
