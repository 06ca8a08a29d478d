// The federation spec: a JSON file an operator writes by hand, from which
// `cbx-admin directory build` makes an unsigned directory. The format is
// documented in admin/README.md; every error names the JSON field path and
// the problem, e.g. "members[2].endpoint: missing".
//
// Stateless functions; thread-safe.
#ifndef CBX_ADMIN_FEDERATION_SPEC_H_
#define CBX_ADMIN_FEDERATION_SPEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "admin/key_file.h"
#include "cbx/v1/directory.pb.h"
#include "core/util/bytes.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {

// Defaults for policy fields the spec leaves out.
inline constexpr uint32_t kDefaultMaxMessageLifetimeS = 300;
inline constexpr uint32_t kDefaultMaxClockSkewS = 60;
inline constexpr uint32_t kDefaultEvaluationsPerPeerPerDay = 10000;
inline constexpr uint32_t kDefaultPeerDeadlineMs = 3000;
inline constexpr uint32_t kDefaultWitnessThreshold = 2;
inline constexpr uint32_t kDefaultOprfEpoch = 1;

// The default governance threshold for n members: a strict majority,
// floor(n/2) + 1 (8 -> 5, 3 -> 2, 1 -> 1). With k > n/2 two different
// versions v+1 can only both gather k signatures if some member signed both,
// which that member's own signatures then prove.
uint32_t DefaultGovernanceThreshold(size_t members);

struct SpecContext {
  // Folder against which relative file paths in the spec are resolved
  // (the spec file's own folder).
  std::string base_dir = ".";
  // issued_at_ms when the spec does not set it.
  int64_t now_ms = 0;
  // version when the spec does not set it (the previous version + 1 when
  // building an update against it).
  uint64_t default_version = 1;
};

// The directory the parsed spec describes. INVALID_ARGUMENT with
// "<field path>: <problem>" for the first problem found; a file the spec
// names that cannot be read is reported under the field that names it.
absl::StatusOr<v1::Directory> DirectoryFromSpec(const nlohmann::json& spec,
                                                const SpecContext& context);

// Parses `text` as JSON first; a syntax error is reported with its byte
// offset.
absl::StatusOr<v1::Directory> DirectoryFromSpecText(std::string_view text,
                                                    const SpecContext& context);

// Reads the spec file at `path`; relative paths in it are resolved against
// its folder (context.base_dir is ignored). Errors are prefixed with `path`.
absl::StatusOr<v1::Directory> DirectoryFromSpecFile(const std::string& path,
                                                    SpecContext context);

// Pieces of the spec, for `directory propose`'s change file (admin/
// directory_change.h): the same fields and errors as in a whole spec.
//
// One member object as in "members" (every field checked).
absl::StatusOr<v1::Member> MemberFromSpec(const nlohmann::json& m,
                                          const std::string& path,
                                          const SpecContext& context);
// The node key fields of a member object (node_keys, or node_signing_key[
// _public] with its window), appended to `member`.
absl::Status NodeKeysFromSpec(const nlohmann::json& m, const std::string& path,
                              const SpecContext& context, v1::Member& member);
// The ca_certificate / ca_certificates fields, appended to `member`.
absl::Status CaCertificatesFromSpec(const nlohmann::json& m,
                                    const std::string& path,
                                    const SpecContext& context,
                                    v1::Member& member);
// A list of standby endpoints (spec/directory.md §3 rule 6.9: at most 3,
// each host:port, none twice, none the member's `endpoint`) replacing
// `member`'s; INVALID_ARGUMENT naming `path` and the entry otherwise.
absl::Status StandbyEndpointsFromSpec(const nlohmann::json& list,
                                      const std::string& path,
                                      v1::Member& member);
// A public key given as hex in `hex_field` or as the key file named in
// `file_field` (exactly one of them) of `object`.
absl::StatusOr<Bytes> PublicKeyFromSpec(const nlohmann::json& object,
                                        const std::string& path,
                                        std::string_view hex_field,
                                        std::string_view file_field,
                                        KeyKind kind, size_t public_size,
                                        const SpecContext& context);
// A "policy" object (nullptr: every default) for `members` members.
absl::Status PolicyFromSpec(const nlohmann::json* policy, size_t members,
                            v1::Policy& out);
// The rule that no governance, node or OPRF key is listed twice.
absl::Status CheckDistinctMemberKeys(const v1::Directory& d);

// Splits PEM text into its CERTIFICATE blocks, each ending in a newline.
// INVALID_ARGUMENT if there is none, if a block is not a certificate that
// parses, or if the text holds a private key.
absl::StatusOr<std::vector<std::string>> SplitPemCertificates(
    std::string_view pem);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_FEDERATION_SPEC_H_
