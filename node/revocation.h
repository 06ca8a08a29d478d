// Certificate revocation (spec/keys.md §5): the CRLs of the folder
// tls.crl_dir and of the adopted directory (Member.crls_pem), each verified
// against the CA that signed it, and the check of a certificate against
// them (callers on both ports, peers this node calls).
//
// A RevocationSet is an immutable snapshot: built by LoadRevocations from
// the folder's files and the set in use before, then shared read-only by
// every call (thread-safe). Rules, decided here once:
//   - a CRL is used only if its signature verifies with a trusted CA (a
//     member's CA in the current directory, or the office CA);
//   - a file that does not parse or verify, or a CRL older (thisUpdate) than
//     the one in use for its CA, is refused and the CRL in use stays: a
//     revocation already known is never dropped by a bad file;
//   - a CRL past its nextUpdate stays in use (its revocations stay true) and
//     raises ALERT-crl-expired: fail-open for revocations it cannot know
//     yet, never for the ones it lists;
//   - a file removed from the folder drops its CRL (the operator's act);
//   - a CRL of the directory is used only if it verifies with a CA of the
//     member that lists it (a member cannot revoke another's certificates),
//     and is named "directory:<member>#<i>" in events; it competes with the
//     folder's CRLs of the same CA, the newest thisUpdate winning;
//   - a CRL dropped from the directory is dropped like a removed file.
#ifndef CBX_NODE_REVOCATION_H_
#define CBX_NODE_REVOCATION_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/crypto/x509_crl.h"

namespace cbx::node {

class RevocationSet {
 public:
  struct Entry {
    crypto::RevocationList list;
    std::string file;  // the file it was read from
  };

  RevocationSet() = default;
  explicit RevocationSet(std::map<std::string, Entry> entries)
      : entries_(std::move(entries)) {}

  // OK unless `cert`'s serial is on the CRL of its issuer: then
  // UNAUTHENTICATED "certificate <serial> (<subject>) is revoked by the CRL
  // of <issuer> (thisUpdate <time>)".
  absl::Status Check(const crypto::CertificateSummary& cert) const;

  // Issuer name (DER) -> the CRL in use for it.
  const std::map<std::string, Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::map<std::string, Entry> entries_;
};

// What LoadRevocations did, for the node's log: event is "crl-loaded",
// "crl-refused", "crl-removed" or "ALERT-crl-expired".
struct RevocationEvent {
  std::string level;  // "info", "warn", "error"
  std::string event;
  std::string file;
  std::string issuer;
  std::string detail;  // why refused; revoked count and dates otherwise
};

// A CRL a directory version lists for one of its members.
struct DirectoryCrl {
  std::string member;
  std::string pem;
  std::vector<std::string> member_cas;  // the member's ca_certificates_pem
};

// The CRLs `dir_members` (a directory's members) list, in order.
template <typename Members>
std::vector<DirectoryCrl> DirectoryCrls(const Members& dir_members) {
  std::vector<DirectoryCrl> out;
  for (const auto& m : dir_members) {
    for (const std::string& pem : m.crls_pem()) {
      out.push_back(
          {m.code(),
           pem,
           {m.ca_certificates_pem().begin(), m.ca_certificates_pem().end()}});
    }
  }
  return out;
}

// The set to use next: `files` (file name -> PEM text) checked against
// `trusted_cas` (PEM, each may hold several certificates) by the rules of
// the file comment, starting from `previous`, with `now_s` (Unix seconds)
// judging nextUpdate. Appends what happened to `events` (may be null);
// unchanged CRLs log nothing unless expired.
RevocationSet LoadRevocations(const std::map<std::string, std::string>& files,
                              const std::vector<std::string>& trusted_cas,
                              const RevocationSet& previous, int64_t now_s,
                              std::vector<RevocationEvent>* events);
// The same with the CRLs of the adopted directory as well, by the rules of
// the file comment.
RevocationSet LoadRevocations(const std::map<std::string, std::string>& files,
                              const std::vector<std::string>& trusted_cas,
                              const std::vector<DirectoryCrl>& from_directory,
                              const RevocationSet& previous, int64_t now_s,
                              std::vector<RevocationEvent>* events);

}  // namespace cbx::node

#endif  // CBX_NODE_REVOCATION_H_
