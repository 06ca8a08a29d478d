#include "node/oprf_rotation.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/identifiers/identifiers.h"
#include "core/util/status_macros.h"
#include "node/log.h"

namespace cbx::node {
namespace {

using Key = OprfKeys::Key;

// The previous key's record: "<epoch>:<grace end ms>:<public key hex>", or
// "" when there is none.
struct Previous {
  uint32_t epoch = 0;
  int64_t grace_end_ms = 0;
  std::string public_key_hex;
};

std::optional<Previous> ParsePrevious(const std::optional<Bytes>& text) {
  if (!text.has_value() || text->empty()) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(*text, ':');
  Previous p;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &p.epoch) ||
      !absl::SimpleAtoi(parts[1], &p.grace_end_ms)) {
    return std::nullopt;
  }
  p.public_key_hex = parts[2];
  return p;
}

std::optional<uint32_t> ParseEpoch(const std::optional<Bytes>& text) {
  uint32_t epoch = 0;
  if (!text.has_value() || !absl::SimpleAtoi(*text, &epoch)) {
    return std::nullopt;
  }
  return epoch;
}

}  // namespace

OprfRotation::OprfRotation(NodeContext* context, Executor* executor,
                           Options options)
    : ctx_(context), executor_(executor), options_(options) {}

const v1::Member* OprfRotation::Me(const directory::Directory& dir) const {
  return dir.FindMember(ctx_->self());
}

uint64_t OprfRotation::staged() const {
  std::lock_guard<std::mutex> lock(mu_);
  return staged_;
}

// Roles, in order: the key the directory lists is the one to serve once
// the stored outputs are under it; the key the stored outputs are under is
// current until then; a third key is next (staged ahead), unless it is the
// previous one still in its grace window (or past it: dropped, and the
// operator told to delete its file).
// Over 80 lines on purpose: the decision table between the configured
// keys, the directory's key and the key the stored outputs are under
// (spec/oprf.md §2.1), one branch per row.
absl::Status OprfRotation::Start(
    std::unique_ptr<crypto::OprfServerKey> key,
    std::unique_ptr<crypto::OprfServerKey> next_key) {
  std::lock_guard<std::mutex> lock(mu_);
  Storage& storage = *ctx_->storage;
  const v1::Member* me = Me(*ctx_->directory->Current());
  if (me == nullptr) {
    return absl::FailedPreconditionError("member: " + ctx_->self() +
                                         " is not in the directory");
  }
  const Bytes& dir_pk = me->oprf_key().public_key();
  const uint32_t dir_epoch = me->oprf_key().epoch();
  Key a(std::move(key)), b(std::move(next_key));
  Key listed = a != nullptr && a->public_key() == dir_pk   ? a
               : b != nullptr && b->public_key() == dir_pk ? b
                                                           : nullptr;
  if (listed == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        b == nullptr ? "keys.oprf_key: this key's public part differs"
                     : "keys.oprf_key, keys.oprf_key_next: neither key's "
                       "public part is",
        b == nullptr ? " from " : " ", ctx_->self(),
        "'s OPRF key in the directory (epoch ", dir_epoch, ")"));
  }
  Key other = listed == a ? b : a;
  ASSIGN_OR_RETURN(std::optional<Bytes> stored_pk,
                   storage.GetSetting(kOprfPublicKeySetting));
  ASSIGN_OR_RETURN(std::optional<Bytes> stored_epoch_text,
                   storage.GetSetting(kOprfEpochSetting));
  std::optional<uint32_t> stored_epoch = ParseEpoch(stored_epoch_text);
  if (!stored_pk.has_value() || !stored_epoch.has_value() ||
      *stored_pk == dir_pk) {
    // A database from before rotation (its outputs are under the key the
    // start-up check required), or outputs under the listed key.
    RETURN_IF_ERROR(storage.PutSetting(kOprfPublicKeySetting, dir_pk));
    RETURN_IF_ERROR(
        storage.PutSetting(kOprfEpochSetting, std::to_string(dir_epoch)));
    ctx_->oprf_keys = std::make_unique<OprfKeys>(listed, dir_epoch);
    if (other == nullptr) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::optional<Bytes> prev_text,
                     storage.GetSetting(kOprfPreviousSetting));
    ASSIGN_OR_RETURN(std::optional<Bytes> retired,
                     storage.GetSetting(kOprfRetiredKeySetting));
    std::optional<Previous> prev = ParsePrevious(prev_text);
    if (prev.has_value() &&
        HexEncode(other->public_key()) == prev->public_key_hex) {
      // Still in its grace window (Step retires it when that ends).
      ctx_->oprf_keys->SetPrevious(other, prev->epoch, prev->grace_end_ms);
    } else if (retired.has_value() && *retired == other->public_key()) {
      LogEvent(ctx_->self(), "warn", "oprf-key-retired",
               {{"action",
                 "a configured OPRF key was retired by a rotation and is not "
                 "used: delete its file and remove it from the config"}});
    } else {
      ctx_->oprf_keys->SetNext(other);
      RETURN_IF_ERROR(BeginStaging());
    }
    return absl::OkStatus();
  }
  // The directory moved to a new key while the stored outputs are under an
  // older one: the switch is due.
  Key outputs_key = a != nullptr && a->public_key() == *stored_pk   ? a
                    : b != nullptr && b->public_key() == *stored_pk ? b
                                                                    : nullptr;
  if (outputs_key == nullptr) {
    // The old key is gone (say, after a leak): recompute before serving.
    ctx_->oprf_keys = std::make_unique<OprfKeys>(listed, *stored_epoch);
    ctx_->oprf_keys->SetNext(listed);
    RETURN_IF_ERROR(BeginStaging());
    while (true) {
      ASSIGN_OR_RETURN(bool more, StepLocked());
      if (!more) break;
    }
    // The "previous" key of that switch is the new key itself: nothing to
    // keep for a grace window.
    RETURN_IF_ERROR(storage.DropPreviousOutputs({{kOprfPreviousSetting, ""}}));
    ctx_->oprf_keys->RetirePrevious();
    return absl::OkStatus();
  }
  ctx_->oprf_keys = std::make_unique<OprfKeys>(outputs_key, *stored_epoch);
  ctx_->oprf_keys->SetNext(listed);
  return BeginStaging();
}

absl::Status OprfRotation::BeginStaging() {
  Storage& storage = *ctx_->storage;
  const Bytes& next_pk = ctx_->oprf_keys->next()->public_key();
  ASSIGN_OR_RETURN(std::optional<Bytes> staging,
                   storage.GetSetting(kOprfStagingKeySetting));
  if (staging.has_value() && *staging == next_pk) {
    ASSIGN_OR_RETURN(std::optional<Bytes> cursor,
                     storage.GetSetting(kOprfCursorSetting));
    cursor_ = cursor.value_or("");
    pass_done_ = cursor_ == "done";
    ASSIGN_OR_RETURN(staged_, storage.CountStagedOutputs());
    LogEvent(ctx_->self(), "info", "oprf-rotation-started",
             {{"resumed", "yes"}, {"staged", std::to_string(staged_)}});
    return absl::OkStatus();
  }
  // A new next key: whatever was staged was for another.
  RETURN_IF_ERROR(storage.ClearStagedOutputs());
  RETURN_IF_ERROR(storage.StageOutputs(
      {}, {{kOprfStagingKeySetting, next_pk}, {kOprfCursorSetting, ""}}));
  cursor_.clear();
  pass_done_ = false;
  staged_ = 0;
  LogEvent(ctx_->self(), "info", "oprf-rotation-started",
           {{"resumed", "no"}, {"next_public_key", HexEncode(next_pk)}});
  return absl::OkStatus();
}

void OprfRotation::OnDirectory(const directory::Directory& before,
                               const directory::Directory& after) {
  const v1::Member* old_me = Me(before);
  const v1::Member* me = Me(after);
  if (me == nullptr || (old_me != nullptr &&
                        old_me->oprf_key().epoch() == me->oprf_key().epoch())) {
    return;
  }
  if (executor_ != nullptr) executor_->Post([this] { Tick(); });
}

void OprfRotation::Tick() {
  const int64_t start = ctx_->clock->NowMs();
  while (true) {
    absl::StatusOr<bool> more = Step();
    if (!more.ok()) {
      LogEvent(ctx_->self(), "error", "oprf-rotation-failed",
               {{"reason", more.status().ToString()}});
      return;
    }
    if (!*more || ctx_->clock->NowMs() - start >= options_.tick_budget_ms) {
      return;
    }
  }
}

absl::StatusOr<bool> OprfRotation::Step() {
  std::lock_guard<std::mutex> lock(mu_);
  return StepLocked();
}

absl::StatusOr<bool> OprfRotation::StepLocked() {
  OprfKeys& keys = *ctx_->oprf_keys;
  if (keys.previous_epoch().has_value() &&
      ctx_->clock->NowMs() >= keys.grace_end_ms()) {
    RETURN_IF_ERROR(Retire());
  }
  const Key next = keys.next();
  const v1::Member* me = Me(*ctx_->directory->Current());
  const bool due = me != nullptr && me->oprf_key().epoch() != keys.epoch();
  if (due &&
      (next == nullptr || me->oprf_key().public_key() != next->public_key())) {
    // The directory lists a key this node does not hold: the new epoch
    // stays UNAVAILABLE until the operator configures it.
    if (!missing_alerted_) {
      missing_alerted_ = true;
      LogEvent(ctx_->self(), "error", "ALERT-oprf-key-missing",
               {{"epoch", std::to_string(me->oprf_key().epoch())},
                {"action",
                 "the directory lists an OPRF key this node does not hold: "
                 "set keys.oprf_key_next to it and restart"}});
    }
    return false;
  }
  if (next == nullptr) return false;
  if (!pass_done_) return StageBatch();
  if (!due) return false;
  return FinishAndSwitch(me->oprf_key().epoch());
}

absl::StatusOr<bool> OprfRotation::StageBatch() {
  Storage& storage = *ctx_->storage;
  const Key next = ctx_->oprf_keys->next();
  ASSIGN_OR_RETURN(Page<IdentifierKey> page,
                   storage.ListUnstagedIdentifiers({cursor_, options_.batch}));
  std::vector<StagedOutput> outputs;
  outputs.reserve(page.items.size());
  for (IdentifierKey& id : page.items) {
    StagedOutput& o = outputs.emplace_back();
    ASSIGN_OR_RETURN(o.y, next->Evaluate(identifiers::OprfInput(
                              id.type, id.normalized_value)));
    o.tag = identifiers::TagOf(o.y);
    o.key = std::move(id);
  }
  const std::string cursor = page.next.empty() ? "done" : page.next;
  RETURN_IF_ERROR(
      storage.StageOutputs(outputs, {{kOprfCursorSetting, cursor}}));
  staged_ += outputs.size();
  cursor_ = page.next;
  pass_done_ = page.next.empty();
  if (++batches_ % 100 == 0 || pass_done_) {
    LogEvent(ctx_->self(), "info", "oprf-rotation-progress",
             {{"staged", std::to_string(staged_)},
              {"pass", pass_done_ ? "done" : "running"}});
  }
  return true;
}

absl::StatusOr<bool> OprfRotation::FinishAndSwitch(uint32_t epoch) {
  Storage& storage = *ctx_->storage;
  OprfKeys& keys = *ctx_->oprf_keys;
  // No look for identifiers added since the pass passed them here (that
  // would walk every identifier while holding the storage): the switch
  // itself refuses (ABORTED) if one has no staged output, and then the pass
  // runs again, in batches, to stage what is missing.
  const Key current = keys.current();
  const uint32_t old_epoch = keys.epoch();
  const int64_t grace_end = ctx_->clock->NowMs() + options_.grace_window_ms;
  const Bytes next_pk = keys.next()->public_key();
  absl::Status switched = keys.Switch(epoch, grace_end, [&] {
    return storage.PromoteStagedOutputs(
        {{kOprfEpochSetting, std::to_string(epoch)},
         {kOprfPublicKeySetting, next_pk},
         {kOprfPreviousSetting, absl::StrCat(old_epoch, ":", grace_end, ":",
                                             HexEncode(current->public_key()))},
         {kOprfStagingKeySetting, ""},
         {kOprfCursorSetting, ""}});
  });
  if (switched.code() == absl::StatusCode::kAborted) {
    // A case changed after the pass passed it: walk again.
    cursor_.clear();
    pass_done_ = false;
    return true;
  }
  RETURN_IF_ERROR(switched);
  ASSIGN_OR_RETURN(uint64_t version, storage.OwnIndexVersion());
  LogEvent(ctx_->self(), "info", "oprf-rotation-complete",
           {{"epoch", std::to_string(epoch)},
            {"previous_epoch", std::to_string(old_epoch)},
            {"index_version", std::to_string(version)},
            {"grace_until_ms", std::to_string(grace_end)}});
  cursor_.clear();
  pass_done_ = false;
  return false;
}

absl::Status OprfRotation::Retire() {
  OprfKeys& keys = *ctx_->oprf_keys;
  const uint32_t epoch = keys.previous_epoch().value_or(0);
  const Key previous = keys.previous();
  const Bytes retired_pk = previous != nullptr ? previous->public_key() : "";
  RETURN_IF_ERROR(ctx_->storage->DropPreviousOutputs(
      {{kOprfPreviousSetting, ""}, {kOprfRetiredKeySetting, retired_pk}}));
  keys.RetirePrevious();
  LogEvent(ctx_->self(), "warn", "oprf-key-retired",
           {{"epoch", std::to_string(epoch)},
            {"action",
             "the previous OPRF key is no longer used and was cleared from "
             "memory: delete its key file and leave only the current key "
             "in the config"}});
  return absl::OkStatus();
}

}  // namespace cbx::node
