#include "node/admission.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cbx::node {
namespace {

bool IsOfficeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// Decodes the UTF-8 code point at text[*pos] into *cp and advances *pos;
// false, *pos unchanged, on a truncated, overlong or surrogate sequence or
// one above U+10FFFF (RFC 3629). core/identifiers has its own, internal to
// it.
bool NextCodePoint(const std::string& text, size_t* pos, char32_t* cp) {
  const auto byte = [&](size_t i) {
    return static_cast<unsigned char>(text[*pos + i]);
  };
  const unsigned char b0 = byte(0);
  size_t len;
  char32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    ++*pos;
    return true;
  } else if ((b0 & 0xe0) == 0xc0) {
    len = 2, min = 0x80, *cp = b0 & 0x1f;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, min = 0x800, *cp = b0 & 0x0f;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return false;
  }
  if (*pos + len > text.size()) return false;
  for (size_t i = 1; i < len; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return false;
    *cp = (*cp << 6) | (byte(i) & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) {
    return false;
  }
  *pos += len;
  return true;
}

// INVALID_ARGUMENT naming `field` unless `text` is at most `max` bytes of
// UTF-8 without control characters.
absl::Status CheckText(const std::string& field, const std::string& text,
                       size_t max) {
  if (text.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", max, " bytes, not ", text.size()));
  }
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp;
    if (!NextCodePoint(text, &pos, &cp)) {
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

absl::Status CheckOneLineText(const std::string& field, const std::string& text,
                              size_t max) {
  return CheckText(field, text, max);
}

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

absl::Status CheckPurpose(const v1::Purpose& purpose) {
  if (purpose.case_number().empty()) {
    return absl::InvalidArgumentError("purpose.case_number is required");
  }
  if (purpose.legal_basis().empty()) {
    return absl::InvalidArgumentError("purpose.legal_basis is required");
  }
  if (purpose.offence() == v1::OFFENCE_CODE_UNSPECIFIED ||
      !v1::OffenceCode_IsValid(purpose.offence())) {
    return absl::InvalidArgumentError(
        absl::StrCat("purpose.offence: ", static_cast<int>(purpose.offence()),
                     " is not an offence code (spec/offence-codes.md)"));
  }
  return CheckPurposeText(purpose);
}

absl::Status CheckPeerRequest(const v1::Message& message) {
  const v1::Header& h = message.header();
  // Empty is allowed (spec/envelope.md §2: the office is informative; a
  // node's own requests, such as index sync, name none); a named office
  // must be one of the sender's.
  if (!h.office().empty() && !IsOfficeOf(h.office(), h.sender())) {
    // The office is the sender's text: its length is shown, never the text.
    return absl::InvalidArgumentError(
        absl::StrCat("header.office: not an office of ", h.sender(),
                     " (expected \"", h.sender(),
                     "/<office>\", office 1 to 64 of A-Z a-z "
                     "0-9 . _ -; got ",
                     h.office().size(), " bytes)"));
  }
  switch (message.kind_case()) {
    case v1::Message::kEvaluateRequest:
      return CheckPurpose(message.evaluate_request().purpose());
    case v1::Message::kResolveRequest:
      return CheckPurpose(message.resolve_request().purpose());
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
  if (precheck_ && !precheck_(message).ok()) return std::nullopt;
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
