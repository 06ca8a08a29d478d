// `cbx-admin directory propose`: the next directory version made from the
// current one and a change file (JSON, documented in admin/README.md,
// "Proposing an update"), and a readable diff between two versions for the
// governance key holders to read before they sign.
//
// Stateless functions; thread-safe.
#ifndef CBX_ADMIN_DIRECTORY_CHANGE_H_
#define CBX_ADMIN_DIRECTORY_CHANGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "admin/federation_spec.h"
#include "cbx/v1/directory.pb.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {

// Applies `changes` ({"issued_at_ms"?, "changes": [...]}) to `current`: the
// result is version current+1 (issued at context.now_ms unless the file
// says), each change applied in order. INVALID_ARGUMENT naming the change
// ("changes[2].suspend: no member XK") for an unknown operation or field, a
// member that does not exist (or already does, for add_member), a status
// that is already so, a CA fingerprint not listed, or a result that breaks
// a structural rule or a successor rule (CheckSuccessor).
absl::StatusOr<v1::Directory> ApplyChanges(const v1::Directory& current,
                                           const nlohmann::json& changes,
                                           const SpecContext& context);

// One line per difference between `before` and `after` ("+ member XK
// (Kosovo) at cbx.xk:443, active", "~ AL status: active -> suspended",
// "~ policy.max_message_lifetime_s: 300 -> 600", ...), in a stable order:
// header, policy, then members in `after`'s order and removed ones.
std::vector<std::string> DescribeDiff(const v1::Directory& before,
                                      const v1::Directory& after);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_DIRECTORY_CHANGE_H_
