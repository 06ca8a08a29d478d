#include "core/directory/directory.h"

#include <functional>
#include <string>
#include <vector>

#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"

namespace cbx::directory {
namespace {

using ::cbx::directory::testing::GenesisDirectory;
using ::cbx::directory::testing::kGenesisIssuedAtMs;
using ::cbx::directory::testing::kMkNode1NotAfterMs;
using ::cbx::directory::testing::kMkNode2NotBeforeMs;
using ::cbx::directory::testing::kRsNode2NotBeforeMs;
using ::cbx::directory::testing::SignAs;
using ::cbx::directory::testing::SignedGenesis;
using ::cbx::directory::testing::SignedV2;
using ::cbx::directory::testing::SignedV3;
using ::cbx::directory::testing::TestKey;
using ::cbx::directory::testing::TestKeyId;
using ::cbx::directory::testing::V2Directory;
using ::cbx::directory::testing::V3Directory;

std::shared_ptr<const Directory> MustGenesis() {
  auto g = Directory::FromGenesis(SignedGenesis());
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? *g : nullptr;
}

std::shared_ptr<const Directory> MustV2() {
  auto v2 = MustGenesis()->Adopt(SignedV2());
  EXPECT_TRUE(v2.ok()) << v2.status();
  return v2.ok() ? *v2 : nullptr;
}

v1::SignedDirectory ByMkRs(const v1::Directory& d) {
  return SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

TEST(NodeKeyIdTest, IsFirstEightBytesOfLabeledSha256) {
  const Bytes pub = TestKey("MK/node/1").public_key().bytes();
  Bytes input = "cbx/v1/node-key";
  input.push_back('\0');
  input += pub;
  EXPECT_EQ(NodeKeyId(pub), crypto::Sha256(input).substr(0, 8));
  EXPECT_EQ(NodeKeyId(pub).size(), 8u);
  EXPECT_NE(NodeKeyId(pub),
            NodeKeyId(TestKey("MK/node/2").public_key().bytes()));
}

TEST(DirectorySigningInputTest, IsLabelZeroBytes) {
  EXPECT_EQ(DirectorySigningInput("abc"), Bytes("cbx/v1/directory\0abc", 20));
}

TEST(MemberCodeTest, TwoUpperCaseLetters) {
  EXPECT_TRUE(IsMemberCode("MK"));
  EXPECT_TRUE(IsMemberCode("XK"));
  EXPECT_FALSE(IsMemberCode("mk"));
  EXPECT_FALSE(IsMemberCode("M"));
  EXPECT_FALSE(IsMemberCode("MKD"));
  EXPECT_FALSE(IsMemberCode("M1"));
  EXPECT_FALSE(IsMemberCode(""));
  EXPECT_EQ(MemberUri("MK"), "spiffe://cbx/member/MK");
}

TEST(GenesisTest, SignedByTwoOfThreeVerifies) {
  auto g = Directory::FromGenesis(SignedGenesis());
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)->version(), 1u);
  EXPECT_EQ((*g)->policy().governance_threshold(), 2u);
  EXPECT_EQ((*g)->proto().members_size(), 3);
  EXPECT_EQ((*g)->signed_directory().SerializeAsString(),
            SignedGenesis().SerializeAsString());
}

TEST(GenesisTest, TooFewSignaturesIsUnauthenticated) {
  auto g = Directory::FromGenesis(
      SignAs(GenesisDirectory(), {{"MK", "MK/governance/1"}}));
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnauthenticated);
  auto none = Directory::FromGenesis(SignAs(GenesisDirectory(), {}));
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(GenesisTest, DuplicateSignerCountsOnce) {
  auto g = Directory::FromGenesis(
      SignAs(GenesisDirectory(),
             {{"MK", "MK/governance/1"}, {"MK", "MK/governance/1"}}));
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(GenesisTest, OnlyTheFirstEntryOfAMemberIsConsidered) {
  v1::SignedDirectory s =
      SignAs(GenesisDirectory(), {{"MK", "MK/governance/1"},
                                  {"MK", "MK/governance/1"},
                                  {"RS", "RS/governance/1"}});
  (*s.mutable_signatures(0)->mutable_signature())[5] ^= 1;
  EXPECT_EQ(Directory::FromGenesis(s).status().code(),
            absl::StatusCode::kUnauthenticated);
  // With the corrupt entry second instead, MK's first entry counts.
  std::swap(*s.mutable_signatures(0), *s.mutable_signatures(1));
  EXPECT_TRUE(Directory::FromGenesis(s).ok());
}

TEST(GenesisTest, NonMemberSignatureDoesNotCount) {
  auto g = Directory::FromGenesis(
      SignAs(GenesisDirectory(),
             {{"MK", "MK/governance/1"}, {"XK", "XK/governance/1"}}));
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnauthenticated);
  // A member's name on another key's signature does not count either.
  auto forged = Directory::FromGenesis(
      SignAs(GenesisDirectory(),
             {{"MK", "MK/governance/1"}, {"RS", "AL/governance/1"}}));
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(GenesisTest, CorruptSignatureDoesNotCount) {
  v1::SignedDirectory s = SignedGenesis();
  (*s.mutable_signatures(1)->mutable_signature())[0] ^= 1;
  EXPECT_EQ(Directory::FromGenesis(s).status().code(),
            absl::StatusCode::kUnauthenticated);
  v1::SignedDirectory tampered = SignedGenesis();
  tampered.mutable_directory()->back() ^= 1;
  EXPECT_NE(Directory::FromGenesis(tampered).status().code(),
            absl::StatusCode::kOk);
}

TEST(GenesisTest, MustBeVersionOne) {
  v1::Directory d = GenesisDirectory();
  d.set_version(2);
  EXPECT_EQ(Directory::FromGenesis(ByMkRs(d)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GenesisTest, UnparsableBytesAreInvalidArgument) {
  v1::SignedDirectory s;
  s.set_directory("\x0a\xff");
  EXPECT_EQ(Directory::FromGenesis(s).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GenesisTest, OneMemberFederationWithThresholdOne) {
  v1::Directory d = GenesisDirectory();
  d.mutable_members()->DeleteSubrange(1, 2);
  d.mutable_policy()->set_governance_threshold(1);
  d.mutable_policy()->set_witness_threshold(1);
  auto g = Directory::FromGenesis(SignAs(d, {{"MK", "MK/governance/1"}}));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ((*g)->ActiveMemberCodes(), std::vector<std::string>{"MK"});
}

// Each mutation breaks exactly one structural rule of spec/directory.md.
struct StructuralCase {
  const char* name;
  std::function<void(v1::Directory&)> mutate;
  const char* message_part;
};

TEST(StructureTest, EveryRuleIsInvalidArgument) {
  const std::vector<StructuralCase> cases = {
      {"empty federation", [](v1::Directory& d) { d.clear_federation(); },
       "federation"},
      {"version 0", [](v1::Directory& d) { d.set_version(0); }, "version"},
      {"no issued_at", [](v1::Directory& d) { d.set_issued_at_ms(0); },
       "issued_at"},
      {"no policy", [](v1::Directory& d) { d.clear_policy(); }, "policy"},
      {"no members", [](v1::Directory& d) { d.clear_members(); }, "members"},
      {"threshold 0",
       [](v1::Directory& d) {
         d.mutable_policy()->set_governance_threshold(0);
       },
       "governance_threshold"},
      {"threshold 4 of 3",
       [](v1::Directory& d) {
         d.mutable_policy()->set_governance_threshold(4);
       },
       "governance_threshold"},
      {"lifetime 0",
       [](v1::Directory& d) {
         d.mutable_policy()->set_max_message_lifetime_s(0);
       },
       "max_message_lifetime_s"},
      {"skew 0",
       [](v1::Directory& d) { d.mutable_policy()->set_max_clock_skew_s(0); },
       "max_clock_skew_s"},
      {"quota 0",
       [](v1::Directory& d) {
         d.mutable_policy()->set_evaluations_per_peer_per_day(0);
       },
       "evaluations_per_peer_per_day"},
      {"deadline 0",
       [](v1::Directory& d) { d.mutable_policy()->set_peer_deadline_ms(0); },
       "peer_deadline_ms"},
      {"witness threshold 4 of 3",
       [](v1::Directory& d) { d.mutable_policy()->set_witness_threshold(4); },
       "witness_threshold"},
      {"lower-case code",
       [](v1::Directory& d) { d.mutable_members(1)->set_code("rs"); }, "code"},
      {"three-letter code",
       [](v1::Directory& d) { d.mutable_members(1)->set_code("SRB"); }, "code"},
      {"duplicate code",
       [](v1::Directory& d) { d.mutable_members(2)->set_code("MK"); },
       "appears twice"},
      {"empty endpoint",
       [](v1::Directory& d) { d.mutable_members(0)->clear_endpoint(); },
       "endpoint"},
      {"no CA",
       [](v1::Directory& d) {
         d.mutable_members(0)->clear_ca_certificates_pem();
       },
       "CA certificate"},
      {"CA not PEM",
       [](v1::Directory& d) {
         d.mutable_members(0)->add_ca_certificates_pem("MIIB...");
       },
       "CA certificate 1"},
      {"no node key",
       [](v1::Directory& d) { d.mutable_members(0)->clear_node_keys(); },
       "no node key"},
      {"31-byte node key",
       [](v1::Directory& d) {
         d.mutable_members(0)->mutable_node_keys(0)->set_public_key(
             Bytes(31, 'a'));
       },
       "node key 0"},
      {"negative not_before",
       [](v1::Directory& d) {
         d.mutable_members(0)->mutable_node_keys(0)->set_not_before_ms(-1);
       },
       "not_before"},
      {"not_after before not_before",
       [](v1::Directory& d) {
         d.mutable_members(0)->mutable_node_keys(0)->set_not_after_ms(
             kGenesisIssuedAtMs);
       },
       "not_after"},
      {"node key shared by two members",
       [](v1::Directory& d) {
         *d.mutable_members(1)->add_node_keys() = d.members(0).node_keys(0);
       },
       "key id"},
      {"node key listed twice by one member",
       [](v1::Directory& d) {
         *d.mutable_members(0)->add_node_keys() = d.members(0).node_keys(0);
       },
       "key id"},
      {"no OPRF key",
       [](v1::Directory& d) { d.mutable_members(2)->clear_oprf_key(); },
       "OPRF"},
      {"32-byte OPRF key",
       [](v1::Directory& d) {
         d.mutable_members(2)->mutable_oprf_key()->set_public_key(
             Bytes(32, '\x02'));
       },
       "OPRF"},
      {"uncompressed OPRF prefix",
       [](v1::Directory& d) {
         (*d.mutable_members(2)->mutable_oprf_key()->mutable_public_key())[0] =
             0x04;
       },
       "compressed"},
      {"status unspecified",
       [](v1::Directory& d) {
         d.mutable_members(1)->set_status(v1::MEMBER_STATUS_UNSPECIFIED);
       },
       "status"},
      {"status out of range",
       [](v1::Directory& d) {
         d.mutable_members(1)->set_status(static_cast<v1::MemberStatus>(7));
       },
       "status"},
      {"no governance key",
       [](v1::Directory& d) { d.mutable_members(1)->clear_governance_key(); },
       "governance key"},
      {"shared governance key",
       [](v1::Directory& d) {
         d.mutable_members(1)->set_governance_key(
             d.members(0).governance_key());
       },
       "governance key"},
      {"standby endpoint equal to the endpoint",
       [](v1::Directory& d) {
         d.mutable_members(0)->add_standby_endpoints(d.members(0).endpoint());
       },
       "is the member's endpoint"},
      {"standby endpoint listed twice",
       [](v1::Directory& d) {
         d.mutable_members(0)->add_standby_endpoints("b.mk.example:7443");
         d.mutable_members(0)->add_standby_endpoints("b.mk.example:7443");
       },
       "standby endpoint 1 \"b.mk.example:7443\" is listed twice"},
      {"standby endpoint without a port",
       [](v1::Directory& d) {
         d.mutable_members(1)->add_standby_endpoints("b.rs.example");
       },
       "member 1 (RS): standby endpoint 0 \"b.rs.example\" is not host:port"},
      {"standby endpoint with port 0",
       [](v1::Directory& d) {
         d.mutable_members(1)->add_standby_endpoints("b.rs.example:0");
       },
       "no valid port"},
      {"standby endpoint with a space in its host",
       [](v1::Directory& d) {
         d.mutable_members(1)->add_standby_endpoints("b rs.example:7443");
       },
       "bad host"},
      {"standby endpoint with a control byte",
       [](v1::Directory& d) {
         d.mutable_members(1)->add_standby_endpoints("b\x01:7443");
       },
       "(not printable) has a bad host"},
      {"four standby endpoints",
       [](v1::Directory& d) {
         for (const char* ep :
              {"b.example:1", "c.example:1", "d.example:1", "e.example:1"}) {
           d.mutable_members(2)->add_standby_endpoints(ep);
         }
       },
       "4 standby endpoints (at most 3)"},
  };
  for (const StructuralCase& c : cases) {
    SCOPED_TRACE(c.name);
    v1::Directory d = GenesisDirectory();
    c.mutate(d);
    absl::Status s = ValidateStructure(d);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.message_part), absl::string_view::npos)
        << s.message();
    // The genesis path refuses it too, even when properly signed.
    EXPECT_EQ(Directory::FromGenesis(ByMkRs(d)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(ValidateStructure(GenesisDirectory()).ok());
}

TEST(StructureTest, StandbyEndpointsWithinTheRulesAreAccepted) {
  v1::Directory d = GenesisDirectory();
  d.mutable_members(0)->add_standby_endpoints("cbx-b.mk.example:7443");
  d.mutable_members(0)->add_standby_endpoints("[2001:db8::2]:7443");
  d.mutable_members(0)->add_standby_endpoints("192.0.2.7:443");
  EXPECT_TRUE(ValidateStructure(d).ok()) << ValidateStructure(d);
  EXPECT_TRUE(Directory::FromGenesis(ByMkRs(d)).ok());
  // Two members may share a standby host name (a shared load balancer);
  // only one member's own list must not repeat.
  d.mutable_members(1)->add_standby_endpoints("cbx-b.mk.example:7443");
  EXPECT_TRUE(ValidateStructure(d).ok()) << ValidateStructure(d);
}

TEST(AdoptTest, NextVersionSignedByThresholdOfPrevious) {
  auto g = MustGenesis();
  auto v2 = g->Adopt(SignedV2());
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ((*v2)->version(), 2u);
  EXPECT_FALSE((*v2)->IsActive("AL"));
  // The predecessor is unchanged.
  EXPECT_EQ(g->version(), 1u);
  EXPECT_TRUE(g->IsActive("AL"));
}

TEST(AdoptTest, TooFewSignaturesIsUnauthenticated) {
  auto v2 =
      MustGenesis()->Adopt(SignAs(V2Directory(), {{"RS", "RS/governance/1"}}));
  EXPECT_EQ(v2.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(AdoptTest, GapIsFailedPrecondition) {
  auto v3 = MustGenesis()->Adopt(SignedV3());
  EXPECT_EQ(v3.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(v3.status().message().find("gap"), absl::string_view::npos);
}

TEST(AdoptTest, OlderOrSameVersionNeverGoesBack) {
  auto v2 = MustV2();
  auto back = v2->Adopt(SignedGenesis());
  EXPECT_EQ(back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(back.status().message().find("never go back"),
            absl::string_view::npos);
  auto same = v2->Adopt(SignedV2());
  EXPECT_EQ(same.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AdoptTest, ReplacedGovernanceKeyTakesEffectForTheNextVersion) {
  // v2 replaces RS's governance key. v2 itself must be signed with RS's old
  // key: the new key, listed only in v2, does not count for v2.
  auto g = MustGenesis();
  auto with_new_key = g->Adopt(SignAs(
      V2Directory(), {{"RS", "RS/governance/2"}, {"AL", "AL/governance/1"}}));
  EXPECT_EQ(with_new_key.status().code(), absl::StatusCode::kUnauthenticated);

  auto v2 = MustV2();
  // v3 must be signed with v2's keys: RS's old key no longer counts ...
  auto old_key = v2->Adopt(SignAs(
      V3Directory(), {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}}));
  EXPECT_EQ(old_key.status().code(), absl::StatusCode::kUnauthenticated);
  // ... and the new one does.
  auto v3 = v2->Adopt(SignedV3());
  ASSERT_TRUE(v3.ok()) << v3.status();
  EXPECT_EQ((*v3)->policy().max_message_lifetime_s(), 600u);
}

TEST(AdoptTest, RemovedMemberCanSignItsRemovalButNotTheNextVersion) {
  auto g = MustGenesis();
  v1::Directory v2 = GenesisDirectory();
  v2.set_version(2);
  v2.mutable_members()->DeleteSubrange(2, 1);  // remove AL
  auto adopted = g->Adopt(
      SignAs(v2, {{"AL", "AL/governance/1"}, {"RS", "RS/governance/1"}}));
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  EXPECT_EQ((*adopted)->FindMember("AL"), nullptr);
  v1::Directory v3 = v2;
  v3.set_version(3);
  auto without_al = (*adopted)->Adopt(
      SignAs(v3, {{"AL", "AL/governance/1"}, {"RS", "RS/governance/1"}}));
  EXPECT_EQ(without_al.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(AdoptTest, ThresholdOfThePreviousVersionApplies) {
  // v2 raises the threshold to 3; v2 itself needs v1's threshold (2), v3
  // needs v2's (3).
  auto g = MustGenesis();
  v1::Directory v2 = GenesisDirectory();
  v2.set_version(2);
  v2.mutable_policy()->set_governance_threshold(3);
  auto adopted = g->Adopt(ByMkRs(v2));
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  v1::Directory v3 = v2;
  v3.set_version(3);
  EXPECT_EQ((*adopted)->Adopt(ByMkRs(v3)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE((*adopted)
                  ->Adopt(SignAs(v3, {{"MK", "MK/governance/1"},
                                      {"RS", "RS/governance/1"},
                                      {"AL", "AL/governance/1"}}))
                  .ok());
}

TEST(AdoptTest, SuspendedMembersStillSignGovernance) {
  auto v2 = MustV2();
  ASSERT_FALSE(v2->IsActive("AL"));
  auto v3 = v2->Adopt(SignAs(
      V3Directory(), {{"MK", "MK/governance/1"}, {"AL", "AL/governance/1"}}));
  EXPECT_TRUE(v3.ok()) << v3.status();
}

TEST(AdoptTest, SignaturesAreCheckedBeforeContent) {
  v1::Directory bad = V2Directory();
  bad.clear_members();
  EXPECT_EQ(MustGenesis()->Adopt(SignAs(bad, {})).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(MustGenesis()
                ->Adopt(SignAs(bad, {{"RS", "RS/governance/1"},
                                     {"AL", "AL/governance/1"}}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdoptTest, FederationAndIssuedAtRules) {
  auto g = MustGenesis();
  v1::Directory renamed = V2Directory();
  renamed.set_federation("other");
  EXPECT_EQ(g->Adopt(SignAs(renamed, {{"RS", "RS/governance/1"},
                                      {"AL", "AL/governance/1"}}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  v1::Directory earlier = V2Directory();
  earlier.set_issued_at_ms(kGenesisIssuedAtMs - 1);
  EXPECT_EQ(g->Adopt(SignAs(earlier, {{"RS", "RS/governance/1"},
                                      {"AL", "AL/governance/1"}}))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdoptTest, OprfRotationIncrementsTheEpochByOne) {
  auto g = MustGenesis();
  auto adopt = [&](const std::function<void(v1::Member&)>& edit) {
    v1::Directory v2 = GenesisDirectory();
    v2.set_version(2);
    edit(*v2.mutable_members(0));  // MK
    return g->Adopt(ByMkRs(v2)).status().code();
  };
  using ::cbx::directory::testing::TestOprfPublicKey;
  EXPECT_EQ(adopt([](v1::Member&) {}), absl::StatusCode::kOk);
  EXPECT_EQ(adopt([](v1::Member& m) {
              m.mutable_oprf_key()->set_public_key(TestOprfPublicKey("MK", 2));
              m.mutable_oprf_key()->set_epoch(2);
            }),
            absl::StatusCode::kOk);
  EXPECT_EQ(adopt([](v1::Member& m) {
              m.mutable_oprf_key()->set_public_key(TestOprfPublicKey("MK", 2));
            }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(adopt([](v1::Member& m) {
              m.mutable_oprf_key()->set_public_key(TestOprfPublicKey("MK", 2));
              m.mutable_oprf_key()->set_epoch(3);
            }),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(adopt([](v1::Member& m) { m.mutable_oprf_key()->set_epoch(2); }),
            absl::StatusCode::kInvalidArgument);
}

TEST(AdoptTest, UnparsableIsInvalidArgument) {
  v1::SignedDirectory s;
  s.set_directory("\xff");
  EXPECT_EQ(MustGenesis()->Adopt(s).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AddGovernanceSignatureTest, CoSigningOffline) {
  v1::SignedDirectory proposal = SignAs(V2Directory(), {});
  auto g = MustGenesis();
  EXPECT_EQ(g->Adopt(proposal).status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(
      AddGovernanceSignature(proposal, "RS", TestKey("RS/governance/1")).ok());
  EXPECT_EQ(g->Adopt(proposal).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      AddGovernanceSignature(proposal, "RS", TestKey("RS/governance/1")).code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(
      AddGovernanceSignature(proposal, "rs", TestKey("RS/governance/1")).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(proposal.signatures_size(), 1);
  ASSERT_TRUE(
      AddGovernanceSignature(proposal, "AL", TestKey("AL/governance/1")).ok());
  EXPECT_TRUE(g->Adopt(proposal).ok());
  // Same bytes as signing both at once (Ed25519 is deterministic).
  EXPECT_EQ(proposal.SerializeAsString(), SignedV2().SerializeAsString());
}

TEST(LookupTest, FindMemberByUri) {
  auto g = MustGenesis();
  const v1::Member* mk = g->FindMemberByUri("spiffe://cbx/member/MK");
  ASSERT_NE(mk, nullptr);
  EXPECT_EQ(mk->code(), "MK");
  EXPECT_EQ(g->FindMemberByUri("spiffe://cbx/member/XK"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("spiffe://cbx/member/mk"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("spiffe://cbx/member/MK/"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("spiffe://cbx/member/MKD"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("spiffe://cbx/member/"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("spiffe://cbx/office/MK"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("SPIFFE://cbx/member/MK"), nullptr);
  EXPECT_EQ(g->FindMemberByUri("https://cbx/member/MK"), nullptr);
  EXPECT_EQ(g->FindMemberByUri(""), nullptr);
  EXPECT_EQ(g->FindMemberByUri(MemberUri("RS"))->code(), "RS");
}

TEST(LookupTest, FindMemberAndByKeyId) {
  auto v2 = MustV2();
  EXPECT_EQ(v2->FindMember("RS")->code(), "RS");
  EXPECT_EQ(v2->FindMember("XK"), nullptr);
  EXPECT_EQ(v2->FindMemberByKeyId(TestKeyId("MK/node/2"))->code(), "MK");
  EXPECT_EQ(v2->FindMemberByKeyId(TestKeyId("MK/node/1"))->code(), "MK");
  EXPECT_EQ(v2->FindMemberByKeyId(TestKeyId("RS/node/2"))->code(), "RS");
  EXPECT_EQ(v2->FindMemberByKeyId(TestKeyId("AL/node/2")), nullptr);
  EXPECT_EQ(v2->FindMemberByKeyId(""), nullptr);
}

TEST(NodeKeyAtTest, WindowsAreHalfOpen) {
  auto v2 = MustV2();
  const Bytes mk1 = TestKeyId("MK/node/1");
  const Bytes mk2 = TestKeyId("MK/node/2");
  const Bytes rs2 = TestKeyId("RS/node/2");
  auto ok = v2->NodeKeyAt("MK", mk1, kGenesisIssuedAtMs);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->bytes(), TestKey("MK/node/1").public_key().bytes());
  EXPECT_TRUE(v2->NodeKeyAt("MK", mk1, kMkNode1NotAfterMs - 1).ok());
  auto after = v2->NodeKeyAt("MK", mk1, kMkNode1NotAfterMs);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(after.status().message().find("not valid at"),
            absl::string_view::npos);
  EXPECT_EQ(v2->NodeKeyAt("MK", mk1, kGenesisIssuedAtMs - 1).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Open-ended key.
  EXPECT_TRUE(v2->NodeKeyAt("MK", mk2, kMkNode2NotBeforeMs).ok());
  EXPECT_TRUE(v2->NodeKeyAt("MK", mk2, INT64_MAX).ok());
  EXPECT_EQ(v2->NodeKeyAt("MK", mk2, kMkNode2NotBeforeMs - 1).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Pre-published, not yet valid.
  EXPECT_EQ(v2->NodeKeyAt("RS", rs2, kRsNode2NotBeforeMs - 1).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(v2->NodeKeyAt("RS", rs2, kRsNode2NotBeforeMs).ok());
}

TEST(NodeKeyAtTest, UnknownMemberAndKeyId) {
  auto v2 = MustV2();
  auto unknown_member =
      v2->NodeKeyAt("XK", TestKeyId("MK/node/2"), kMkNode2NotBeforeMs);
  EXPECT_EQ(unknown_member.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(unknown_member.status().message().find("unknown member"),
            absl::string_view::npos);
  auto unknown_key = v2->NodeKeyAt("MK", Bytes(8, '\0'), kMkNode2NotBeforeMs);
  EXPECT_EQ(unknown_key.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(unknown_key.status().message().find("unknown key id"),
            absl::string_view::npos);
  // A key of another member is unknown for this one.
  auto others =
      v2->NodeKeyAt("MK", TestKeyId("RS/node/1"), kMkNode2NotBeforeMs);
  EXPECT_EQ(others.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(others.status().message().find("unknown key id"),
            absl::string_view::npos);
}

TEST(StatusTest, SuspendedMembers) {
  auto g = MustGenesis();
  EXPECT_TRUE(g->IsActive("AL"));
  EXPECT_EQ(g->ActiveMemberCodes(),
            (std::vector<std::string>{"MK", "RS", "AL"}));
  auto v2 = MustV2();
  EXPECT_FALSE(v2->IsActive("AL"));
  EXPECT_TRUE(v2->IsActive("MK"));
  EXPECT_FALSE(v2->IsActive("XK"));
  EXPECT_EQ(v2->ActiveMemberCodes(), (std::vector<std::string>{"MK", "RS"}));
  // A suspended member stays listed, with its keys.
  ASSERT_NE(v2->FindMember("AL"), nullptr);
  EXPECT_EQ(v2->FindMember("AL")->status(), v1::MEMBER_STATUS_SUSPENDED);
}

}  // namespace
}  // namespace cbx::directory
