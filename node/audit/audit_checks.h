// The checks behind AuditLog's tamper evidence (spec/audit-log.md §2,
// "Tamper evidence"): what Open runs before it serves anything, and the
// full re-check behind AuditLog::Verify. Each failure is DATA_LOSS with a
// message that names the check, the sizes and the rows involved; other
// codes are the store's own errors (e.g. UNAVAILABLE for a busy database).
//
// Free functions over one AuditStore; the caller serializes its use.
#ifndef CBX_NODE_AUDIT_AUDIT_CHECKS_H_
#define CBX_NODE_AUDIT_AUDIT_CHECKS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/merkle/compact_range.h"
#include "core/util/bytes.h"
#include "node/audit/audit_store.h"
#include "node/audit/head_file.h"

namespace cbx::node::audit {

// Open's checks, O(log n) reads whatever the log's size:
//   - the state row's compact range parses and matches its size and root;
//   - the lowest and highest stored leaves are sequences 0 and size-1 (two
//     seeks; the leaves are counted, for the message, only if they are not);
//   - the stored perfect subtrees of the right edge give that compact range;
//   - `head` (read from `head_path`) is not ahead of the state and its
//     root is the root of the state's prefix of its size (a missing head
//     file is allowed only for the empty log);
//   - so is the latest stored checkpoint.
// A row deleted between the ends is CheckLeafCount's to find.
// Returns the trusted compact range.
absl::StatusOr<merkle::CompactRange> CheckOnOpen(
    AuditStore& store, const std::optional<Head>& head,
    const std::string& head_path);

// The leaf count Open leaves to run after it (spec/audit-log.md §2.9): in
// one read transaction (one snapshot, so appends may go on meanwhile), the
// state row's size and the number of leaf rows with sequences 0 .. size-1,
// counted a range at a time: DATA_LOSS, with the message Open gave before
// it left the count to this, unless the leaves are exactly those
// sequences. CANCELLED if `stop` (if set) returns true between ranges.
// `before_count` (if set) runs once the snapshot is taken: a test hook.
// O(size) pages read, nothing hashed.
absl::Status CheckLeafCount(AuditStore& store,
                            const std::function<bool()>& stop,
                            const std::function<void()>& before_count);

// What the caller knew before the full check's snapshot began: the head
// file and the log's committed state (both can only trail the database).
struct FullCheckInput {
  std::optional<Head> head;
  std::string head_path;
  uint64_t committed_size = 0;
  Bytes committed_root;
};

// Everything, in one read transaction: every leaf's hash, form and
// sequence; every perfect subtree against the tree rebuilt from the leaves;
// no extra rows; the state row; the committed root, the head and every
// stored checkpoint against the rebuilt roots of their sizes. Adds the
// number of leaves hashed to *leaves_hashed.
absl::Status CheckEverything(AuditStore& store, const FullCheckInput& input,
                             uint64_t* leaves_hashed);

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_AUDIT_CHECKS_H_
