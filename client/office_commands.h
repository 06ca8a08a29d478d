// `cbx whoami` and `cbx counts` (spec/office-api.md §6.4,
// spec/cooperation.md §5-§6): who the office certificate says is acting —
// office, role and person, read from the certificate alone, nothing sent —
// and the operator's counts per office (Office.GetCounts).
//
// Threading: like the rest of the CLI, one thread.
#ifndef CBX_CLIENT_OFFICE_COMMANDS_H_
#define CBX_CLIENT_OFFICE_COMMANDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "cbx/v1/office.pb.h"
#include "client/commands.h"

namespace cbx::client {

// What an office URI SAN says: spiffe://cbx/office/<CC>/<office>/<role>
// [/person/<id>].
struct OfficeIdentity {
  std::string country;  // "MK"
  std::string office;   // "PPO-Skopje"
  std::string role;     // "prosecutor", "auditor", "operator"
  std::string person;   // "" for a role-only certificate
};

// Parses the office URI `uri`; INVALID_ARGUMENT saying what is wrong. The
// node's own check is node/identity.h's ParseOfficeUri: this one only
// describes a certificate to its holder.
absl::StatusOr<OfficeIdentity> ParseOfficeIdentity(const std::string& uri);

// `cbx whoami`'s output for the certificate's URI SANs `uris`: the office,
// role and person, as text or (json) one JSON object. INVALID_ARGUMENT if
// no URI is an office's.
absl::StatusOr<std::string> WhoAmI(const std::vector<std::string>& uris,
                                   bool json);

// The text and JSON forms of GetCounts' answer (for tests).
std::string CountsText(const v1::GetCountsResponse& response);
std::string CountsJson(const v1::GetCountsResponse& response);

// Office.GetCounts (operator role): prints the counts; kExitOk, or having
// printed the error kExitFailed.
int GetCounts(CommandContext& ctx, const v1::GetCountsRequest& request);

}  // namespace cbx::client

#endif  // CBX_CLIENT_OFFICE_COMMANDS_H_
