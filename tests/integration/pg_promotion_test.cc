// Database promotion (issue 15, "Database availability"): a real cbx-node
// (MK) whose node.db and audit log are in PostgreSQL, on a primary with a
// synchronous streaming replica (pg_cluster.h: StartReplica), named by a
// two-host conninfo with target_session_attrs=read-write; beside it a peer
// (RS) on SQLite that queries MK and witnesses its log. Under concurrent
// office AddCase calls and RS's queries, the primary is stopped as a crash
// stops it (pg_ctl -m immediate) and the replica promoted. Checked:
//
//   - MK serves again by itself (no restart): the time from the stop to the
//     first AddCase acknowledged after it is printed;
//   - every AddCase it acknowledged is there, and the audit log holds an OK
//     Office.AddCase entry for each case stored (nothing lost, nothing
//     twice), contiguous, each entry proven included in the witnessed
//     checkpoint it was exported with;
//   - RS cosigns a checkpoint of MK's log made after the promotion and
//     never found it inconsistent with one it cosigned before;
//   - the conninfo's password never reaches MK's log.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cbx/v1/audit.pb.h"
#include "core/merkle/hash.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "node/storage/pg/pg_connection.h"
#include "node/storage/pg/testing/pg_cluster.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

using Clock = std::chrono::steady_clock;
using node::pg::testing::PgCluster;

constexpr char kNode[] = "MK";
constexpr char kOrigin[] = "cbx/MK/audit";
constexpr char kPassword[] = "s3cret-replicated-never-logged";

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

v1::AddCaseRequest CaseRequest(const std::string& number) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  v1::Identifier* id = c->add_identifiers();
  id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id->set_value(number + "@example.org");
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  return req;
}

// What the load saw.
struct Load {
  std::mutex mu;
  std::vector<std::string> acked;  // case numbers MK acknowledged
  std::vector<Clock::time_point> acked_at;
  std::vector<std::string> unexpected;  // answers no call should get
  int failed_calls = 0;                 // UNAVAILABLE and the like
  // UNKNOWN "outcome is unknown": a COMMIT in flight when the primary
  // stopped, whose outcome the node could not ask of a server yet
  // (spec/audit-log.md §2.10): at most one per calling thread.
  std::vector<std::string> unknown_outcome;
  int answered_queries = 0;
};

class PgPromotionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PgCluster::BinDir().empty()) GTEST_SKIP() << PgCluster::SkipReason();
    auto primary = PgCluster::Start();
    ASSERT_TRUE(primary.ok()) << primary.status();
    primary_ = *std::move(primary);
    auto replica = primary_->StartReplica();
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = *std::move(replica);
    ASSERT_TRUE(primary_->CreateDatabase("cbx_mk").ok());
    conninfo_ = absl::StrCat(
        PgCluster::MultiHostConninfo(*primary_, *replica_, "cbx_mk"),
        " password=", kPassword, " connect_timeout=5");

    FederationOptions options;
    options.countries = {"MK", "RS"};
    options.edit_config = [this](const std::string& cc, nlohmann::json& c) {
      c["audit"]["checkpoint_interval_ms"] = 300;
      if (cc != kNode) return;
      c["storage"] = {{"backend", "postgresql"},
                      {"conninfo", conninfo_},
                      {"schema", "cbx_node"}};
      c["audit_log"] = {{"backend", "postgresql"},
                        {"conninfo", conninfo_},
                        {"schema", "cbx_audit"}};
    };
    auto fed = Federation::Create(options);
    ASSERT_TRUE(fed.ok()) << fed.status();
    fed_ = *std::move(fed);
    ASSERT_TRUE(fed_->StartAll().ok());
    auto verifier =
        note::Verifier::Create(kOrigin, note::SignatureType::kEd25519,
                               fed_->SigningKey(kNode).public_key());
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = std::make_unique<note::Verifier>(*std::move(verifier));
  }
  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  // MK's office adds cases, RS's office queries MK, until `stop`.
  void RunLoad(std::atomic<bool>& stop, Load& load) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        auto office = fed_->Office(kNode);
        for (int i = 0; !stop.load(); ++i) {
          const std::string number = absl::StrCat("MK-P-", t, "-", i);
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() +
                           Scaled(std::chrono::seconds(10)));
          v1::Case out;
          const grpc::Status s =
              office->AddCase(&ctx, CaseRequest(number), &out);
          std::lock_guard<std::mutex> lock(load.mu);
          if (s.ok()) {
            load.acked.push_back(number);
            load.acked_at.push_back(Clock::now());
          } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                     s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
            ++load.failed_calls;
          } else if (s.error_code() == grpc::StatusCode::UNKNOWN &&
                     absl::StrContains(s.error_message(),
                                       "outcome is unknown")) {
            load.unknown_outcome.push_back(number);
          } else {
            load.unexpected.push_back(absl::StrCat("AddCase ", number, ": ",
                                                   s.error_code(), " ",
                                                   s.error_message()));
          }
        }
      });
    }
    threads.emplace_back([&] {
      auto office = fed_->Office("RS");
      while (!stop.load()) {
        v1::QueryRequest req;
        v1::Identifier* id = req.add_identifiers();
        id->set_type(v1::IDENTIFIER_TYPE_EMAIL);
        id->set_value("MK-P-0-1@example.org");
        req.mutable_purpose()->set_case_number("RS-2026-1");
        req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
        req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         Scaled(std::chrono::seconds(10)));
        auto reader = office->Query(&ctx, req);
        v1::QueryEvent event;
        bool answered = false;
        while (reader->Read(&event)) {
          answered |= event.has_answer() && event.answer().member() == kNode &&
                      event.answer().outcome() != v1::PEER_OUTCOME_UNSPECIFIED;
        }
        (void)reader->Finish();
        std::lock_guard<std::mutex> lock(load.mu);
        load.answered_queries += answered;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    for (auto& t : threads) t.join();
  }

  // RS's view of MK's log as its witness: the size it last cosigned, and
  // its alert ("" when none).
  std::pair<uint64_t, std::string> Witnessed() {
    grpc::ClientContext ctx;
    v1::ListPeersResponse peers;
    auto operator_stub = fed_->Office("RS", "operator");
    if (!operator_stub->ListPeers(&ctx, v1::ListPeersRequest(), &peers).ok()) {
      return {0, "ListPeers failed"};
    }
    for (const v1::PeerStatus& p : peers.peers()) {
      if (p.member() == kNode) return {p.cosigned_size(), p.witness_alert()};
    }
    return {0, "MK not listed"};
  }

  // Waits until RS has cosigned a checkpoint of MK's log larger than
  // `above`; its size.
  uint64_t WaitCosignedAbove(uint64_t above) {
    const auto deadline = Clock::now() + Scaled(std::chrono::seconds(30));
    while (Clock::now() < deadline) {
      auto [size, alert] = Witnessed();
      EXPECT_EQ(alert, "");
      if (size > above) return size;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "RS never cosigned MK's log past " << above;
    return 0;
  }

  // Exports MK's whole log as the auditor sees it (up to the witnessed
  // checkpoint), checking indices and inclusion proofs; the entries.
  std::vector<v1::AuditEntry> ExportAll() {
    std::vector<v1::AuditEntry> entries;
    auto auditor = fed_->Office(kNode, "auditor");
    grpc::ClientContext cp_ctx;
    v1::AuditCheckpointResponse cp;
    grpc::Status s =
        auditor->AuditCheckpoint(&cp_ctx, v1::AuditCheckpointRequest(), &cp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto opened = note::OpenCheckpoint(cp.checkpoint(), kOrigin, *verifier_);
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (!s.ok() || !opened.ok()) return entries;
    const note::Checkpoint& checkpoint = opened->checkpoint;
    grpc::ClientContext ctx;
    v1::AuditExportRequest req;
    req.set_begin(0);
    req.set_end(checkpoint.size);
    req.set_size(checkpoint.size);
    auto reader = auditor->AuditExport(&ctx, req);
    v1::AuditExportChunk chunk;
    while (reader->Read(&chunk)) {
      for (const v1::AuditExportedEntry& e : chunk.entries()) {
        EXPECT_EQ(e.index(), entries.size()) << "not contiguous";
        v1::AuditEntry entry;
        EXPECT_TRUE(entry.ParseFromString(e.leaf()));
        EXPECT_EQ(entry.sequence(), e.index());
        std::vector<Bytes> proof(e.inclusion_proof().begin(),
                                 e.inclusion_proof().end());
        const absl::Status included = merkle::VerifyInclusion(
            e.index(), checkpoint.size, merkle::LeafHash(e.leaf()), proof,
            checkpoint.root_hash);
        EXPECT_TRUE(included.ok()) << e.index() << ": " << included;
        entries.push_back(std::move(entry));
      }
    }
    s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(entries.size(), checkpoint.size);
    return entries;
  }

  std::set<std::string> StoredCases() {
    std::set<std::string> present;
    auto office = fed_->Office(kNode);
    v1::ListCasesRequest req;
    req.set_page_size(1000);
    do {
      grpc::ClientContext ctx;
      v1::ListCasesResponse page;
      const grpc::Status s = office->ListCases(&ctx, req, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const v1::Case& c : page.cases()) present.insert(c.case_number());
      req.set_page_token(page.next_page_token());
    } while (!req.page_token().empty());
    return present;
  }

  std::unique_ptr<PgCluster> primary_;
  std::unique_ptr<PgCluster> replica_;
  std::string conninfo_;
  std::unique_ptr<Federation> fed_;
  std::unique_ptr<note::Verifier> verifier_;
};

TEST_F(PgPromotionTest, TheNodeContinuesOnThePromotedReplicaLosingNothing) {
  {
    // The case RS's queries are made for.
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    v1::Case out;
    const grpc::Status s =
        fed_->Office("RS")->AddCase(&ctx, CaseRequest("RS-2026-1"), &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const uint64_t cosigned_before = WaitCosignedAbove(0);
  std::atomic<bool> stop{false};
  Load load;
  std::thread runner([&] { RunLoad(stop, load); });
  std::this_thread::sleep_for(Scaled(std::chrono::seconds(3)));

  size_t acked_before_stop;
  {
    std::lock_guard<std::mutex> lock(load.mu);
    acked_before_stop = load.acked.size();
  }
  const Clock::time_point stopped = Clock::now();
  ASSERT_TRUE(primary_->StopImmediately().ok());
  // As an operator's (or a cluster manager's) reaction takes a moment.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const Clock::time_point promoting = Clock::now();
  ASSERT_TRUE(replica_->Promote().ok());
  const Clock::time_point promoted = Clock::now();

  // Calls succeed again by themselves.
  Clock::time_point resumed{};
  const auto deadline = Clock::now() + Scaled(std::chrono::seconds(30));
  while (resumed == Clock::time_point{} && Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(load.mu);
      for (const Clock::time_point& at : load.acked_at) {
        if (at > promoted) {
          resumed = at;
          break;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(Scaled(std::chrono::seconds(3)));
  stop = true;
  runner.join();
  ASSERT_NE(resumed, Clock::time_point{}) << "MK never served again";
  std::printf(
      "  primary stopped; promote took %.2f s; first AddCase acknowledged "
      "%.2f s after the promotion returned, %.2f s after the stop; %zu cases "
      "acknowledged (%zu before the stop), %d calls failed over, %d RS "
      "queries answered\n",
      Seconds(promoted - promoting), Seconds(resumed - promoted),
      Seconds(resumed - stopped), load.acked.size(), acked_before_stop,
      load.failed_calls, load.answered_queries);
  EXPECT_TRUE(load.unexpected.empty()) << load.unexpected.front();
  EXPECT_LE(load.unknown_outcome.size(), 2u);  // one per AddCase thread
  std::printf("  %zu AddCase answered UNKNOWN (outcome unknown at the crash)\n",
              load.unknown_outcome.size());
  EXPECT_GT(load.answered_queries, 0);

  // Every acknowledged case is there.
  const std::set<std::string> stored = StoredCases();
  for (const std::string& number : load.acked) {
    EXPECT_TRUE(stored.count(number)) << "acknowledged case lost: " << number;
  }
  // RS witnesses the log past the promotion without finding a fork.
  const uint64_t cosigned_after = WaitCosignedAbove(cosigned_before);
  EXPECT_GT(cosigned_after, cosigned_before);
  // Wait for a witnessed checkpoint covering the last AddCase.
  std::vector<v1::AuditEntry> entries;
  const auto export_deadline = Clock::now() + Scaled(std::chrono::seconds(20));
  size_t added = 0, voided = 0;
  do {
    entries = ExportAll();
    added = voided = 0;
    for (const v1::AuditEntry& e : entries) {
      if (e.rpc() != "Office.AddCase") continue;
      if (e.kind() == "not_applied") {
        ++voided;
      } else if (e.outcome().status_code() == 0) {
        ++added;
      }
    }
    if (added >= voided + stored.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (Clock::now() < export_deadline);
  // Log before effect (spec/audit-log.md §2.10): an entry is durable
  // before its case commits, and one whose commit then failed is voided
  // (not_applied) — or, when the log could not take the void either (both
  // lost with the primary), the node says so in its event log
  // (ALERT-audit-entry-without-effect). An entry whose own COMMIT lost its
  // answer with the primary is voided when the log recovers on the
  // promoted replica (§2.10, "An append whose answer is lost"; this test
  // found that case). So: an OK entry for every stored
  // case, and none beyond them but the alerted ones (none twice).
  // A COMMIT whose outcome stayed unknown (UNKNOWN to the office) is not
  // voided either: the node alerts ALERT-commit-outcome-unknown instead.
  const std::string log = Slurp(fed_->LogOf(kNode));
  size_t without_effect = 0;
  for (const char* alert :
       {"ALERT-audit-entry-without-effect", "ALERT-commit-outcome-unknown"}) {
    for (size_t at = log.find(alert); at != std::string::npos;
         at = log.find(alert, at + 1)) {
      ++without_effect;
    }
  }
  std::printf(
      "  %zu cases stored; audit log: %zu entries, %zu OK Office.AddCase, "
      "%zu voided, %zu entries without effect or of unknown outcome "
      "alerted\n",
      stored.size(), entries.size(), added, voided, without_effect);
  EXPECT_GE(added - voided, stored.size()) << "a stored case has no entry";
  EXPECT_LE(added - voided, stored.size() + without_effect)
      << "entries without a case, not voided nor alerted";
  EXPECT_GE(stored.size(), load.acked.size());

  EXPECT_EQ(log.find(kPassword), std::string::npos);
  EXPECT_NE(log.find("password=<redacted>"), std::string::npos);
  EXPECT_EQ(Slurp(fed_->LogOf("RS")).find("ALERT-inconsistent-checkpoint"),
            std::string::npos);
}

}  // namespace
}  // namespace cbx::testing
