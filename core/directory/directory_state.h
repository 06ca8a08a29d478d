// The node's current directory and the "never go back" rule.
#ifndef CBX_CORE_DIRECTORY_DIRECTORY_STATE_H_
#define CBX_CORE_DIRECTORY_DIRECTORY_STATE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "cbx/v1/directory.pb.h"
#include "core/directory/directory.h"

namespace cbx::directory {

// Holds the node's current verified directory and every version adopted since
// the start one (to answer Peer.GetDirectory). Thread-safe: one mutex guards
// the state; readers get a shared_ptr to an immutable Directory that stays
// valid however the state moves on.
class DirectoryState {
 public:
  // `start` must not be null (the verified pinned genesis, normally).
  explicit DirectoryState(std::shared_ptr<const Directory> start);

  std::shared_ptr<const Directory> Current() const;

  // Adopts each of `versions` in order if it is the next one; versions <=
  // current are skipped silently, a gap is FAILED_PRECONDITION, a bad one
  // stops with its error (INVALID_ARGUMENT, UNAUTHENTICATED; see
  // Directory::Adopt) and earlier good ones stay adopted. Concurrent calls
  // are serialized.
  absl::Status Update(const std::vector<v1::SignedDirectory>& versions);

  // The held versions with version > since_version, ascending: the answer to
  // Peer.GetDirectory. Versions older than the start one are not held.
  std::vector<v1::SignedDirectory> VersionsAfter(uint64_t since_version) const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Directory> current_ ABSL_GUARDED_BY(mu_);
  // history_.back() == current_->signed_directory(); consecutive versions.
  std::vector<v1::SignedDirectory> history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::directory

#endif  // CBX_CORE_DIRECTORY_DIRECTORY_STATE_H_
