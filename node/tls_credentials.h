// The node's TLS material at runtime (spec/keys.md §2.1, §5): its own
// certificate and key, the trust roots of the Peer port (every member's CA
// in the adopted directory) and of the Office port (tls.office_ca), and the
// CRLs of tls.crl_dir and of the directory; all of it changes without a
// restart.
//
// How: both ports' TLS is the node's own front (node/tls_front.h), which
// asks at each accept for identity() and the port's roots (peer_roots(),
// office_roots()) and remakes its TLS context when they changed: the next
// handshakes use what they hold; open connections keep theirs. The
// operator's files are checked first; what passed is also written,
// atomically, into <data_dir>/tls/ (folder 0700, files 0600), for the
// operator and the web console to see what is in use:
//   identity.pem      the node's key and certificate in ONE file;
//   peer-roots.pem    every member's CA of the current directory;
//   office-roots.pem  a copy of tls.office_ca (the console's roots).
// Outgoing peer channels (node/peer_clients.cc) take identity() and make a
// new channel when its generation changes.
//
// Revocation is checked by the node itself on every call, on both ports,
// by the services (PeerService::Identify, OfficeService::Authenticate)
// through CheckCertificate: a revoked certificate's new and already open
// connections are refused UNAUTHENTICATED on each call (OpenSSL's own CRL
// checks would only judge handshakes, and a refused handshake reaches the
// caller as a retryable UNAVAILABLE).
//
// Threading: every public method is thread-safe. Reload, Poll and
// OnDirectoryAdopted serialize on one mutex (file I/O under it); identity(),
// the roots and CheckCertificate only copy a snapshot pointer, so calls
// never wait for a reload's I/O.
#ifndef CBX_NODE_TLS_CREDENTIALS_H_
#define CBX_NODE_TLS_CREDENTIALS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "core/crypto/x509_crl.h"
#include "core/directory/directory.h"
#include "core/directory/directory_state.h"
#include "core/util/clock.h"
#include "core/util/env.h"
#include "grpcpp/server_context.h"
#include "node/config.h"
#include "node/revocation.h"

namespace cbx::node {

// The identity a node presents, as it is in use.
struct TlsIdentity {
  std::string certificate_pem;
  std::string private_key_pem;
  crypto::CertificateSummary summary;
  uint64_t generation = 0;   // 1 at start, +1 per accepted reload
  int64_t loaded_at_ms = 0;  // when it was put in use
};

// The reload decision for the node's own pair (pure, for tests): OK with
// the certificate's summary if `key_pem` is the key of `cert_pem`, the
// certificate's URI SANs name `self`'s member URI (and no other member or
// office), it chains to one of `own_cas` and is valid at the system time,
// and `revoked` does not list it. INVALID_ARGUMENT for a pair that does not
// parse or match; FAILED_PRECONDITION for a certificate that is not this
// member's node certificate, or is revoked; each message says why.
absl::StatusOr<crypto::CertificateSummary> CheckNodeIdentity(
    const std::string& cert_pem, const std::string& key_pem,
    const std::string& self, const std::vector<std::string>& own_cas,
    const RevocationSet& revoked);

class TlsCredentials {
 public:
  // How often Poll should be called to notice the operator's files change.
  static constexpr int64_t kPollIntervalMs = 1000;
  // A pair whose key does not match its certificate is refused only after
  // it stayed so this long: an operator replacing the two files is seen
  // half-way by a poll now and then.
  static constexpr int64_t kMismatchSettleMs = 3000;

  // Reads and checks the config's certificate, key, office CA and CRL folder
  // against the current directory, and writes <data_dir>/tls/. The error
  // names the config field (tls.certificate, tls.office_ca, ...): the Env's
  // code if a file cannot be read, INVALID_ARGUMENT / FAILED_PRECONDITION as
  // CheckNodeIdentity says.
  // `directory` (the node's) is read for the CAs of the version in use; it,
  // `clock` and `env` must outlive the object.
  static absl::StatusOr<std::unique_ptr<TlsCredentials>> Create(
      const Config& config, const directory::DirectoryState* directory,
      const Clock* clock, Env* env = Env::Default());
  // What Create checks, without writing anything (cbx-node --check): OK,
  // or the error Create would return. Logs as Create does.
  static absl::Status Check(const Config& config,
                            const directory::DirectoryState* directory,
                            const Clock* clock, Env* env = Env::Default());
  ~TlsCredentials();

  // The identity in use now. Never null.
  std::shared_ptr<const TlsIdentity> identity() const;
  // The CRLs in use now. Never null.
  std::shared_ptr<const RevocationSet> revocations() const;
  // The Peer port's trust roots now (every member's CA of the directory in
  // use, PEM) and the Office port's (tls.office_ca), for the ports' TLS
  // fronts (node/tls_front.h). Never null; a new object each time they
  // change.
  std::shared_ptr<const std::string> peer_roots() const;
  std::shared_ptr<const std::string> office_roots() const;

  // Rereads the operator's files and applies each valid change, logging
  // tls-reloaded / tls-reload-refused / crl-* events; `cause` ("SIGHUP",
  // "file-changed") goes into the log. An invalid file changes nothing.
  void Reload(const std::string& cause);
  // Reloads if any of the operator's files changed since the last look
  // (content compared); raises ALERT-crl-expired once per CRL whose
  // nextUpdate passed. Call every kPollIntervalMs.
  void Poll();
  // A directory listener (NodeContext::AddDirectoryListener): the Peer
  // port's roots become `after`'s CAs, and the CRLs are checked again
  // against them.
  void OnDirectoryAdopted(const directory::Directory& after);

  // UNAUTHENTICATED (saying which CRL) if a CRL in use lists this client
  // certificate (PEM); OK otherwise, also for one that does not parse (the
  // services refuse it).
  absl::Status CheckCertificate(const std::string& pem) const;
  // The same for the client certificate of a call (identity.h's
  // CallerCertificatePem); OK for a call without one.
  absl::Status CheckCaller(const grpc::ServerContextBase& context) const;

 private:
  TlsCredentials(const Config& config,
                 const directory::DirectoryState* directory, const Clock* clock,
                 Env* env, bool write_files);
  // Create's steps; with write_files_ false (Check) nothing is written.
  absl::Status Load();
  // Reload's body.
  void ReloadLocked(const std::string& cause, bool settle)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);

  // The pieces of Reload; each logs what it did. Callers hold reload_mu_.
  absl::Status ReloadIdentity(const std::string& cause, bool settle)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  absl::Status ReloadOfficeCa(const std::string& cause)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  void ReloadCrls(const directory::Directory& dir)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  absl::Status WritePeerRoots(const directory::Directory& dir)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // The CAs of this member in `dir`.
  std::vector<std::string> OwnCas(const directory::Directory& dir) const;
  // Every member's CA in `dir`: the Peer port's roots.
  static std::vector<std::string> MemberCas(const directory::Directory& dir);
  // Every CA a CRL may come from: all members' in `dir` and the office CA.
  std::vector<std::string> TrustedCas(const directory::Directory& dir) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // The CRL folder's files (name -> content); empty without tls.crl_dir.
  std::map<std::string, std::string> ReadCrlFiles() const;
  // A digest of every operator file, to notice changes.
  std::string SourceFingerprint() const;

  const Config config_;
  const Clock* const clock_;
  Env* const env_;
  const std::string dir_;  // <data_dir>/tls
  // False for Check: every step runs but <data_dir>/tls is not touched.
  const bool write_files_;

  const directory::DirectoryState* const directory_;

  std::mutex reload_mu_;
  std::string peer_roots_pem_ ABSL_GUARDED_BY(reload_mu_);
  std::string office_ca_pem_ ABSL_GUARDED_BY(reload_mu_);
  std::string fingerprint_ ABSL_GUARDED_BY(reload_mu_);
  int64_t mismatch_since_ms_ ABSL_GUARDED_BY(reload_mu_) = 0;
  std::set<std::string> expiry_alerted_ ABSL_GUARDED_BY(reload_mu_);

  mutable std::mutex state_mu_;
  std::shared_ptr<const TlsIdentity> identity_ ABSL_GUARDED_BY(state_mu_);
  std::shared_ptr<const RevocationSet> revocations_ ABSL_GUARDED_BY(state_mu_);
  std::shared_ptr<const std::string> peer_roots_ ABSL_GUARDED_BY(state_mu_);
  std::shared_ptr<const std::string> office_roots_ ABSL_GUARDED_BY(state_mu_);

  // Certificate PEM digest -> summary: a peer presents the same
  // certificate on every call. Cleared past a bound.
  mutable std::mutex cache_mu_;
  mutable std::map<std::string, crypto::CertificateSummary> summaries_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_TLS_CREDENTIALS_H_
