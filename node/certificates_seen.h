// The TLS certificates peers present, as this node last saw them in use
// (spec/office-api.md §4.8, keys.md §5.1): what `cbx peers` shows so an
// operator can confirm a renewal reached both sides.
#ifndef CBX_NODE_CERTIFICATES_SEEN_H_
#define CBX_NODE_CERTIFICATES_SEEN_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "cbx/v1/office.pb.h"
#include "core/crypto/x509_crl.h"
#include "core/util/bytes.h"

namespace cbx::node {

// Thread-safe: Record is called on gRPC threads (every Peer call, every
// handshake to a peer), Describe on Office.ListPeers. Record costs one
// SHA-256 of the PEM text while the certificate stays the same, and one
// parse when it changes.
class CertificatesSeen {
 public:
  enum class Side {
    kClient,  // presented by the peer calling this node
    kServer,  // presented by the peer's Peer port to this node's call
  };

  // Records that `member` presented `pem` on `side` at `now_ms`. A PEM that
  // does not parse is ignored (TLS accepted it, so it cannot happen).
  void Record(const std::string& member, Side side, std::string_view pem,
              int64_t now_ms);

  // What `member` last presented on `side`; nullopt if nothing since start.
  std::optional<v1::CertificateInUse> Describe(const std::string& member,
                                               Side side) const;

  // The proto form of `summary`, seen first and last at `seen_ms`.
  static v1::CertificateInUse InUse(const crypto::CertificateSummary& summary,
                                    int64_t seen_ms);

 private:
  struct Seen {
    Bytes pem_sha256;  // of the PEM text: recognizes the same certificate
    v1::CertificateInUse in_use;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, Side>, Seen> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_CERTIFICATES_SEEN_H_
