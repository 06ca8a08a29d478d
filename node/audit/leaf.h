// Leaf bytes of the audit log: the serialized cbx.v1.AuditEntry
// (spec/audit-log.md §2).
//
// The log stores and serves the bytes it hashed; nobody re-serializes an
// entry to check it. Pure functions, safe from any thread.
#ifndef CBX_NODE_AUDIT_LEAF_H_
#define CBX_NODE_AUDIT_LEAF_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cbx/v1/audit.pb.h"

namespace cbx::node::audit {

// The largest leaf the log accepts. An entry holds codes, counts and a few
// short names, so a real one is a few hundred bytes at most.
inline constexpr size_t kMaxLeafSize = 4096;

// The leaf bytes of `entry`: its serialization with fields in field-number
// order (protobuf C++'s order for a message without unknown fields).
// INVALID_ARGUMENT if the entry has unknown fields, a string field that is
// not valid UTF-8 (it would not parse back), or encodes to more than
// kMaxLeafSize bytes.
absl::StatusOr<std::string> EncodeLeaf(const v1::AuditEntry& entry);

// Parses leaf bytes. INVALID_ARGUMENT if they are not an AuditEntry.
absl::StatusOr<v1::AuditEntry> DecodeLeaf(std::string_view leaf);

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_LEAF_H_
