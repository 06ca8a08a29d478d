// /readyz while the audit log's leaf count runs after open
// (spec/audit-log.md §2.9): not ready, "audit log check running", and the
// node serves and logs meanwhile; ready once the count passes.
#include "node/node_metrics.h"

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "gtest/gtest.h"
#include "node/audit_trail.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::TestNode;

TEST(NodeReadinessTest, AuditLogCheckRunningIsNotReadyYet) {
  TestNode node(FakeGenesis(0));
  NodeContext& ctx = node.ctx();
  // Reopen the node's log with its leaf count held inside its snapshot.
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("cbx-readiness-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, released = false;
  audit::AuditLogOptions options;
  options.clock = &node.clock();
  options.open_check_wait = absl::ZeroDuration();
  options.open_check_hook_for_testing = [&] {
    std::unique_lock<std::mutex> lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
  };
  auto log = audit::AuditLog::Open(dir + "/audit.db", options);
  ASSERT_TRUE(log.ok()) << log.status();
  ctx.audit_trail.reset();
  ctx.audit = *std::move(log);
  ctx.audit_trail = std::make_unique<AuditTrail>(ctx.audit.get());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  NodeMetricsSources sources;
  sources.ctx = &ctx;
  AdminHttp::Response running = CheckReadiness(sources);
  EXPECT_EQ(running.status, 503) << running.body;
  EXPECT_NE(running.body.find("audit_log: audit log check running"),
            std::string::npos)
      << running.body;
  // The log serves meanwhile.
  EXPECT_TRUE(ctx.audit_trail
                  ->Call(v1::AUDIT_DIRECTION_LOCAL, "", "Test.Readiness",
                         "readiness", "", absl::StatusCode::kOk)
                  .ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
    cv.notify_all();
  }
  ASSERT_TRUE(ctx.audit->WaitForOpenCheck().ok());
  AdminHttp::Response ready = CheckReadiness(sources);
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("audit_log: ok"), std::string::npos) << ready.body;
  ctx.audit_trail.reset();
  ctx.audit.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cbx::node
