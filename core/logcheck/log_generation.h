// A member's audit log generations (spec/audit-log.md §12, "Disaster
// recovery"): when a member loses its audit log, a governance-signed
// directory update names a new generation n >= 2 of its log, with a new
// origin "cbx/<CC>/audit/<n>", and the predecessor: the old log's origin and
// its last witnessed checkpoint. Generation 1 is the first log, origin
// "cbx/<CC>/audit" (and an absent Member.audit_log).
//
// The witness (node/witnessing), the node's recovery (node/), the auditor
// (client/audit/) and cbx-admin all use these rules. Pure functions; safe
// from any thread.
#ifndef CBX_CORE_LOGCHECK_LOG_GENERATION_H_
#define CBX_CORE_LOGCHECK_LOG_GENERATION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cbx/v1/directory.pb.h"
#include "core/directory/directory.h"
#include "core/logcheck/checkpoint_verifier.h"

namespace cbx::logcheck {

// GenerationOf and LogOrigin(member, generation) are in log_keys.h.

// The predecessor of a generation n >= 2 as a directory names it.
struct Predecessor {
  std::string origin;  // the old log's origin
  uint64_t size = 0;   // its last witnessed checkpoint
  Bytes root_hash;
  std::string checkpoint_note;  // that checkpoint with its cosignatures
};

// The predecessor `m` names, checked for form: INVALID_ARGUMENT if the
// generation is >= 2 and the predecessor origin is not
// LogOrigin(code, generation - 1), the root is not 32 bytes, or the note
// does not parse as a checkpoint of that origin, size and root. NOT_FOUND
// for generation 1 (there is none).
absl::StatusOr<Predecessor> PredecessorOf(const v1::Member& m);

// The rule every verifier of a directory update applies to each member
// present in both `previous` and `next` (spec/directory.md §5.2): the
// generation never goes down and goes up by at most one; when it goes up,
// PredecessorOf(next) is well-formed and its checkpoint note verifies as a
// WITNESSED checkpoint of the old origin under `previous`'s keys (so that a
// thief of the node key alone cannot restart a log). A new member may start
// at any generation only with a well-formed predecessor. INVALID_ARGUMENT
// naming the member otherwise; also when it goes from n to n without the
// same predecessor fields (the record of a generation never changes).
absl::Status CheckGenerationSuccessor(const v1::Directory& previous,
                                      const v1::Directory& next);

// The first member of `next` that breaks CheckGenerationSuccessor, with the
// error it returns; `member` is empty (and `why` OK) if none does. A node
// names that member in its alert (spec/directory.md §5.3).
struct GenerationBreak {
  std::string member;
  absl::Status why;
};
GenerationBreak FindGenerationBreak(const v1::Directory& previous,
                                    const v1::Directory& next);

// One line for reports and logs: "XK's audit log cbx/XK/audit ends at its
// witnessed checkpoint 120 (root 3f2a…); generation 2 (cbx/XK/audit/2)
// starts from empty; entries after 120 are lost".
std::string DescribeRecovery(std::string_view member, uint32_t generation,
                             const Predecessor& predecessor);

}  // namespace cbx::logcheck

#endif  // CBX_CORE_LOGCHECK_LOG_GENERATION_H_
