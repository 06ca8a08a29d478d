// The fencing token of an active/standby pair (spec/active-standby.md §4):
// the term this node won and its instance, checked inside every
// transaction that appends to the audit log, so that a node that lost its
// leadership (paused, partitioned, or slow to notice) can never commit.
//
// The check reads the term row FOR SHARE: a takeover's UPDATE of that row
// waits for every appending transaction that read it (they commit under
// the old term, before the new one begins), and an append that starts
// after the takeover finds the new term and fails with the fenced status.
//
// Threading: a Fence is immutable once made; CheckFence uses the caller's
// connection (not thread-safe, as pg::Connection).
#ifndef CBX_NODE_STORAGE_PG_PG_FENCE_H_
#define CBX_NODE_STORAGE_PG_PG_FENCE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "node/storage/pg/pg_connection.h"

namespace cbx::node::pg {

struct Fence {
  // The schema of the term row (leadership.schema), a plain identifier.
  std::string schema;
  // The term this node holds and its instance (the row's holder).
  int64_t term = 0;
  std::string instance;
  // Called (from the failing transaction's thread) each time a check finds
  // the term gone, with the fenced status; the node steps down there.
  std::function<void(const absl::Status&)> on_fenced;
};

// Inside an open write transaction on `conn`: OK if the term row still
// holds `fence`'s term and instance (and row-locks it FOR SHARE until the
// transaction ends); the fenced status otherwise (after calling
// on_fenced); the statement's error if it fails.
absl::Status CheckFence(Connection& conn, const Fence& fence);

// The fenced status: FAILED_PRECONDITION (do not retry: this node is no
// longer the active one) with a payload that IsFenced recognizes.
absl::Status FencedError(const std::string& message);
bool IsFenced(const absl::Status& status);

}  // namespace cbx::node::pg

#endif  // CBX_NODE_STORAGE_PG_PG_FENCE_H_
