// `cbx withdrawals`: its arguments up to the connection, and its listing.
#include "client/withdrawal_commands.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/cli.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

constexpr int64_t kAt = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

struct Result {
  int code;
  std::string err;
};

Result RunCbx(std::vector<std::string> args) {
  std::vector<const char*> argv = {"cbx"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  EnvLookup none = [](const char*) -> std::optional<std::string> {
    return std::nullopt;
  };
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err, none);
  return {code, err.str()};
}

v1::ListWithdrawalsResponse ThreeStates() {
  v1::ListWithdrawalsResponse r;
  v1::WithdrawalRecord* pending = r.add_withdrawals();
  pending->set_case_number("RS-2026-0001");
  pending->set_member("MK");
  pending->set_state(v1::WITHDRAWAL_STATE_PENDING);
  pending->set_attempts(3);
  pending->set_next_attempt_ms(kAt + 4000);
  pending->set_give_up_at_ms(kAt + 604'800'000);
  pending->set_last_error("UNAVAILABLE: connection refused");
  v1::WithdrawalRecord* kept = r.add_withdrawals();
  kept->set_case_number("RS-2026-0001");
  kept->set_member("BA");
  kept->set_state(v1::WITHDRAWAL_STATE_DELIVERED);
  kept->set_attempts(1);
  kept->set_receipt_at_ms(kAt + 1000);
  kept->mutable_receipt()->set_withdrawn_at_ms(kAt + 1000);
  kept->mutable_receipt()->set_kept_until_ms(kAt + 86'400'000);
  v1::WithdrawalRecord* lost = r.add_withdrawals();
  lost->set_case_number("RS-2025-0099");
  lost->set_member("ME");
  lost->set_state(v1::WITHDRAWAL_STATE_UNDELIVERED);
  lost->set_attempts(17);
  lost->set_last_error("DEADLINE_EXCEEDED: no answer");
  return r;
}

TEST(WithdrawalCommandsTest, ExtraArgumentsAreUsageErrors) {
  Result r = RunCbx({"withdrawals", "RS-2026-0001"});
  EXPECT_EQ(r.code, kExitUsage) << r.err;
}

TEST(WithdrawalCommandsTest, TableSaysEachStateInWordsWithin100Columns) {
  const std::string text = WithdrawalsText(ThreeStates());
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (const std::string& line : lines) {
    EXPECT_LE(line.size(), 100u) << line;
  }
  EXPECT_NE(text.find("pending"), std::string::npos) << text;
  EXPECT_NE(text.find("gives up 2026-01-08T00:00:00Z"), std::string::npos)
      << text;
  EXPECT_NE(text.find("2026-01-01T00:00:04Z"), std::string::npos) << text;
  EXPECT_NE(text.find("delivered"), std::string::npos) << text;
  EXPECT_NE(text.find("kept until 2026-01-02T00:00:00Z"), std::string::npos)
      << text;
  EXPECT_NE(text.find("undelivered"), std::string::npos) << text;
  EXPECT_NE(text.find("RS-2025-0099 at ME: last attempt failed: "
                      "DEADLINE_EXCEEDED: no answer"),
            std::string::npos)
      << text;
  EXPECT_EQ(WithdrawalsText(v1::ListWithdrawalsResponse()), "no withdrawals\n");
}

TEST(WithdrawalCommandsTest, JsonNamesStateAndReceipt) {
  const std::string json = WithdrawalsJson(ThreeStates());
  EXPECT_NE(json.find(R"("peer":"MK")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("state":"pending")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("next_attempt_at":"2026-01-01T00:00:04Z")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("kept_until":"2026-01-02T00:00:00Z")"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("state":"undelivered")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("receipt":null)"), std::string::npos) << json;
}

TEST(WithdrawalCommandsTest, DeletedAndRefusedReceiptsInWords) {
  v1::ListWithdrawalsResponse r;
  v1::WithdrawalRecord* deleted = r.add_withdrawals();
  deleted->set_case_number("RS-1");
  deleted->set_member("MK");
  deleted->set_state(v1::WITHDRAWAL_STATE_DELIVERED);
  deleted->mutable_receipt()->set_deleted_at_ms(kAt);
  v1::WithdrawalRecord* refused = r.add_withdrawals();
  *refused = *deleted;
  refused->set_member("HR");
  refused->mutable_receipt()->set_deleted_at_ms(0);
  refused->mutable_receipt()->set_refusal(
      v1::DELETION_REFUSAL_UNKNOWN_CASE_TOKEN);
  const std::string text = WithdrawalsText(r);
  EXPECT_NE(text.find("deleted"), std::string::npos) << text;
  EXPECT_NE(text.find("held nothing (unknown token)"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace cbx::client
