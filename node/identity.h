// Who is calling: the client certificate of a mutual-TLS call mapped to a
// member (Peer port) or an office and role (Office port).
//
// gRPC 1.51 verifies only the certificate chain (against the union of all
// members' CAs on the Peer port); the mapping and the check that a member's
// certificate comes from that member's own CA are done here.
#ifndef CBX_NODE_IDENTITY_H_
#define CBX_NODE_IDENTITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory/directory.h"
#include "grpcpp/server_context.h"

namespace cbx::node {

inline constexpr char kMemberUriPrefix[] = "spiffe://cbx/member/";
inline constexpr char kOfficeUriPrefix[] = "spiffe://cbx/office/";

enum class OfficeRole { kProsecutor, kAuditor, kOperator };

struct OfficeCaller {
  std::string country;  // "MK"
  std::string office;   // "PPO-Skopje"
  OfficeRole role = OfficeRole::kProsecutor;
  // The acting person's opaque staff identifier ("p-0042") from a
  // per-person certificate (spec/cooperation.md §5); empty for a
  // role-only certificate. Written into AuditEntry.user of the call's
  // entries and Header.user of the envelopes sent on its behalf.
  std::string person = "";
  // "MK/PPO-Skopje", as carried in envelope headers and case records.
  std::string Name() const { return country + "/" + office; }
};

std::string_view RoleName(OfficeRole role);

// The member whose certificate made this call: its URI SAN
// spiffe://cbx/member/<CC> names a member of `directory`, and the
// certificate chains to one of that member's CAs. UNAUTHENTICATED otherwise,
// saying why.
absl::StatusOr<std::string> CallerMember(const grpc::ServerContextBase& context,
                                         const directory::Directory& directory);

// The office whose certificate made this call: URI SAN
// spiffe://cbx/office/<CC>/<office>/<role>[/person/<id>] with CC = `self`
// (spec/office-api.md §2). UNAUTHENTICATED otherwise (A1-A7), saying why:
// also for a URI SAN that starts like an office's but is malformed (a bad
// staff identifier, say) and for two URI SANs of the office form.
absl::StatusOr<OfficeCaller> CallerOffice(
    const grpc::ServerContextBase& context, const std::string& self);

// The office named by the first URI SAN of the office form among `uris`
// (a client certificate's), which must be of country `self`: the check
// behind CallerOffice, for callers that hold the certificate's summary
// (the web console). UNAUTHENTICATED otherwise, saying why.
absl::StatusOr<OfficeCaller> OfficeFromUris(
    const std::vector<std::string>& uris, const std::string& self);

// The PEM client certificate of the connection `auth` (the leaf).
// UNAUTHENTICATED "no client certificate was presented" if there is none.
// Used by the per-call revocation check (node/tls_credentials.h).
absl::StatusOr<std::string> CallerCertificatePem(const grpc::AuthContext& auth);
// The PEM client certificate of the call: from gRPC's TLS, or else, for a
// connection a port's TLS front handed to gRPC (node/tls_front.h),
// the certificate of the front's handshake. UNAUTHENTICATED "no client
// certificate was presented" if neither.
absl::StatusOr<std::string> CallerCertificatePem(
    const grpc::ServerContextBase& context);

// The check behind CallerMember for one PEM certificate, uncached.
absl::StatusOr<std::string> VerifyCallerMember(
    const std::string& pem, const directory::Directory& directory);

// Parses an office URI, with or without the person part; INVALID_ARGUMENT
// if it is not of that form, saying which part is wrong.
absl::StatusOr<OfficeCaller> ParseOfficeUri(const std::string& uri);

// The transition to per-person certificates (spec/cooperation.md §5): OK
// if `caller` names a person, or if `required_from_ms` (the policy's
// person_certificates_required_from_ms) is 0 or after `now_ms`;
// UNAUTHENTICATED (A7) otherwise, naming the date. Pure.
absl::Status CheckPersonRequired(const OfficeCaller& caller,
                                 uint64_t required_from_ms, int64_t now_ms);

}  // namespace cbx::node

#endif  // CBX_NODE_IDENTITY_H_
