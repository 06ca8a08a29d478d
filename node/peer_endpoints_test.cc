// Which endpoint of a member a call goes to (spec/directory.md §7.1), with
// fake endpoints: what each one does when connected and called is scripted,
// and every connect and call is recorded.
#include "node/peer_endpoints.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

// One scripted endpoint.
struct FakeEndpoint {
  absl::Status connect = absl::OkStatus();
  int64_t connect_takes_ms = 0;  // advances the fake clock
  absl::Status answer = absl::OkStatus();
  int64_t call_takes_ms = 0;
  int connects = 0;
  int calls = 0;
  int64_t connect_budget_ms = -1;  // what the last connect was given
};

class FakeEndpoints {
 public:
  explicit FakeEndpoints(std::vector<FakeEndpoint> endpoints)
      : endpoints_(std::move(endpoints)) {}

  EndpointsOutcome Call(int64_t budget_ms) {
    std::vector<std::string> names;
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      names.push_back("n" + std::to_string(i) + ".mk.example:7443");
    }
    EndpointOps ops;
    ops.connect = [this](size_t i, int64_t ms) {
      FakeEndpoint& e = endpoints_[i];
      e.connects++;
      e.connect_budget_ms = ms;
      now_ms_ += std::min(ms, e.connect_takes_ms);
      return e.connect;
    };
    ops.call = [this](size_t i, int64_t) {
      FakeEndpoint& e = endpoints_[i];
      e.calls++;
      now_ms_ += e.call_takes_ms;
      return e.answer;
    };
    ops.now_ms = [this] { return now_ms_; };
    return CallEndpoints("MK", names, budget_ms, ops);
  }

  FakeEndpoint& operator[](size_t i) { return endpoints_[i]; }

 private:
  std::vector<FakeEndpoint> endpoints_;
  int64_t now_ms_ = 1'000'000;
};

absl::Status StandbyRefusal() {
  return absl::UnavailableError(
      "standby: this node (mk-b-0a1b2c3d) of MK is the standby of an "
      "active/standby pair; call the member's other endpoint");
}

TEST(CallEndpointsTest, StandbyRefusalMovesOnToTheNextEndpoint) {
  FakeEndpoints e({{.answer = StandbyRefusal()}, {}});
  EndpointsOutcome out = e.Call(3000);
  EXPECT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.answered, 1);
  EXPECT_EQ(e[0].calls, 1);
  EXPECT_EQ(e[1].calls, 1);
}

TEST(CallEndpointsTest, UnconnectedEndpointMovesOnWithoutSending) {
  FakeEndpoints e(
      {{.connect = absl::UnavailableError("could not connect")}, {}});
  EndpointsOutcome out = e.Call(3000);
  EXPECT_TRUE(out.status.ok()) << out.status;
  EXPECT_EQ(out.answered, 1);
  EXPECT_EQ(e[0].calls, 0);
  EXPECT_EQ(e[1].calls, 1);
}

TEST(CallEndpointsTest, ConnectTimeoutMovesOnWithinItsShareOfTheBudget) {
  FakeEndpoints e(
      {{.connect = absl::DeadlineExceededError("not connected within 1500 ms"),
        .connect_takes_ms = 1500},
       {}});
  EndpointsOutcome out = e.Call(3000);
  EXPECT_TRUE(out.status.ok()) << out.status;
  // Two endpoints left: the first gets half the budget to connect, the
  // second what is left.
  EXPECT_EQ(e[0].connect_budget_ms, 1500);
  EXPECT_EQ(e[1].connect_budget_ms, 1500);
  EXPECT_EQ(out.answered, 1);
}

TEST(CallEndpointsTest, ThreeEndpointsShareTheBudget) {
  FakeEndpoints e({{.connect = absl::DeadlineExceededError("slow"),
                    .connect_takes_ms = 1000},
                   {.connect = absl::UnavailableError("could not connect")},
                   {}});
  EndpointsOutcome out = e.Call(3000);
  EXPECT_EQ(out.answered, 2);
  EXPECT_EQ(e[0].connect_budget_ms, 1000);
  EXPECT_EQ(e[1].connect_budget_ms, 1000);  // 2000 left, two endpoints
  EXPECT_EQ(e[2].connect_budget_ms, 2000);
}

// A refusal from an active node is its answer: retrying it elsewhere could
// charge the quota twice, so it is never retried.
TEST(CallEndpointsTest, RefusalOfAnActiveNodeIsNotRetried) {
  for (absl::Status refusal :
       {absl::PermissionDeniedError("check 3"),
        absl::ResourceExhaustedError("check 7 (quota)"),
        absl::AlreadyExistsError("check 6 (replay)"),
        absl::InvalidArgumentError("bad request"),
        absl::FailedPreconditionError("not this epoch")}) {
    SCOPED_TRACE(refusal.ToString());
    FakeEndpoints e({{.answer = refusal}, {}});
    EndpointsOutcome out = e.Call(3000);
    EXPECT_EQ(out.status, refusal);
    EXPECT_EQ(out.answered, 0);
    EXPECT_EQ(e[1].connects, 0);
    EXPECT_EQ(e[1].calls, 0);
  }
}

// Sent, and no answer came back: the node may have run the call before it
// died or while it stalled. Not retried, and not an answer.
TEST(CallEndpointsTest, NoAnswerAfterSendingIsNotRetried) {
  for (absl::Status lost : {absl::UnavailableError("Socket closed"),
                            absl::DeadlineExceededError("Deadline Exceeded"),
                            absl::CancelledError("cancelled")}) {
    SCOPED_TRACE(lost.ToString());
    FakeEndpoints e({{.answer = lost}, {}});
    EndpointsOutcome out = e.Call(3000);
    EXPECT_EQ(out.status, lost);
    EXPECT_EQ(out.answered, -1);
    EXPECT_EQ(e[1].calls, 0);
  }
}

TEST(CallEndpointsTest, NoEndpointTakingTheCallIsUnavailableNamingEach) {
  FakeEndpoints e({{.connect = absl::UnavailableError("could not connect")},
                   {.answer = StandbyRefusal()}});
  EndpointsOutcome out = e.Call(3000);
  EXPECT_EQ(out.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(out.answered, -1);
  EXPECT_NE(out.status.message().find(
                "MK: no endpoint took the call (n0.mk.example:7443: could not "
                "connect; n1.mk.example:7443: standby: this node"),
            std::string::npos)
      << out.status;
}

TEST(CallEndpointsTest, BudgetSpentIsDeadlineExceeded) {
  FakeEndpoints e(
      {{.connect = absl::DeadlineExceededError("not connected within 1500 ms"),
        .connect_takes_ms = 1500},
       {.connect = absl::DeadlineExceededError("not connected within 1500 ms"),
        .connect_takes_ms = 1500}});
  EndpointsOutcome out = e.Call(3000);
  EXPECT_EQ(out.status.code(), absl::StatusCode::kDeadlineExceeded)
      << out.status;
  EXPECT_EQ(out.answered, -1);
}

TEST(CallEndpointsTest, NoBudgetTriesNothing) {
  FakeEndpoints e({{}, {}});
  EndpointsOutcome out = e.Call(0);
  EXPECT_EQ(out.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(e[0].connects, 0);
}

TEST(IsStandbyRefusalTest, OnlyUnavailableWithTheStandbyPrefix) {
  EXPECT_TRUE(IsStandbyRefusal(StandbyRefusal()));
  EXPECT_FALSE(IsStandbyRefusal(absl::UnavailableError("Socket closed")));
  EXPECT_FALSE(IsStandbyRefusal(absl::PermissionDeniedError("standby: no")));
}

v1::Member PairMember() {
  v1::Member m;
  m.set_endpoint("a.mk.example:7443");
  m.add_standby_endpoints("b.mk.example:7443");
  m.add_standby_endpoints("c.mk.example:7443");
  return m;
}

TEST(PeerEndpointsInUseTest, TriesTheOneThatLastAnsweredFirst) {
  PeerEndpointsInUse in_use;
  const std::vector<std::string> all = MemberEndpoints(PairMember());
  EXPECT_EQ(all,
            (std::vector<std::string>{"a.mk.example:7443", "b.mk.example:7443",
                                      "c.mk.example:7443"}));
  EXPECT_EQ(in_use.Order("MK", all), all);
  EXPECT_EQ(in_use.InUse("MK"), "");
  in_use.Answered("RS", "MK", "c.mk.example:7443", false);
  EXPECT_EQ(in_use.InUse("MK"), "c.mk.example:7443");
  EXPECT_EQ(in_use.Order("MK", all),
            (std::vector<std::string>{"c.mk.example:7443", "a.mk.example:7443",
                                      "b.mk.example:7443"}));
  // An endpoint the directory no longer lists is not tried.
  EXPECT_EQ(
      in_use.Order("MK", {"a.mk.example:7443", "b.mk.example:7443"}),
      (std::vector<std::string>{"a.mk.example:7443", "b.mk.example:7443"}));
}

TEST(PeerEndpointsInUseTest, LogsOneLinePerChange) {
  PeerEndpointsInUse in_use;
  ::testing::internal::CaptureStderr();
  in_use.Answered("RS", "MK", "a.mk.example:7443", true);  // the usual start
  in_use.Answered("RS", "MK", "b.mk.example:7443", false);
  in_use.Answered("RS", "MK", "b.mk.example:7443", false);  // no change
  in_use.Answered("RS", "MK", "a.mk.example:7443", true);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("peer-endpoint-changed member=MK from=\"\""),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("peer-endpoint-changed member=MK from=a.mk.example:7443 "
                     "to=b.mk.example:7443"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("peer-endpoint-changed member=MK from=b.mk.example:7443 "
                     "to=a.mk.example:7443"),
            std::string::npos)
      << log;
  size_t lines = 0;
  for (size_t at = 0;
       (at = log.find("peer-endpoint-changed", at)) != std::string::npos;
       ++at) {
    ++lines;
  }
  EXPECT_EQ(lines, 2u);
}

}  // namespace
}  // namespace cbx::node
