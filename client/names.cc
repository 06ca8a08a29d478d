#include "client/names.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "core/identifiers/identifiers.h"

namespace cbx::client {
namespace {

constexpr std::array<std::pair<v1::PerpetratorRole, std::string_view>, 5>
    kRoles = {{{v1::PERPETRATOR_ROLE_CREATOR, "creator"},
               {v1::PERPETRATOR_ROLE_ADMINISTRATOR, "administrator"},
               {v1::PERPETRATOR_ROLE_POSTER, "poster"},
               {v1::PERPETRATOR_ROLE_RESHARER, "resharer"},
               {v1::PERPETRATOR_ROLE_REQUESTER, "requester"}}};

// Indexed by grpc::StatusCode / absl::StatusCode (they are the same numbers).
constexpr std::array<std::string_view, 17> kStatusCodes = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED"};

}  // namespace

std::string RoleName(v1::PerpetratorRole role) {
  if (role == v1::PERPETRATOR_ROLE_UNSPECIFIED) return "";
  for (const auto& [value, name] : kRoles) {
    if (value == role) return std::string(name);
  }
  return "role #" + std::to_string(static_cast<int>(role));
}

absl::StatusOr<v1::PerpetratorRole> ParseRoleName(std::string_view name) {
  for (const auto& [value, role_name] : kRoles) {
    if (role_name == name) return value;
  }
  return absl::InvalidArgumentError(
      "unknown perpetrator role \"" + std::string(name) +
      "\"; use one of creator, administrator, poster, resharer, requester");
}

std::string CaseStatusName(v1::CaseStatus status) {
  switch (status) {
    case v1::CASE_STATUS_UNSPECIFIED:
      return "unspecified";
    case v1::CASE_STATUS_OPEN:
      return "open";
    case v1::CASE_STATUS_CLOSED:
      return "closed";
    default:
      return "status #" + std::to_string(static_cast<int>(status));
  }
}

std::string MemberStatusName(v1::MemberStatus status) {
  switch (status) {
    case v1::MEMBER_STATUS_UNSPECIFIED:
      return "unspecified";
    case v1::MEMBER_STATUS_ACTIVE:
      return "active";
    case v1::MEMBER_STATUS_SUSPENDED:
      return "suspended";
    default:
      return "status #" + std::to_string(static_cast<int>(status));
  }
}

std::string PeerOutcomeName(v1::PeerOutcome outcome) {
  switch (outcome) {
    case v1::PEER_OUTCOME_UNSPECIFIED:
      return "UNSPECIFIED";
    case v1::PEER_OUTCOME_HIT:
      return "HIT";
    case v1::PEER_OUTCOME_MISS:
      return "MISS";
    case v1::PEER_OUTCOME_ERROR:
      return "ERROR";
    case v1::PEER_OUTCOME_PHANTOM:
      return "PHANTOM";
    default:
      return "OUTCOME #" + std::to_string(static_cast<int>(outcome));
  }
}

std::string IdentifierTypeName(v1::IdentifierType type) {
  std::string_view name = identifiers::TypeName(type);
  if (name.empty()) return "type #" + std::to_string(static_cast<int>(type));
  return std::string(name);
}

std::string StatusCodeName(int code) {
  if (code >= 0 && code < static_cast<int>(kStatusCodes.size())) {
    return std::string(kStatusCodes[code]);
  }
  return "CODE(" + std::to_string(code) + ")";
}

}  // namespace cbx::client
