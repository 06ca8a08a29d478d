#include "node/admission.h"

#include "absl/strings/str_cat.h"

namespace cbx::node {

absl::Status StorageReplayCache::CheckAndRecord(const std::string& sender,
                                                const Bytes& message_id,
                                                int64_t expires_at_ms) {
  return storage_->RecordMessageId(sender, message_id, expires_at_ms);
}

envelope::ReplayAndQuota StorageReplayCache::CheckRecordAndCharge(
    const std::string& sender, const Bytes& message_id, int64_t expires_at_ms,
    const v1::Message& message, envelope::QuotaGate* quota) {
  if (quota == nullptr || quota != quota_) {
    return ReplayCache::CheckRecordAndCharge(sender, message_id, expires_at_ms,
                                             message, quota);
  }
  const std::optional<Storage::QuotaCharge> charge = quota_->ChargeFor(message);
  envelope::ReplayAndQuota out;
  auto outcome = storage_->RecordMessageIdAndCharge(sender, message_id,
                                                    expires_at_ms, charge);
  if (!outcome.ok()) {
    out.replay = outcome.status();  // nothing recorded, nothing charged
  } else if (*outcome == Storage::AdmitOutcome::kAlreadyRecorded) {
    out.replay = absl::AlreadyExistsError(
        absl::StrCat("message id already recorded for ", sender));
  } else if (*outcome == Storage::AdmitOutcome::kOverQuota) {
    out.quota = quota_->Exhausted(sender, charge->count);
  }
  return out;
}

std::optional<Storage::QuotaCharge> StorageQuotaGate::ChargeFor(
    const v1::Message& message) const {
  if (message.kind_case() != v1::Message::kEvaluateRequest) {
    return std::nullopt;
  }
  Storage::QuotaCharge charge;
  charge.day = clock_->NowMs() / 86'400'000;
  charge.count =
      static_cast<uint32_t>(message.evaluate_request().blinded_elements_size());
  charge.limit = limit_;
  return charge;
}

absl::Status StorageQuotaGate::Exhausted(const std::string& sender,
                                         uint32_t count) const {
  return absl::ResourceExhaustedError(absl::StrCat(
      "member ", sender, " has used its quota of ", limit_,
      " evaluations for today (UTC); this request asked for ", count));
}

absl::Status StorageQuotaGate::Charge(const std::string& sender,
                                      const v1::Message& message) {
  const std::optional<Storage::QuotaCharge> charge = ChargeFor(message);
  if (!charge.has_value()) return absl::OkStatus();
  auto used =
      storage_->ChargeQuota(sender, charge->day, charge->count, charge->limit);
  if (!used.ok()) {
    if (used.status().code() == absl::StatusCode::kResourceExhausted) {
      return Exhausted(sender, charge->count);
    }
    return used.status();
  }
  return absl::OkStatus();
}

}  // namespace cbx::node
