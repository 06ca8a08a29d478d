#include "node/testing/test_node.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "core/directory/testing/test_federation.h"
#include "core/logcheck/log_generation.h"
#include "node/audit/leaf.h"
#include "node/storage/memory_storage.h"
#include "node/testing/fake_peer.h"

namespace cbx::node::testing {
namespace {

std::string TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cbx-test-node-XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

}  // namespace

TestNode::TestNode(const v1::SignedDirectory& genesis, std::string self)
    : dir_(TempDir()), clock_(directory::testing::kNowMs) {
  ctx_.config.member = self;
  ctx_.clock = &clock_;
  ctx_.oprf_key = std::make_unique<crypto::OprfServerKey>(FakeOprfKey(self));
  auto dir = directory::Directory::FromGenesis(genesis);
  if (!dir.ok()) {
    std::fprintf(stderr, "TestNode: %s\n", dir.status().ToString().c_str());
    std::abort();
  }
  // The node's own rule on versions, as LoadDirectoryState sets it.
  ctx_.directory = std::make_unique<directory::DirectoryState>(
      *dir, logcheck::CheckGenerationSuccessor);
  ctx_.signing_keys = NodeSigningKeys::Single(self, FakeNodeKey(self),
                                              ctx_.directory.get(), &clock_);
  ctx_.storage = std::make_unique<MemoryStorage>();
  audit::AuditLogOptions options;
  options.clock = &clock_;
  auto log = audit::AuditLog::Open(dir_ + "/audit.db", options);
  if (!log.ok()) std::abort();
  ctx_.audit = *std::move(log);
  ctx_.audit_trail = std::make_unique<AuditTrail>(ctx_.audit.get());
}

TestNode::~TestNode() {
  ctx_.audit_trail.reset();
  ctx_.audit.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<v1::AuditEntry> TestNode::AuditEntries() {
  std::vector<v1::AuditEntry> out;
  const uint64_t size = ctx_.audit->Size();
  if (size == 0) return out;
  auto leaves = ctx_.audit->ReadEntries(0, size);
  if (!leaves.ok()) std::abort();
  for (const std::string& leaf : *leaves) {
    auto entry = audit::DecodeLeaf(leaf);
    if (!entry.ok()) std::abort();
    out.push_back(*std::move(entry));
  }
  return out;
}

std::vector<v1::AuditEntry> TestNode::AuditEntries(v1::AuditDirection direction,
                                                   const std::string& rpc) {
  std::vector<v1::AuditEntry> out;
  for (v1::AuditEntry& e : AuditEntries()) {
    if (e.direction() == direction && e.rpc() == rpc) out.push_back(e);
  }
  return out;
}

}  // namespace cbx::node::testing
