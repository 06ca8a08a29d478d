// Withdrawal of case references between real cbx-node processes on
// loopback (spec/cooperation.md §2.4): MK hits RS's case, RS's office
// closes it, MK's hit shows withdrawn with its reference deleted, RS holds
// the signed deletion receipt, and both audit logs hold the withdrawal and
// the receipt; a withdrawal to MK while MK's node is down arrives after it
// restarts (retried with backoff). One federation (MK, RS) serves the
// suite; the tests run in the order written.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cbx/v1/audit.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

constexpr char kMkCase[] = "MK-2026-0142";

v1::Identifier Id(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

class WithdrawalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FederationOptions options;
    options.countries = {"MK", "RS"};
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = f->release();
    absl::Status started = fed_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
    AddCase("RS", "RS-2026-001", "cbx_withdraw_one");
    AddCase("RS", "RS-2026-002", "cbx_withdraw_two");
    AddCase("MK", kMkCase, "cbx_withdraw_one");
    ASSERT_TRUE(fed_->WaitForIndex("MK", {{"RS", 2}}).ok());
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

  // MK queries `account` at RS for its case; the token of RS's reference.
  static std::string Hit(const std::string& account) {
    v1::QueryRequest req;
    *req.add_identifiers() = Id(account);
    req.mutable_purpose()->set_case_number(kMkCase);
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    req.add_peers("RS");
    grpc::ClientContext ctx;
    auto reader = fed_->Office("MK")->Query(Ctx(ctx), req);
    v1::QueryEvent event;
    std::string token;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().references_size() > 0) {
        token = event.answer().references(0).case_token();
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    return token;
  }

  static void Close(const std::string& number) {
    v1::CloseCaseRequest req;
    req.set_case_number(number);
    grpc::ClientContext ctx;
    v1::Case out;
    grpc::Status s = fed_->Office("RS")->CloseCase(Ctx(ctx), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // MK's hit with `token` once it shows withdrawn (polled), or an empty
  // hit when the wait ends first.
  static v1::Hit WaitWithdrawn(const std::string& token) {
    const auto until =
        std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(60));
    while (std::chrono::steady_clock::now() < until) {
      grpc::ClientContext ctx;
      v1::ListHitsRequest req;
      v1::ListHitsResponse out;
      if (fed_->Office("MK")->ListHits(Ctx(ctx), req, &out).ok()) {
        for (const v1::Hit& h : out.hits()) {
          if (h.reference().case_token() == token && h.withdrawn_at_ms() != 0) {
            return h;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return v1::Hit();
  }

  // The kinds of `cc`'s audit entries of rpc Peer.Withdraw, each prefixed
  // with its direction ("SENT withdrawal"), once the latest checkpoint
  // covers `want` entries `last` (polled: checkpoints come every 2 s).
  static std::vector<std::string> WithdrawEntries(const std::string& cc,
                                                  const std::string& last,
                                                  size_t want) {
    std::vector<std::string> kinds;
    const auto until =
        std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
    auto auditor = fed_->Office(cc, "auditor");
    while (std::chrono::steady_clock::now() < until) {
      kinds.clear();
      v1::AuditCheckpointResponse cp;
      {
        grpc::ClientContext ctx;
        if (!auditor->AuditCheckpoint(Ctx(ctx), {}, &cp).ok()) continue;
      }
      const std::string& note = cp.checkpoint();
      const size_t l1 = note.find('\n');
      const uint64_t size =
          std::stoull(note.substr(l1 + 1, note.find('\n', l1 + 1) - l1 - 1));
      grpc::ClientContext ctx;
      v1::AuditExportRequest req;
      req.set_begin(0);
      req.set_end(size);
      auto reader = auditor->AuditExport(Ctx(ctx), req);
      v1::AuditExportChunk chunk;
      while (reader->Read(&chunk)) {
        for (const auto& e : chunk.entries()) {
          v1::AuditEntry entry;
          if (!entry.ParseFromString(e.leaf()) ||
              entry.rpc() != "Peer.Withdraw") {
            continue;
          }
          kinds.push_back(v1::AuditDirection_Name(entry.direction())
                              .substr(sizeof("AUDIT_DIRECTION_") - 1) +
                          " " + entry.kind());
        }
      }
      (void)reader->Finish();
      if (static_cast<size_t>(std::count(kinds.begin(), kinds.end(), last)) >=
          want) {
        return kinds;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return kinds;
  }

  static Federation* fed_;
};

Federation* WithdrawalTest::fed_ = nullptr;

TEST_F(WithdrawalTest, ClosedCaseIsWithdrawnWithADeletionReceipt) {
  const std::string token = Hit("cbx_withdraw_one");
  ASSERT_EQ(token.size(), 16u);
  Close("RS-2026-001");
  v1::Hit hit = WaitWithdrawn(token);
  ASSERT_NE(hit.withdrawn_at_ms(), 0) << "MK's hit was never withdrawn";
  EXPECT_EQ(hit.withdrawal_reason(), v1::WITHDRAWAL_REASON_CLOSED);
  // The reference is gone but its token (the default policy keeps none).
  EXPECT_EQ(hit.reference().case_token(), token);
  EXPECT_TRUE(hit.reference().competent_office().empty());
  EXPECT_TRUE(hit.reference().contact_point().empty());
  EXPECT_EQ(hit.reference().matched_size(), 0);

  // Both logs hold the withdrawal and the receipt, each on its side.
  std::vector<std::string> rs =
      WithdrawEntries("RS", "RECEIVED deletion_receipt", 1);
  std::vector<std::string> mk =
      WithdrawEntries("MK", "SENT deletion_receipt", 1);
  EXPECT_EQ(rs, (std::vector<std::string>{"SENT withdrawal",
                                          "RECEIVED deletion_receipt"}));
  EXPECT_EQ(mk, (std::vector<std::string>{"RECEIVED withdrawal",
                                          "SENT deletion_receipt"}));
  // RS's event log names the receipt.
  EXPECT_NE(Slurp(fed_->LogOf("RS")).find("withdrawal-acknowledged"),
            std::string::npos);
  // RS's office sees its closed case's withdrawal delivered, with the
  // receipt's outcome (spec/cooperation.md §2.4, Office.ListWithdrawals).
  grpc::ClientContext ctx;
  v1::ListWithdrawalsResponse listed;
  ASSERT_TRUE(fed_->Office("RS")->ListWithdrawals(Ctx(ctx), {}, &listed).ok());
  ASSERT_EQ(listed.withdrawals_size(), 1);
  EXPECT_EQ(listed.withdrawals(0).case_number(), "RS-2026-001");
  EXPECT_EQ(listed.withdrawals(0).member(), "MK");
  EXPECT_EQ(listed.withdrawals(0).state(), v1::WITHDRAWAL_STATE_DELIVERED);
  EXPECT_EQ(listed.withdrawals(0).receipt().deleted_at_ms(),
            hit.withdrawn_at_ms());
}

TEST_F(WithdrawalTest, MemberDownDuringTheCloseGetsItAfterRestart) {
  const std::string token = Hit("cbx_withdraw_two");
  ASSERT_EQ(token.size(), 16u);
  fed_->Stop("MK");
  Close("RS-2026-002");
  // RS tried and failed at least once while MK was down.
  const auto until =
      std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  while (std::chrono::steady_clock::now() < until &&
         Slurp(fed_->LogOf("RS")).find("withdrawal-not-delivered") ==
             std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(Slurp(fed_->LogOf("RS")).find("withdrawal-not-delivered"),
            std::string::npos);
  ASSERT_TRUE(fed_->Start("MK").ok());
  v1::Hit hit = WaitWithdrawn(token);
  ASSERT_NE(hit.withdrawn_at_ms(), 0) << "the retry never reached MK";
  EXPECT_TRUE(hit.reference().competent_office().empty());
  // The first test's two entries, then at least one failed attempt (SENT
  // withdrawal, LOCAL call_failed), then the attempt that got the receipt.
  std::vector<std::string> rs =
      WithdrawEntries("RS", "RECEIVED deletion_receipt", 2);
  ASSERT_GE(rs.size(), 6u);
  EXPECT_EQ(rs[3], "LOCAL call_failed");
  EXPECT_EQ(rs.back(), "RECEIVED deletion_receipt");
}

}  // namespace
}  // namespace cbx::testing
