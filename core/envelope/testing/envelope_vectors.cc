#include "core/envelope/testing/envelope_vectors.h"

#include <cstdlib>
#include <functional>

#include "absl/strings/str_cat.h"
#include "core/crypto/sha256.h"
#include "core/directory/directory.h"
#include "core/directory/testing/test_federation.h"
#include "core/envelope/envelope.h"

namespace cbx::envelope::testing {
namespace {

using ::cbx::directory::testing::kNowMs;
using ::cbx::directory::testing::SignedGenesis;
using ::cbx::directory::testing::SignedV2;
using ::cbx::directory::testing::TestKey;
using ::cbx::directory::testing::TestKeyId;
using ::cbx::directory::testing::TestOprfPublicKey;

struct Case {
  std::string name;
  std::string check;  // "" for OK, else "1 (body)" ... as in the messages
  v1::Envelope envelope;
  std::string receiver = kReceiver;
  std::string authenticated_member = "MK";
  std::vector<std::string> accepted_kinds = {"evaluate_request"};
  std::vector<std::pair<std::string, Bytes>> replay_seen;
  bool quota_exhausted = false;
  std::string expected;
};

v1::Envelope SealAs(const v1::Message& m, const std::string& label) {
  return Seal(m, TestKey(label));
}

// The message, edited, sealed by `label`.
v1::Envelope Edited(int n, const std::function<void(v1::Message&)>& edit,
                    const std::string& label = "MK/node/2") {
  v1::Message m = TestEvaluateRequest(n);
  edit(m);
  return SealAs(m, label);
}

// A body that is not a Message, signed properly with MK's current key.
v1::Envelope SignedRawBody(const Bytes& body) {
  crypto::Ed25519PrivateKey key = TestKey("MK/node/2");
  v1::Envelope e;
  e.set_body(body);
  e.set_key_id(TestKeyId("MK/node/2"));
  e.set_signature(key.Sign(EnvelopeSigningInput(body)));
  return e;
}

std::vector<Case> Cases() {
  std::vector<Case> c;
  auto add = [&c](std::string name, std::string check, v1::Envelope e,
                  std::string expected) -> Case& {
    Case x;
    x.name = std::move(name);
    x.check = std::move(check);
    x.envelope = std::move(e);
    x.expected = std::move(expected);
    c.push_back(std::move(x));
    return c.back();
  };
  const v1::Envelope valid = SealAs(TestEvaluateRequest(1), "MK/node/2");

  add("valid evaluate_request from MK to RS", "", valid, "OK");
  add("valid, audience AL and RS, in reply to another message", "",
      Edited(2,
             [](v1::Message& m) {
               m.mutable_header()->clear_audience();
               m.mutable_header()->add_audience("AL");
               m.mutable_header()->add_audience("RS");
               m.mutable_header()->set_in_reply_to(TestMessageId(1000));
             }),
      "OK");
  add("valid at the edges: issued exactly max skew ahead, lifetime exactly "
      "the maximum",
      "",
      Edited(3,
             [](v1::Message& m) {
               m.mutable_header()->set_issued_at_ms(kNowMs + 60000);
               m.mutable_header()->set_expires_at_ms(kNowMs + 60000 + 300000);
             }),
      "OK");
  add("valid resolve_request accepted by a call taking two kinds", "",
      Edited(4,
             [](v1::Message& m) {
               m.mutable_resolve_request()->set_oprf_epoch(1);
               m.mutable_resolve_request()->add_outputs(Bytes(32, '\x11'));
             }),
      "OK")
      .accepted_kinds = {"evaluate_request", "resolve_request"};
  // Cooperation (spec/cooperation.md §2): Peer.Cooperate takes a request
  // or a response; its reply is a receipt.
  add("valid cooperation_request accepted by Peer.Cooperate", "",
      Edited(5,
             [](v1::Message& m) {
               v1::CooperationRequest* r = m.mutable_cooperation_request();
               r->set_case_token(Bytes(16, '\x42'));
               r->set_requester_case_number("MK-2026-0142");
               r->set_type(v1::COOPERATION_TYPE_PRESERVATION);
               r->set_legal_basis("Budapest Convention Art. 29");
               v1::PreservationDetails* p = r->mutable_preservation();
               p->set_platform("telegram");
               v1::Identifier* id = p->add_account();
               id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
               id->set_value("cbx_example");
               p->set_period_from_ms(kNowMs - 30 * 86'400'000LL);
               p->set_period_to_ms(kNowMs);
               p->add_data_categories(v1::DATA_CATEGORY_SUBSCRIBER);
               p->add_data_categories(v1::DATA_CATEGORY_TRAFFIC);
               r->set_response_due_ms(kNowMs + 86'400'000);
             }),
      "OK")
      .accepted_kinds = {"cooperation_request", "cooperation_response"};
  add("valid cooperation_response accepted by Peer.Cooperate", "",
      Edited(6,
             [](v1::Message& m) {
               m.mutable_header()->set_in_reply_to(TestMessageId(1005));
               v1::CooperationResponse* r = m.mutable_cooperation_response();
               r->set_outcome(v1::RESPONSE_OUTCOME_DONE);
               r->set_preserved_until_ms(kNowMs + 90 * 86'400'000LL);
             }),
      "OK")
      .accepted_kinds = {"cooperation_request", "cooperation_response"};
  add("valid cooperation_receipt accepted as the reply", "",
      Edited(7,
             [](v1::Message& m) {
               m.mutable_header()->set_in_reply_to(TestMessageId(1005));
               v1::CooperationReceipt* r = m.mutable_cooperation_receipt();
               r->set_status(v1::RECEIPT_STATUS_REFUSED);
               r->set_reason(v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN);
               r->set_received_at_ms(kNowMs);
             }),
      "OK")
      .accepted_kinds = {"cooperation_receipt"};
  // Withdrawal (spec/cooperation.md §2.4): Peer.Withdraw takes a
  // withdrawal; its reply is a deletion receipt.
  add("valid withdrawal accepted by Peer.Withdraw", "",
      Edited(55,
             [](v1::Message& m) {
               v1::Withdrawal* w = m.mutable_withdrawal();
               w->set_case_token(Bytes(16, '\x42'));
               w->set_reason(v1::WITHDRAWAL_REASON_CLOSED);
             }),
      "OK")
      .accepted_kinds = {"withdrawal"};
  add("valid deletion_receipt accepted as the reply", "",
      Edited(56,
             [](v1::Message& m) {
               m.mutable_header()->set_in_reply_to(TestMessageId(1055));
               v1::DeletionReceipt* r = m.mutable_deletion_receipt();
               r->set_case_token(Bytes(16, '\x42'));
               r->set_withdrawn_at_ms(kNowMs);
               r->set_deleted_at_ms(kNowMs);
             }),
      "OK")
      .accepted_kinds = {"deletion_receipt"};
  add("kind deletion_receipt not accepted by Peer.Withdraw", "1 (body)",
      Edited(57,
             [](v1::Message& m) {
               m.mutable_deletion_receipt()->set_case_token(
                   Bytes(16, '\x42'));
             }),
      "INVALID_ARGUMENT")
      .accepted_kinds = {"withdrawal"};

  // Check 1.
  add("body does not parse (signed properly)", "1 (body)",
      SignedRawBody("\x0a\xff\xff\x01"), "INVALID_ARGUMENT");
  add("kind resolve_request not accepted by this call", "1 (body)",
      Edited(10,
             [](v1::Message& m) {
               m.mutable_resolve_request()->set_oprf_epoch(1);
             }),
      "INVALID_ARGUMENT");
  add("kind cooperation_receipt not accepted by Peer.Cooperate", "1 (body)",
      Edited(8,
             [](v1::Message& m) {
               m.mutable_cooperation_receipt()->set_status(
                   v1::RECEIPT_STATUS_ACCEPTED);
             }),
      "INVALID_ARGUMENT")
      .accepted_kinds = {"cooperation_request", "cooperation_response"};
  add("no kind set", "1 (body)",
      Edited(11, [](v1::Message& m) { m.clear_kind(); }), "INVALID_ARGUMENT");
  add("header missing", "1 (body)",
      Edited(12, [](v1::Message& m) { m.clear_header(); }), "INVALID_ARGUMENT");
  add("message id of 15 bytes", "1 (body)",
      Edited(13,
             [](v1::Message& m) {
               m.mutable_header()->set_message_id(TestMessageId(13).substr(1));
             }),
      "INVALID_ARGUMENT");
  add("sender empty", "1 (body)",
      Edited(14, [](v1::Message& m) { m.mutable_header()->clear_sender(); }),
      "INVALID_ARGUMENT");
  add("in_reply_to of 8 bytes", "1 (body)",
      Edited(15,
             [](v1::Message& m) {
               m.mutable_header()->set_in_reply_to(Bytes(8, '\x01'));
             }),
      "INVALID_ARGUMENT");
  add("empty envelope", "1 (body)", v1::Envelope(), "INVALID_ARGUMENT");

  // Check 2.
  {
    v1::Envelope e = SealAs(TestEvaluateRequest(20), "MK/node/2");
    e.mutable_signature()->at(0) ^= 0x01;
    add("signature with one bit flipped", "2 (signature)", e,
        "UNAUTHENTICATED");
  }
  {
    v1::Envelope e = SealAs(TestEvaluateRequest(21), "RS/node/1");
    e.set_key_id(TestKeyId("MK/node/2"));
    add("signature made by RS's key under MK's key id", "2 (signature)", e,
        "UNAUTHENTICATED");
  }
  {
    // Appending an unknown field (7, length-delimited) to the signed bytes:
    // still parses, no longer verifies.
    v1::Envelope e = SealAs(TestEvaluateRequest(22), "MK/node/2");
    e.mutable_body()->append("\x3a\x02XX", 4);
    add("body extended after signing", "2 (signature)", e, "UNAUTHENTICATED");
  }
  {
    v1::Envelope e = SealAs(TestEvaluateRequest(23), "MK/node/2");
    e.set_key_id(Bytes(8, '\0'));
    add("unknown key id", "2 (signature)", e, "UNAUTHENTICATED");
  }
  {
    v1::Envelope e = SealAs(TestEvaluateRequest(24), "MK/node/2");
    e.clear_key_id();
    add("key id missing", "2 (signature)", e, "UNAUTHENTICATED");
  }
  add("key id of RS's key in a message from MK", "2 (signature)",
      SealAs(TestEvaluateRequest(25), "RS/node/1"), "UNAUTHENTICATED");
  add("MK's rotated-out key, no longer valid at issued_at", "2 (signature)",
      SealAs(TestEvaluateRequest(26), "MK/node/1"), "UNAUTHENTICATED");
  add("RS's pre-published key, not yet valid at issued_at", "2 (signature)",
      Edited(
          27,
          [](v1::Message& m) {
            m.mutable_header()->set_sender("RS");
            m.mutable_header()->clear_audience();
            m.mutable_header()->add_audience("MK");
          },
          "RS/node/2"),
      "UNAUTHENTICATED");
  c.back().receiver = "MK";
  c.back().authenticated_member = "RS";
  add("sender XK is not a member", "2 (signature)",
      Edited(28, [](v1::Message& m) { m.mutable_header()->set_sender("XK"); }),
      "UNAUTHENTICATED");

  // Check 3.
  add("client certificate names AL, message is from MK", "3 (sender)",
      SealAs(TestEvaluateRequest(30), "MK/node/2"), "UNAUTHENTICATED")
      .authenticated_member = "AL";

  // Check 4.
  add("RS not in the audience", "4 (audience)",
      Edited(40,
             [](v1::Message& m) {
               m.mutable_header()->clear_audience();
               m.mutable_header()->add_audience("AL");
             }),
      "PERMISSION_DENIED");
  add("empty audience", "4 (audience)",
      Edited(41, [](v1::Message& m) { m.mutable_header()->clear_audience(); }),
      "PERMISSION_DENIED");

  // Check 5.
  add("lifetime 300.001 s, beyond the policy's 300 s", "5 (time)",
      Edited(50,
             [](v1::Message& m) {
               m.mutable_header()->set_issued_at_ms(kNowMs);
               m.mutable_header()->set_expires_at_ms(kNowMs + 300001);
             }),
      "FAILED_PRECONDITION");
  add("expires_at equal to issued_at", "5 (time)",
      Edited(51,
             [](v1::Message& m) {
               m.mutable_header()->set_issued_at_ms(kNowMs);
               m.mutable_header()->set_expires_at_ms(kNowMs);
             }),
      "FAILED_PRECONDITION");
  add("issued 60.001 s in the future, beyond the 60 s skew", "5 (time)",
      Edited(52,
             [](v1::Message& m) {
               m.mutable_header()->set_issued_at_ms(kNowMs + 60001);
               m.mutable_header()->set_expires_at_ms(kNowMs + 120000);
             }),
      "FAILED_PRECONDITION");
  add("issued 60.001 s in the past, beyond the 60 s skew", "5 (time)",
      Edited(53,
             [](v1::Message& m) {
               m.mutable_header()->set_issued_at_ms(kNowMs - 60001);
               m.mutable_header()->set_expires_at_ms(kNowMs + 120000);
             }),
      "FAILED_PRECONDITION");
  add("expired: expires_at equal to now", "5 (time)",
      Edited(54,
             [](v1::Message& m) {
               m.mutable_header()->set_issued_at_ms(kNowMs - 30000);
               m.mutable_header()->set_expires_at_ms(kNowMs);
             }),
      "FAILED_PRECONDITION");

  // Check 7a, before the replay cache.
  const v1::Envelope from_al = Edited(
      70, [](v1::Message& m) { m.mutable_header()->set_sender("AL"); },
      "AL/node/1");
  add("sender AL is suspended", "7 (sender status)", from_al,
      "PERMISSION_DENIED")
      .authenticated_member = "AL";
  {
    Case& x = add("suspended AL resends a message id already recorded",
                  "7 (sender status)", from_al, "PERMISSION_DENIED");
    x.authenticated_member = "AL";
    x.replay_seen = {{"AL", TestMessageId(70)}};
  }

  // Check 6.
  add("replay: MK's message id already recorded", "6 (replay)", valid,
      "ALREADY_EXISTS")
      .replay_seen = {{"MK", TestMessageId(1)}};
  {
    Case& x = add("replay while the quota is exhausted", "6 (replay)", valid,
                  "ALREADY_EXISTS");
    x.replay_seen = {{"MK", TestMessageId(1)}};
    x.quota_exhausted = true;
  }
  add("same message id from another sender is not a replay", "", valid, "OK")
      .replay_seen = {{"AL", TestMessageId(1)}};

  // Check 7b.
  add("MK's quota is exhausted", "7 (quota)", valid, "RESOURCE_EXHAUSTED")
      .quota_exhausted = true;
  return c;
}

std::string Slug(const std::string& name) {
  std::string out;
  for (char ch : name) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      out.push_back(ch);
    } else if (ch >= 'A' && ch <= 'Z') {
      out.push_back(static_cast<char>(ch - 'A' + 'a'));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

Bytes TestMessageId(int n) {
  Bytes input = "cbx test message id";
  input.push_back('\0');
  input += std::to_string(n);
  return crypto::Sha256(input).substr(0, kMessageIdSize);
}

v1::Message TestEvaluateRequest(int n) {
  v1::Message m;
  v1::Header* h = m.mutable_header();
  h->set_sender("MK");
  h->add_audience("RS");
  h->set_message_id(TestMessageId(n));
  h->set_issued_at_ms(kNowMs - 1000);
  h->set_expires_at_ms(kNowMs + 119000);
  h->set_office("MK/PPO-Skopje");
  h->set_user("prosecutor-1");
  v1::EvaluateRequest* r = m.mutable_evaluate_request();
  r->set_oprf_epoch(1);
  // Any compressed point will do for the envelope layer.
  r->add_blinded_elements(TestOprfPublicKey("AL", 2));
  return m;
}

v1::Message::KindCase KindFromName(const std::string& name) {
  const auto* field = v1::Message::descriptor()->FindFieldByName(name);
  if (field == nullptr || field->containing_oneof() == nullptr) std::abort();
  return static_cast<v1::Message::KindCase>(field->number());
}

nlohmann::json MakeEnvelopeVectors() {
  nlohmann::json doc;
  doc["description"] =
      "cbx envelope vectors (spec/envelope.md). All byte strings are hex. "
      "The receiver verifies directory_chain[0] as its pinned genesis, adopts "
      "the rest in order, sets its clock to now_ms, preloads its replay cache "
      "with replay_seen (sender, message_id) pairs, and opens each envelope "
      "with the case's receiver, authenticated_member (the member named by "
      "the mTLS client certificate) and accepted_kinds. A quota gate refuses "
      "every message if quota_exhausted, else accepts it. expected is OK or "
      "the gRPC status code name; refusal messages begin with \"check \" + "
      "check + \": \". Keys are the test keys of directory.json. Generated "
      "by cbx_gen_spec_vectors.";
  doc["now_ms"] = kNowMs;
  doc["directory_chain"] = {HexEncode(SignedGenesis().SerializeAsString()),
                            HexEncode(SignedV2().SerializeAsString())};
  const v1::Envelope valid = Seal(TestEvaluateRequest(1), TestKey("MK/node/2"));
  doc["example"] = {
      {"message", HexEncode(valid.body())},
      {"node_key_seed", HexEncode(directory::testing::TestSeed("MK/node/2"))},
      {"key_id", HexEncode(valid.key_id())},
      {"signing_input", HexEncode(EnvelopeSigningInput(valid.body()))},
      {"signature", HexEncode(valid.signature())},
      {"envelope", HexEncode(valid.SerializeAsString())},
      {"envelope_sha256", HexEncode(EnvelopeSha256(valid))},
  };
  nlohmann::json cases = nlohmann::json::array();
  for (const Case& c : Cases()) {
    nlohmann::json seen = nlohmann::json::array();
    for (const auto& [sender, id] : c.replay_seen) {
      seen.push_back({{"sender", sender}, {"message_id", HexEncode(id)}});
    }
    nlohmann::json j = {
        {"name", c.name},
        {"envelope", HexEncode(c.envelope.SerializeAsString())},
        {"receiver", c.receiver},
        {"authenticated_member", c.authenticated_member},
        {"accepted_kinds", c.accepted_kinds},
        {"replay_seen", seen},
        {"quota_exhausted", c.quota_exhausted},
        {"expected", c.expected},
    };
    if (!c.check.empty()) j["check"] = c.check;
    if (c.expected == "OK") {
      j["envelope_sha256"] = HexEncode(EnvelopeSha256(c.envelope));
    }
    cases.push_back(std::move(j));
  }
  doc["cases"] = cases;
  return doc;
}

std::vector<std::pair<std::string, Bytes>> EnvelopeCorpusSeeds() {
  std::vector<std::pair<std::string, Bytes>> out;
  for (const Case& c : Cases()) {
    out.emplace_back(Slug(c.name), c.envelope.SerializeAsString());
  }
  const Bytes valid =
      Seal(TestEvaluateRequest(1), TestKey("MK/node/2")).SerializeAsString();
  out.emplace_back("mutation_truncated_half",
                   valid.substr(0, valid.size() / 2));
  out.emplace_back("mutation_truncated_last_byte",
                   valid.substr(0, valid.size() - 1));
  out.emplace_back("mutation_doubled", valid + valid);
  {
    Bytes b = valid;
    b[b.size() / 3] ^= 0x20;
    out.emplace_back("mutation_byte_flip", b);
  }
  {
    // Each kind, properly signed: lets the fuzzer's re-signing path reach
    // checks 3-7 with every kind.
    int n = 900;
    for (const char* kind :
         {"evaluate_response", "resolve_request", "resolve_response",
          "index_request", "index_manifest", "cooperation_request",
          "cooperation_receipt", "cooperation_response", "withdrawal",
          "deletion_receipt"}) {
      v1::Message m = TestEvaluateRequest(n++);
      const auto* field = v1::Message::descriptor()->FindFieldByName(kind);
      m.GetReflection()->MutableMessage(&m, field);
      out.emplace_back(absl::StrCat("kind_", kind),
                       Seal(m, TestKey("MK/node/2")).SerializeAsString());
    }
  }
  return out;
}

}  // namespace cbx::envelope::testing
