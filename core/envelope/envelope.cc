#include "core/envelope/envelope.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/random.h"
#include "core/crypto/sha256.h"
#include "core/util/status_macros.h"

namespace cbx::envelope {
namespace {

constexpr std::string_view kEnvelopeLabel = "cbx/v1/envelope";

// A refusal whose message names the check, as spec/envelope.md prescribes.
absl::Status Refuse(absl::StatusCode code, std::string_view check,
                    absl::string_view detail) {
  return absl::Status(
      code,
      absl::StrCat("check ", absl::string_view(check.data(), check.size()),
                   ": ", detail));
}

// Untrusted strings are quoted, escaped and cut short in messages.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 16;
  std::string out = absl::StrCat(
      "\"",
      absl::CHexEscape(absl::string_view(s.data(), std::min(s.size(), kMax))),
      "\"");
  if (s.size() > kMax) out += "...";
  return out;
}

void AppendVarint(Bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void HashField(crypto::Sha256Hasher& h, uint8_t tag, std::string_view value) {
  if (value.empty()) return;
  Bytes prefix(1, static_cast<char>(tag));
  AppendVarint(prefix, value.size());
  h.Update(prefix);
  h.Update(value);
}

absl::Status CheckBody(const v1::Envelope& envelope, const OpenOptions& options,
                       v1::Message& message) {
  constexpr std::string_view kCheck = "1 (body)";
  if (!message.ParseFromString(envelope.body())) {
    return Refuse(absl::StatusCode::kInvalidArgument, kCheck,
                  "body does not parse as cbx.v1.Message");
  }
  const v1::Message::KindCase kind = message.kind_case();
  if (kind == v1::Message::KIND_NOT_SET ||
      std::find(options.accepted_kinds.begin(), options.accepted_kinds.end(),
                kind) == options.accepted_kinds.end()) {
    return Refuse(absl::StatusCode::kInvalidArgument, kCheck,
                  absl::StrCat("message kind ", KindName(kind),
                               " is not accepted by this call"));
  }
  if (!message.has_header()) {
    return Refuse(absl::StatusCode::kInvalidArgument, kCheck,
                  "header is missing");
  }
  const v1::Header& h = message.header();
  if (h.message_id().size() != kMessageIdSize) {
    return Refuse(absl::StatusCode::kInvalidArgument, kCheck,
                  "message_id must be 16 bytes");
  }
  if (h.sender().empty()) {
    return Refuse(absl::StatusCode::kInvalidArgument, kCheck,
                  "sender is empty");
  }
  if (!h.in_reply_to().empty() && h.in_reply_to().size() != kMessageIdSize) {
    return Refuse(absl::StatusCode::kInvalidArgument, kCheck,
                  "in_reply_to must be empty or 16 bytes");
  }
  return absl::OkStatus();
}

absl::Status CheckSignature(const v1::Envelope& envelope, const v1::Header& h,
                            const directory::Directory& dir) {
  constexpr std::string_view kCheck = "2 (signature)";
  auto key = dir.NodeKeyAt(h.sender(), envelope.key_id(), h.issued_at_ms());
  if (!key.ok()) {
    return Refuse(absl::StatusCode::kUnauthenticated, kCheck,
                  key.status().message());
  }
  if (!key->Verify(EnvelopeSigningInput(envelope.body()),
                   envelope.signature())) {
    return Refuse(
        absl::StatusCode::kUnauthenticated, kCheck,
        absl::StrCat("signature does not verify with key ",
                     HexEncode(envelope.key_id()), " of ", h.sender()));
  }
  return absl::OkStatus();
}

absl::Status CheckTime(const v1::Header& h, const v1::Policy& policy,
                       int64_t now_ms) {
  constexpr std::string_view kCheck = "5 (time)";
  // 128-bit arithmetic: the header's times are untrusted int64 values.
  const __int128 issued = h.issued_at_ms();
  const __int128 expires = h.expires_at_ms();
  const __int128 now = now_ms;
  const __int128 lifetime = expires - issued;
  const __int128 max_lifetime =
      static_cast<__int128>(policy.max_message_lifetime_s()) * 1000;
  const __int128 skew = static_cast<__int128>(policy.max_clock_skew_s()) * 1000;
  if (lifetime <= 0 || lifetime > max_lifetime) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition, kCheck,
        absl::StrCat("lifetime expires_at - issued_at must be in (0, ",
                     policy.max_message_lifetime_s(), " s]"));
  }
  if (issued - now > skew) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition, kCheck,
        absl::StrCat("issued_at ", h.issued_at_ms(),
                     " is in the future beyond the clock skew of ",
                     policy.max_clock_skew_s(), " s (now ", now_ms, ")"));
  }
  if (now - issued > skew) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition, kCheck,
        absl::StrCat("issued_at ", h.issued_at_ms(),
                     " is in the past beyond the clock skew of ",
                     policy.max_clock_skew_s(), " s (now ", now_ms, ")"));
  }
  if (now >= expires) {
    return Refuse(
        absl::StatusCode::kFailedPrecondition, kCheck,
        absl::StrCat("expired at ", h.expires_at_ms(), " (now ", now_ms, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

Bytes EnvelopeSigningInput(std::string_view body) {
  Bytes out;
  out.reserve(kEnvelopeLabel.size() + 1 + body.size());
  out.append(kEnvelopeLabel);
  out.push_back('\0');
  out.append(body);
  return out;
}

v1::Envelope Seal(const v1::Message& message,
                  const crypto::Ed25519PrivateKey& key) {
  v1::Envelope env;
  env.set_body(message.SerializeAsString());
  env.set_key_id(directory::NodeKeyId(key.public_key().bytes()));
  env.set_signature(key.Sign(EnvelopeSigningInput(env.body())));
  return env;
}

absl::StatusOr<v1::Envelope> Seal(const v1::Message& message,
                                  const crypto::Signer& signer) {
  v1::Envelope env;
  env.set_body(message.SerializeAsString());
  env.set_key_id(directory::NodeKeyId(signer.public_key().bytes()));
  ASSIGN_OR_RETURN(Bytes signature,
                   signer.Sign(EnvelopeSigningInput(env.body())));
  env.set_signature(std::move(signature));
  return env;
}

v1::Header MakeHeader(std::string sender, std::vector<std::string> audience,
                      const Clock& clock, int64_t lifetime_ms) {
  v1::Header h;
  h.set_sender(std::move(sender));
  for (std::string& a : audience) h.add_audience(std::move(a));
  h.set_message_id(crypto::RandomBytes(kMessageIdSize));
  const int64_t now = clock.NowMs();
  h.set_issued_at_ms(now);
  h.set_expires_at_ms(now + lifetime_ms);
  return h;
}

Bytes EnvelopeSha256(const v1::Envelope& envelope) {
  crypto::Sha256Hasher h;
  HashField(h, 0x0a, envelope.body());       // field 1, wire type 2
  HashField(h, 0x12, envelope.key_id());     // field 2, wire type 2
  HashField(h, 0x1a, envelope.signature());  // field 3, wire type 2
  return h.Finish();
}

std::string KindName(v1::Message::KindCase kind) {
  if (kind == v1::Message::KIND_NOT_SET) return "kind_not_set";
  const auto* field = v1::Message::descriptor()->FindFieldByNumber(kind);
  return field == nullptr ? absl::StrCat("unknown_kind_", kind) : field->name();
}

absl::StatusOr<OpenedEnvelope> Open(const v1::Envelope& envelope,
                                    const OpenOptions& options) {
  if (options.directory == nullptr || options.clock == nullptr ||
      options.replay_cache == nullptr || options.receiver.empty()) {
    return absl::InternalError(
        "envelope::Open: options need a directory, clock, replay cache and "
        "receiver");
  }
  const directory::Directory& dir = *options.directory;
  OpenedEnvelope out;
  v1::Message& message = out.message;

  RETURN_IF_ERROR(CheckBody(envelope, options, message));
  const v1::Header& h = message.header();

  RETURN_IF_ERROR(CheckSignature(envelope, h, dir));

  if (h.sender() != options.authenticated_member) {
    return Refuse(absl::StatusCode::kUnauthenticated, "3 (sender)",
                  absl::StrCat("sender ", h.sender(),
                               " is not the member named by the client "
                               "certificate (",
                               Quote(options.authenticated_member), ")"));
  }

  if (std::find(h.audience().begin(), h.audience().end(), options.receiver) ==
      h.audience().end()) {
    return Refuse(
        absl::StatusCode::kPermissionDenied, "4 (audience)",
        absl::StrCat(options.receiver, " is not in the message's audience"));
  }

  RETURN_IF_ERROR(CheckTime(h, dir.policy(), options.clock->NowMs()));

  // 7a before 6: a suspended sender's message never takes a replay slot.
  if (!dir.IsActive(h.sender())) {
    return Refuse(absl::StatusCode::kPermissionDenied, "7 (sender status)",
                  absl::StrCat("sender ", h.sender(), " is suspended"));
  }

  // 6 then 7b, in one call so that a durable cache may make the record and
  // the charge durable together.
  const ReplayAndQuota admitted = options.replay_cache->CheckRecordAndCharge(
      h.sender(), h.message_id(), h.expires_at_ms(), message, options.quota);
  if (!admitted.replay.ok()) {
    return Refuse(
        admitted.replay.code(), "6 (replay)",
        admitted.replay.code() == absl::StatusCode::kAlreadyExists
            ? absl::StrCat("message id ", HexEncode(h.message_id()), " from ",
                           h.sender(), " was already received")
            : admitted.replay.message());
  }
  if (!admitted.quota.ok()) {
    return Refuse(admitted.quota.code(), "7 (quota)", admitted.quota.message());
  }

  out.envelope_sha256 = EnvelopeSha256(envelope);
  return out;
}

}  // namespace cbx::envelope
