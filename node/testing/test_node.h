// An in-process node context for the domain modules' unit tests: member
// `self` of a fake federation (node/testing/fake_peer.h) with its real
// keys, the genesis directory, MemoryStorage, a FakeClock at the test
// federation's "now", and a real audit log in a temporary folder (removed
// with the TestNode). Not thread-safe to build; the context it holds is as
// thread-safe as a node's.
#ifndef CBX_NODE_TESTING_TEST_NODE_H_
#define CBX_NODE_TESTING_TEST_NODE_H_

#include <string>
#include <vector>

#include "cbx/v1/audit.pb.h"
#include "cbx/v1/directory.pb.h"
#include "core/util/clock.h"
#include "node/node_context.h"

namespace cbx::node::testing {

class TestNode {
 public:
  explicit TestNode(const v1::SignedDirectory& genesis,
                    std::string self = "MK");
  ~TestNode();
  TestNode(const TestNode&) = delete;
  TestNode& operator=(const TestNode&) = delete;

  NodeContext& ctx() { return ctx_; }
  FakeClock& clock() { return clock_; }
  // Every entry of the audit log, decoded, in order.
  std::vector<v1::AuditEntry> AuditEntries();
  // The entries of `rpc` with `direction`, in order.
  std::vector<v1::AuditEntry> AuditEntries(v1::AuditDirection direction,
                                           const std::string& rpc);

 private:
  std::string dir_;
  FakeClock clock_;
  NodeContext ctx_;
};

}  // namespace cbx::node::testing

#endif  // CBX_NODE_TESTING_TEST_NODE_H_
