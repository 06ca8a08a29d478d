// OPRF key rotation in process (spec/oprf.md §2): MK rotates from its test
// federation key of epoch 1 to epoch 2's, with MemoryStorage, a FakeClock
// and a recording audit sink; RS's requests are given as admitted
// envelopes, as in lookup_responder_test.cc.
#include "node/oprf_rotation.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/directory/directory.h"
#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/lookup_responder.h"
#include "node/storage/memory_storage.h"
#include "node/storage/storage_test_util.h"
#include "node/testing/case_fixture.h"
#include "node/testing/test_audit_sink.h"

namespace cbx::node {
namespace {

using directory::testing::GenesisDirectory;
using directory::testing::SignAs;
using directory::testing::SignedGenesis;
using directory::testing::TestKey;
using directory::testing::TestOprfPublicKey;
using directory::testing::TestOprfScalar;
using testing::kOffice;
using testing::NewCase;

std::unique_ptr<crypto::OprfServerKey> MkKey(uint32_t epoch) {
  return std::make_unique<crypto::OprfServerKey>(
      *crypto::OprfServerKey::FromPrivateBytes(TestOprfScalar("MK", epoch)));
}

// Genesis with MK's OPRF key moved to epoch 2, and nothing else changed.
v1::SignedDirectory MkEpoch2() {
  v1::Directory d = GenesisDirectory();
  d.set_version(2);
  d.set_issued_at_ms(d.issued_at_ms() + 1000);
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "MK") continue;
    m.mutable_oprf_key()->set_public_key(TestOprfPublicKey("MK", 2));
    m.mutable_oprf_key()->set_epoch(2);
  }
  return SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

Bytes InputOf(const std::string& username) {
  auto normalized =
      identifiers::Normalize(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, username);
  return identifiers::OprfInput(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
                                *normalized);
}

Bytes YUnder(uint32_t epoch, const std::string& username) {
  return *MkKey(epoch)->Evaluate(InputOf(username));
}

class OprfRotationTest : public ::testing::Test {
 protected:
  OprfRotationTest() : trail_(&sink_) {
    ctx_.config.member = "MK";
    ctx_.clock = &clock_;
    ctx_.directory = std::make_unique<directory::DirectoryState>(
        *directory::Directory::FromGenesis(SignedGenesis()));
    ctx_.storage = std::make_unique<MemoryStorage>();
    ctx_.signing_keys = NodeSigningKeys::Single("MK", TestKey("MK/node/1"),
                                                ctx_.directory.get(), &clock_);
  }

  // (Re)starts the node's rotation with keys.oprf_key = epoch `a`'s key and
  // keys.oprf_key_next = epoch `b`'s (0: none), as a restart would.
  absl::Status Start(uint32_t a, uint32_t b, size_t batch = 1000) {
    book_.reset();
    responder_.reset();
    rotation_.reset();
    ctx_.oprf_keys.reset();
    OprfRotation::Options options;
    options.batch = batch;
    rotation_ = std::make_unique<OprfRotation>(&ctx_, nullptr, options);
    absl::Status started =
        rotation_->Start(MkKey(a), b == 0 ? nullptr : MkKey(b));
    if (!started.ok()) return started;
    book_ = std::make_unique<CaseBook>("MK", ctx_.storage.get(), nullptr,
                                       &trail_, &clock_, ctx_.oprf_keys.get());
    responder_ = std::make_unique<LookupResponder>(LookupResponder::Deps{
        .self = "MK",
        .directory = ctx_.directory.get(),
        .oprf_keys = ctx_.oprf_keys.get(),
        .signing_keys = ctx_.signing_keys.get(),
        .storage = ctx_.storage.get(),
        .trail = &trail_,
        .clock = &clock_,
    });
    return absl::OkStatus();
  }
  void AdoptEpoch2() {
    auto before = ctx_.directory->Current();
    ASSERT_TRUE(ctx_.directory->Update({MkEpoch2()}).ok());
    rotation_->OnDirectory(*before, *ctx_.directory->Current());
  }
  // Steps until the rotation is idle; how many steps it took.
  int RunToIdle() {
    int steps = 0;
    while (true) {
      absl::StatusOr<bool> more = rotation_->Step();
      EXPECT_TRUE(more.ok()) << more.status();
      ++steps;
      if (!more.ok() || !*more) return steps;
    }
  }
  void AddCase(const std::string& number,
               const std::vector<std::string>& usernames) {
    auto added = book_->Add(kOffice, NewCase(number, usernames));
    ASSERT_TRUE(added.ok()) << added.status();
  }

  envelope::OpenedEnvelope From(v1::Message message) {
    v1::Header* h = message.mutable_header();
    h->set_sender("RS");
    h->set_office("RS/PPO-Belgrade");
    h->set_message_id(std::string(16, static_cast<char>(++sent_)));
    envelope::OpenedEnvelope opened;
    opened.message = std::move(message);
    opened.envelope_sha256 = std::string(32, static_cast<char>(sent_));
    return opened;
  }
  // RS's query for `username` against MK's epoch `epoch`: blind, evaluate,
  // finalize with the proof checked against that epoch's public key.
  absl::StatusOr<Bytes> Query(const std::string& username, uint32_t epoch,
                              LookupResponder* responder = nullptr) {
    const Bytes input = InputOf(username);
    auto blinded = crypto::OprfBlind(input);
    if (!blinded.ok()) return blinded.status();
    v1::Message m;
    m.mutable_evaluate_request()->set_oprf_epoch(epoch);
    m.mutable_evaluate_request()->add_blinded_elements(
        blinded->blinded_element);
    auto reply = (responder != nullptr ? responder : responder_.get())
                     ->Evaluate(From(std::move(m)));
    if (!reply.ok()) return reply.status();
    v1::Message body;
    body.ParseFromString(reply->body());
    const v1::EvaluateResponse& r = body.evaluate_response();
    auto ys = crypto::OprfFinalize(
        {input}, {blinded->blind}, {blinded->blinded_element},
        {r.evaluated_elements(0)}, r.proof(), TestOprfPublicKey("MK", epoch));
    if (!ys.ok()) return ys.status();
    return (*ys)[0];
  }
  absl::StatusOr<v1::ResolveResponse> Resolve(const Bytes& y, uint32_t epoch) {
    v1::Message m;
    v1::ResolveRequest* r = m.mutable_resolve_request();
    r->set_oprf_epoch(epoch);
    r->mutable_purpose()->set_case_number("RS-77");
    r->mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    r->add_outputs(y);
    auto reply = responder_->Resolve(From(std::move(m)));
    if (!reply.ok()) return reply.status();
    v1::Message body;
    body.ParseFromString(reply->body());
    return body.resolve_response();
  }
  absl::StatusOr<IndexAnswer> Sync(uint64_t since, uint32_t epoch) {
    v1::Message m;
    m.mutable_index_request()->set_oprf_epoch(epoch);
    m.mutable_index_request()->set_since_version(since);
    return responder_->SyncIndex(From(std::move(m)));
  }
  std::vector<Tag> TagsUnder(uint32_t epoch,
                             const std::vector<std::string>& usernames) {
    std::vector<Tag> tags;
    for (const std::string& u : usernames) {
      tags.push_back(identifiers::TagOf(YUnder(epoch, u)));
    }
    std::sort(tags.begin(), tags.end());
    return tags;
  }

  FakeClock clock_{directory::testing::kNowMs};
  testing::TestAuditSink sink_;
  AuditTrail trail_;
  NodeContext ctx_;
  std::unique_ptr<OprfRotation> rotation_;
  std::unique_ptr<CaseBook> book_;
  std::unique_ptr<LookupResponder> responder_;
  int sent_ = 0;
};

// The attack: after the directory names epoch 2, a node that evaluates with
// the key it loaded at start answers epoch 2 with epoch 1's key, and every
// querier's proof check fails (so every query errs). Main's path is the
// responder without OprfKeys; it fails this way. With rotation, the new
// epoch is UNAVAILABLE until the switch and then answered with its key.
TEST_F(OprfRotationTest, NewEpochIsNeverAnsweredWithTheOldKey) {
  ASSERT_TRUE(Start(1, 2).ok());
  AddCase("MK-1", {"alice", "bobby"});
  AdoptEpoch2();

  auto old_key = MkKey(1);
  LookupResponder main_path(LookupResponder::Deps{
      .self = "MK",
      .directory = ctx_.directory.get(),
      .oprf_key = old_key.get(),
      .signing_keys = ctx_.signing_keys.get(),
      .storage = ctx_.storage.get(),
      .trail = &trail_,
      .clock = &clock_,
  });
  EXPECT_EQ(Query("alice", 2, &main_path).status().code(),
            absl::StatusCode::kUnauthenticated)
      << "main's responder answers the new epoch with the old key";

  EXPECT_EQ(Query("alice", 2).status().code(), absl::StatusCode::kUnavailable);
  // Queriers that have not seen the new version yet are still served.
  ASSERT_OK_AND_ASSIGN(Bytes y1, Query("alice", 1));
  EXPECT_EQ(y1, YUnder(1, "alice"));

  RunToIdle();
  ASSERT_OK_AND_ASSIGN(Bytes y2, Query("alice", 2));
  EXPECT_EQ(y2, YUnder(2, "alice"));
  ASSERT_OK_AND_ASSIGN(v1::ResolveResponse hit, Resolve(y2, 2));
  ASSERT_EQ(hit.references_size(), 1);
  EXPECT_EQ(ctx_.oprf_keys->epoch(), 2u);
}

TEST_F(OprfRotationTest, NoOldEpochTagIsServedAfterTheSwitch) {
  ASSERT_TRUE(Start(1, 2).ok());
  AddCase("MK-1", {"alice", "bobby"});
  AddCase("MK-2", {"carol"});
  ASSERT_OK_AND_ASSIGN(IndexAnswer before, Sync(0, 1));
  const uint64_t old_version = before.snapshot->version;
  EXPECT_EQ(before.snapshot->tags, TagsUnder(1, {"alice", "bobby", "carol"}));
  // Staging runs before the directory names the new key; nothing changes
  // for peers meanwhile.
  RunToIdle();
  ASSERT_OK_AND_ASSIGN(IndexAnswer staged, Sync(old_version, 1));
  EXPECT_FALSE(staged.full);
  AdoptEpoch2();
  EXPECT_EQ(Sync(old_version, 2).status().code(),
            absl::StatusCode::kUnavailable);
  RunToIdle();

  ASSERT_OK_AND_ASSIGN(std::vector<Tag> own, ctx_.storage->OwnIndexTags());
  EXPECT_EQ(own, TagsUnder(2, {"alice", "bobby", "carol"}));
  // A puller from any old version gets the whole new-epoch index.
  ASSERT_OK_AND_ASSIGN(IndexAnswer after, Sync(old_version, 2));
  EXPECT_TRUE(after.full);
  EXPECT_EQ(after.snapshot->tags, TagsUnder(2, {"alice", "bobby", "carol"}));
  v1::Message manifest;
  manifest.ParseFromString(after.manifest.manifest().body());
  EXPECT_EQ(manifest.index_manifest().oprf_epoch(), 2u);
  // The old epoch's index is not served, even in the grace window.
  EXPECT_EQ(Sync(old_version, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (Tag t : TagsUnder(1, {"alice", "bobby", "carol"})) {
    EXPECT_FALSE(std::binary_search(own.begin(), own.end(), t));
  }
}

TEST_F(OprfRotationTest, CrashHalfWayResumesAndCatchesLateChanges) {
  ASSERT_TRUE(Start(1, 2, /*batch=*/2).ok());
  AddCase("MK-1", {"user_a1", "user_a2", "user_a3"});
  AddCase("MK-2", {"user_b1", "user_b2", "user_b3", "user_b4"});
  ASSERT_OK_AND_ASSIGN(bool more, rotation_->Step());
  EXPECT_TRUE(more);
  ASSERT_OK_AND_ASSIGN(more, rotation_->Step());
  EXPECT_EQ(rotation_->staged(), 4u);
  // Killed half way: a new process on the same storage resumes.
  ASSERT_TRUE(Start(1, 2, /*batch=*/2).ok());
  EXPECT_EQ(rotation_->staged(), 4u);
  // A case added during the recompute, below the cursor.
  AddCase("MK-0", {"user_a0"});
  // A case removed during the recompute.
  ASSERT_TRUE(book_->Close(kOffice, "MK-1").ok());
  RunToIdle();
  EXPECT_EQ(rotation_->staged(), 7u) << "the first 4 were not recomputed";
  AdoptEpoch2();
  RunToIdle();
  EXPECT_EQ(rotation_->staged(), 8u) << "the late a0 staged by the last pass";
  ASSERT_OK_AND_ASSIGN(std::vector<Tag> own, ctx_.storage->OwnIndexTags());
  EXPECT_EQ(own, TagsUnder(2, {"user_a0", "user_b1", "user_b2", "user_b3",
                               "user_b4"}));
  ASSERT_OK_AND_ASSIGN(Bytes y, Query("user_a0", 2));
  ASSERT_OK_AND_ASSIGN(v1::ResolveResponse hit, Resolve(y, 2));
  EXPECT_EQ(hit.references_size(), 1);
  // A case added after the switch is evaluated under the new key.
  AddCase("MK-3", {"user_c1"});
  ASSERT_OK_AND_ASSIGN(Bytes c1, Query("user_c1", 2));
  ASSERT_OK_AND_ASSIGN(hit, Resolve(c1, 2));
  EXPECT_EQ(hit.references_size(), 1);
}

TEST_F(OprfRotationTest, GraceWindowServesThePreviousEpochThenRetiresIt) {
  ASSERT_TRUE(Start(1, 2).ok());
  AddCase("MK-1", {"alice"});
  // A querier evaluated under epoch 1 just before the switch.
  ASSERT_OK_AND_ASSIGN(Bytes y1, Query("alice", 1));
  AdoptEpoch2();
  RunToIdle();
  ASSERT_EQ(ctx_.oprf_keys->epoch(), 2u);
  // Inside the window: epoch 1 still evaluates with its key and resolves.
  ASSERT_OK_AND_ASSIGN(Bytes again, Query("alice", 1));
  EXPECT_EQ(again, y1);
  ASSERT_OK_AND_ASSIGN(v1::ResolveResponse hit, Resolve(y1, 1));
  ASSERT_EQ(hit.references_size(), 1);
  EXPECT_EQ(hit.references(0).matched(0).input_index(), 0u);
  // Epoch 3 was never listed.
  EXPECT_EQ(Query("alice", 3).status().code(),
            absl::StatusCode::kFailedPrecondition);

  clock_.AdvanceMs(kOprfGraceWindowMs - 1);
  EXPECT_TRUE(Query("alice", 1).ok());
  clock_.AdvanceMs(1);
  // The window ended: refused even before the retirement step runs.
  EXPECT_EQ(Query("alice", 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Resolve(y1, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  RunToIdle();
  EXPECT_EQ(ctx_.oprf_keys->previous(), nullptr);
  ASSERT_OK_AND_ASSIGN(auto translated,
                       ctx_.storage->TranslatePreviousOutputs({y1}));
  EXPECT_EQ(translated, std::vector<Bytes>({""}));
  ASSERT_OK_AND_ASSIGN(auto retired,
                       ctx_.storage->GetSetting(kOprfRetiredKeySetting));
  EXPECT_EQ(retired, std::optional<Bytes>(TestOprfPublicKey("MK", 1)));
}

TEST_F(OprfRotationTest, KeysAreMatchedToTheDirectoryInEitherOrder) {
  // A key that is not the directory's is refused, naming the field.
  absl::Status wrong = Start(2, 0);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.message().find("keys.oprf_key"), std::string::npos) << wrong;
  // Both orders start with epoch 1's key current.
  ASSERT_TRUE(Start(2, 1).ok());
  EXPECT_EQ(ctx_.oprf_keys->epoch(), 1u);
  EXPECT_EQ(ctx_.oprf_keys->current()->public_key(),
            TestOprfPublicKey("MK", 1));
  ASSERT_NE(ctx_.oprf_keys->next(), nullptr);
  AddCase("MK-1", {"alice"});
  AdoptEpoch2();
  RunToIdle();
  // After the switch, a restart with the paths swapped (or not) keeps
  // epoch 2 current and epoch 1 as the previous key in its window.
  for (auto [a, b] : {std::pair{2u, 1u}, std::pair{1u, 2u}}) {
    ASSERT_TRUE(Start(a, b).ok());
    EXPECT_EQ(ctx_.oprf_keys->epoch(), 2u);
    EXPECT_EQ(ctx_.oprf_keys->next(), nullptr);
    EXPECT_EQ(ctx_.oprf_keys->previous_epoch(), std::optional<uint32_t>(1));
  }
  // Only epoch 2's key now; epoch 1's alone is refused.
  ASSERT_TRUE(Start(2, 0).ok());
  EXPECT_EQ(Start(1, 0).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(OprfRotationTest, ListedKeyNotHeldStaysUnavailable) {
  ASSERT_TRUE(Start(1, 0).ok());
  AddCase("MK-1", {"alice"});
  AdoptEpoch2();
  EXPECT_EQ(RunToIdle(), 1);  // nothing to do but raise the alert
  EXPECT_EQ(Query("alice", 2).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_OK_AND_ASSIGN(Bytes y1, Query("alice", 1));
  EXPECT_EQ(y1, YUnder(1, "alice"));
}

TEST_F(OprfRotationTest, AdoptedBeforeRestartFinishesWithoutTheOldKey) {
  ASSERT_TRUE(Start(1, 0).ok());
  AddCase("MK-1", {"alice"});
  AdoptEpoch2();
  // Restarted with only the new key: the recompute runs before serving.
  ASSERT_TRUE(Start(2, 0).ok());
  EXPECT_EQ(ctx_.oprf_keys->epoch(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<Tag> own, ctx_.storage->OwnIndexTags());
  EXPECT_EQ(own, TagsUnder(2, {"alice"}));
}

}  // namespace
}  // namespace cbx::node
