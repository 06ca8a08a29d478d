// A member's audit log in memory, for the auditor's tests and the e2e fake
// node: real leaves (serialized AuditEntry), a real RFC 9162 tree
// (core/merkle InMemoryTree), checkpoints signed with the member's test node
// key and cosigned by other members' test node keys, all from the fixed test
// federation of core/directory/testing (MK, RS, AL). Never for production:
// every key is derived from a public label.
//
// Not thread-safe.
#ifndef CBX_CLIENT_AUDIT_TEST_LOG_H_
#define CBX_CLIENT_AUDIT_TEST_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cbx/v1/audit.pb.h"
#include "client/audit/export.h"
#include "core/merkle/in_memory_tree.h"
#include "core/util/bytes.h"

namespace cbx::client::audit::testing {

// 2026-01-01T00:00:00Z, the test federation's "now".
inline constexpr int64_t kTestNowMs = 1767225600000;

// A cosignature to add to a checkpoint: `name` signed with the test key
// `key_label` ("RS/node/1") at `timestamp`.
struct TestCosigner {
  std::string name;
  std::string key_label;
  uint64_t timestamp = kTestNowMs / 1000;
};

// The usual witness cosigner of member `code`: cbx/<code>/witness with the
// key "<code>/node/1".
TestCosigner Witness(std::string_view code);

// An entry of `direction` with `peer`, an envelope hash SHA-256(`envelope`)
// (none if `envelope` is empty), at `time_ms`.
v1::AuditEntry MakeEntry(v1::AuditDirection direction, std::string_view peer,
                         std::string_view envelope, int64_t time_ms,
                         int32_t status_code = 0);

class TestLog {
 public:
  // The log of `member`, signed by the test key `key_label` (default
  // "<member>/node/1").
  explicit TestLog(std::string member, std::string key_label = "");

  const std::string& member() const { return member_; }
  uint64_t size() const { return leaves_.size(); }
  const std::string& leaf(uint64_t i) const { return leaves_[i]; }

  // Appends `entry` with its sequence set to the next index; returns it.
  uint64_t Append(v1::AuditEntry entry);
  // Appends raw leaf bytes as they are.
  uint64_t AppendLeaf(std::string leaf);

  Bytes Root(uint64_t size) const;
  std::vector<Bytes> InclusionProof(uint64_t index, uint64_t size) const;
  std::vector<Bytes> ConsistencyProof(uint64_t size1, uint64_t size2) const;

  // The checkpoint note text of the tree of `size`.
  std::string CheckpointText(uint64_t size) const;
  // The checkpoint of `size` signed by the log key (name cbx/<CC>/audit)
  // and cosigned by `cosigners`, in that order.
  std::string Checkpoint(uint64_t size,
                         const std::vector<TestCosigner>& cosigners) const;

  // An export of [begin, end) against `checkpoint` (a note of size `size`),
  // with `directory_versions`.
  AuditExport Export(uint64_t begin, uint64_t end, uint64_t size,
                     const std::string& checkpoint,
                     std::vector<v1::SignedDirectory> directory_versions) const;

 private:
  std::string member_;
  std::string key_label_;
  std::vector<std::string> leaves_;
  merkle::InMemoryTree tree_;
};

// Signs `text` as a note signature line of key `name` with the test key
// `key_label`, and returns the note with that line added to `note` (or to a
// fresh note of `text` if `note` is empty).
std::string AddNoteSignature(std::string_view note, std::string_view text,
                             std::string_view name, std::string_view key_label);
// Adds a cosignature/v1 line.
std::string AddCosignature(std::string_view note, std::string_view text,
                           const TestCosigner& cosigner);

}  // namespace cbx::client::audit::testing

#endif  // CBX_CLIENT_AUDIT_TEST_LOG_H_
