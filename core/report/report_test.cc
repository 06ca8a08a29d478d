#include "core/report/report.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::report {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

// 2026-03: [start, end).
constexpr int64_t kStart = 1772323200000;  // 2026-03-01T00:00:00Z
constexpr int64_t kEnd = 1775001600000;    // 2026-04-01T00:00:00Z
constexpr int64_t kHour = 3'600'000;

std::string Id(int n) { return std::string(15, 'x') + static_cast<char>(n); }

v1::AuditEntry Entry(int64_t t, v1::AuditDirection d, std::string peer,
                     std::string rpc, std::string kind) {
  v1::AuditEntry e;
  e.set_time_ms(t);
  e.set_direction(d);
  e.set_peer(std::move(peer));
  e.set_rpc(std::move(rpc));
  e.set_kind(std::move(kind));
  return e;
}

constexpr auto kSent = v1::AUDIT_DIRECTION_SENT;
constexpr auto kReceived = v1::AUDIT_DIRECTION_RECEIVED;

v1::AuditEntry Query(int64_t t, v1::AuditDirection d, std::string peer) {
  return Entry(t, d, std::move(peer), "Peer.Evaluate", "evaluate_request");
}

v1::AuditEntry Resolved(int64_t t, std::string peer, uint32_t references) {
  v1::AuditEntry e =
      Entry(t, kReceived, std::move(peer), "Peer.Resolve", "resolve_response");
  e.mutable_outcome()->set_references(references);
  return e;
}

v1::AuditEntry Request(int64_t t, v1::AuditDirection d, std::string peer,
                       int id, uint32_t type, int64_t due,
                       int64_t receipt_due = 0) {
  v1::AuditEntry e = Entry(t, d, std::move(peer), "Peer.Cooperate",
                           "cooperation_request");
  e.set_message_id(Id(id));
  e.mutable_outcome()->set_cooperation_type(type);
  e.mutable_outcome()->set_response_due_ms(due);
  e.mutable_outcome()->set_receipt_due_ms(receipt_due);
  return e;
}

v1::AuditEntry Reply(int64_t t, v1::AuditDirection d, std::string peer,
                     std::string kind, int to, uint32_t code) {
  v1::AuditEntry e =
      Entry(t, d, std::move(peer), "Peer.Cooperate", std::move(kind));
  e.set_message_id(Id(100 + to));
  e.set_in_reply_to(Id(to));
  e.mutable_outcome()->set_cooperation_code(code);
  return e;
}

ReportInput Input(uint32_t min_cell = 1, int64_t as_of = kEnd) {
  return {.member = "MK",
          .month = *ParseMonth("2026-03"),
          .min_cell = min_cell,
          .log_begin = 0,
          .log_end = 0,
          .as_of_ms = as_of};
}

// name@peer -> shown value.
std::map<std::string, std::string> Shown(const v1::Report& r) {
  std::map<std::string, std::string> out;
  for (const v1::ReportFigure& f : r.figures()) {
    out[f.peer().empty() ? f.name() : f.name() + "@" + f.peer()] =
        ShownValue(f, r.min_cell());
  }
  return out;
}

TEST(ParseMonthTest, BoundsAreTheUtcMonth) {
  absl::StatusOr<Month> m = ParseMonth("2026-03");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->start_ms, kStart);
  EXPECT_EQ(m->end_ms, kEnd);
  EXPECT_EQ(ParseMonth("2026-12")->end_ms, 1798761600000);  // 2027-01-01
  EXPECT_EQ(MonthOf(kEnd - 1).name, "2026-03");
  EXPECT_EQ(MonthOf(kEnd).name, "2026-04");
}

TEST(ParseMonthTest, RefusesMalformedMonths) {
  for (const char* bad : {"", "2026-3", "2026-13", "2026-00", "26-03",
                          "2026/03", "2026-03-01", "1969-12", "+026-03"}) {
    EXPECT_EQ(ParseMonth(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ComputeReportTest, CountsQueriesHitsAndReferencesPerPeer) {
  const std::vector<v1::AuditEntry> entries = {
      Query(kStart, kSent, "RS"),         Query(kStart + 1, kSent, "RS"),
      Query(kStart + 2, kSent, "AL"),     Query(kStart + 3, kReceived, "RS"),
      Resolved(kStart + 4, "RS", 2),      Resolved(kStart + 5, "AL", 0),
      [] {
        v1::AuditEntry e = Resolved(kStart + 6, "AL", 3);
        e.mutable_outcome()->set_status_code(7);  // refused: no hit counted
        return e;
      }(),
      [] {
        v1::AuditEntry e =
            Entry(kStart + 7, kSent, "RS", "Peer.Resolve", "resolve_response");
        e.mutable_outcome()->set_references(1);
        return e;
      }(),
  };
  const auto shown = Shown(ComputeReport(Input(), entries));
  EXPECT_EQ(shown.at("queries_sent"), "3");
  EXPECT_EQ(shown.at("queries_sent@RS"), "2");
  EXPECT_EQ(shown.at("queries_sent@AL"), "1");
  EXPECT_EQ(shown.at("queries_received"), "1");
  EXPECT_EQ(shown.at("hits"), "2");
  EXPECT_EQ(shown.at("hits@RS"), "2");
  EXPECT_FALSE(shown.contains("hits@AL"));
  EXPECT_EQ(shown.at("references_given@RS"), "1");
  EXPECT_EQ(shown.at("withdrawals_sent"), "0");
}

TEST(ComputeReportTest, RequestsReceiptsResponsesAndTheirTimes) {
  const std::vector<v1::AuditEntry> entries = {
      // Sent to RS: receipt after 1 h, response after 10 h (due in 48 h).
      Request(kStart, kSent, "RS", 1, 1, kStart + 48 * kHour),
      Reply(kStart + kHour, kReceived, "RS", "cooperation_receipt", 1, 100),
      Reply(kStart + 10 * kHour, kReceived, "RS", "cooperation_response", 1,
            100),
      // Received from RS: receipt at once, refused over quota.
      Request(kStart + 2, kReceived, "RS", 2, 2, kStart + 24 * kHour),
      Reply(kStart + 2, kSent, "RS", "cooperation_receipt", 2, 205),
      // Withdrawals and deletion receipts by kind.
      Entry(kStart + 3, kSent, "AL", "Peer.Withdraw", "withdrawal"),
      Entry(kStart + 4, kReceived, "AL", "Peer.Withdraw", "deletion_receipt"),
  };
  const auto shown = Shown(ComputeReport(Input(), entries));
  EXPECT_EQ(shown.at("requests_sent.INFORMATION"), "1");
  EXPECT_EQ(shown.at("requests_sent.INFORMATION@RS"), "1");
  EXPECT_EQ(shown.at("requests_received.PRESERVATION"), "1");
  EXPECT_EQ(shown.at("requests_sent.PRESERVATION"), "0");
  EXPECT_EQ(shown.at("receipts_received.100"), "1");
  EXPECT_EQ(shown.at("receipts_sent.205"), "1");
  EXPECT_EQ(shown.at("responses_received.100"), "1");
  EXPECT_EQ(shown.at("time_to_receipt_ms.sent.p50"), "3600000");
  EXPECT_EQ(shown.at("time_to_response_ms.sent.p90"), "36000000");
  EXPECT_EQ(shown.at("time_to_receipt_ms.received.p50"), "0");
  EXPECT_FALSE(shown.contains("time_to_response_ms.received.p50"));
  // The refused request is not overdue; the answered one was on time.
  EXPECT_EQ(shown.at("overdue_responses.sent"), "0");
  EXPECT_EQ(shown.at("overdue_responses.received"), "0");
  EXPECT_EQ(shown.at("withdrawals_sent@AL"), "1");
  EXPECT_EQ(shown.at("deletion_receipts_received"), "1");
}

TEST(ComputeReportTest, OverdueLateAndUnansweredRequests) {
  const std::vector<v1::AuditEntry> entries = {
      // Answered after its due time.
      Request(kStart, kReceived, "RS", 1, 1, kStart + kHour),
      Reply(kStart, kSent, "RS", "cooperation_receipt", 1, 100),
      Reply(kStart + 2 * kHour, kSent, "RS", "cooperation_response", 1, 200),
      // Never answered, due before as_of.
      Request(kStart + 1, kReceived, "RS", 2, 1, kStart + 5 * kHour),
      Reply(kStart + 1, kSent, "RS", "cooperation_receipt", 2, 100),
      // Never answered, due after as_of: open, not overdue.
      Request(kStart + 2, kReceived, "RS", 3, 1, kStart + 50 * kHour),
      Reply(kStart + 2, kSent, "RS", "cooperation_receipt", 3, 100),
      // Preservation sent: receipt after its receipt due time.
      Request(kStart + 3, kSent, "AL", 4, 2, kStart + 24 * kHour,
              kStart + 8 * kHour),
      Reply(kStart + 9 * kHour, kReceived, "AL", "cooperation_receipt", 4,
            100),
      // Spontaneous information: no due time, never overdue.
      Request(kStart + 4, kSent, "AL", 5, 4, 0),
      Reply(kStart + 5, kReceived, "AL", "cooperation_receipt", 5, 100),
  };
  const auto shown =
      Shown(ComputeReport(Input(1, kStart + 20 * kHour), entries));
  EXPECT_EQ(shown.at("overdue_responses.received"), "2");
  EXPECT_EQ(shown.at("overdue_responses.received@RS"), "2");
  EXPECT_EQ(shown.at("late_receipts.sent"), "1");
  EXPECT_EQ(shown.at("late_receipts.sent@AL"), "1");
  EXPECT_EQ(shown.at("overdue_responses.sent"), "0");
  // Judged at the month's end, the preservation request is overdue too.
  EXPECT_EQ(Shown(ComputeReport(Input(1, kEnd), entries))
                .at("overdue_responses.sent"),
            "1");
}

TEST(ComputeReportTest, PercentilesAreNearestRank) {
  std::vector<v1::AuditEntry> entries;
  for (int i = 1; i <= 10; ++i) {
    entries.push_back(Request(kStart + i, kSent, "RS", i, 1, 0));
    entries.push_back(Reply(kStart + i + i * 1000, kReceived, "RS",
                            "cooperation_receipt", i, 100));
  }
  const auto shown = Shown(ComputeReport(Input(5), entries));
  EXPECT_EQ(shown.at("time_to_receipt_ms.sent.p50"), "5000");
  EXPECT_EQ(shown.at("time_to_receipt_ms.sent.p90"), "9000");
}

TEST(ComputeReportTest, SmallCellsAndTheirPercentilesAreSuppressed) {
  std::vector<v1::AuditEntry> entries;
  for (int i = 0; i < 4; ++i) entries.push_back(Query(kStart + i, kSent, "RS"));
  for (int i = 0; i < 5; ++i) {
    entries.push_back(Query(kStart + i, kReceived, "AL"));
  }
  for (int i = 1; i <= 4; ++i) {
    entries.push_back(Request(kStart + i, kSent, "RS", i, 1, 0));
    entries.push_back(Reply(kStart + i + 10, kReceived, "RS",
                            "cooperation_receipt", i, 100));
  }
  const v1::Report report = ComputeReport(Input(0), entries);  // 0 -> 1
  EXPECT_EQ(report.min_cell(), 1u);
  const v1::Report r = ComputeReport(Input(5), entries);
  const auto shown = Shown(r);
  EXPECT_EQ(shown.at("queries_sent"), "<5");
  EXPECT_EQ(shown.at("queries_sent@RS"), "<5");
  EXPECT_EQ(shown.at("queries_received"), "5");
  EXPECT_EQ(shown.at("hits"), "0");  // zero is shown
  EXPECT_EQ(shown.at("time_to_receipt_ms.sent.p50"), "<5");
  EXPECT_EQ(shown.at("time_to_receipt_ms.sent.p90"), "<5");
  // A suppressed figure carries no number.
  for (const v1::ReportFigure& f : r.figures()) {
    if (f.suppressed()) {
      EXPECT_EQ(f.value(), 0u) << f.name();
    }
  }
}

TEST(ComputeReportTest, OnlyTheMonthsEntriesCount) {
  const std::vector<v1::AuditEntry> entries = {
      Query(kStart - 1, kSent, "RS"), Query(kStart, kSent, "RS"),
      Query(kEnd - 1, kSent, "RS"), Query(kEnd, kSent, "RS")};
  EXPECT_EQ(Shown(ComputeReport(Input(), entries)).at("queries_sent"), "2");
}

TEST(ComputeReportTest, DeterministicAndSorted) {
  const std::vector<v1::AuditEntry> entries = {
      Query(kStart, kSent, "RS"), Query(kStart, kSent, "AL"),
      Request(kStart, kSent, "RS", 1, 3, kStart + 1)};
  const v1::Report a = ComputeReport(Input(), entries);
  const v1::Report b = ComputeReport(Input(), entries);
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  for (int i = 1; i < a.figures_size(); ++i) {
    const auto& x = a.figures(i - 1);
    const auto& y = a.figures(i);
    EXPECT_LT(std::tie(x.name(), x.peer()), std::tie(y.name(), y.peer()));
  }
}

TEST(ComputeReportTest, AnOmittedOrAlteredEntryChangesTheFigures) {
  std::vector<v1::AuditEntry> entries = {
      Query(kStart, kSent, "RS"), Query(kStart + 1, kSent, "RS"),
      Request(kStart + 2, kReceived, "RS", 1, 1, kStart + kHour),
      Reply(kStart + 2, kSent, "RS", "cooperation_receipt", 1, 100),
      Reply(kStart + 3, kSent, "RS", "cooperation_response", 1, 100)};
  const v1::Report honest = ComputeReport(Input(), entries);
  std::vector<v1::AuditEntry> omitted = entries;
  omitted.erase(omitted.begin());
  EXPECT_THAT(CompareReports(honest, ComputeReport(Input(), omitted)),
              ElementsAre(Field(&FigureDifference::name, "queries_sent"),
                          Field(&FigureDifference::name, "queries_sent")));
  // A response moved past its due time makes it overdue.
  std::vector<v1::AuditEntry> late = entries;
  late[4].set_time_ms(kStart + 2 * kHour);
  const auto diff = CompareReports(honest, ComputeReport(Input(), late));
  std::vector<std::string> names;
  for (const auto& d : diff) names.push_back(d.name + "@" + d.peer);
  EXPECT_THAT(names, ::testing::Contains("overdue_responses.received@"));
  EXPECT_THAT(CompareReports(honest, honest), IsEmpty());
}

TEST(AsOfTest, MonthEndOnlyOnceTheLogIsPastIt) {
  const Month m = *ParseMonth("2026-03");
  EXPECT_EQ(AsOfMs(m, kStart + 5, kEnd + 1), kEnd);
  EXPECT_EQ(AsOfMs(m, kStart + 5, -1), kStart + 5);
  EXPECT_EQ(AsOfMs(m, -1, -1), kStart);
}

}  // namespace
}  // namespace cbx::report
