// The node's gRPC limits (issue 9): every size a peer or an office can make
// the node receive is derived from the protocol's own limits, and every
// connection is bounded in streams, pings, idleness and age, so that a
// client holding a valid certificate cannot exhaust the node (HTTP/2 rapid
// reset, thousands of held streams, slow or half-open connections).
// README "Operating a node" lists them; none is configurable.
//
// Constants only; thread-safe.
#ifndef CBX_NODE_GRPC_LIMITS_H_
#define CBX_NODE_GRPC_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "core/identifiers/identifiers.h"
#include "node/cases.h"
#include "node/lookup_responder.h"

namespace cbx::node {

// Room for everything in a message but its batch: the envelope's key id (8)
// and signature (64), the header (sender, audience, message id, times,
// office, user), the purpose (case number 64, legal basis 512) and protobuf
// tags and lengths. An honest header is under 1 KiB; 16 KiB is generous.
inline constexpr size_t kEnvelopeOverheadBytes = 16 * 1024;

// The largest request a peer sends: an Evaluate of kMaxBatch blinded
// elements, each a 65-byte uncompressed P-256 point (spec/oprf.md §1) plus
// 2 bytes of tag and length: 1024 * 67 = 68,608 bytes (a Resolve's 1024
// 32-byte outputs are 1024 * 34 = 34,816), + 16,384 overhead = 84,992;
// rounded up to 96 KiB. Every other Peer request (GetDirectory, SyncIndex's
// index request, GetCheckpoint, AddCosignature: a checkpoint note with one
// line per cosigner) is a few KiB at most.
inline constexpr size_t kMaxPeerRequestBytes = 96 * 1024;
static_assert(kMaxBatch * (65 + 2) + kEnvelopeOverheadBytes <=
              kMaxPeerRequestBytes);

// The largest reply a peer sends. An index chunk: kTagsPerChunk 8-byte tags
// added and as many removed, 2 * 65,536 * 8 = 1,048,576 bytes + overhead
// (1 MiB + 16 KiB). An Evaluate reply: 1024 * 67 + a 64-byte proof, 68 KiB.
// A Resolve reply holds one reference per matching case, each under 40 KiB
// (contact point 512, 32 offences, up to 1024 matched identifiers of ~30
// bytes); GetDirectory returns every directory version after the caller's,
// each ~10-50 KiB with its members' CA certificates. These two have no
// protocol bound, so the client allows 16 MiB: a 16x margin over an index
// chunk, hundreds of directory versions. (It was 64 MiB.)
inline constexpr size_t kMaxPeerReplyBytes = 16 * 1024 * 1024;
static_assert(2 * kTagsPerChunk * identifiers::kTagSize +
                  kEnvelopeOverheadBytes <=
              kMaxPeerReplyBytes);

// The largest request an office sends: an AddCase (or a Query) of
// kMaxCaseIdentifiers identifiers, each a value of at most 1024 bytes
// (spec/identifiers.md) + type, two window times and tags and lengths
// (~32 bytes): 1024 * 1,056 = 1,081,344 bytes, + 16 KiB for the other
// fields (contact point 512, 32 offences, purpose) = 1,097,728; rounded up
// to 2 MiB.
inline constexpr size_t kMaxOfficeRequestBytes = 2 * 1024 * 1024;
static_assert(kMaxCaseIdentifiers * (1024 + 32) + kEnvelopeOverheadBytes <=
              kMaxOfficeRequestBytes);

// Concurrent streams per HTTP/2 connection (gRPC's default: unlimited). A
// peer's node runs at most its lookup executor's threads of calls to one
// peer at a time; an office's client a handful.
inline constexpr int kMaxConcurrentStreams = 100;

// Keepalive enforcement: a client may ping at most once per 10 s while no
// call is active; after 2 pings too soon the server sends GOAWAY
// (ENHANCE_YOUR_CALM) and closes the connection.
inline constexpr int kMinRecvPingIntervalMs = 10'000;
inline constexpr int kMaxPingStrikes = 2;

// The server pings a connection that has been silent for 60 s and drops it
// if no answer comes within 20 s: a half-open connection (the peer gone
// without a FIN) is closed within 80 s.
inline constexpr int kServerKeepaliveTimeMs = 60'000;
inline constexpr int kServerKeepaliveTimeoutMs = 20'000;

// This node's channels to its peers ping a connection while a call is
// waiting on it and no ping has gone for 20 s, and drop it if no answer
// comes within 10 s: a peer machine lost without a FIN (or a network that
// silently stopped carrying the connection) is noticed within 30 s of
// calls, not after TCP's own retries (about 15 minutes), and the next call
// reconnects or goes to the member's other endpoint. Never while no call
// is active: the peer's server would count such pings as abuse (above).
inline constexpr int kPeerKeepaliveTimeMs = 20'000;
inline constexpr int kPeerKeepaliveTimeoutMs = 10'000;
static_assert(kPeerKeepaliveTimeMs >= kMinRecvPingIntervalMs);

// A connection with no call for 5 minutes is closed (GOAWAY); every
// connection is closed after 30 minutes, its calls given 2 minutes to end
// (a Query or an index sync is far shorter); clients reconnect by
// themselves.
inline constexpr int kMaxConnectionIdleMs = 5 * 60'000;
inline constexpr int kMaxConnectionAgeMs = 30 * 60'000;
inline constexpr int kMaxConnectionAgeGraceMs = 2 * 60'000;

// A TLS handshake (and the HTTP/2 preface) must complete within 10 s, or
// the connection is closed: a slow-loris client cannot hold a socket and a
// handshake buffer open for long. (gRPC's default: 120 s.)
inline constexpr int kServerHandshakeTimeoutMs = 10'000;

// Memory the gRPC transport of one server (peer or office port) may use for
// connections, streams and buffered messages; beyond it new streams are
// refused (RESOURCE_EXHAUSTED) instead of the process growing.
inline constexpr size_t kServerMemoryQuotaBytes = 256 * 1024 * 1024;
// The ports' TLS fronts (node/tls_front.h), against HTTP/2 rapid reset
// (CVE-2023-44487), which gRPC 1.51 does not bound: a connection whose
// client resets more than 4x kMaxConcurrentStreams streams (400) within
// 10 s is closed. An honest node resets a stream only when it cancels a
// call (a deadline, a query given up), at most kMaxConcurrentStreams at a
// time; a rapid-reset client resets thousands a second. The certificate
// that flooded then has its new connections closed after the handshake
// for 30 s, doubled at each flood within the hour after the last, up to
// 15 minutes.
inline constexpr int kMaxClientResetsPerWindow = 4 * kMaxConcurrentStreams;
inline constexpr int64_t kClientResetWindowMs = 10'000;
inline constexpr int64_t kResetFloodPenaltyMs = 30'000;
inline constexpr int64_t kMaxResetFloodPenaltyMs = 15 * 60'000;
// Connections open at once at each port's front (TLS handshakes
// included), and handed on to gRPC for one client certificate: an honest
// node keeps a few channels to each peer, an office a few per person, so
// one certificate holding 128 is abuse, and without the second bound one
// holder could take every connection of the port. Beyond either, new ones
// are closed (at once, or after the handshake). Each connection handed on
// holds three descriptors and up to 272 KiB of the front's buffers.
inline constexpr int kMaxFrontConnections = 1024;
// Threads of each port's TLS front. The front encrypts all of a port's
// replies, which gRPC's own TLS did on its many threads: a node serving 32
// index pulls at once (8 MB each at a million tags) on a loaded machine
// needs more than one thread's share of the CPU. The Peer port's front
// runs kPeerFrontThreads, the Office port's kFrontThreads.
inline constexpr int kFrontThreads = 2;
inline constexpr int kPeerFrontThreads = 4;
inline constexpr int kMaxConnectionsPerCertificate = 128;

}  // namespace cbx::node

#endif  // CBX_NODE_GRPC_LIMITS_H_
