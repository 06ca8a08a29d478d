// The operator's directory workflow: build an unsigned proposal, co-sign it
// member by member with offline governance keys, and verify a chain of
// versions from the pinned genesis. The verdict is always core/directory's;
// this file adds the checks that catch an operator's mistake before a
// signature is spent, and per-signature detail for the reports.
//
// Stateless functions; thread-safe.
#ifndef CBX_ADMIN_DIRECTORY_OPS_H_
#define CBX_ADMIN_DIRECTORY_OPS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/signer.h"

namespace cbx::admin {

// Serializes `d` into a SignedDirectory with no signatures.
// INVALID_ARGUMENT if `d` breaks a structural rule of spec/directory.md
// (nobody should be asked to sign it).
absl::StatusOr<v1::SignedDirectory> BuildUnsigned(const v1::Directory& d);

// Parses the Directory inside `signed_dir`. INVALID_ARGUMENT if it does not
// parse.
absl::StatusOr<v1::Directory> InnerDirectory(
    const v1::SignedDirectory& signed_dir);

// The rules of spec/directory.md §5.2 that relate `next` to `previous`
// apart from the signatures: next is version previous+1 of the same
// federation, not issued earlier, and every member listed in both either
// keeps its OPRF key and epoch or has a new key with epoch + 1.
// INVALID_ARGUMENT naming the rule otherwise. Checked before anybody signs,
// so that no signature is spent on an update nodes would refuse; nodes apply
// the same rules (core/directory Directory::Adopt).
absl::Status CheckSuccessor(const v1::Directory& previous,
                            const v1::Directory& next);

// What one signature entry amounts to under a given version's keys.
struct SignatureCheck {
  enum class Outcome {
    kValid,          // verifies under the member's governance key
    kInvalid,        // the member exists but the signature does not verify
    kUnknownMember,  // no such member in the signing version
    kDuplicate,      // a later entry for a member already seen (ignored)
  };
  std::string member;
  Outcome outcome;
};

// "valid", "invalid", "unknown member", "duplicate (ignored)".
const char* OutcomeName(SignatureCheck::Outcome outcome);

// Checks every signature entry of `signed_dir` against the governance keys
// of `signing_version` (the directory itself for a genesis, the previous
// version for an update), in order.
std::vector<SignatureCheck> CheckSignatures(
    const v1::SignedDirectory& signed_dir,
    const v1::Directory& signing_version);

// Number of kValid entries.
size_t CountValid(const std::vector<SignatureCheck>& checks);

// The state of a directory after one more signature.
struct SignResult {
  uint64_t version = 0;
  size_t valid_signatures = 0;  // under the signing version's keys
  uint32_t threshold = 0;       // the signing version's governance_threshold
};

// Adds `member`'s governance signature to `signed_dir`, made with `key`.
// For a genesis (version 1) the key must be `member`'s governance key in the
// directory itself, and `previous` must be null. For an update (version
// v > 1) `previous` must be version v-1 of the same federation and the key
// must be `member`'s governance key there; without `previous`
// FAILED_PRECONDITION tells the caller to supply it. Refuses (and leaves
// `signed_dir` unchanged) with INVALID_ARGUMENT if the directory is not
// structurally valid, `previous` does not fit, or the update breaks a rule
// of CheckSuccessor, NOT_FOUND if `member` is
// not a member of the signing version, PERMISSION_DENIED if `key` is not
// its governance key, ALREADY_EXISTS if `member` already signed.
absl::StatusOr<SignResult> SignAsMember(v1::SignedDirectory& signed_dir,
                                        const std::string& member,
                                        const crypto::Ed25519PrivateKey& key,
                                        const v1::SignedDirectory* previous);
// The same with a key wherever it is kept (a PKCS#11 token,
// core/crypto/signer.h); also the signer's error if the token fails.
absl::StatusOr<SignResult> SignAsMember(v1::SignedDirectory& signed_dir,
                                        const std::string& member,
                                        const crypto::Signer& key,
                                        const v1::SignedDirectory* previous);

// One verified (or failed) step of a chain.
struct VersionReport {
  std::string source;  // file name, for messages
  std::string file_sha256;
  uint64_t version = 0;
  std::string federation;
  int64_t issued_at_ms = 0;
  uint32_t threshold = 0;  // of the signing version
  std::vector<SignatureCheck> signatures;
  bool adopted = false;
};

struct ChainReport {
  std::vector<VersionReport> versions;
  // OK if every version was adopted; otherwise the first failure, prefixed
  // with the file it concerns. Versions after a failure are not examined.
  absl::Status status;
};

struct NamedDirectory {
  std::string source;
  v1::SignedDirectory signed_dir;
  std::string file_sha256 = {};  // hex, of the file's bytes; for the report
};

// Verifies `genesis` as a pinned genesis, then adopts each of `updates` in
// order with core/directory's rules.
ChainReport VerifyChain(const NamedDirectory& genesis,
                        const std::vector<NamedDirectory>& updates);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_DIRECTORY_OPS_H_
