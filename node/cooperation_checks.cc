#include "node/cooperation_checks.h"

#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/directory/policy.h"
#include "core/util/status_macros.h"
#include "node/admission.h"

namespace cbx::node {
namespace {

absl::Status Required(const std::string& field, const std::string& text,
                      size_t max) {
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  return CheckOneLineText(field, text, max);
}

bool IsPlatformChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

absl::Status CheckPreservation(const v1::PreservationDetails& p) {
  if (p.platform().empty() || p.platform().size() > kMaxPlatformBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("preservation.platform: 1 to ", kMaxPlatformBytes,
                     " characters, not ", p.platform().size()));
  }
  for (char c : p.platform()) {
    if (!IsPlatformChar(c)) {
      return absl::InvalidArgumentError(
          "preservation.platform: only a-z 0-9 . _ - (e.g. \"telegram\")");
    }
  }
  if (p.account_size() == 0 || p.account_size() > kMaxAccountIdentifiers) {
    return absl::InvalidArgumentError(
        absl::StrCat("preservation.account: 1 to ", kMaxAccountIdentifiers,
                     " identifiers, not ", p.account_size()));
  }
  for (int i = 0; i < p.account_size(); ++i) {
    const std::string field = absl::StrCat("preservation.account[", i, "]");
    if (p.account(i).type() == v1::IDENTIFIER_TYPE_UNSPECIFIED ||
        !v1::IdentifierType_IsValid(p.account(i).type())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".type must be a known identifier type"));
    }
    RETURN_IF_ERROR(Required(absl::StrCat(field, ".value"),
                             p.account(i).value(), kMaxAccountValueBytes));
  }
  if (p.period_from_ms() <= 0 || p.period_to_ms() <= p.period_from_ms()) {
    return absl::InvalidArgumentError(
        "preservation: period_from_ms must be > 0 and before period_to_ms");
  }
  if (p.data_categories_size() == 0) {
    return absl::InvalidArgumentError(
        "preservation.data_categories: at least one is required");
  }
  std::set<int> seen;
  for (int c : p.data_categories()) {
    if (c == v1::DATA_CATEGORY_UNSPECIFIED || !v1::DataCategory_IsValid(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("preservation.data_categories: unknown category ", c));
    }
    if (!seen.insert(c).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "preservation.data_categories: ", v1::DataCategory_Name(c),
          " twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t ResponsePeriodMs(const v1::Policy& policy, v1::CooperationType type) {
  int64_t seconds = 0;
  switch (type) {
    case v1::COOPERATION_TYPE_INFORMATION:
      seconds = directory::InformationResponseS(policy);
      break;
    case v1::COOPERATION_TYPE_PRESERVATION:
      seconds = directory::PreservationResponseS(policy);
      break;
    case v1::COOPERATION_TYPE_JOINT_INVESTIGATION_TEAM:
      seconds = directory::JitResponseS(policy);
      break;
    default:
      seconds = 0;
  }
  return seconds * 1000;
}

absl::Status CheckRequestFields(const v1::CooperationRequest& request) {
  if (request.case_token().size() != kCaseTokenBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("case_token: ", kCaseTokenBytes, " bytes, not ",
                     request.case_token().size()));
  }
  RETURN_IF_ERROR(Required("requester_case_number",
                           request.requester_case_number(),
                           kMaxCaseNumberBytes));
  if (request.type() == v1::COOPERATION_TYPE_UNSPECIFIED ||
      !v1::CooperationType_IsValid(request.type())) {
    return absl::InvalidArgumentError("type must be a known cooperation type");
  }
  RETURN_IF_ERROR(
      Required("legal_basis", request.legal_basis(), kMaxLegalBasisBytes));
  const bool preservation =
      request.type() == v1::COOPERATION_TYPE_PRESERVATION;
  if (preservation != request.has_preservation()) {
    return absl::InvalidArgumentError(
        preservation ? "preservation is required for a PRESERVATION request"
                     : "preservation is only for a PRESERVATION request");
  }
  if (preservation) RETURN_IF_ERROR(CheckPreservation(request.preservation()));
  return CheckOneLineText("note", request.note(), kMaxNoteBytes);
}

absl::Status CheckResponseDue(const v1::CooperationRequest& request,
                              int64_t issued_at_ms, const v1::Policy& policy) {
  const int64_t period = ResponsePeriodMs(policy, request.type());
  if (period == 0) {
    if (request.response_due_ms() == 0) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "response_due_ms must be 0 for SPONTANEOUS_INFORMATION");
  }
  const int64_t expected = issued_at_ms + period;
  const int64_t skew = static_cast<int64_t>(policy.max_clock_skew_s()) * 1000;
  if (std::llabs(request.response_due_ms() - expected) > skew) {
    return absl::InvalidArgumentError(absl::StrCat(
        "response_due_ms ", request.response_due_ms(),
        " is not issued_at_ms + the policy's period (", expected,
        ") within the clock skew of ", skew, " ms"));
  }
  return absl::OkStatus();
}

absl::Status CheckResponseFields(const v1::CooperationResponse& response,
                                 v1::CooperationType type) {
  const v1::ResponseOutcome outcome = response.outcome();
  if (outcome == v1::RESPONSE_OUTCOME_UNSPECIFIED ||
      !v1::ResponseOutcome_IsValid(outcome)) {
    return absl::InvalidArgumentError("outcome must be a known outcome");
  }
  const bool refused = outcome == v1::RESPONSE_OUTCOME_REFUSED;
  const bool has_reason =
      response.reason() != v1::RESPONSE_REFUSAL_UNSPECIFIED;
  if (refused != has_reason || !v1::ResponseRefusal_IsValid(response.reason())) {
    return absl::InvalidArgumentError(
        refused ? "reason is required with outcome REFUSED"
                : "reason is only for outcome REFUSED");
  }
  const bool mla = outcome == v1::RESPONSE_OUTCOME_FORWARDED_TO_MLA;
  if (mla) {
    RETURN_IF_ERROR(Required("mla_reference", response.mla_reference(),
                             kMaxMlaReferenceBytes));
  } else if (!response.mla_reference().empty()) {
    return absl::InvalidArgumentError(
        "mla_reference is only for outcome FORWARDED_TO_MLA");
  }
  const bool preserved =
      type == v1::COOPERATION_TYPE_PRESERVATION &&
      (outcome == v1::RESPONSE_OUTCOME_DONE ||
       outcome == v1::RESPONSE_OUTCOME_PARTLY);
  if (!preserved && response.preserved_until_ms() != 0) {
    return absl::InvalidArgumentError(
        "preserved_until_ms is only for a PRESERVATION request answered DONE "
        "or PARTLY");
  }
  if (preserved && outcome == v1::RESPONSE_OUTCOME_DONE &&
      response.preserved_until_ms() <= 0) {
    return absl::InvalidArgumentError(
        "preserved_until_ms is required when a PRESERVATION request is DONE");
  }
  return CheckOneLineText("note", response.note(), kMaxNoteBytes);
}

uint32_t ReceiptCode(const v1::CooperationReceipt& receipt) {
  return static_cast<uint32_t>(receipt.status()) * 100 +
         static_cast<uint32_t>(receipt.reason());
}

uint32_t ResponseCode(const v1::CooperationResponse& response) {
  return static_cast<uint32_t>(response.outcome()) * 100 +
         static_cast<uint32_t>(response.reason());
}

absl::StatusCode RefusalStatusCode(v1::ReceiptRefusal reason) {
  switch (reason) {
    case v1::RECEIPT_REFUSAL_UNSPECIFIED:
      return absl::StatusCode::kOk;
    case v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN:
    case v1::RECEIPT_REFUSAL_UNKNOWN_REQUEST:
      return absl::StatusCode::kNotFound;
    case v1::RECEIPT_REFUSAL_CASE_WITHDRAWN:
      return absl::StatusCode::kFailedPrecondition;
    case v1::RECEIPT_REFUSAL_TYPE_NOT_ACCEPTED:
      return absl::StatusCode::kUnimplemented;
    case v1::RECEIPT_REFUSAL_OVER_QUOTA:
      return absl::StatusCode::kResourceExhausted;
    case v1::RECEIPT_REFUSAL_ALREADY_ANSWERED:
      return absl::StatusCode::kAlreadyExists;
    default:
      return absl::StatusCode::kInvalidArgument;
  }
}

std::string CooperationId(const Bytes& message_id) {
  return absl::BytesToHexString(message_id);
}

absl::StatusOr<Bytes> MessageIdOf(const std::string& id) {
  bool hex = id.size() == 32;
  for (char c : id) hex = hex && absl::ascii_isxdigit(static_cast<unsigned char>(c));
  if (!hex) {
    return absl::InvalidArgumentError(
        absl::StrCat("a cooperation request id is 32 hex digits, not \"",
                     absl::CHexEscape(id.substr(0, 64)), "\""));
  }
  return Bytes(absl::HexStringToBytes(absl::AsciiStrToLower(id)));
}

}  // namespace cbx::node
