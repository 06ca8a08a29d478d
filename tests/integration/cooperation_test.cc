// Cooperation after a hit between real cbx-node processes on loopback
// (spec/cooperation.md §2, §3): MK hits RS's case and asks RS's office to
// preserve platform data; RS's node returns a signed receipt and RS's
// office answers DONE; an information request is answered REFUSED; a joint
// investigation team proposal left unanswered becomes overdue under a
// short policy deadline; a token RS never gave, and one RS gave BA, are
// refused with a receipt UNKNOWN_CASE_TOKEN. One federation (MK, RS, BA)
// serves the suite; the tests run in the order written.

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cbx/v1/message.pb.h"
#include "core/directory/policy.h"
#include "core/report/report.h"
#include "core/report/report_signature.h"
#include "core/envelope/envelope.h"
#include "gtest/gtest.h"
#include "tests/integration/federation.h"
#include "tests/integration/federation_ops.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

// The short deadline of a JIT proposal in this federation's policy.
constexpr int kJitResponseS = 3;

v1::Identifier Id(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

class CooperationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_start_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    options.edit_spec = [](nlohmann::json& spec) {
      spec["policy"]["jit_response_s"] = kJitResponseS;
      spec["policy"]["report_min_cell"] = 1;  // every figure shown
    };
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = f->release();
    absl::Status started = fed_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
    AddCase("RS", "RS-2026-001", "cbx_coop_admin");
    AddCase("RS", "RS-2026-002", "cbx_coop_other");
    AddCase("MK", "MK-2026-0142", "cbx_coop_admin");
    AddCase("BA", "BA-2026-17", "cbx_coop_other");
    ASSERT_TRUE(fed_->WaitForIndex("MK", {{"RS", 2}, {"BA", 1}}).ok());
    ASSERT_TRUE(fed_->WaitForIndex("BA", {{"RS", 2}, {"MK", 1}}).ok());
    token_ = Hit("MK", "MK-2026-0142", "cbx_coop_admin", &rs_office_);
    std::string unused;
    bas_token_ = Hit("BA", "BA-2026-17", "cbx_coop_other", &unused);
    ASSERT_EQ(token_.size(), 16u);
    ASSERT_EQ(bas_token_.size(), 16u);
  }
  static void TearDownTestSuite() {
    delete fed_;
    fed_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  static grpc::ClientContext* Ctx(grpc::ClientContext& ctx) {
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(60)));
    return &ctx;
  }

  static void AddCase(const std::string& cc, const std::string& number,
                      const std::string& account) {
    v1::AddCaseRequest req;
    v1::Case* c = req.mutable_case_();
    c->set_case_number(number);
    *c->add_identifiers() = Id(account);
    c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
    c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
    c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
    grpc::ClientContext ctx;
    v1::Case out;
    grpc::Status s = fed_->Office(cc)->AddCase(Ctx(ctx), req, &out);
    ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
  }

  // `cc` queries `account` for its case `number`; the token of RS's
  // reference (and its competent office in *office).
  static std::string Hit(const std::string& cc, const std::string& number,
                         const std::string& account, std::string* office) {
    v1::QueryRequest req;
    *req.add_identifiers() = Id(account);
    req.mutable_purpose()->set_case_number(number);
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    req.add_peers("RS");
    grpc::ClientContext ctx;
    auto reader = fed_->Office(cc)->Query(Ctx(ctx), req);
    v1::QueryEvent event;
    std::string token;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().member() == "RS" &&
          event.answer().references_size() > 0) {
        token = event.answer().references(0).case_token();
        *office = event.answer().references(0).competent_office();
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    return token;
  }

  static v1::SendCooperationRequestRequest Request(v1::CooperationType type) {
    v1::SendCooperationRequestRequest req;
    req.set_case_token(token_);
    req.set_case_number("MK-2026-0142");
    req.set_type(type);
    req.set_legal_basis("Budapest Convention Art. 29");
    return req;
  }

  static v1::CooperationRecord Send(
      const v1::SendCooperationRequestRequest& r) {
    grpc::ClientContext ctx;
    v1::CooperationRecord out;
    grpc::Status s =
        fed_->Office("MK")->SendCooperationRequest(Ctx(ctx), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  static grpc::Status Respond(const v1::RespondToCooperationRequestRequest& r,
                              v1::CooperationRecord* out) {
    grpc::ClientContext ctx;
    return fed_->Office("RS")->RespondToCooperationRequest(Ctx(ctx), r, out);
  }

  static v1::CooperationRecord Get(const std::string& cc,
                                   const std::string& id) {
    grpc::ClientContext ctx;
    v1::GetCooperationRequestRequest req;
    req.set_id(id);
    v1::CooperationRecord out;
    grpc::Status s =
        fed_->Office(cc)->GetCooperationRequest(Ctx(ctx), req, &out);
    EXPECT_TRUE(s.ok()) << cc << " " << s.error_message();
    return out;
  }

  static std::vector<v1::CooperationRecord> List(const std::string& cc,
                                                 bool overdue) {
    grpc::ClientContext ctx;
    v1::ListCooperationRequestsRequest req;
    req.set_overdue(overdue);
    v1::ListCooperationRequestsResponse out;
    grpc::Status s =
        fed_->Office(cc)->ListCooperationRequests(Ctx(ctx), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {out.requests().begin(), out.requests().end()};
  }

  // A request MK's node key signs without MK's sender-side checks, sent
  // straight to RS's Peer port as MK: RS's receipt.
  static v1::CooperationReceipt RawRequest(const Bytes& token) {
    v1::Envelope e = SealAs(*fed_, "MK", "RS", [&](v1::Message& m) {
      m.mutable_header()->set_office("MK/PPO-Skopje");
      v1::CooperationRequest* r = m.mutable_cooperation_request();
      r->set_case_token(token);
      r->set_requester_case_number("MK-2026-0142");
      r->set_type(v1::COOPERATION_TYPE_INFORMATION);
      r->set_legal_basis("MLA-Convention-1959 Art.1");
      r->set_response_due_ms(m.header().issued_at_ms() +
                             int64_t{directory::kDefaultInformationResponseS} *
                                 1000);
    });
    grpc::ClientContext ctx;
    v1::Envelope reply;
    grpc::Status s = fed_->PeerAs("RS", "MK")->Cooperate(Ctx(ctx), e, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::Message m;
    EXPECT_TRUE(m.ParseFromString(reply.body()));
    EXPECT_EQ(m.header().sender(), "RS");
    return m.cooperation_receipt();
  }

  static Federation* fed_;
  static std::string token_;
  // When the suite began, before its first exchange (Unix ms).
  static int64_t suite_start_ms_;
  static std::string bas_token_;
  static std::string rs_office_;
};

Federation* CooperationTest::fed_ = nullptr;
std::string CooperationTest::token_;
int64_t CooperationTest::suite_start_ms_ = 0;
std::string CooperationTest::bas_token_;
std::string CooperationTest::rs_office_;

TEST_F(CooperationTest, PreservationReceiptThenResponseDone) {
  v1::SendCooperationRequestRequest req =
      Request(v1::COOPERATION_TYPE_PRESERVATION);
  v1::PreservationDetails* p = req.mutable_preservation();
  p->set_platform("telegram");
  *p->add_account() = Id("@cbx_coop_admin");
  p->set_period_from_ms(1'767'225'600'000);  // 2026-01-01
  p->set_period_to_ms(1'769'904'000'000);    // 2026-02-01
  p->add_data_categories(v1::DATA_CATEGORY_SUBSCRIBER);
  p->add_data_categories(v1::DATA_CATEGORY_TRAFFIC);
  v1::CooperationRecord sent = Send(req);
  EXPECT_EQ(sent.receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);
  EXPECT_EQ(sent.receipt().competent_office(), rs_office_);
  EXPECT_FALSE(sent.receipt_envelope().empty());

  std::vector<v1::CooperationRecord> at_rs = List("RS", false);
  ASSERT_EQ(at_rs.size(), 1u);
  EXPECT_EQ(at_rs[0].id(), sent.id());
  EXPECT_EQ(at_rs[0].direction(), v1::COOPERATION_DIRECTION_RECEIVED);
  EXPECT_EQ(at_rs[0].case_number(), "RS-2026-001");

  v1::RespondToCooperationRequestRequest answer;
  answer.set_id(sent.id());
  answer.set_outcome(v1::RESPONSE_OUTCOME_DONE);
  // Half a year from now (a date in the past is refused).
  const int64_t preserved_until =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          (std::chrono::system_clock::now() + std::chrono::hours(24 * 183))
              .time_since_epoch())
          .count();
  answer.set_preserved_until_ms(preserved_until);
  v1::CooperationRecord answered;
  grpc::Status s = Respond(answer, &answered);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(answered.response_receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);

  v1::CooperationRecord seen = Get("MK", sent.id());
  EXPECT_EQ(seen.response().outcome(), v1::RESPONSE_OUTCOME_DONE);
  EXPECT_EQ(seen.response().preserved_until_ms(), preserved_until);
  EXPECT_FALSE(seen.overdue());
}

TEST_F(CooperationTest, InformationAnsweredRefused) {
  v1::CooperationRecord sent = Send(Request(v1::COOPERATION_TYPE_INFORMATION));
  ASSERT_EQ(sent.receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);
  v1::RespondToCooperationRequestRequest answer;
  answer.set_id(sent.id());
  answer.set_outcome(v1::RESPONSE_OUTCOME_REFUSED);
  answer.set_reason(v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS);
  v1::CooperationRecord answered;
  ASSERT_TRUE(Respond(answer, &answered).ok());
  v1::CooperationRecord seen = Get("MK", sent.id());
  EXPECT_EQ(seen.response().outcome(), v1::RESPONSE_OUTCOME_REFUSED);
  EXPECT_EQ(seen.response().reason(), v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS);
}

TEST_F(CooperationTest, UnansweredProposalBecomesOverdueOnBothSides) {
  v1::CooperationRecord sent =
      Send(Request(v1::COOPERATION_TYPE_JOINT_INVESTIGATION_TEAM));
  ASSERT_EQ(sent.receipt().status(), v1::RECEIPT_STATUS_ACCEPTED);
  EXPECT_EQ(sent.request().response_due_ms(),
            sent.requested_at_ms() + kJitResponseS * 1000);
  // Poll (no sleep-and-hope): the deadline passes in kJitResponseS, the
  // nodes' overdue timer ticks every second.
  const auto until =
      std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  bool mk_overdue = false, rs_overdue = false, logged = false;
  while (std::chrono::steady_clock::now() < until &&
         !(mk_overdue && rs_overdue && logged)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (const auto& r : List("MK", true)) mk_overdue |= r.id() == sent.id();
    for (const auto& r : List("RS", true)) rs_overdue |= r.id() == sent.id();
    logged = Slurp(fed_->LogOf("MK")).find("cooperation-overdue") !=
                 std::string::npos &&
             Slurp(fed_->LogOf("RS")).find("cooperation-overdue") !=
                 std::string::npos;
  }
  EXPECT_TRUE(mk_overdue);
  EXPECT_TRUE(rs_overdue);
  EXPECT_TRUE(logged);
  EXPECT_TRUE(Get("MK", sent.id()).overdue());
  EXPECT_NE(AdminMetrics(*fed_, "MK").find("\ncbx_cooperation_overdue_requests 1"),
            std::string::npos);
  EXPECT_NE(AdminMetrics(*fed_, "RS").find("\ncbx_cooperation_overdue_requests 1"),
            std::string::npos);
}

TEST_F(CooperationTest, UnknownTokenIsRefusedWithAReceipt) {
  v1::CooperationReceipt receipt = RawRequest(Bytes(16, '\x5a'));
  EXPECT_EQ(receipt.status(), v1::RECEIPT_STATUS_REFUSED);
  EXPECT_EQ(receipt.reason(), v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN);
}

// Attack: RS gave RS-2026-002's token to BA only; MK learned it. RS
// answers exactly as for a token that names nothing.
TEST_F(CooperationTest, TokenGivenToAnotherMemberIsRefusedAsUnknown) {
  v1::CooperationReceipt receipt = RawRequest(bas_token_);
  EXPECT_EQ(receipt.status(), v1::RECEIPT_STATUS_REFUSED);
  EXPECT_EQ(receipt.reason(), v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN);
  EXPECT_TRUE(receipt.competent_office().empty());
  // MK's own node refuses to send it at all: no hit of MK's carries it.
  v1::SendCooperationRequestRequest req =
      Request(v1::COOPERATION_TYPE_INFORMATION);
  req.set_case_token(bas_token_);
  grpc::ClientContext ctx;
  v1::CooperationRecord out;
  grpc::Status s =
      fed_->Office("MK")->SendCooperationRequest(Ctx(ctx), req, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

// The month's report of `cc` from its auditor, its signature verified
// against `dir` and compared, figure by figure, with the recomputation from
// an export of the log; its figures by "name@peer".
std::map<std::string, uint64_t> VerifiedReportFigures(
    Federation& fed, const std::string& cc, const report::Month& m,
    const directory::Directory& dir) {
  auto auditor = fed.Office(cc, "auditor");
  v1::GetReportRequest request;
  request.set_month(m.name);
  v1::SignedReport signed_;
  auto ctx_for = [](grpc::ClientContext& c) {
    c.set_wait_for_ready(true);
    c.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(60)));
    return &c;
  };
  grpc::ClientContext ctx;
  grpc::Status s = auditor->GetReport(ctx_for(ctx), request, &signed_);
  EXPECT_TRUE(s.ok()) << s.error_message();
  absl::StatusOr<v1::Report> node = report::VerifySignedReport(signed_, dir);
  EXPECT_TRUE(node.ok()) << node.status();
  if (!s.ok() || !node.ok()) return {};
  EXPECT_EQ(node->member(), cc);
  EXPECT_EQ(node->month(), m.name);
  EXPECT_EQ(node->min_cell(), 1u);

  // A checkpoint that covers the report's entries, then the export.
  uint64_t size = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext c;
        v1::AuditCheckpointResponse cp;
        if (!auditor->AuditCheckpoint(ctx_for(c), {}, &cp).ok()) return false;
        const std::string& note = cp.checkpoint();
        // The note's second line is the tree size.
        const size_t a = note.find('\n') + 1;
        size = std::stoull(note.substr(a, note.find('\n', a) - a));
        return size > node->log_end();
      },
      std::chrono::seconds(30)));
  v1::AuditExportRequest export_request;
  export_request.set_begin(0);
  export_request.set_end(size);
  export_request.set_size(size);
  grpc::ClientContext ectx;
  auto reader = auditor->AuditExport(ctx_for(ectx), export_request);
  std::vector<v1::AuditEntry> log;
  v1::AuditExportChunk chunk;
  while (reader->Read(&chunk)) {
    for (const v1::AuditExportedEntry& e : chunk.entries()) {
      v1::AuditEntry entry;
      EXPECT_TRUE(entry.ParseFromString(e.leaf()));
      log.push_back(entry);
    }
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(log.size(), size);
  if (log.size() != size || size <= node->log_end()) return {};
  std::vector<v1::AuditEntry> entries(log.begin() + node->log_begin(),
                                      log.begin() + node->log_end());
  report::ReportInput input{
      .member = cc,
      .month = m,
      .min_cell = node->min_cell(),
      .log_begin = node->log_begin(),
      .log_end = node->log_end(),
      // The entry after the month's (the export holds it) decides.
      .as_of_ms =
          report::AsOfMs(m, entries.empty() ? -1 : entries.back().time_ms(),
                         log[node->log_end()].time_ms())};
  const v1::Report recomputed = report::ComputeReport(input, entries);
  EXPECT_TRUE(report::CompareReports(*node, recomputed).empty());
  std::map<std::string, uint64_t> figures;
  for (const v1::ReportFigure& f : node->figures()) {
    figures[f.name() + "@" + f.peer()] = f.value();
  }
  return figures;
}

// The transparency report (spec/cooperation.md §7) after the exchanges
// above: each node's auditor gets its month's report, signed by the node
// key; an export of the log, recomputed with the same code, gives the same
// figures; a prosecutor may not ask; a malformed or future month is
// refused.
//
// The month is the one of the suite's start, taken once, so a run that
// crosses midnight UTC at a month's end still asks for the month that
// holds the exchanges. Should the exchanges themselves straddle the
// boundary, every month from the suite's start to now is reported and
// verified, the counts are summed over them (each entry counts in exactly
// one month), and the figures that pair a request with its response are
// checked in the month that holds both, as §7.3 pairs them.
TEST_F(CooperationTest, TransparencyReportEqualsTheRecomputation) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::vector<report::Month> months = {report::MonthOf(suite_start_ms_)};
  while (months.back().end_ms <= now_ms) {
    months.push_back(report::MonthOf(months.back().end_ms));
  }
  auto dir = directory::Directory::FromGenesis([&] {
    v1::SignedDirectory g;
    EXPECT_TRUE(g.ParseFromString(Slurp(fed_->dir() + "/genesis.pb")));
    return g;
  }());
  ASSERT_TRUE(dir.ok()) << dir.status();
  for (const std::string cc : {"MK", "RS"}) {
    v1::GetReportRequest request;
    request.set_month(months.front().name);
    v1::SignedReport signed_;
    {
      grpc::ClientContext ctx;
      EXPECT_EQ(fed_->Office(cc)->GetReport(Ctx(ctx), request, &signed_)
                    .error_code(),
                grpc::StatusCode::PERMISSION_DENIED);
    }
    auto auditor = fed_->Office(cc, "auditor");
    for (const auto& [bad, code] :
         std::vector<std::pair<std::string, grpc::StatusCode>>{
             {"2026-13", grpc::StatusCode::INVALID_ARGUMENT},
             {"9999-01", grpc::StatusCode::FAILED_PRECONDITION}}) {
      grpc::ClientContext ctx;
      v1::GetReportRequest r;
      r.set_month(bad);
      EXPECT_EQ(auditor->GetReport(Ctx(ctx), r, &signed_).error_code(), code)
          << bad;
    }
    // Per month, and the counts summed over the months.
    std::vector<std::map<std::string, uint64_t>> per_month;
    std::map<std::string, uint64_t> figures;
    for (const report::Month& m : months) {
      per_month.push_back(VerifiedReportFigures(*fed_, cc, m, **dir));
      for (const auto& [name, value] : per_month.back()) {
        figures[name] += value;
      }
    }
    // The month whose report holds figure `name` (or -1).
    auto month_of = [&](const std::string& name) {
      for (size_t i = 0; i < per_month.size(); ++i) {
        if (per_month[i].contains(name) && per_month[i].at(name) > 0) {
          return static_cast<int>(i);
        }
      }
      return -1;
    };
    if (cc == "MK") {
      EXPECT_GE(figures["queries_sent@RS"], 1u);
      EXPECT_GE(figures["hits@RS"], 1u);
      EXPECT_EQ(figures["requests_sent.PRESERVATION@RS"], 1u);
      EXPECT_GE(figures["receipts_received.100@RS"], 1u);
      EXPECT_EQ(figures["responses_received.100@RS"], 1u);
      const int asked = month_of("requests_sent.PRESERVATION@RS");
      if (asked >= 0 && asked == month_of("responses_received.100@RS")) {
        EXPECT_TRUE(per_month[asked].contains("time_to_response_ms.sent.p50@"));
      }
      // The JIT proposal, judged at the end of its month's entries: overdue
      // there unless its month ended before its due time.
      if (month_of("requests_sent.JOINT_INVESTIGATION_TEAM@RS") + 1 ==
          static_cast<int>(months.size())) {
        EXPECT_GE(figures["overdue_responses.sent@"], 1u);
      }
    } else {
      EXPECT_GE(figures["queries_received@MK"], 1u);
      EXPECT_EQ(figures["requests_received.PRESERVATION@MK"], 1u);
      EXPECT_EQ(figures["responses_sent.100@MK"], 1u);
      if (month_of("requests_received.JOINT_INVESTIGATION_TEAM@MK") + 1 ==
          static_cast<int>(months.size())) {
        EXPECT_GE(figures["overdue_responses.received@"], 1u);
      }
    }
  }
}

}  // namespace
}  // namespace cbx::testing
