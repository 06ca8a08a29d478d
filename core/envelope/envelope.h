// Sealing and opening signed envelopes: the exact bytes signed and the
// receiver's seven checks (spec/envelope.md is the normative text).
#ifndef CBX_CORE_ENVELOPE_ENVELOPE_H_
#define CBX_CORE_ENVELOPE_ENVELOPE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/signer.h"
#include "core/directory/directory.h"
#include "core/envelope/replay_cache.h"
#include "core/util/bytes.h"
#include "core/util/clock.h"

namespace cbx::envelope {

// Length of Header.message_id and of a non-empty Header.in_reply_to.
inline constexpr size_t kMessageIdSize = 16;

// Ed25519 input: "cbx/v1/envelope" || 0x00 || body.
Bytes EnvelopeSigningInput(std::string_view body);

// Serializes `message` once and signs the bytes; key_id =
// directory::NodeKeyId(key.public_key().bytes()). Does not validate
// `message`: the receiver does.
v1::Envelope Seal(const v1::Message& message,
                  const crypto::Ed25519PrivateKey& key);
// The same with a key wherever it is kept (core/crypto/signer.h): the
// signer's error (a token that fails) if it cannot sign.
absl::StatusOr<v1::Envelope> Seal(const v1::Message& message,
                                  const crypto::Signer& signer);

// Fills a Header: sender, audience, 16 random message_id bytes, issued_at =
// clock now, expires_at = now + lifetime_ms.
v1::Header MakeHeader(std::string sender, std::vector<std::string> audience,
                      const Clock& clock, int64_t lifetime_ms);

// SHA-256 of the canonical encoding of `envelope`: fields body (1), key_id (2)
// and signature (3) in that order, each as tag || varint length || bytes and
// omitted when empty; unknown fields are not included. For an envelope made
// by Seal this is the SHA-256 of the bytes on the wire.
Bytes EnvelopeSha256(const v1::Envelope& envelope);

// The proto field name of a kind ("evaluate_request", ...); "kind_not_set"
// for none.
std::string KindName(v1::Message::KindCase kind);

// What the receiver checks against. All pointers are borrowed for the call.
struct OpenOptions {
  const directory::Directory* directory = nullptr;  // the current version
  std::string receiver;                             // this member's code
  std::string authenticated_member;  // member named by the mTLS certificate
  std::vector<v1::Message::KindCase> accepted_kinds;  // kinds this RPC takes
  const Clock* clock = nullptr;
  ReplayCache* replay_cache = nullptr;
  QuotaGate* quota = nullptr;  // may be null: no quota
};

struct OpenedEnvelope {
  v1::Message message;
  // EnvelopeSha256 of the envelope as received (for the audit log).
  Bytes envelope_sha256;
};

// Runs the receiver's checks of spec/envelope.md §4 in this order, stopping at
// the first refusal; every refusal's message starts with "check <n>
// (<name>): ".
//   1 body parses as a Message, kind accepted, header present, 16-byte
//     message id, sender set, in_reply_to empty or 16 bytes
//                                                      → INVALID_ARGUMENT
//   2 key id names a key of header.sender valid at issued_at, and the
//     signature over the body verifies                 → UNAUTHENTICATED
//   3 sender == authenticated_member                   → UNAUTHENTICATED
//   4 receiver in audience                             → PERMISSION_DENIED
//   5 0 < expires_at - issued_at <= max lifetime, |issued_at - now| <= max
//     skew, now < expires_at                           → FAILED_PRECONDITION
//   7a sender ACTIVE                                   → PERMISSION_DENIED
//   6 (sender, message id) not seen; records it        → ALREADY_EXISTS
//   7b quota charged                                   → RESOURCE_EXHAUSTED
// Suspension is checked before the replay cache is touched, so a refused
// message never consumes a replay slot except after check 6 itself (a quota
// refusal: the sender retries with a fresh message id); the quota is charged
// only for first-seen message ids. The body is parsed once from the bytes
// as carried and never re-serialized. INTERNAL if `options` lacks the
// directory, clock, replay cache or receiver. Thread-safe if the replay
// cache and quota gate are.
absl::StatusOr<OpenedEnvelope> Open(const v1::Envelope& envelope,
                                    const OpenOptions& options);

}  // namespace cbx::envelope

#endif  // CBX_CORE_ENVELOPE_ENVELOPE_H_
