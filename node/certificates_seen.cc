#include "node/certificates_seen.h"

#include "core/crypto/sha256.h"

namespace cbx::node {

v1::CertificateInUse CertificatesSeen::InUse(
    const crypto::CertificateSummary& summary, int64_t seen_ms) {
  v1::CertificateInUse out;
  out.set_serial(summary.serial_hex);
  out.set_not_after_ms(summary.not_after_s * 1000);
  out.set_sha256_fingerprint(summary.sha256_fingerprint);
  out.set_first_seen_ms(seen_ms);
  out.set_last_seen_ms(seen_ms);
  return out;
}

void CertificatesSeen::Record(const std::string& member, Side side,
                              std::string_view pem, int64_t now_ms) {
  Bytes digest = crypto::Sha256(pem);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = seen_.find({member, side});
    if (it != seen_.end() && it->second.pem_sha256 == digest) {
      it->second.in_use.set_last_seen_ms(now_ms);
      return;
    }
  }
  // A new certificate: parsed outside the lock.
  absl::StatusOr<crypto::CertificateSummary> summary =
      crypto::SummarizeCertificate(pem);
  if (!summary.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  seen_[{member, side}] = Seen{std::move(digest), InUse(*summary, now_ms)};
}

std::optional<v1::CertificateInUse> CertificatesSeen::Describe(
    const std::string& member, Side side) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find({member, side});
  if (it == seen_.end()) return std::nullopt;
  return it->second.in_use;
}

}  // namespace cbx::node
