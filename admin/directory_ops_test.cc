#include "admin/directory_ops.h"

#include "absl/status/status.h"
#include "admin/directory_change.h"
#include "admin/directory_view.h"
#include "admin/test_support.h"
#include "core/directory/directory.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"

namespace cbx::admin {
namespace {

using testing::DirectoryFor;
using testing::MakeMembers;
using testing::TestMember;
using Outcome = SignatureCheck::Outcome;

v1::SignedDirectory Unsigned(const v1::Directory& d) {
  absl::StatusOr<v1::SignedDirectory> out = BuildUnsigned(d);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : v1::SignedDirectory();
}

class DirectoryOpsTest : public ::testing::Test {
 protected:
  DirectoryOpsTest()
      : members_(MakeMembers({"MK", "RS", "BA", "HR", "ME"})),
        genesis_(DirectoryFor(members_, 3)) {}

  // Signs `signed_dir` as members_[i] for each i, expecting success.
  void SignAs(v1::SignedDirectory& signed_dir, std::initializer_list<int> who,
              const v1::SignedDirectory* previous = nullptr) {
    for (int i : who) {
      absl::StatusOr<SignResult> r = SignAsMember(
          signed_dir, members_[i].code, members_[i].governance, previous);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }

  std::vector<TestMember> members_;
  v1::Directory genesis_;
};

TEST_F(DirectoryOpsTest, BuildSignThresholdVerify) {
  v1::SignedDirectory g = Unsigned(genesis_);
  EXPECT_EQ(g.signatures_size(), 0);

  absl::StatusOr<SignResult> r =
      SignAsMember(g, "MK", members_[0].governance, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(r->valid_signatures, 1u);
  EXPECT_EQ(r->threshold, 3u);
  SignAs(g, {2});

  // Two of five with threshold three: not yet a genesis.
  ChainReport report = VerifyChain({"g.pb", g}, {});
  EXPECT_EQ(report.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(report.status.message().rfind("g.pb: ", 0), 0u) << report.status;
  ASSERT_EQ(report.versions.size(), 1u);
  EXPECT_FALSE(report.versions[0].adopted);
  EXPECT_EQ(CountValid(report.versions[0].signatures), 2u);

  r = SignAsMember(g, "ME", members_[4].governance, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->valid_signatures, 3u);

  report = VerifyChain({"g.pb", g}, {});
  ASSERT_TRUE(report.status.ok()) << report.status;
  ASSERT_EQ(report.versions.size(), 1u);
  const VersionReport& v = report.versions[0];
  EXPECT_TRUE(v.adopted);
  EXPECT_EQ(v.version, 1u);
  EXPECT_EQ(v.federation, "cbx-test");
  EXPECT_EQ(v.threshold, 3u);
  ASSERT_EQ(v.signatures.size(), 3u);
  EXPECT_EQ(v.signatures[0].member, "MK");
  EXPECT_EQ(v.signatures[1].member, "BA");
  EXPECT_EQ(v.signatures[2].member, "ME");
  // The verdict is core/directory's too.
  EXPECT_TRUE(directory::Directory::FromGenesis(g).ok());
}

TEST_F(DirectoryOpsTest, RefusesAWrongKeyAndLeavesTheDirectoryUnchanged) {
  v1::SignedDirectory g = Unsigned(genesis_);
  SignAs(g, {0});
  const std::string before = g.SerializeAsString();

  absl::StatusOr<SignResult> r =
      SignAsMember(g, "RS", members_[2].governance, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find(
                "this key is not RS's governance key in this genesis "
                "directory"),
            std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find(
                HexEncode(members_[1].governance.public_key().bytes())),
            std::string::npos);

  r = SignAsMember(g, "XK", members_[0].governance, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "XK is not a member of this genesis directory (members: MK, RS, "
            "BA, HR, ME)");

  r = SignAsMember(g, "MK", members_[0].governance, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);

  crypto::Ed25519PrivateKey stranger = crypto::Ed25519PrivateKey::Generate();
  r = SignAsMember(g, "HR", stranger, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);

  EXPECT_EQ(g.SerializeAsString(), before);
}

TEST_F(DirectoryOpsTest, RefusesToSignAStructurallyInvalidDirectory) {
  v1::Directory bad = genesis_;
  bad.set_issued_at_ms(0);
  EXPECT_EQ(BuildUnsigned(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::SignedDirectory s;
  bad.SerializeToString(s.mutable_directory());
  absl::StatusOr<SignResult> r =
      SignAsMember(s, "MK", members_[0].governance, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind(
                "refusing to sign a directory that breaks the rules: ", 0),
            0u);
  EXPECT_EQ(s.signatures_size(), 0);

  v1::SignedDirectory garbage;
  garbage.set_directory("\xff\xff\xff");
  EXPECT_EQ(SignAsMember(garbage, "MK", members_[0].governance, nullptr)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(DirectoryOpsTest, UpdateIsCheckedAgainstThePreviousVersionsKeys) {
  v1::SignedDirectory g = Unsigned(genesis_);
  SignAs(g, {0, 1, 2});

  // Version 2 rotates MK's governance key and suspends ME.
  crypto::Ed25519PrivateKey mk_new = crypto::Ed25519PrivateKey::Generate();
  v1::Directory next = genesis_;
  next.set_version(2);
  next.set_issued_at_ms(genesis_.issued_at_ms() + 1000);
  next.mutable_members(0)->set_governance_key(mk_new.public_key().bytes());
  next.mutable_members(4)->set_status(v1::MEMBER_STATUS_SUSPENDED);
  v1::SignedDirectory u = Unsigned(next);

  absl::StatusOr<SignResult> r =
      SignAsMember(u, "MK", members_[0].governance, nullptr);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("pass --previous FILE with version 1"),
            std::string::npos)
      << r.status();

  // The new key is in version 2 but not in version 1: refused.
  r = SignAsMember(u, "MK", mk_new, &g);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("in version 1"), std::string::npos);

  // A previous of the wrong version or federation is refused.
  v1::SignedDirectory other_fed = g;
  v1::Directory other = genesis_;
  other.set_federation("someone-else");
  other.SerializeToString(other_fed.mutable_directory());
  EXPECT_EQ(
      SignAsMember(u, "MK", members_[0].governance, &other_fed).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      SignAsMember(u, "MK", members_[0].governance, &u).status().message(),
      "--previous is version 2, but the directory being signed is "
      "version 2 and needs version 1");

  SignAs(u, {0, 3}, &g);
  ChainReport report = VerifyChain({"g.pb", g}, {{"v2.pb", u}});
  EXPECT_EQ(report.status.code(), absl::StatusCode::kUnauthenticated);
  ASSERT_EQ(report.versions.size(), 2u);
  EXPECT_TRUE(report.versions[0].adopted);
  EXPECT_FALSE(report.versions[1].adopted);
  EXPECT_EQ(report.status.message().rfind("v2.pb: ", 0), 0u);

  SignAs(u, {4}, &g);  // ME may still sign: it is a member of version 1
  report = VerifyChain({"g.pb", g}, {{"v2.pb", u}});
  ASSERT_TRUE(report.status.ok()) << report.status;
  EXPECT_EQ(report.versions[1].version, 2u);
  EXPECT_EQ(CountValid(report.versions[1].signatures), 3u);

  // Version 3 must now be signed with MK's new key.
  v1::Directory third = next;
  third.set_version(3);
  v1::SignedDirectory u3 = Unsigned(third);
  EXPECT_EQ(SignAsMember(u3, "MK", members_[0].governance, &u).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(SignAsMember(u3, "MK", mk_new, &u).ok());
  SignAs(u3, {1, 2}, &u);
  report = VerifyChain({"g.pb", g}, {{"v2.pb", u}, {"v3.pb", u3}});
  EXPECT_TRUE(report.status.ok()) << report.status;
  EXPECT_EQ(report.versions.size(), 3u);
}

TEST_F(DirectoryOpsTest, ChainFailuresAreReportedInOrder) {
  v1::SignedDirectory g = Unsigned(genesis_);
  SignAs(g, {0, 1, 2});
  v1::Directory third = genesis_;
  third.set_version(3);
  // Signed with the version-1 keys, which are also version 2's.
  v1::SignedDirectory gap =
      directory::SignDirectory(third, {{"MK", &members_[0].governance},
                                       {"RS", &members_[1].governance},
                                       {"BA", &members_[2].governance}});

  ChainReport report = VerifyChain({"g.pb", g}, {{"v3.pb", gap}});
  EXPECT_EQ(report.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status.message().find("gap"), std::string::npos);

  // A genesis that is not version 1.
  report = VerifyChain({"v3.pb", gap}, {});
  EXPECT_EQ(report.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(report.versions.size(), 1u);
}

TEST_F(DirectoryOpsTest, ANewAuditLogGenerationNeedsAWitnessedPredecessor) {
  // spec/audit-log.md §12: governance cannot announce a new log without
  // the old one's witnessed checkpoint, nor skip a generation.
  v1::Directory next = genesis_;
  next.set_version(2);
  v1::AuditLogGeneration* g = next.mutable_members(1)->mutable_audit_log();
  g->set_generation(2);
  g->set_predecessor_origin("cbx/RS/audit");
  g->set_predecessor_size(7);
  g->set_predecessor_root_hash(std::string(32, 'r'));
  g->set_predecessor_checkpoint("cbx/RS/audit\n7\n");
  absl::Status s = CheckSuccessor(genesis_, next);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("member RS: audit log generation 2: "
                              "predecessor_checkpoint is not a signed note",
                              0),
            0u)
      << s;
  g->set_generation(3);
  s = CheckSuccessor(genesis_, next);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("skips generations"), std::string::npos) << s;
}

TEST_F(DirectoryOpsTest, ShowNamesEachMembersAuditLogGeneration) {
  v1::Directory next = genesis_;
  next.set_version(2);
  v1::AuditLogGeneration* g = next.mutable_members(1)->mutable_audit_log();
  g->set_generation(2);
  g->set_predecessor_origin("cbx/RS/audit");
  g->set_predecessor_size(7);
  g->set_predecessor_root_hash(std::string(32, 'r'));
  absl::StatusOr<nlohmann::json> shown = DirectoryJson(Unsigned(next), nullptr);
  ASSERT_TRUE(shown.ok()) << shown.status();
  const nlohmann::json& mk = (*shown)["members"][0]["audit_log"];
  EXPECT_EQ(mk["generation"], 1);
  EXPECT_EQ(mk["origin"], "cbx/MK/audit");
  EXPECT_FALSE(mk.contains("predecessor"));
  const nlohmann::json& rs = (*shown)["members"][1]["audit_log"];
  EXPECT_EQ(rs["origin"], "cbx/RS/audit/2");
  EXPECT_EQ(rs["predecessor"]["size"], 7);
  const std::string text = DirectoryText(*shown);
  EXPECT_NE(text.find("audit log       generation 2, origin cbx/RS/audit/2\n"
                      "                      follows cbx/RS/audit at its "
                      "witnessed checkpoint 7, root 7272"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("generation 1, origin cbx/MK/audit\n"),
            std::string::npos);
}

// directory show --previous: a member's audit log generation change, and
// a rewrite of a generation's record, each on a line of its own.
TEST_F(DirectoryOpsTest, PreviousShowsAnAuditLogGenerationChange) {
  v1::Directory next = genesis_;
  next.set_version(2);
  v1::AuditLogGeneration* g = next.mutable_members(1)->mutable_audit_log();
  g->set_generation(2);
  g->set_predecessor_origin("cbx/RS/audit");
  g->set_predecessor_size(7);
  g->set_predecessor_root_hash(std::string(32, 'r'));
  std::vector<std::string> lines = DescribeDiff(genesis_, next);
  bool generation_line = false;
  for (const std::string& l : lines) {
    generation_line = generation_line ||
                      l.rfind("~ RS audit log generation: 1 -> 2 (", 0) == 0;
  }
  EXPECT_TRUE(generation_line) << ::testing::PrintToString(lines);

  v1::Directory rewritten = next;
  rewritten.set_version(3);
  rewritten.mutable_members(1)->mutable_audit_log()->set_predecessor_size(9);
  lines = DescribeDiff(next, rewritten);
  bool record_line = false;
  for (const std::string& l : lines) {
    record_line =
        record_line ||
        (l.rfind("~ RS audit log generation 2: its record changed", 0) == 0 &&
         l.find("cbx/RS/audit at 7, root 7272") != std::string::npos &&
         l.find("-> cbx/RS/audit at 9, root 7272") != std::string::npos);
  }
  EXPECT_TRUE(record_line) << ::testing::PrintToString(lines);
  // Unchanged: no audit log line.
  for (const std::string& l : DescribeDiff(next, next)) {
    EXPECT_EQ(l.find("audit log"), std::string::npos) << l;
  }
}

TEST_F(DirectoryOpsTest, CheckSuccessorRules) {
  v1::Directory next = genesis_;
  next.set_version(2);
  EXPECT_TRUE(CheckSuccessor(genesis_, next).ok());

  v1::Directory bad = next;
  bad.set_version(3);
  EXPECT_EQ(CheckSuccessor(genesis_, bad).message(),
            "version 3 does not follow version 1 (an update is exactly the "
            "previous version + 1)");
  bad = next;
  bad.set_federation("renamed");
  EXPECT_EQ(CheckSuccessor(genesis_, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = next;
  bad.set_issued_at_ms(genesis_.issued_at_ms() - 1);
  EXPECT_EQ(CheckSuccessor(genesis_, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = next;
  bad.mutable_members(1)->mutable_oprf_key()->set_epoch(2);
  EXPECT_EQ(CheckSuccessor(genesis_, bad).message(),
            "member RS: OPRF epoch changed from 1 to 2 without a new OPRF key");
  bad = next;
  bad.mutable_members(1)->mutable_oprf_key()->set_public_key(
      GenerateKey(KeyKind::kOprf).public_key);
  EXPECT_EQ(CheckSuccessor(genesis_, bad).message(),
            "member RS: a new OPRF key must have epoch 2 (version 1 has epoch "
            "1), not 1");
  bad.mutable_members(1)->mutable_oprf_key()->set_epoch(2);
  EXPECT_TRUE(CheckSuccessor(genesis_, bad).ok());

  // Signing such an update is refused before any signature is made.
  v1::SignedDirectory g = Unsigned(genesis_);
  SignAs(g, {0, 1, 2});
  v1::Directory jump = next;
  jump.mutable_members(1)->mutable_oprf_key()->set_epoch(5);
  v1::SignedDirectory u = Unsigned(jump);
  absl::StatusOr<SignResult> r =
      SignAsMember(u, "MK", members_[0].governance, &g);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind(
                "refusing to sign an update nodes would refuse: member RS", 0),
            0u)
      << r.status();
  EXPECT_EQ(u.signatures_size(), 0);
}

TEST_F(DirectoryOpsTest, CheckSignaturesClassifiesEachEntry) {
  v1::SignedDirectory g = Unsigned(genesis_);
  SignAs(g, {0, 1});
  v1::GovernanceSignature* dup = g.add_signatures();
  *dup = g.signatures(0);
  v1::GovernanceSignature* unknown = g.add_signatures();
  unknown->set_member("SI");
  unknown->set_signature(std::string(64, 'x'));
  g.mutable_signatures(1)->mutable_signature()->at(0) ^= 1;

  std::vector<SignatureCheck> checks = CheckSignatures(g, genesis_);
  ASSERT_EQ(checks.size(), 4u);
  EXPECT_EQ(checks[0].outcome, Outcome::kValid);
  EXPECT_EQ(checks[1].outcome, Outcome::kInvalid);
  EXPECT_EQ(checks[2].outcome, Outcome::kDuplicate);
  EXPECT_EQ(checks[3].outcome, Outcome::kUnknownMember);
  EXPECT_EQ(CountValid(checks), 1u);
  EXPECT_STREQ(OutcomeName(Outcome::kDuplicate), "duplicate (ignored)");
}

}  // namespace
}  // namespace cbx::admin
