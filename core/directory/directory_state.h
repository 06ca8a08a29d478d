// The node's current directory and the "never go back" rule.
#ifndef CBX_CORE_DIRECTORY_DIRECTORY_STATE_H_
#define CBX_CORE_DIRECTORY_DIRECTORY_STATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "cbx/v1/directory.pb.h"
#include "core/directory/directory.h"

namespace cbx::directory {

// Two versions with one number, both validly signed by a threshold of the
// governance keys of the version before them (spec/directory.md §8).
struct Equivocation {
  uint64_t version = 0;
  v1::SignedDirectory adopted;      // the one this state holds
  v1::SignedDirectory conflicting;  // the other one, as received
};

// Holds the node's current verified directory and every version adopted since
// the start one (to answer Peer.GetDirectory). Thread-safe: one mutex guards
// the state; readers get a shared_ptr to an immutable Directory that stays
// valid however the state moves on. Adoptions are serialized by a second
// mutex, so that a slow `persist` (a disk write) never blocks readers.
class DirectoryState {
 public:
  // A rule on consecutive versions that the governance signatures alone
  // do not enforce and that lives in a layer above this one (the audit log
  // generations of spec/directory.md §5.2: logcheck::
  // CheckGenerationSuccessor). OK, or why `next` may not follow `previous`.
  using SuccessorRule = std::function<absl::Status(
      const v1::Directory& previous, const v1::Directory& next)>;

  // `start` must not be null (the verified pinned genesis, normally).
  // `rule`, if not null, is applied to each version adopted after `start`.
  explicit DirectoryState(std::shared_ptr<const Directory> start,
                          SuccessorRule rule = nullptr);

  std::shared_ptr<const Directory> Current() const;

  // Makes a verified version durable before it becomes current; OK or the
  // storage failure (which stops the adoption, the old version staying
  // current).
  using Persist = std::function<absl::Status(const Directory& next)>;

  struct UpdateResult {
    absl::Status status;  // OK, or why the first refused version was refused
    int adopted = 0;      // versions made current by this call
    bool persist_failed = false;  // status is `persist`'s error
    // The verified candidate the successor rule refused (status is the
    // rule's), so that the caller can say which rule and member; null if
    // the rule refused nothing.
    std::shared_ptr<const Directory> refused_by_rule;
    std::shared_ptr<const Directory> rule_previous;  // the version before it
    // At most one: an equivocation stops the call (FAILED_PRECONDITION).
    std::vector<Equivocation> equivocations;
  };

  // Adopts each of `versions` in order (spec/directory.md §5.3): each next
  // one is verified against the current one (Directory::Adopt) and the
  // successor rule (INVALID_ARGUMENT, as a bad signature is), handed to
  // `persist` (if not null), and only if that succeeded made current. A
  // version <= current with the same directory bytes as the held one is
  // skipped (peers overlap); with other bytes it is verified against the
  // held version before it: if it verifies, that is an equivocation
  // (reported, FAILED_PRECONDITION, the rest of `versions` ignored),
  // otherwise it is refused with its verification error. A gap is
  // FAILED_PRECONDITION; a bad version stops with its error
  // (INVALID_ARGUMENT, UNAUTHENTICATED); a failing `persist` stops with its
  // error. Earlier good versions stay adopted. Concurrent calls are
  // serialized; `persist` runs without the readers' lock held.
  UpdateResult AdoptVersions(const std::vector<v1::SignedDirectory>& versions,
                             const Persist& persist);

  // AdoptVersions without persisting; returns its status.
  absl::Status Update(const std::vector<v1::SignedDirectory>& versions);

  // The held versions with version > since_version, ascending: the answer to
  // Peer.GetDirectory. Versions older than the start one are not held.
  std::vector<v1::SignedDirectory> VersionsAfter(uint64_t since_version) const;

 private:
  // Handles one version <= current (see AdoptVersions). OK to skip it.
  absl::Status CheckOlder(const v1::SignedDirectory& next, uint64_t version,
                          UpdateResult& result) const;
  // The held version `version`; nullptr if older than the start one.
  std::shared_ptr<const Directory> Held(uint64_t version) const;

  const SuccessorRule rule_;
  std::mutex adopt_mu_;  // serializes AdoptVersions; taken before mu_
  mutable std::mutex mu_;
  // Consecutive versions from the start one; chain_.back() is current.
  std::vector<std::shared_ptr<const Directory>> chain_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::directory

#endif  // CBX_CORE_DIRECTORY_DIRECTORY_STATE_H_
