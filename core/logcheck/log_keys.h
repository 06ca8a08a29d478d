// The keys that verify one member's audit log, taken from a directory
// (spec/audit-log.md §7, §8, §9.2): the log's origin and key name
// "cbx/<CC>/audit", its log keys (the member's node keys as Ed25519 note
// keys) and its witness keys (every other member's node keys as
// cosignature/v1 keys named "cbx/<WC>/witness").
//
// The witness (node/) and the auditor (client/audit/) both start here, so
// that they agree on which signature lines count. Pure functions; safe from
// any thread.
#ifndef CBX_CORE_LOGCHECK_LOG_KEYS_H_
#define CBX_CORE_LOGCHECK_LOG_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/directory/directory.h"
#include "core/note/verifier.h"

namespace cbx::logcheck {

// "cbx/<CC>/audit": the origin of `member`'s first log and its log key
// name.
std::string LogOrigin(std::string_view member);
// The origin of generation `generation` of `member`'s log
// (spec/audit-log.md §12): LogOrigin(member) for generation <= 1,
// "cbx/<CC>/audit/<n>" otherwise.
std::string LogOrigin(std::string_view member, uint32_t generation);
// The audit log generation `m` names: Member.audit_log.generation, or 1 if
// absent or 0 (core/logcheck/log_generation.h).
uint32_t GenerationOf(const v1::Member& m);
// "cbx/<CC>/witness": the cosigner key name of `member` as a witness.
std::string WitnessName(std::string_view member);
// "0a1b2c3d": a note key ID as verifier keys write it.
std::string KeyIdHex(uint32_t key_id);

// One witness key: whose it is, and the cosignature/v1 verifier.
struct WitnessKey {
  std::string member;
  note::Verifier verifier;
};

// The keys of one member's log under one directory version.
struct LogKeys {
  std::string member;       // "CC"
  std::string origin;       // "cbx/CC/audit", or "cbx/CC/audit/<n>"
  uint32_t generation = 1;  // of the log (log_generation.h)
  uint64_t directory_version = 0;
  size_t threshold = 0;          // the policy's witness_threshold
  int64_t max_clock_skew_s = 0;  // the policy's, for callers that warn
  // The member's node keys, named `origin`, type kEd25519.
  std::vector<note::Verifier> log_keys;
  // The node keys of every other member, active or suspended, named
  // WitnessName(member), type kCosignatureV1, in directory order.
  std::vector<WitnessKey> witness_keys;
  // The codes of every member of the directory, in directory order (to say
  // why a signature line is ignored).
  std::vector<std::string> members;
  // The other members: who may witness this log.
  size_t eligible_witnesses() const { return members.size() - 1; }
};

// The keys of `member`'s log in `dir`: of the generation `dir` names for it
// (its origin), or, if `generation` is not 0, of that generation (an
// auditor checking a predecessor log). INVALID_ARGUMENT "the log's member
// 'ZZ' is not in directory version V" if `member` is not a member of `dir`,
// or if a node key of the directory is not an Ed25519 key (a verified
// directory has none such).
absl::StatusOr<LogKeys> KeysOfLog(const directory::Directory& dir,
                                  std::string_view member,
                                  uint32_t generation = 0);
// The same over a directory's message (a version not yet verified, such as
// the one cbx-admin proposes).
absl::StatusOr<LogKeys> KeysOfLog(const v1::Directory& dir,
                                  std::string_view member,
                                  uint32_t generation = 0);

}  // namespace cbx::logcheck

#endif  // CBX_CORE_LOGCHECK_LOG_KEYS_H_
