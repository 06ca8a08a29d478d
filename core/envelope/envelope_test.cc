#include "core/envelope/envelope.h"

#include <atomic>
#include <climits>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "core/envelope/testing/envelope_vectors.h"
#include "gtest/gtest.h"

namespace cbx::envelope {
namespace {

using ::cbx::directory::testing::kMkNode1NotAfterMs;
using ::cbx::directory::testing::kNowMs;
using ::cbx::directory::testing::SignedGenesis;
using ::cbx::directory::testing::SignedV2;
using ::cbx::directory::testing::TestKey;
using ::cbx::directory::testing::TestKeyId;
using ::cbx::envelope::testing::TestEvaluateRequest;
using ::cbx::envelope::testing::TestMessageId;

// Counts charges; refuses all when exhausted.
class FakeQuota final : public QuotaGate {
 public:
  absl::Status Charge(const std::string& sender,
                      const v1::Message& message) override {
    (void)message;
    if (exhausted) {
      return absl::ResourceExhaustedError("evaluation quota of " + sender +
                                          " is used up for today");
    }
    ++charges;
    return absl::OkStatus();
  }
  bool exhausted = false;
  std::atomic<int> charges{0};
};

class OpenTest : public ::testing::Test {
 protected:
  OpenTest() : clock_(kNowMs) {
    auto genesis = directory::Directory::FromGenesis(SignedGenesis());
    EXPECT_TRUE(genesis.ok()) << genesis.status();
    auto v2 = (*genesis)->Adopt(SignedV2());
    EXPECT_TRUE(v2.ok()) << v2.status();
    dir_ = *v2;
  }

  OpenOptions Options(std::string authenticated = "MK") {
    OpenOptions o;
    o.directory = dir_.get();
    o.receiver = "RS";
    o.authenticated_member = std::move(authenticated);
    o.accepted_kinds = {v1::Message::kEvaluateRequest};
    o.clock = &clock_;
    o.replay_cache = &cache_;
    o.quota = &quota_;
    return o;
  }

  // TestEvaluateRequest(n) edited, sealed with `label`.
  static v1::Envelope Make(int n,
                           const std::function<void(v1::Message&)>& edit = {},
                           const std::string& label = "MK/node/2") {
    v1::Message m = TestEvaluateRequest(n);
    if (edit) edit(m);
    return Seal(m, TestKey(label));
  }

  // Opens and expects `code` from check `check`; the cache must be untouched
  // unless the check is 6 or 7 (quota).
  void ExpectRefused(const v1::Envelope& e, const OpenOptions& o,
                     absl::StatusCode code, const std::string& check) {
    const size_t before = cache_.size();
    auto opened = Open(e, o);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), code) << opened.status();
    EXPECT_TRUE(
        absl::StartsWith(opened.status().message(), "check " + check + ": "))
        << opened.status();
    if (check != "6 (replay)" && check != "7 (quota)") {
      EXPECT_EQ(cache_.size(), before) << "a refused envelope took a slot";
    }
  }

  FakeClock clock_;
  InMemoryReplayCache cache_;
  FakeQuota quota_;
  std::shared_ptr<const directory::Directory> dir_;
};

TEST(EnvelopeSigningInputTest, IsLabelZeroBody) {
  EXPECT_EQ(EnvelopeSigningInput("xyz"), Bytes("cbx/v1/envelope\0xyz", 19));
}

TEST(SealTest, SignsTheSerializedBodyOnce) {
  const v1::Message m = TestEvaluateRequest(1);
  const crypto::Ed25519PrivateKey key = TestKey("MK/node/2");
  const v1::Envelope e = Seal(m, key);
  EXPECT_EQ(e.body(), m.SerializeAsString());
  EXPECT_EQ(e.key_id(), directory::NodeKeyId(key.public_key().bytes()));
  EXPECT_EQ(e.key_id(), TestKeyId("MK/node/2"));
  EXPECT_TRUE(
      key.public_key().Verify(EnvelopeSigningInput(e.body()), e.signature()));
  EXPECT_FALSE(key.public_key().Verify(e.body(), e.signature()));
}

TEST(MakeHeaderTest, FillsSenderAudienceIdAndTimes) {
  FakeClock clock(kNowMs);
  v1::Header h = MakeHeader("MK", {"RS", "AL"}, clock, 120000);
  EXPECT_EQ(h.sender(), "MK");
  ASSERT_EQ(h.audience_size(), 2);
  EXPECT_EQ(h.audience(1), "AL");
  EXPECT_EQ(h.message_id().size(), 16u);
  EXPECT_EQ(h.issued_at_ms(), kNowMs);
  EXPECT_EQ(h.expires_at_ms(), kNowMs + 120000);
  EXPECT_NE(MakeHeader("MK", {}, clock, 1).message_id(), h.message_id());
}

TEST(EnvelopeSha256Test, IsHashOfCanonicalEncoding) {
  const v1::Envelope e = Seal(TestEvaluateRequest(1), TestKey("MK/node/2"));
  EXPECT_EQ(EnvelopeSha256(e), crypto::Sha256(e.SerializeAsString()));
  EXPECT_EQ(EnvelopeSha256(v1::Envelope()), crypto::Sha256(""));
  // A long body needs a multi-byte varint length.
  v1::Envelope big;
  big.set_body(Bytes(300, 'x'));
  EXPECT_EQ(EnvelopeSha256(big), crypto::Sha256(big.SerializeAsString()));
}

TEST(KindNameTest, Names) {
  EXPECT_EQ(KindName(v1::Message::kEvaluateRequest), "evaluate_request");
  EXPECT_EQ(KindName(v1::Message::kIndexManifest), "index_manifest");
  EXPECT_EQ(KindName(v1::Message::KIND_NOT_SET), "kind_not_set");
}

TEST_F(OpenTest, OpensAValidEnvelope) {
  const v1::Envelope e = Make(1);
  auto opened = Open(e, Options());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->message.SerializeAsString(),
            TestEvaluateRequest(1).SerializeAsString());
  EXPECT_EQ(opened->envelope_sha256, crypto::Sha256(e.SerializeAsString()));
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_EQ(quota_.charges.load(), 1);
}

TEST_F(OpenTest, NoQuotaGateMeansNoQuota) {
  OpenOptions o = Options();
  o.quota = nullptr;
  EXPECT_TRUE(Open(Make(1), o).ok());
}

TEST_F(OpenTest, MissingOptionsAreInternal) {
  OpenOptions o = Options();
  o.directory = nullptr;
  EXPECT_EQ(Open(Make(1), o).status().code(), absl::StatusCode::kInternal);
  o = Options();
  o.clock = nullptr;
  EXPECT_EQ(Open(Make(1), o).status().code(), absl::StatusCode::kInternal);
  o = Options();
  o.replay_cache = nullptr;
  EXPECT_EQ(Open(Make(1), o).status().code(), absl::StatusCode::kInternal);
  o = Options();
  o.receiver.clear();
  EXPECT_EQ(Open(Make(1), o).status().code(), absl::StatusCode::kInternal);
}

// --- Check 1 -----------------------------------------------------------------

TEST_F(OpenTest, UnparsableBodyIsInvalidArgument) {
  crypto::Ed25519PrivateKey key = TestKey("MK/node/2");
  v1::Envelope e;
  e.set_body("\x0a\xff\xff\x01");
  e.set_key_id(TestKeyId("MK/node/2"));
  e.set_signature(key.Sign(EnvelopeSigningInput(e.body())));
  ExpectRefused(e, Options(), absl::StatusCode::kInvalidArgument, "1 (body)");
}

TEST_F(OpenTest, WrongKindIsInvalidArgument) {
  v1::Envelope e = Make(2, [](v1::Message& m) {
    m.mutable_resolve_request()->set_oprf_epoch(1);
  });
  ExpectRefused(e, Options(), absl::StatusCode::kInvalidArgument, "1 (body)");
  OpenOptions o = Options();
  o.accepted_kinds.push_back(v1::Message::kResolveRequest);
  EXPECT_TRUE(Open(e, o).ok());
}

TEST_F(OpenTest, NoKindIsInvalidArgument) {
  ExpectRefused(Make(3, [](v1::Message& m) { m.clear_kind(); }), Options(),
                absl::StatusCode::kInvalidArgument, "1 (body)");
  OpenOptions none = Options();
  none.accepted_kinds.clear();
  ExpectRefused(Make(3), none, absl::StatusCode::kInvalidArgument, "1 (body)");
}

TEST_F(OpenTest, MissingHeaderIsInvalidArgument) {
  ExpectRefused(Make(4, [](v1::Message& m) { m.clear_header(); }), Options(),
                absl::StatusCode::kInvalidArgument, "1 (body)");
}

TEST_F(OpenTest, MessageIdMustBe16Bytes) {
  for (size_t len : {0, 15, 17}) {
    SCOPED_TRACE(len);
    ExpectRefused(Make(5,
                       [len](v1::Message& m) {
                         m.mutable_header()->set_message_id(Bytes(len, 'i'));
                       }),
                  Options(), absl::StatusCode::kInvalidArgument, "1 (body)");
  }
}

TEST_F(OpenTest, SenderMustBeSet) {
  ExpectRefused(
      Make(6, [](v1::Message& m) { m.mutable_header()->clear_sender(); }),
      Options(), absl::StatusCode::kInvalidArgument, "1 (body)");
}

TEST_F(OpenTest, InReplyToIsEmptyOr16Bytes) {
  ExpectRefused(Make(7,
                     [](v1::Message& m) {
                       m.mutable_header()->set_in_reply_to(Bytes(8, 'r'));
                     }),
                Options(), absl::StatusCode::kInvalidArgument, "1 (body)");
  EXPECT_TRUE(Open(Make(7,
                        [](v1::Message& m) {
                          m.mutable_header()->set_in_reply_to(
                              TestMessageId(99));
                        }),
                   Options())
                  .ok());
}

// --- Check 2 -----------------------------------------------------------------

TEST_F(OpenTest, BadSignatureIsUnauthenticated) {
  v1::Envelope e = Make(20);
  e.mutable_signature()->back() ^= 0x04;
  ExpectRefused(e, Options(), absl::StatusCode::kUnauthenticated,
                "2 (signature)");
  v1::Envelope short_sig = Make(20);
  short_sig.mutable_signature()->pop_back();
  ExpectRefused(short_sig, Options(), absl::StatusCode::kUnauthenticated,
                "2 (signature)");
  v1::Envelope tampered = Make(20);
  tampered.mutable_body()->append("\x3a\x00", 2);  // unknown empty field 7
  ExpectRefused(tampered, Options(), absl::StatusCode::kUnauthenticated,
                "2 (signature)");
}

TEST_F(OpenTest, SignatureByAnotherKeyUnderTheKeyIdIsUnauthenticated) {
  v1::Envelope e = Make(21, {}, "RS/node/1");
  e.set_key_id(TestKeyId("MK/node/2"));
  ExpectRefused(e, Options(), absl::StatusCode::kUnauthenticated,
                "2 (signature)");
}

TEST_F(OpenTest, UnknownKeyIdIsUnauthenticated) {
  v1::Envelope e = Make(22);
  e.set_key_id("12345678");
  ExpectRefused(e, Options(), absl::StatusCode::kUnauthenticated,
                "2 (signature)");
  EXPECT_TRUE(absl::StrContains(Open(e, Options()).status().message(),
                                "unknown key id"));
}

TEST_F(OpenTest, KeyOfAnotherMemberIsUnauthenticated) {
  // RS's own valid key, but the header says MK.
  ExpectRefused(Make(23, {}, "RS/node/1"), Options(),
                absl::StatusCode::kUnauthenticated, "2 (signature)");
}

TEST_F(OpenTest, UnknownSenderIsUnauthenticated) {
  auto opened = Open(
      Make(24, [](v1::Message& m) { m.mutable_header()->set_sender("XK"); }),
      Options("XK"));
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(opened.status().message(), "unknown member"));
}

TEST_F(OpenTest, KeyOutsideItsValidityWindowIsUnauthenticated) {
  // MK/node/1 ended at kMkNode1NotAfterMs; the message is issued after.
  auto expired = Open(Make(25, {}, "MK/node/1"), Options());
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StrContains(expired.status().message(), "not valid at"));
  // RS/node/2 starts 2026-02-01.
  OpenOptions to_mk = Options("RS");
  to_mk.receiver = "MK";
  ExpectRefused(Make(
                    26,
                    [](v1::Message& m) {
                      m.mutable_header()->set_sender("RS");
                      m.mutable_header()->set_audience(0, "MK");
                    },
                    "RS/node/2"),
                to_mk, absl::StatusCode::kUnauthenticated, "2 (signature)");
}

TEST_F(OpenTest, KeyIsJudgedAtIssuedAtNotAtReceipt) {
  // Issued 1 ms before MK/node/1 ended, received 30 s later: accepted.
  clock_.SetMs(kMkNode1NotAfterMs + 29999);
  v1::Envelope e = Make(
      27,
      [](v1::Message& m) {
        m.mutable_header()->set_issued_at_ms(kMkNode1NotAfterMs - 1);
        m.mutable_header()->set_expires_at_ms(kMkNode1NotAfterMs + 60000);
      },
      "MK/node/1");
  EXPECT_TRUE(Open(e, Options()).ok());
}

// --- Check 3 -----------------------------------------------------------------

TEST_F(OpenTest, SenderMustBeTheAuthenticatedMember) {
  ExpectRefused(Make(30), Options("AL"), absl::StatusCode::kUnauthenticated,
                "3 (sender)");
  ExpectRefused(Make(30), Options(""), absl::StatusCode::kUnauthenticated,
                "3 (sender)");
}

// --- Check 4 -----------------------------------------------------------------

TEST_F(OpenTest, ReceiverMustBeInAudience) {
  ExpectRefused(
      Make(40,
           [](v1::Message& m) { m.mutable_header()->set_audience(0, "AL"); }),
      Options(), absl::StatusCode::kPermissionDenied, "4 (audience)");
  ExpectRefused(
      Make(41, [](v1::Message& m) { m.mutable_header()->clear_audience(); }),
      Options(), absl::StatusCode::kPermissionDenied, "4 (audience)");
}

// --- Check 5 -----------------------------------------------------------------

void SetTimes(v1::Message& m, int64_t issued, int64_t expires) {
  m.mutable_header()->set_issued_at_ms(issued);
  m.mutable_header()->set_expires_at_ms(expires);
}

TEST_F(OpenTest, ExpiredIsFailedPrecondition) {
  auto e =
      Make(50, [](v1::Message& m) { SetTimes(m, kNowMs - 30000, kNowMs); });
  ExpectRefused(e, Options(), absl::StatusCode::kFailedPrecondition,
                "5 (time)");
  EXPECT_TRUE(
      absl::StrContains(Open(e, Options()).status().message(), "expired"));
  // One millisecond earlier it is still good.
  clock_.SetMs(kNowMs - 1);
  EXPECT_TRUE(Open(e, Options()).ok());
}

TEST_F(OpenTest, IssuedInTheFutureBeyondSkewIsFailedPrecondition) {
  auto e = Make(
      51, [](v1::Message& m) { SetTimes(m, kNowMs + 60001, kNowMs + 120000); });
  ExpectRefused(e, Options(), absl::StatusCode::kFailedPrecondition,
                "5 (time)");
  EXPECT_TRUE(
      absl::StrContains(Open(e, Options()).status().message(), "future"));
  clock_.SetMs(kNowMs + 1);
  EXPECT_TRUE(Open(e, Options()).ok());
}

TEST_F(OpenTest, IssuedInThePastBeyondSkewIsFailedPrecondition) {
  auto e = Make(
      52, [](v1::Message& m) { SetTimes(m, kNowMs - 60001, kNowMs + 120000); });
  ExpectRefused(e, Options(), absl::StatusCode::kFailedPrecondition,
                "5 (time)");
  EXPECT_TRUE(absl::StrContains(Open(e, Options()).status().message(), "past"));
}

TEST_F(OpenTest, LifetimeTooLongIsFailedPrecondition) {
  auto e =
      Make(53, [](v1::Message& m) { SetTimes(m, kNowMs, kNowMs + 300001); });
  ExpectRefused(e, Options(), absl::StatusCode::kFailedPrecondition,
                "5 (time)");
  EXPECT_TRUE(
      absl::StrContains(Open(e, Options()).status().message(), "lifetime"));
  EXPECT_TRUE(
      Open(Make(54,
                [](v1::Message& m) { SetTimes(m, kNowMs, kNowMs + 300000); }),
           Options())
          .ok());
}

TEST_F(OpenTest, NonPositiveLifetimeIsFailedPrecondition) {
  ExpectRefused(Make(55, [](v1::Message& m) { SetTimes(m, kNowMs, kNowMs); }),
                Options(), absl::StatusCode::kFailedPrecondition, "5 (time)");
  ExpectRefused(
      Make(56, [](v1::Message& m) { SetTimes(m, kNowMs, kNowMs - 5); }),
      Options(), absl::StatusCode::kFailedPrecondition, "5 (time)");
}

TEST_F(OpenTest, ExtremeTimesDoNotOverflow) {
  struct TimeCase {
    int64_t issued;
    int64_t expires;
    absl::StatusCode code;
  };
  const std::vector<TimeCase> cases = {
      // Before MK/node/2's window: check 2.
      {INT64_MIN, INT64_MAX, absl::StatusCode::kUnauthenticated},
      // MK/node/2 is open-ended, so check 2 passes; check 5 refuses.
      {INT64_MAX, INT64_MIN, absl::StatusCode::kFailedPrecondition},
      {kNowMs, INT64_MAX, absl::StatusCode::kFailedPrecondition},
      {INT64_MAX - 1, INT64_MAX, absl::StatusCode::kFailedPrecondition},
      {kNowMs, INT64_MIN, absl::StatusCode::kFailedPrecondition},
  };
  for (const TimeCase& c : cases) {
    SCOPED_TRACE(c.issued);
    auto opened = Open(
        Make(57, [&c](v1::Message& m) { SetTimes(m, c.issued, c.expires); }),
        Options());
    EXPECT_EQ(opened.status().code(), c.code) << opened.status();
  }
}

// --- Check 7a (sender status), before 6 --------------------------------------

v1::Envelope FromAl(int n) {
  v1::Message m = TestEvaluateRequest(n);
  m.mutable_header()->set_sender("AL");
  return Seal(m, TestKey("AL/node/1"));
}

TEST_F(OpenTest, SuspendedSenderIsPermissionDeniedWithoutTakingASlot) {
  ExpectRefused(FromAl(70), Options("AL"), absl::StatusCode::kPermissionDenied,
                "7 (sender status)");
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(quota_.charges.load(), 0);
  // Deterministic whatever the cache holds.
  ASSERT_TRUE(cache_.CheckAndRecord("AL", TestMessageId(70), kNowMs + 1).ok());
  ExpectRefused(FromAl(70), Options("AL"), absl::StatusCode::kPermissionDenied,
                "7 (sender status)");
}

TEST_F(OpenTest, ReinstatedMemberCanResendAMessageRefusedWhileSuspended) {
  ExpectRefused(FromAl(71), Options("AL"), absl::StatusCode::kPermissionDenied,
                "7 (sender status)");
  auto genesis = directory::Directory::FromGenesis(SignedGenesis());
  ASSERT_TRUE(genesis.ok());
  OpenOptions o = Options("AL");
  o.directory = genesis->get();  // AL active there
  EXPECT_TRUE(Open(FromAl(71), o).ok());
}

// --- Check 6 -----------------------------------------------------------------

TEST_F(OpenTest, ReplayIsAlreadyExists) {
  const v1::Envelope e = Make(60);
  ASSERT_TRUE(Open(e, Options()).ok());
  ExpectRefused(e, Options(), absl::StatusCode::kAlreadyExists, "6 (replay)");
  // A different envelope carrying the same message id is a replay too.
  ExpectRefused(
      Make(60, [](v1::Message& m) { m.mutable_header()->set_user("x"); }),
      Options(), absl::StatusCode::kAlreadyExists, "6 (replay)");
  // The replays were not charged.
  EXPECT_EQ(quota_.charges.load(), 1);
}

TEST_F(OpenTest, ReplayBeatsQuota) {
  const v1::Envelope e = Make(61);
  ASSERT_TRUE(Open(e, Options()).ok());
  quota_.exhausted = true;
  ExpectRefused(e, Options(), absl::StatusCode::kAlreadyExists, "6 (replay)");
}

TEST_F(OpenTest, RefusalsBeforeCheck6NeverPolluteTheCache) {
  // The same message id refused by checks 3, 4 and 5 ...
  const v1::Envelope e = Make(62);
  ExpectRefused(e, Options("AL"), absl::StatusCode::kUnauthenticated,
                "3 (sender)");
  OpenOptions wrong_receiver = Options();
  wrong_receiver.receiver = "AL";
  ExpectRefused(e, wrong_receiver, absl::StatusCode::kPermissionDenied,
                "4 (audience)");
  clock_.SetMs(kNowMs + 200000);
  ExpectRefused(e, Options(), absl::StatusCode::kFailedPrecondition,
                "5 (time)");
  clock_.SetMs(kNowMs);
  EXPECT_EQ(cache_.size(), 0u);
  // ... is still accepted once.
  EXPECT_TRUE(Open(e, Options()).ok());
}

TEST_F(OpenTest, ConcurrentDuplicatesOpenExactlyOnce) {
  const v1::Envelope e = Make(63);
  std::atomic<int> ok{0};
  std::atomic<int> replays{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto opened = Open(e, Options());
      if (opened.ok()) ++ok;
      if (opened.status().code() == absl::StatusCode::kAlreadyExists) {
        ++replays;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(replays.load(), 7);
}

// --- Check 7b (quota) --------------------------------------------------------

TEST_F(OpenTest, QuotaExhaustedIsResourceExhausted) {
  quota_.exhausted = true;
  ExpectRefused(Make(80), Options(), absl::StatusCode::kResourceExhausted,
                "7 (quota)");
  // The message id was consumed by check 6: a retry needs a fresh id.
  quota_.exhausted = false;
  ExpectRefused(Make(80), Options(), absl::StatusCode::kAlreadyExists,
                "6 (replay)");
  EXPECT_TRUE(Open(Make(81), Options()).ok());
}

// A cache that makes the record and the charge in one step, as the node's
// storage does, with the outcome it is told to give.
class OneStepCache final : public ReplayCache {
 public:
  absl::Status CheckAndRecord(const std::string&, const Bytes&,
                              int64_t) override {
    return absl::InternalError("Open must use CheckRecordAndCharge");
  }
  ReplayAndQuota CheckRecordAndCharge(const std::string& sender,
                                      const Bytes& message_id,
                                      int64_t expires_at_ms,
                                      const v1::Message& message,
                                      QuotaGate* quota) override {
    (void)sender, (void)message_id, (void)expires_at_ms, (void)message;
    passed_quota = quota;
    return outcome;
  }
  ReplayAndQuota outcome;
  QuotaGate* passed_quota = nullptr;
};

TEST_F(OpenTest, ReplayAndQuotaInOneStep) {
  OneStepCache cache;
  OpenOptions o = Options();
  o.replay_cache = &cache;
  EXPECT_TRUE(Open(Make(85), o).ok());
  EXPECT_EQ(cache.passed_quota, &quota_);
  EXPECT_EQ(quota_.charges.load(), 0);  // the cache charges, not Open

  cache.outcome.replay = absl::AlreadyExistsError("seen");
  auto opened = Open(Make(86), o);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StartsWith(opened.status().message(),
                               "check 6 (replay): message id "))
      << opened.status();

  // One write that failed: check 6's prefix, the storage's code and text.
  cache.outcome.replay = absl::UnavailableError("disk went away");
  opened = Open(Make(87), o);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(opened.status().message(), "check 6 (replay): disk went away");

  cache.outcome.replay = absl::OkStatus();
  cache.outcome.quota = absl::ResourceExhaustedError("used up");
  opened = Open(Make(88), o);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(opened.status().message(), "check 7 (quota): used up");
}

TEST(ReplayCacheTest, DefaultRecordsThenCharges) {
  InMemoryReplayCache cache;
  FakeQuota quota;
  const v1::Message m = TestEvaluateRequest(1);
  ReplayAndQuota out = cache.CheckRecordAndCharge("MK", "id", 1, m, &quota);
  EXPECT_TRUE(out.replay.ok());
  EXPECT_TRUE(out.quota.ok());
  EXPECT_EQ(quota.charges.load(), 1);
  // A replay is not charged.
  out = cache.CheckRecordAndCharge("MK", "id", 1, m, &quota);
  EXPECT_EQ(out.replay.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(quota.charges.load(), 1);
  // No gate: no charge.
  out = cache.CheckRecordAndCharge("MK", "id2", 1, m, nullptr);
  EXPECT_TRUE(out.replay.ok() && out.quota.ok());
  quota.exhausted = true;
  out = cache.CheckRecordAndCharge("MK", "id3", 1, m, &quota);
  EXPECT_TRUE(out.replay.ok());
  EXPECT_EQ(out.quota.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(cache.size(), 3u);  // the quota's refusal keeps the id used
}

// --- Order and bytes ---------------------------------------------------------

TEST_F(OpenTest, TheFirstFailingCheckDecides) {
  // Bad signature and not in audience: check 2.
  v1::Envelope e = Make(
      90, [](v1::Message& m) { m.mutable_header()->set_audience(0, "AL"); });
  e.mutable_signature()->at(3) ^= 1;
  ExpectRefused(e, Options(), absl::StatusCode::kUnauthenticated,
                "2 (signature)");
  // Wrong mTLS member and expired: check 3.
  ExpectRefused(
      Make(91, [](v1::Message& m) { SetTimes(m, kNowMs - 30000, kNowMs - 1); }),
      Options("RS"), absl::StatusCode::kUnauthenticated, "3 (sender)");
  // Not in audience and expired: check 4.
  ExpectRefused(Make(92,
                     [](v1::Message& m) {
                       m.mutable_header()->set_audience(0, "AL");
                       SetTimes(m, kNowMs - 30000, kNowMs - 1);
                     }),
                Options(), absl::StatusCode::kPermissionDenied, "4 (audience)");
  // Suspended and expired: check 5.
  v1::Message m = TestEvaluateRequest(93);
  m.mutable_header()->set_sender("AL");
  SetTimes(m, kNowMs - 30000, kNowMs - 1);
  ExpectRefused(Seal(m, TestKey("AL/node/1")), Options("AL"),
                absl::StatusCode::kFailedPrecondition, "5 (time)");
  // Wrong kind and bad signature: check 1.
  v1::Envelope wrong_kind = Make(
      94, [](v1::Message& m) { m.mutable_index_request()->set_oprf_epoch(1); });
  wrong_kind.mutable_signature()->at(0) ^= 1;
  ExpectRefused(wrong_kind, Options(), absl::StatusCode::kInvalidArgument,
                "1 (body)");
}

TEST_F(OpenTest, VerifiesTheBytesAsCarriedWithoutReserializing) {
  // A body in non-canonical order (kind before header) with an unknown
  // field: re-serializing would change the bytes and break the signature.
  v1::Message header_only = TestEvaluateRequest(95);
  header_only.clear_kind();
  v1::Message kind_only = TestEvaluateRequest(95);
  kind_only.clear_header();
  Bytes body = kind_only.SerializeAsString() + "\x3a\x01Z" +
               header_only.SerializeAsString();
  v1::Message parsed;
  ASSERT_TRUE(parsed.ParseFromString(body));
  ASSERT_NE(parsed.SerializeAsString(), body);
  crypto::Ed25519PrivateKey key = TestKey("MK/node/2");
  v1::Envelope e;
  e.set_body(body);
  e.set_key_id(TestKeyId("MK/node/2"));
  e.set_signature(key.Sign(EnvelopeSigningInput(body)));
  auto opened = Open(e, Options());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->message.header().message_id(), TestMessageId(95));
  EXPECT_EQ(opened->envelope_sha256, crypto::Sha256(e.SerializeAsString()));
}

TEST_F(OpenTest, EnvelopeHashIgnoresUnknownEnvelopeFields) {
  v1::Envelope e = Make(96);
  const Bytes canonical = e.SerializeAsString();
  v1::Envelope with_extra;
  ASSERT_TRUE(with_extra.ParseFromString(canonical + "\x22\x01Q"));
  auto opened = Open(with_extra, Options());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->envelope_sha256, crypto::Sha256(canonical));
}

}  // namespace
}  // namespace cbx::envelope
