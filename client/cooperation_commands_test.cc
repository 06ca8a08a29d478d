// The cooperation commands' argument conversion and output
// (client/cooperation_commands.h): what is refused before anything is
// sent, and what an office reads.
#include "client/cooperation_commands.h"

#include <string>

#include "gtest/gtest.h"

namespace cbx::client {
namespace {

CooperationArgs Preservation() {
  CooperationArgs a;
  a.token = std::string(32, 'a');
  a.case_number = "MK-2026-0142";
  a.type = "preservation";
  a.legal_basis = "Budapest Convention Art. 29";
  a.platform = "Telegram";
  a.accounts = {"telegram_username:@cbx_example"};
  a.from = "2026-01-01";
  a.to = "2026-01-31";
  a.data = "subscriber,traffic";
  return a;
}

TEST(CooperationCommandsTest, BuildsAPreservationRequest) {
  absl::StatusOr<v1::SendCooperationRequestRequest> req =
      BuildSendCooperationRequest(Preservation(), "MK");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ(req->case_token(), std::string(16, '\xaa'));
  EXPECT_EQ(req->type(), v1::COOPERATION_TYPE_PRESERVATION);
  EXPECT_EQ(req->preservation().platform(), "telegram");
  ASSERT_EQ(req->preservation().account_size(), 1);
  EXPECT_EQ(req->preservation().account(0).type(),
            v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  EXPECT_EQ(req->preservation().data_categories_size(), 2);
  EXPECT_LT(req->preservation().period_from_ms(),
            req->preservation().period_to_ms());
}

TEST(CooperationCommandsTest, RefusesBeforeSending) {
  CooperationArgs a = Preservation();
  a.token = "abc";
  EXPECT_EQ(BuildSendCooperationRequest(a, "MK").status().code(),
            absl::StatusCode::kInvalidArgument);
  a = Preservation();
  a.type = "urgent";
  EXPECT_EQ(BuildSendCooperationRequest(a, "MK").status().code(),
            absl::StatusCode::kInvalidArgument);
  a = Preservation();
  a.data = "subscriber,dna";
  EXPECT_EQ(BuildSendCooperationRequest(a, "MK").status().code(),
            absl::StatusCode::kInvalidArgument);
  a = Preservation();
  a.to = "2025-12-01";
  EXPECT_EQ(BuildSendCooperationRequest(a, "MK").status().code(),
            absl::StatusCode::kInvalidArgument);
  a = Preservation();
  a.type = "information";  // preservation options without preservation
  EXPECT_EQ(BuildSendCooperationRequest(a, "MK").status().code(),
            absl::StatusCode::kInvalidArgument);
  a = Preservation();
  a.note = "line\nbreak";
  EXPECT_EQ(BuildSendCooperationRequest(a, "MK").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CooperationCommandsTest, BuildsResponses) {
  CooperationArgs a;
  a.id = std::string(32, 'B');
  a.outcome = "refused";
  EXPECT_EQ(BuildRespondRequest(a).status().code(),
            absl::StatusCode::kInvalidArgument);  // no --reason
  a.reason = "data-not-held";
  absl::StatusOr<v1::RespondToCooperationRequestRequest> r =
      BuildRespondRequest(a);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), std::string(32, 'b'));
  EXPECT_EQ(r->reason(), v1::RESPONSE_REFUSAL_DATA_NOT_HELD);
  a = CooperationArgs();
  a.outcome = "mla";
  EXPECT_EQ(BuildRespondRequest(a).status().code(),
            absl::StatusCode::kInvalidArgument);  // no --mla-reference
  a.mla_reference = "MLA-2026/42";
  ASSERT_TRUE(BuildRespondRequest(a).ok());
  a = CooperationArgs();
  a.outcome = "done";
  a.preserved_until = "2026-06-30";
  r = BuildRespondRequest(a);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->preserved_until_ms(), 0);
}

TEST(CooperationCommandsTest, ShowsDeadlinesInLocalTime) {
  setenv("TZ", "Europe/Skopje", 1);
  tzset();
  // 2026-03-14T09:00:00Z is 10:00 in Skopje (CET).
  EXPECT_EQ(FormatLocalTime(1'773'478'800'000), "2026-03-14 10:00 CET");
  v1::CooperationRecord r;
  r.set_id(std::string(32, 'c'));
  r.set_direction(v1::COOPERATION_DIRECTION_SENT);
  r.set_peer("RS");
  r.set_case_number("MK-1");
  r.mutable_request()->set_type(v1::COOPERATION_TYPE_INFORMATION);
  r.mutable_request()->set_response_due_ms(1'773'478'800'000);
  r.mutable_receipt()->set_status(v1::RECEIPT_STATUS_ACCEPTED);
  r.set_overdue(true);
  const std::string text = CooperationRecordText(r);
  EXPECT_NE(text.find("due:         2026-03-14 10:00 CET  OVERDUE"),
            std::string::npos)
      << text;
  v1::ListCooperationRequestsResponse list;
  *list.add_requests() = r;
  EXPECT_NE(CooperationListText(list).find("awaiting response  OVERDUE"),
            std::string::npos);
  unsetenv("TZ");
  tzset();
}

}  // namespace
}  // namespace cbx::client
