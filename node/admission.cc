#include "node/admission.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/identifiers/text.h"

namespace cbx::node {
namespace {

bool IsOfficeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// INVALID_ARGUMENT naming `field` unless `text` is at most `max` bytes of
// UTF-8 without control characters.
absl::Status CheckText(std::string_view field, const std::string& text,
                       size_t max) {
  if (text.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": at most ", max, " bytes, not ", text.size()));
  }
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp;
    if (!identifiers::DecodeUtf8(text, &pos, &cp)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": not valid UTF-8 at byte ", pos));
    }
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: control character U+%04X is not allowed", field,
                          static_cast<uint32_t>(cp)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsOfficeOf(std::string_view office, std::string_view member) {
  if (office.size() < member.size() + 2 || office.size() > member.size() + 65 ||
      office.substr(0, member.size()) != member ||
      office[member.size()] != '/') {
    return false;
  }
  for (char c : office.substr(member.size() + 1)) {
    if (!IsOfficeChar(c)) return false;
  }
  return true;
}

absl::Status CheckPurposeText(const v1::Purpose& purpose) {
  if (absl::Status s = CheckText("purpose.case_number", purpose.case_number(),
                                 kMaxCaseNumberBytes);
      !s.ok()) {
    return s;
  }
  return CheckText("purpose.legal_basis", purpose.legal_basis(),
                   kMaxLegalBasisBytes);
}

absl::Status CheckPeerRequest(const v1::Message& message) {
  const v1::Header& h = message.header();
  const bool office_optional =
      message.kind_case() == v1::Message::kIndexRequest;
  if (!(office_optional && h.office().empty()) &&
      !IsOfficeOf(h.office(), h.sender())) {
    // The office is the sender's text: its length is shown, never the text.
    return absl::InvalidArgumentError(absl::StrCat(
        "header.office: not an office of ", h.sender(),
        " (expected \"", h.sender(), "/<office>\", office 1 to 64 of A-Z a-z "
        "0-9 . _ -; got ", h.office().size(), " bytes)"));
  }
  switch (message.kind_case()) {
    case v1::Message::kEvaluateRequest:
      return CheckPurposeText(message.evaluate_request().purpose());
    case v1::Message::kResolveRequest:
      return CheckPurposeText(message.resolve_request().purpose());
    default:
      return absl::OkStatus();
  }
}

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
