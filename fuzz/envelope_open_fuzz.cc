// Fuzz target: bytes -> cbx.v1.Envelope -> envelope::Open against the test
// federation's v2 directory (core/directory/testing/test_federation.h), with
// the receiver's clock at 2026-01-01 and a fresh replay cache per input.
//
// Random bytes almost never carry a valid signature, so after opening the
// envelope as given, the target re-signs its body with the test key its
// key_id names (if any) and opens it again: that drives checks 3-7 with
// arbitrary message contents. Invariants of spec/envelope.md are asserted
// with abort(), so a violation is a finding, not just a crash.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "core/directory/directory.h"
#include "core/directory/testing/directory_vectors.h"
#include "core/directory/testing/test_federation.h"
#include "core/envelope/envelope.h"
#include "google/protobuf/stubs/logging.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

// Refuses evaluate_requests of more than two elements: both quota outcomes.
class SmallQuota final : public envelope::QuotaGate {
 public:
  absl::Status Charge(const std::string&, const v1::Message& m) override {
    if (m.has_evaluate_request() &&
        m.evaluate_request().blinded_elements_size() > 2) {
      return absl::ResourceExhaustedError("more than 2 elements");
    }
    return absl::OkStatus();
  }
};

struct SigningKey {
  std::string member;
  crypto::Ed25519PrivateKey key;
};

struct Fixture {
  Fixture() : clock(directory::testing::kNowMs) {
    // Protobuf logs every invalid UTF-8 string it parses; keep runs quiet.
    google::protobuf::SetLogHandler(nullptr);
    auto genesis =
        directory::Directory::FromGenesis(directory::testing::SignedGenesis());
    if (!genesis.ok()) std::abort();
    auto v2 = (*genesis)->Adopt(directory::testing::SignedV2());
    if (!v2.ok()) std::abort();
    dir = *v2;
    for (const std::string& label : directory::testing::TestKeyLabels()) {
      if (!absl::StrContains(label, "/node/")) continue;
      crypto::Ed25519PrivateKey key = directory::testing::TestKey(label);
      keys.emplace(directory::NodeKeyId(key.public_key().bytes()),
                   SigningKey{label.substr(0, 2), key});
    }
  }
  FakeClock clock;
  std::shared_ptr<const directory::Directory> dir;
  std::map<Bytes, SigningKey> keys;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

void OpenAndCheck(const Fixture& f, const v1::Envelope& e,
                  const std::string& authenticated) {
  envelope::InMemoryReplayCache cache;
  SmallQuota quota;
  envelope::OpenOptions o;
  o.directory = f.dir.get();
  o.receiver = "RS";
  o.authenticated_member = authenticated;
  o.accepted_kinds = {v1::Message::kEvaluateRequest,
                      v1::Message::kResolveRequest, v1::Message::kIndexRequest};
  o.clock = &f.clock;
  o.replay_cache = &cache;
  o.quota = &quota;
  auto opened = envelope::Open(e, o);
  if (opened.ok()) {
    const v1::Header& h = opened->message.header();
    Check(h.sender() == authenticated);
    Check(f.dir->IsActive(h.sender()));
    Check(h.message_id().size() == envelope::kMessageIdSize);
    bool in_audience = false;
    for (const std::string& a : h.audience()) in_audience |= a == "RS";
    Check(in_audience);
    Check(opened->envelope_sha256 == envelope::EnvelopeSha256(e));
    Check(cache.size() == 1);
    // The same envelope again is a replay.
    Check(envelope::Open(e, o).status().code() ==
          absl::StatusCode::kAlreadyExists);
    return;
  }
  const absl::Status& s = opened.status();
  Check(absl::StartsWith(s.message(), "check "));
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
      // Refused before check 6 (or by 7a): the cache is untouched.
      Check(cache.size() == 0);
      break;
    case absl::StatusCode::kResourceExhausted:
      Check(cache.size() == 1);
      break;
    default:
      // ALREADY_EXISTS cannot happen with a fresh cache; nothing else is a
      // refusal of the envelope layer.
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* fixture = new Fixture();
  v1::Envelope e;
  if (!e.ParseFromArray(data, static_cast<int>(size))) return 0;
  OpenAndCheck(*fixture, e, "MK");

  auto signer = fixture->keys.find(e.key_id());
  if (signer != fixture->keys.end()) {
    e.set_signature(
        signer->second.key.Sign(envelope::EnvelopeSigningInput(e.body())));
    OpenAndCheck(*fixture, e, signer->second.member);
  }
  return 0;
}
