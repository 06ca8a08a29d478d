// The conformance kit against the project's own node (QT of the kit
// federation), and against a proxy of it that breaks one rule: the kit
// passes the first, and fails the second in exactly the cases of that rule.
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "conformance/runner.h"
#include "conformance/testing/kit_node.h"
#include "conformance/testing/replaying_proxy.h"
#include "gtest/gtest.h"

namespace cbx::conformance {
namespace {

struct Outcome {
  std::set<std::string> passed, failed;
  std::string summary;
};

Outcome Parse(const std::string& output) {
  Outcome o;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (absl::StartsWith(line, "PASS ")) {
      o.passed.insert(line.substr(5));
    } else if (absl::StartsWith(line, "FAIL ")) {
      o.failed.insert(line.substr(5, line.find(':') - 5));
    } else if (absl::StrContains(line, " passed, ")) {
      o.summary = line;
    }
  }
  return o;
}

// Every case id.
void KitCases(std::set<std::string>* all) {
  auto cases = LoadCases(CBX_CASES_DIR);
  ASSERT_TRUE(cases.ok()) << cases.status();
  for (const auto& c : *cases) all->insert(c["id"].get<std::string>());
}

class ConformanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto node = KitNode::Start(CBX_KIT_DIR, CBX_NODE_BIN);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = node->release();
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure() && node_ != nullptr) {
      std::cerr << "--- the node's log ---\n"
                << std::ifstream(node_->LogPath()).rdbuf();
    }
  }

  // Runs the kit against `peer` (the node's Peer port or the proxy's).
  Outcome Run(const std::string& peer, int* exit_code) {
    std::string out =
        RunConformance(CBX_CONFORMANCE_BIN, peer, node_->office_address(),
                       node_->kit_dir(), CBX_CASES_DIR, exit_code);
    std::cout << out;
    return Parse(out);
  }

  static KitNode* node_;
};

KitNode* ConformanceTest::node_ = nullptr;

TEST_F(ConformanceTest, TheNodePassesTheKit) {
  ASSERT_NE(node_, nullptr);
  std::set<std::string> all;
  KitCases(&all);
  int exit_code = -1;
  Outcome o = Run(node_->peer_address(), &exit_code);
  EXPECT_EQ(o.failed, std::set<std::string>{});
  EXPECT_EQ(o.passed, all) << o.summary;
  EXPECT_EQ(exit_code, 0);
}

TEST_F(ConformanceTest, TheKitCatchesANodeThatAnswersReplays) {
  ASSERT_NE(node_, nullptr);
  auto proxy = ReplayingProxy::Start(node_->kit_dir(), node_->peer_address());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::set<std::string> all, expected;
  KitCases(&all);
  // Exactly the cases of envelope check 6, one per envelope RPC.
  expected.insert("evaluate.check6.replay");
  expected.insert("resolve.check6.replay");
  expected.insert("sync-index.check6.replay");
  int exit_code = -1;
  Outcome o = Run((*proxy)->address(), &exit_code);
  EXPECT_EQ(o.failed, expected);
  EXPECT_EQ(o.passed.size() + o.failed.size(), all.size()) << o.summary;
  EXPECT_EQ(exit_code, 1);
}

}  // namespace
}  // namespace cbx::conformance
