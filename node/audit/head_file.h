// The head file: a small text file beside the audit database that holds the
// size and root of the log as last committed, so that an older copy of the
// database put back in place of the current one is noticed on the next Open
// (spec/audit-log.md §2, "The head file").
//
//   cbx-audit-head/v1
//   <size, decimal>
//   <base64 of the 32-byte root>
//
// It is replaced atomically through an Env (core/util/env.h,
// WriteFileAtomic): written to "<path>.tmp-<pid>-<n>", synced (fdatasync),
// and renamed over the old file; a crash may leave such a temporary file,
// which is never read and may be deleted. The folder is not synced: after a
// power cut the head may be the previous one, which only trails the
// database and is accepted (see WriteHead). AuditLog serializes its own
// writes; the functions are safe from any thread for distinct paths.
#ifndef CBX_NODE_AUDIT_HEAD_FILE_H_
#define CBX_NODE_AUDIT_HEAD_FILE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/util/bytes.h"
#include "core/util/env.h"

namespace cbx::node::audit {

struct Head {
  uint64_t size = 0;
  Bytes root;  // 32 bytes

  friend bool operator==(const Head&, const Head&) = default;
};

// The head file's text for `head`.
std::string FormatHead(const Head& head);

// Reads the head file at `path` through `env`: nullopt if there is none;
// DATA_LOSS if it is not a head file (wrong header, size or root, or too
// long); the Env's errno table if it cannot be read.
absl::StatusOr<std::optional<Head>> ReadHead(const std::string& path,
                                             Env* env = Env::Default());

// Replaces the head file at `path` with `head` through `env`, atomically,
// its content synced before the rename (see above). The Env's errno table
// on failure (RESOURCE_EXHAUSTED for a full disk, INTERNAL for EIO),
// leaving the old file in place.
absl::Status WriteHead(const std::string& path, const Head& head,
                       Env* env = Env::Default());

}  // namespace cbx::node::audit

#endif  // CBX_NODE_AUDIT_HEAD_FILE_H_
