// The federation directory: parsing, structural validation and the k-of-n
// governance rule (spec/directory.md is the normative text).
//
// A Directory object only ever exists for a version that verified: either a
// pinned genesis signed by a threshold of its own members, or the successor of
// a verified version signed by a threshold of that predecessor's members.
#ifndef CBX_CORE_DIRECTORY_DIRECTORY_H_
#define CBX_CORE_DIRECTORY_DIRECTORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/crypto/ed25519.h"
#include "core/crypto/signer.h"
#include "core/util/bytes.h"

namespace cbx::directory {

// Length of a node key id (spec/keys.md).
inline constexpr size_t kNodeKeyIdSize = 8;
// Length of an OPRF public key: a compressed P-256 point.
inline constexpr size_t kOprfPublicKeySize = 33;

// Key id of a node signing key: first 8 bytes of
// SHA-256("cbx/v1/node-key" || 0x00 || public_key).
Bytes NodeKeyId(std::string_view ed25519_public_key);

// Ed25519 input of a governance signature:
// "cbx/v1/directory" || 0x00 || directory_bytes.
Bytes DirectorySigningInput(std::string_view directory_bytes);

// The URI SAN that names `member_code` in a TLS certificate:
// "spiffe://cbx/member/<CC>".
std::string MemberUri(std::string_view member_code);

// True if `code` is two upper-case ASCII letters (ISO 3166-1 alpha-2 form).
bool IsMemberCode(std::string_view code);

// Most entries a member's standby_endpoints may hold (spec/directory.md §3
// rule 6.9): a pair needs one; a few more cover a spare node, and the bound
// keeps a peer's tries within one call's budget.
inline constexpr int kMaxStandbyEndpoints = 3;

// Why `endpoint` is not `host:port` (a host without spaces, slashes or
// control bytes, an IPv6 address in brackets, a port 1-65535); "" if it is.
std::string HostPortProblem(std::string_view endpoint);

// Serializes `d` and signs it with each (member code, governance key) pair, in
// the order given. Performs no validation: a tool may sign anything, the
// receiver decides. The keys are borrowed for the duration of the call.
v1::SignedDirectory SignDirectory(
    const v1::Directory& d,
    const std::vector<std::pair<std::string, const crypto::Ed25519PrivateKey*>>&
        signers);

// Appends `member`'s governance signature over `signed_dir.directory` (for
// co-signing a proposal offline). INVALID_ARGUMENT if `member` is not a member
// code; ALREADY_EXISTS if `signed_dir` already holds a signature entry naming
// `member` (receivers consider only the first one). Leaves `signed_dir`
// unchanged on error.
absl::Status AddGovernanceSignature(v1::SignedDirectory& signed_dir,
                                    const std::string& member,
                                    const crypto::Ed25519PrivateKey& key);
// The same with a key wherever it is kept (a PKCS#11 token,
// core/crypto/signer.h); also the signer's error if it cannot sign.
absl::Status AddGovernanceSignature(v1::SignedDirectory& signed_dir,
                                    const std::string& member,
                                    const crypto::Signer& signer);

// The structural rules of spec/directory.md §3 on one Directory, on its own
// (no predecessor, no signatures). OK or INVALID_ARGUMENT naming the first
// rule broken. Useful to check a proposal before asking members to sign it.
absl::Status ValidateStructure(const v1::Directory& d);

// An immutable, verified directory version. Thread-safe: all methods are
// const and the object never changes after construction. Pointers it returns
// stay valid as long as the Directory lives.
class Directory {
 public:
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  // Parses and verifies a pinned genesis: it parses (INVALID_ARGUMENT), has
  // version 1 (INVALID_ARGUMENT), is structurally valid (INVALID_ARGUMENT),
  // and is signed by at least policy.governance_threshold distinct members of
  // itself with valid governance signatures (UNAUTHENTICATED otherwise).
  static absl::StatusOr<std::shared_ptr<const Directory>> FromGenesis(
      const v1::SignedDirectory& genesis);

  // Verifies `next` as the successor of this version (spec/directory.md §5),
  // in this order: the directory bytes parse (INVALID_ARGUMENT); its version is
  // this->version()+1 (FAILED_PRECONDITION otherwise: "directory versions
  // never go back" for an older or equal one, "gap" for a later one); at least
  // THIS version's governance_threshold distinct members of THIS version
  // signed it with THEIR governance keys in THIS version (UNAUTHENTICATED
  // otherwise); it is structurally valid, keeps the federation name, has a
  // non-decreasing issued_at and follows the OPRF epoch rule
  // (INVALID_ARGUMENT otherwise).
  absl::StatusOr<std::shared_ptr<const Directory>> Adopt(
      const v1::SignedDirectory& next) const;

  uint64_t version() const { return proto_.version(); }
  const v1::Directory& proto() const { return proto_; }
  const v1::SignedDirectory& signed_directory() const { return signed_; }
  const v1::Policy& policy() const { return proto_.policy(); }

  // nullptr if absent.
  const v1::Member* FindMember(std::string_view code) const;
  // Member named by a certificate URI SAN "spiffe://cbx/member/<CC>"; nullptr
  // if the URI is not exactly of that form or names no member.
  const v1::Member* FindMemberByUri(std::string_view uri_san) const;
  // Member owning node key `key_id`; nullptr if none.
  const v1::Member* FindMemberByKeyId(std::string_view key_id) const;

  // The public key of `member` with `key_id` that is valid at `at_ms`
  // (not_before <= at < not_after, not_after 0 = open). UNAUTHENTICATED with
  // a message saying which: unknown member / unknown key id / key not valid
  // at that time.
  absl::StatusOr<crypto::Ed25519PublicKey> NodeKeyAt(std::string_view member,
                                                     std::string_view key_id,
                                                     int64_t at_ms) const;

  // True if `member` is listed with status ACTIVE.
  bool IsActive(std::string_view member) const;
  // Codes of the ACTIVE members, in directory order.
  std::vector<std::string> ActiveMemberCodes() const;

 private:
  struct NodeKeyEntry {
    const v1::Member* member;
    const v1::NodeKey* key;
    crypto::Ed25519PublicKey public_key;
  };

  Directory(v1::SignedDirectory signed_dir, v1::Directory proto);
  // Builds the lookup tables; INVALID_ARGUMENT if a key does not parse.
  absl::Status Index();
  // Counts the distinct members of THIS version whose governance signature
  // over `signed_dir.directory` verifies; UNAUTHENTICATED if fewer than this
  // version's threshold.
  absl::Status CheckGovernanceSignatures(
      const v1::SignedDirectory& signed_dir) const;
  // The OPRF rotation rule between this version and `next`
  // (spec/directory.md §5): a member keeps key and epoch, or gets a new key
  // with epoch + 1. INVALID_ARGUMENT otherwise.
  absl::Status CheckOprfEpochs(const v1::Directory& next) const;

  const v1::SignedDirectory signed_;
  const v1::Directory proto_;
  std::map<std::string, const v1::Member*, std::less<>> members_;
  std::map<std::string, crypto::Ed25519PublicKey, std::less<>> governance_keys_;
  std::map<Bytes, NodeKeyEntry, std::less<>> node_keys_;
};

}  // namespace cbx::directory

#endif  // CBX_CORE_DIRECTORY_DIRECTORY_H_
