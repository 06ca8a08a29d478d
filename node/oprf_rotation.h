// OPRF key rotation (spec/oprf.md §2, spec/lookup.md §1): this node's side.
//
// With a next key configured (keys.oprf_key_next), the output y and tag of
// every identifier value under it are computed in the background, a batch
// at a time, into staged storage (Storage::StageOutputs), with the progress
// cursor committed with each batch, so that a node stopped half way resumes
// where it was. When the adopted directory lists the next key as this
// member's (its new epoch), one short storage transaction makes the staged
// outputs current (Storage::PromoteStagedOutputs: it flips the key
// generation, writing O(1) rows) while OprfKeys::Switch holds case changes
// off; if an identifier added meanwhile has no staged output the switch is
// refused and the pass runs again, in batches, first. The own index
// restarts for the new epoch. The previous key then
// answers requests naming the previous epoch until the grace window ends
// (kOprfGraceWindowMs), after which it is dropped (its scalar cleared) and
// the previous outputs deleted.
//
// Events: oprf-rotation-started, oprf-rotation-progress,
// oprf-rotation-complete, oprf-key-retired (and ALERT-oprf-key-missing when
// the directory lists a key this node does not hold).
//
// Threading: Tick and Step run on one thread at a time (an internal mutex);
// OnDirectory may be called from any thread and only posts a Tick. Queries
// never wait for the rotation: they read OprfKeys.
#ifndef CBX_NODE_OPRF_ROTATION_H_
#define CBX_NODE_OPRF_ROTATION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/directory/directory.h"
#include "node/executor.h"
#include "node/node_context.h"
#include "node/oprf_keys.h"

namespace cbx::node {

// How long after the switch a request naming the previous epoch is still
// answered (spec/oprf.md §2.3): ten minutes, a policy's longest message
// lifetime (a request sealed before the switch may arrive that late) plus
// the time a peer needs to pull the new directory at any sane
// sync.directory_interval_ms.
inline constexpr int64_t kOprfGraceWindowMs = 10 * 60'000;
// Identifier values staged per storage transaction.
inline constexpr size_t kOprfStageBatch = 1000;

// The settings (Storage::GetSetting) the rotation keeps.
inline constexpr char kOprfEpochSetting[] = "oprf/epoch";
inline constexpr char kOprfPublicKeySetting[] = "oprf/public_key";
inline constexpr char kOprfStagingKeySetting[] = "oprf/staging_public_key";
inline constexpr char kOprfCursorSetting[] = "oprf/staging_cursor";
inline constexpr char kOprfPreviousSetting[] = "oprf/previous";
inline constexpr char kOprfRetiredKeySetting[] = "oprf/retired_public_key";

class OprfRotation {
 public:
  struct Options {
    int64_t grace_window_ms = kOprfGraceWindowMs;
    size_t batch = kOprfStageBatch;
    // Work one Tick does at most before it returns (the executor's other
    // items run between ticks).
    int64_t tick_budget_ms = 500;
  };
  // `context` must outlive this; `executor` (may be null: tests call Step)
  // runs the Ticks OnDirectory posts.
  OprfRotation(NodeContext* context, Executor* executor, Options options);
  OprfRotation(NodeContext* context, Executor* executor)
      : OprfRotation(context, executor, Options()) {}

  // At start: decides which of the keys loaded from keys.oprf_key and
  // keys.oprf_key_next (`next_key` may be null) is current, next or
  // previous, from the directory's key for this member and what storage
  // says the stored outputs are under, and sets context->oprf_keys.
  // FAILED_PRECONDITION naming the field when neither key is the
  // directory's key for this member. If the directory already lists a new
  // key and the key of the stored outputs is not configured, the whole
  // recompute and switch run here, before the node serves.
  absl::Status Start(std::unique_ptr<crypto::OprfServerKey> key,
                     std::unique_ptr<crypto::OprfServerKey> next_key);

  // The directory listener (NodeContext::AddDirectoryListener).
  void OnDirectory(const directory::Directory& before,
                   const directory::Directory& after);

  // Background work for up to the tick budget (the node's timer calls it).
  void Tick();
  // One unit of work: a batch staged, the switch, or the retirement of the
  // previous key. Returns whether more work is waiting now (false: idle
  // until the directory or the clock moves).
  absl::StatusOr<bool> Step();

  // How many identifier values were staged by this object (progress).
  uint64_t staged() const;

 private:
  absl::StatusOr<bool> StepLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stages the next batch from `cursor_`; true if more remain.
  absl::StatusOr<bool> StageBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The last pass and the switch to `epoch`.
  absl::StatusOr<bool> FinishAndSwitch(uint32_t epoch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Retire() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts (or resumes) staging for the next key.
  absl::Status BeginStaging() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // This member's entry in the current directory.
  const v1::Member* Me(const directory::Directory& dir) const;

  NodeContext* ctx_;
  Executor* executor_;
  const Options options_;
  mutable std::mutex mu_;
  // Staging: where the walk is, and whether a full pass finished.
  std::string cursor_ ABSL_GUARDED_BY(mu_);
  bool pass_done_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t staged_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  bool missing_alerted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cbx::node

#endif  // CBX_NODE_OPRF_ROTATION_H_
