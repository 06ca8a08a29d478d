// Checks the committed spec vectors (spec/vectors/envelope.json) against the
// implementation, and that the generator still produces them unchanged.
#include "core/envelope/testing/envelope_vectors.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"
#include "core/envelope/envelope.h"
#include "gtest/gtest.h"
#include "tests/testing/vectors.h"

namespace cbx::envelope {
namespace {

using ::cbx::testing::LoadJson;
using ::cbx::testing::Unhex;

nlohmann::json Vectors() {
  return LoadJson(std::string(CBX_SPEC_VECTORS_DIR) + "/envelope.json");
}

class RefuseAll final : public QuotaGate {
 public:
  absl::Status Charge(const std::string&, const v1::Message&) override {
    return absl::ResourceExhaustedError("quota exhausted (vector)");
  }
};

std::shared_ptr<const directory::Directory> Receiver(
    const nlohmann::json& doc) {
  std::shared_ptr<const directory::Directory> dir;
  for (const auto& hex : doc["directory_chain"]) {
    v1::SignedDirectory s;
    EXPECT_TRUE(s.ParseFromString(Unhex(hex)));
    auto next =
        dir == nullptr ? directory::Directory::FromGenesis(s) : dir->Adopt(s);
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok()) return nullptr;
    dir = *next;
  }
  return dir;
}

TEST(EnvelopeVectorsTest, Example) {
  auto doc = Vectors();
  const auto& ex = doc["example"];
  auto key = crypto::Ed25519PrivateKey::FromSeed(Unhex(ex["node_key_seed"]));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(HexEncode(directory::NodeKeyId(key->public_key().bytes())),
            ex["key_id"].get<std::string>());
  const Bytes body = Unhex(ex["message"]);
  EXPECT_EQ(HexEncode(EnvelopeSigningInput(body)),
            ex["signing_input"].get<std::string>());
  EXPECT_EQ(HexEncode(key->Sign(EnvelopeSigningInput(body))),
            ex["signature"].get<std::string>());
  v1::Envelope e;
  ASSERT_TRUE(e.ParseFromString(Unhex(ex["envelope"])));
  EXPECT_EQ(e.body(), body);
  EXPECT_EQ(HexEncode(crypto::Sha256(Unhex(ex["envelope"]))),
            ex["envelope_sha256"].get<std::string>());
}

TEST(EnvelopeVectorsTest, Cases) {
  auto doc = Vectors();
  auto dir = Receiver(doc);
  ASSERT_NE(dir, nullptr);
  ASSERT_EQ(dir->version(), 2u);
  FakeClock clock(doc["now_ms"].get<int64_t>());
  ASSERT_GE(doc["cases"].size(), 30u);
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    InMemoryReplayCache cache;
    for (const auto& seen : c["replay_seen"]) {
      ASSERT_TRUE(cache
                      .CheckAndRecord(seen["sender"], Unhex(seen["message_id"]),
                                      INT64_MAX)
                      .ok());
    }
    RefuseAll refuse_all;
    OpenOptions o;
    o.directory = dir.get();
    o.receiver = c["receiver"];
    o.authenticated_member = c["authenticated_member"];
    for (const auto& k : c["accepted_kinds"]) {
      o.accepted_kinds.push_back(testing::KindFromName(k));
    }
    o.clock = &clock;
    o.replay_cache = &cache;
    o.quota = c["quota_exhausted"].get<bool>() ? &refuse_all : nullptr;
    v1::Envelope e;
    ASSERT_TRUE(e.ParseFromString(Unhex(c["envelope"])));
    auto opened = Open(e, o);
    const std::string expected = c["expected"];
    if (expected == "OK") {
      ASSERT_TRUE(opened.ok()) << opened.status();
      EXPECT_EQ(HexEncode(opened->envelope_sha256),
                c["envelope_sha256"].get<std::string>());
      EXPECT_EQ(opened->envelope_sha256, crypto::Sha256(Unhex(c["envelope"])));
    } else {
      ASSERT_FALSE(opened.ok());
      EXPECT_EQ(absl::StatusCodeToString(opened.status().code()), expected)
          << opened.status();
      EXPECT_TRUE(
          absl::StartsWith(opened.status().message(),
                           "check " + c["check"].get<std::string>() + ": "))
          << opened.status();
    }
  }
}

TEST(EnvelopeVectorsTest, EveryRefusalCodeIsCovered) {
  auto doc = Vectors();
  std::set<std::string> checks;
  for (const auto& c : doc["cases"]) {
    if (c.contains("check")) checks.insert(c["check"].get<std::string>());
  }
  EXPECT_EQ(checks,
            (std::set<std::string>{"1 (body)", "2 (signature)", "3 (sender)",
                                   "4 (audience)", "5 (time)", "6 (replay)",
                                   "7 (sender status)", "7 (quota)"}));
}

TEST(EnvelopeVectorsTest, GeneratorReproducesCommittedFile) {
  EXPECT_EQ(testing::MakeEnvelopeVectors(), Vectors())
      << "regenerate with cbx_gen_spec_vectors and review the diff";
}

}  // namespace
}  // namespace cbx::envelope
