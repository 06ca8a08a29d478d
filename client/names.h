// The command-line and display names of the Office API's enums: perpetrator
// roles, case and member status, peer outcomes, identifier types and gRPC
// status codes. Offence codes are in offence_labels.h.
#ifndef CBX_CLIENT_NAMES_H_
#define CBX_CLIENT_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/cases.pb.h"
#include "cbx/v1/directory.pb.h"
#include "cbx/v1/identifiers.pb.h"
#include "cbx/v1/office.pb.h"

namespace cbx::client {

// "creator", "administrator", "poster", "resharer", "requester"; empty for
// PERPETRATOR_ROLE_UNSPECIFIED, "role #N" for values this CLI does not know.
std::string RoleName(v1::PerpetratorRole role);
// Inverse of RoleName for the five roles; INVALID_ARGUMENT listing them.
absl::StatusOr<v1::PerpetratorRole> ParseRoleName(std::string_view name);

// "open", "closed"; "unspecified" / "status #N" otherwise.
std::string CaseStatusName(v1::CaseStatus status);
// "active", "suspended"; "unspecified" / "status #N" otherwise.
std::string MemberStatusName(v1::MemberStatus status);
// "HIT", "MISS", "ERROR"; "UNSPECIFIED" / "OUTCOME #N" otherwise.
std::string PeerOutcomeName(v1::PeerOutcome outcome);
// The identifier type's name as in spec/identifiers.md ("phone"); "type #N"
// for values this CLI does not know.
std::string IdentifierTypeName(v1::IdentifierType type);

// The canonical name of a gRPC status code ("UNAVAILABLE"); "CODE(N)" for a
// number outside the 17 codes.
std::string StatusCodeName(int code);

}  // namespace cbx::client

#endif  // CBX_CLIENT_NAMES_H_
