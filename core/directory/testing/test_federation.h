// A deterministic three-member test federation (MK, RS, AL) for unit tests,
// spec vectors and fuzz targets. Never for production: every secret here is
// derived from a public label.
//
//   genesis (v1, 2025-12-01): MK, RS, AL active; governance threshold 2 of 3;
//       signed by MK and RS.
//   v2 (2025-12-30): AL suspended; RS's governance key replaced
//       (RS/governance/1 -> RS/governance/2); MK's node key rotated
//       (MK/node/1 ends 2025-12-31, MK/node/2 from 2025-12-30); RS
//       pre-publishes RS/node/2 valid from 2026-02-01; MK's OPRF key moves to
//       epoch 2. Signed by RS (with RS/governance/1) and AL: v1's keys.
//   v3 (2026-01-10): max message lifetime 600 s. Must be signed with v2's
//       keys (RS/governance/2); SignedV3() uses MK and RS.
#ifndef CBX_CORE_DIRECTORY_TESTING_TEST_FEDERATION_H_
#define CBX_CORE_DIRECTORY_TESTING_TEST_FEDERATION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cbx/v1/directory.pb.h"
#include "core/crypto/ed25519.h"
#include "core/util/bytes.h"

namespace cbx::directory::testing {

inline constexpr std::string_view kFederation = "cbx-test-federation";
inline constexpr int64_t kGenesisIssuedAtMs = 1764547200000;  // 2025-12-01
inline constexpr int64_t kV2IssuedAtMs = 1767052800000;       // 2025-12-30
inline constexpr int64_t kV3IssuedAtMs = 1768003200000;       // 2026-01-10
// The receivers' clock in the spec vectors: 2026-01-01T00:00:00Z.
inline constexpr int64_t kNowMs = 1767225600000;
inline constexpr int64_t kMkNode1NotAfterMs = 1767139200000;   // 2025-12-31
inline constexpr int64_t kMkNode2NotBeforeMs = 1767052800000;  // 2025-12-30
inline constexpr int64_t kRsNode2NotBeforeMs = 1769904000000;  // 2026-02-01

// Seed of the test key named `label` (for example "MK/node/1"):
// SHA-256("cbx test seed" || 0x00 || label).
Bytes TestSeed(std::string_view label);
crypto::Ed25519PrivateKey TestKey(std::string_view label);
// Node key id of TestKey(label).
Bytes TestKeyId(std::string_view label);
// A self-signed Ed25519 CA certificate for `code` (MK, RS or AL).
std::string TestCaPem(std::string_view code);
// The P-256 scalar and compressed public key of `code`'s test OPRF key at
// `epoch` (1 or 2): scalar = SHA-256("cbx test oprf" || 0x00 || code || 0x00
// || epoch byte) mod n.
Bytes TestOprfScalar(std::string_view code, uint32_t epoch);
Bytes TestOprfPublicKey(std::string_view code, uint32_t epoch);

// A valid active member with governance key "<code>/governance/1", node key
// "<code>/node/1" (valid from 0, open-ended) and OPRF epoch 1.
v1::Member TestMember(std::string_view code);

v1::Directory GenesisDirectory();
v1::Directory V2Directory();
v1::Directory V3Directory();

// Signs `d` with each (member code, key label) pair, in order.
v1::SignedDirectory SignAs(
    const v1::Directory& d,
    const std::vector<std::pair<std::string, std::string>>& member_and_label);

v1::SignedDirectory SignedGenesis();  // MK/governance/1, RS/governance/1
v1::SignedDirectory SignedV2();       // RS/governance/1, AL/governance/1
v1::SignedDirectory SignedV3();       // MK/governance/1, RS/governance/2

}  // namespace cbx::directory::testing

#endif  // CBX_CORE_DIRECTORY_TESTING_TEST_FEDERATION_H_
