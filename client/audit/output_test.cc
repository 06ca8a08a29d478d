#include "client/audit/output.h"

#include <string>
#include <vector>

#include "client/audit/test_log.h"
#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestCosigner;
using testing::TestLog;
using testing::Witness;

CheckpointReport Report(const std::vector<TestCosigner>& cosigners) {
  TestLog log("MK");
  log.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "e",
                                testing::kTestNowMs));
  auto dir = directory::Directory::FromGenesis(fed::SignedGenesis());
  auto r = VerifyCheckpoint(**dir, "MK", log.Checkpoint(1, cosigners),
                            testing::kTestNowMs);
  EXPECT_TRUE(r.ok()) << r.status();
  return *std::move(r);
}

TEST(AuditOutputTest, CheckpointTextShowsSignersAndWitnesses) {
  TestCosigner zz{"cbx/ZZ/witness", "ZZ/node/1", testing::kTestNowMs / 1000};
  CheckpointReport r = Report({Witness("RS"), Witness("AL"), zz});
  const std::string text = CheckpointText(r);
  EXPECT_THAT(text, HasSubstr("log        cbx/MK/audit\n"));
  EXPECT_THAT(text, HasSubstr("size       1\n"));
  EXPECT_THAT(text,
              HasSubstr("root hash  " + HexEncode(r.checkpoint.root_hash)));
  EXPECT_THAT(text, HasSubstr("directory  version 1\n"));
  EXPECT_THAT(text, HasSubstr("signed by  cbx/MK/audit+" +
                              KeyIdHex(r.log_key_id) + " (node key of MK)\n"));
  EXPECT_THAT(text, HasSubstr("witnessed  yes: 2 of the 2 needed (RS, AL)\n"));
  EXPECT_THAT(text, HasSubstr("WITNESS  KEY"));
  EXPECT_THAT(text, HasSubstr("RS       cbx/RS/witness+" +
                              KeyIdHex(r.cosignatures[0].key_id) +
                              "  2026-01-01T00:00:00Z\n"));
  EXPECT_THAT(text, HasSubstr("ignored signature lines"));
  EXPECT_THAT(text, HasSubstr("ZZ is not a member of directory version 1"));

  Json j = CheckpointJson(r);
  EXPECT_EQ(j["origin"], "cbx/MK/audit");
  EXPECT_EQ(j["size"], 1);
  EXPECT_EQ(j["witnessed"], true);
  EXPECT_EQ(j["witnesses"], 2);
  EXPECT_EQ(j["witness_threshold"], 2);
  EXPECT_EQ(j["cosignatures"].size(), 2u);
  EXPECT_EQ(j["cosignatures"][1]["witness"], "AL");
  EXPECT_EQ(j["cosignatures"][1]["time"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(j["ignored"][0]["reason"],
            "ZZ is not a member of directory version 1");
  EXPECT_EQ(j["checkpoint"], r.note);
}

TEST(AuditOutputTest, UnwitnessedCheckpointSaysSo) {
  const std::string text = CheckpointText(Report({}));
  EXPECT_THAT(text, HasSubstr("witnessed  NO: 0 of the 2 needed\n"));
  EXPECT_THAT(text, HasSubstr("no witness cosignatures"));
}

TEST(AuditOutputTest, VerifyTextSaysHowTrustMoved) {
  CheckpointReport r = Report({Witness("RS"), Witness("AL")});
  TrustUpdate first{TrustUpdate::Kind::kFirstUse, std::nullopt, 0,
                    "/s/cbx_MK_audit.checkpoint"};
  EXPECT_THAT(VerifyText(r, first),
              HasSubstr("first use: no checkpoint of cbx/MK/audit was trusted "
                        "yet; trusting this one from now on"));
  EXPECT_THAT(VerifyText(r, first),
              HasSubstr("trusted now  checkpoint 1, stored in "
                        "/s/cbx_MK_audit.checkpoint"));
  TrustUpdate ext{TrustUpdate::Kind::kExtended, 1, 3, "/s/f"};
  EXPECT_THAT(VerifyText(r, ext),
              HasSubstr("consistent with the trusted checkpoint 1 (proof of 3 "
                        "hashes verified)"));
  Json j = VerifyJson(r, first);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["consistency"]["result"], "first_use");
  EXPECT_TRUE(j["consistency"]["trusted_size"].is_null());
  EXPECT_EQ(VerifyJson(r, ext)["consistency"]["trusted_size"], 1);
}

TEST(AuditOutputTest, EntryFields) {
  v1::AuditEntry e = testing::MakeEntry(v1::AUDIT_DIRECTION_RECEIVED, "RS",
                                        "env", testing::kTestNowMs, 7);
  e.set_sequence(42);
  e.set_message_id(std::string(16, '\xab'));
  e.set_office("RS/\x1b[31mPPO");
  e.mutable_outcome()->set_hits(1);
  const std::string text = EntryText(e);
  EXPECT_THAT(text, HasSubstr("sequence         42\n"));
  EXPECT_THAT(text, HasSubstr("time             2026-01-01T00:00:00Z\n"));
  EXPECT_THAT(text, HasSubstr("direction        received\n"));
  EXPECT_THAT(text, HasSubstr("peer             RS\n"));
  EXPECT_THAT(text, HasSubstr("rpc              Peer.Evaluate\n"));
  EXPECT_THAT(text, HasSubstr("kind             evaluate_request\n"));
  EXPECT_THAT(text, HasSubstr("envelope sha256  " +
                              HexEncode(crypto::Sha256("env")) + "\n"));
  EXPECT_THAT(text, HasSubstr("message id       " +
                              HexEncode(std::string(16, '\xab')) + "\n"));
  EXPECT_THAT(text, HasSubstr("in reply to      -\n"));
  EXPECT_THAT(text, HasSubstr("outcome          PERMISSION_DENIED, 2 elements, "
                              "1 hit, 0 references\n"));
  // Control characters from the log never reach the terminal.
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  Json j = EntryJson(e);
  EXPECT_EQ(j["sequence"], 42);
  EXPECT_EQ(j["direction"], "received");
  EXPECT_EQ(j["outcome"]["status"], "PERMISSION_DENIED");
  EXPECT_EQ(j["outcome"]["status_code"], 7);
  EXPECT_TRUE(j["in_reply_to"].is_null());
  EXPECT_EQ(j["envelope_sha256"], HexEncode(crypto::Sha256("env")));
  EXPECT_EQ(DirectionName(static_cast<v1::AuditDirection>(9)), "direction #9");
}

TEST(AuditOutputTest, ProofTextEndsWithIncluded) {
  CheckpointReport r = Report({Witness("RS"), Witness("AL")});
  v1::AuditEntry e;
  const std::string text = ProofText(0, e, 1, r);
  EXPECT_THAT(text, HasSubstr("entry 0 of cbx/MK/audit\n"));
  EXPECT_THAT(text, HasSubstr("\nincluded in checkpoint 1 (witnessed: yes: 2 "
                              "of the 2 needed (RS, AL))\n"));
  r.checkpoint.size = 5;
  EXPECT_THAT(ProofText(0, e, 1, r),
              HasSubstr("included in the tree of size 1, which checkpoint 5 "
                        "extends (consistency verified"));
}

TEST(AuditOutputTest, ReconcileTextListsOrphans) {
  ReconcileReport r;
  r.sides[0].member = "MK";
  r.sides[0].has_entries = true;
  r.sides[0].begin = 0;
  r.sides[0].end = 10;
  r.sides[0].first_ms = testing::kTestNowMs;
  r.sides[0].last_ms = testing::kTestNowMs + 3600000;
  r.sides[1].member = "RS";
  r.margin_ms = 360000;
  r.matched = 4;
  r.matched_refused = 1;
  Orphan o;
  o.side = 0;
  o.index = 7;
  o.kind = OrphanKind::kSentNotReceived;
  o.entry = testing::MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "lost",
                               testing::kTestNowMs + 60000);
  r.orphans.push_back(o);
  o.side = 1;
  o.index = 3;
  o.kind = OrphanKind::kReceivedNotSent;
  r.outside.push_back(o);
  const std::string text = ReconcileText(r);
  EXPECT_THAT(text,
              HasSubstr("first        MK: entries 0..9, 2026-01-01T00:00:00Z "
                        "to 2026-01-01T01:00:00Z"));
  EXPECT_THAT(text, HasSubstr("second       RS: no entries\n"));
  EXPECT_THAT(text, HasSubstr("matched      4 pairs (1 received and refused by "
                              "the receiver)\n"));
  EXPECT_THAT(text, HasSubstr("sent by MK, not received by RS  7      "
                              "2026-01-01T00:01:00Z  Peer.Evaluate  "
                              "evaluate_request  OK      " +
                              HexEncode(crypto::Sha256("lost")).substr(0, 16)));
  EXPECT_THAT(text, HasSubstr("outside the other export's range"));
  EXPECT_THAT(text, HasSubstr("received by RS, not sent by MK"));
  EXPECT_THAT(text, HasSubstr("NOT reconciled: 1 orphan\n"));
  Json j = ReconcileJson(r);
  EXPECT_EQ(j["reconciled"], false);
  EXPECT_EQ(j["matched"], 4);
  EXPECT_EQ(j["orphans"][0]["member"], "MK");
  EXPECT_EQ(j["orphans"][0]["orphan"], "sent_not_received");
  EXPECT_EQ(j["orphans"][0]["envelope_sha256"],
            HexEncode(crypto::Sha256("lost")));
  EXPECT_EQ(j["outside"][0]["orphan"], "received_not_sent");
  EXPECT_EQ(j["margin_s"], 360);
}

}  // namespace
}  // namespace cbx::client::audit
