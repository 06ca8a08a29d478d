// Detached governance signatures: each key holder signs a proposal offline
// into a file of their own (`cbx-admin directory cosign`), and one operator
// merges the files into the signed directory (`directory combine`), checking
// each against the version whose keys count (spec/directory.md §5.2).
//
// A signature file is a small JSON object, readable and safe to e-mail:
//   {"format": "cbx-directory-signature/1", "member": "MK", "version": 2,
//    "directory_sha256": "<64 hex>", "signature": "<128 hex>"}
// where directory_sha256 is the SHA-256 of the signed directory bytes (the
// proposal's `directory` field) and signature the Ed25519 signature over
// "cbx/v1/directory" || 0x00 || those bytes.
//
// Stateless functions; thread-safe.
#ifndef CBX_ADMIN_SIGNATURE_FILE_H_
#define CBX_ADMIN_SIGNATURE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/crypto/ed25519.h"
#include "core/util/bytes.h"

namespace cbx::admin {

inline constexpr char kSignatureFormat[] = "cbx-directory-signature/1";

struct DetachedSignature {
  std::string member;
  uint64_t version = 0;
  std::string directory_sha256;  // hex
  Bytes signature;
};

// The file's text (JSON, with a final newline).
std::string SignatureFileText(const DetachedSignature& s);
// Parses a signature file; INVALID_ARGUMENT naming `source` and the field.
absl::StatusOr<DetachedSignature> ParseSignatureFile(std::string_view text,
                                                     const std::string& source);

// `member`'s signature over `proposal` with `key`, after the checks of
// SignAsMember (structure, --previous for an update, the successor rules,
// membership and that `key` is `member`'s governance key), with the same
// codes. The proposal's own signatures, if any, are ignored.
absl::StatusOr<DetachedSignature> Cosign(const v1::SignedDirectory& proposal,
                                         const std::string& member,
                                         const crypto::Ed25519PrivateKey& key,
                                         const v1::SignedDirectory* previous);

struct NamedSignature {
  std::string source;  // file name, for messages
  DetachedSignature signature;
};

struct CombineResult {
  v1::SignedDirectory combined;
  uint64_t version = 0;
  size_t valid_signatures = 0;
  uint32_t threshold = 0;      // of the signing version
  size_t signing_members = 0;  // n: members of the signing version
};

// Adds each signature to `proposal` (which should carry none) after
// checking it against the signing version (`previous` for an update, the
// proposal itself for a genesis; FAILED_PRECONDITION without `previous` for
// an update). Refuses the whole combination, naming the file:
// INVALID_ARGUMENT for a signature of another version or over other bytes
// (its directory_sha256 differs from the proposal's), NOT_FOUND for a
// signer who is not a member of the signing version, ALREADY_EXISTS for a
// second signature of one member, PERMISSION_DENIED for a signature that
// does not verify with the member's governance key there (a wrong key);
// FAILED_PRECONDITION if fewer than the threshold remain. Then the result
// is verified as the nodes will (Directory::FromGenesis / the successor
// rules).
absl::StatusOr<CombineResult> CombineSignatures(
    const v1::SignedDirectory& proposal,
    const std::vector<NamedSignature>& signatures,
    const v1::SignedDirectory* previous);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_SIGNATURE_FILE_H_
