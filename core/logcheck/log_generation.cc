#include "core/logcheck/log_generation.h"

#include "absl/strings/str_cat.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"

namespace cbx::logcheck {

absl::StatusOr<Predecessor> PredecessorOf(const v1::Member& m) {
  const uint32_t generation = GenerationOf(m);
  if (generation < 2) {
    return absl::NotFoundError(absl::StrCat(
        m.code(), "'s audit log is its first (generation 1): no predecessor"));
  }
  const v1::AuditLogGeneration& g = m.audit_log();
  const std::string want = LogOrigin(m.code(), generation - 1);
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "member ", m.code(), ": audit log generation ", generation, ": ", why));
  };
  if (g.predecessor_origin() != want) {
    return bad(absl::StrCat("predecessor_origin must be \"", want, "\", not \"",
                            g.predecessor_origin(), "\""));
  }
  if (g.predecessor_root_hash().size() != 32) {
    return bad("predecessor_root_hash must be 32 bytes");
  }
  auto note = note::ParseNote(g.predecessor_checkpoint());
  if (!note.ok()) {
    return bad(absl::StrCat("predecessor_checkpoint is not a signed note: ",
                            note.status().message()));
  }
  auto cp = note::ParseCheckpoint(note->text);
  if (!cp.ok()) {
    return bad(absl::StrCat("predecessor_checkpoint is not a checkpoint: ",
                            cp.status().message()));
  }
  if (cp->origin != want || cp->size != g.predecessor_size() ||
      cp->root_hash != g.predecessor_root_hash()) {
    return bad(absl::StrCat(
        "predecessor_checkpoint (", cp->origin, ", size ", cp->size,
        ") is not the checkpoint predecessor_origin, predecessor_size and "
        "predecessor_root_hash name (",
        want, ", size ", g.predecessor_size(), ")"));
  }
  Predecessor p;
  p.origin = want;
  p.size = g.predecessor_size();
  p.root_hash = g.predecessor_root_hash();
  p.checkpoint_note = g.predecessor_checkpoint();
  return p;
}

namespace {

// The rule for one member `now` of `next` that was `before` in `previous`.
absl::Status CheckMemberGeneration(const v1::Directory& previous,
                                   const v1::Member& before,
                                   const v1::Member& now) {
  const uint32_t was = GenerationOf(before);
  const uint32_t is = GenerationOf(now);
  if (is < was) {
    return absl::InvalidArgumentError(
        absl::StrCat("member ", now.code(), ": audit log generation ", is,
                     " is lower than version ", previous.version(), "'s ", was,
                     " (a generation never goes back)"));
  }
  if (is == was) {
    if (is > 1 && before.audit_log().SerializeAsString() !=
                      now.audit_log().SerializeAsString()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "member ", now.code(), ": the record of audit log generation ", is,
          " changed (it never does; a new log is generation ", is + 1, ")"));
    }
    return absl::OkStatus();
  }
  if (is != was + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("member ", now.code(), ": audit log generation ", is,
                     " skips generations (version ", previous.version(),
                     " has ", was, "; the next is ", was + 1, ")"));
  }
  ASSIGN_OR_RETURN(Predecessor p, PredecessorOf(now));
  // Witnessed under the version that knew the old log: a checkpoint only
  // the member's node key signed is no evidence that anyone saw it.
  ASSIGN_OR_RETURN(LogKeys keys, KeysOfLog(previous, now.code()));
  absl::StatusOr<VerifiedCheckpoint> verified =
      VerifyCheckpoint(keys, p.checkpoint_note);
  if (!verified.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("member ", now.code(),
                     ": the predecessor checkpoint does not verify "
                     "under version ",
                     previous.version(), ": ", verified.status().message()));
  }
  absl::Status witnessed = RequireWitnessed(*verified);
  if (!witnessed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("member ", now.code(),
                     ": the predecessor checkpoint must be witnessed: ",
                     witnessed.message()));
  }
  return absl::OkStatus();
}

}  // namespace

GenerationBreak FindGenerationBreak(const v1::Directory& previous,
                                    const v1::Directory& next) {
  for (const v1::Member& now : next.members()) {
    const v1::Member* before = nullptr;
    for (const v1::Member& m : previous.members()) {
      if (m.code() == now.code()) before = &m;
    }
    absl::Status why = absl::OkStatus();
    if (before == nullptr) {
      if (GenerationOf(now) > 1) why = PredecessorOf(now).status();
    } else {
      why = CheckMemberGeneration(previous, *before, now);
    }
    if (!why.ok()) return {now.code(), why};
  }
  return {"", absl::OkStatus()};
}

absl::Status CheckGenerationSuccessor(const v1::Directory& previous,
                                      const v1::Directory& next) {
  return FindGenerationBreak(previous, next).why;
}

std::string DescribeRecovery(std::string_view member, uint32_t generation,
                             const Predecessor& predecessor) {
  std::string root = HexEncode(predecessor.root_hash);
  if (root.size() > 16) root = root.substr(0, 16) + "...";
  return absl::StrCat(std::string(member), "'s audit log ", predecessor.origin,
                      " ends at its witnessed checkpoint ", predecessor.size,
                      " (root ", root, "); generation ", generation, " (",
                      LogOrigin(member, generation),
                      ") starts from empty; entries the old log held after ",
                      predecessor.size, " are lost");
}

}  // namespace cbx::logcheck
