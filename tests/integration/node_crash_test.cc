// The node crash loop (spec/audit-log.md §2, "Crash safety"): a real
// cbx-node (RS) under concurrent load — peers' Evaluate envelopes, forged
// envelopes it must refuse, its office adding cases, a peer fetching its
// checkpoints, and two live witnesses (MK, BA) — is SIGKILLed at a random
// moment, sometimes while it is still starting, then restarted and checked:
//
//   - every envelope it answered (accepted or refused) is in its audit log,
//     as RECEIVED, with the status code it answered;
//   - the exported entries have contiguous indices equal to their sequence
//     numbers and verify against the checkpoint they were exported with;
//   - every case it acknowledged is still there;
//   - every checkpoint it served before the kill is consistent with the
//     checkpoint it serves after (proof from the node, checked here);
//   - both databases pass PRAGMA integrity_check after every kill;
//   - its witnesses never found its log inconsistent;
//   - at the end (and every kFullCheckEvery cycles) the whole log is
//     re-checked offline with AuditLog::Verify (every leaf, subtree and
//     stored checkpoint).
//
// CBX_NODE_CRASH_CYCLES sets the number of cycles (default 24, about a
// minute; `make soak` runs 1,000). The random seed is printed and
// CBX_NODE_CRASH_SEED replays one.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cbx/v1/audit.pb.h"
#include "core/envelope/envelope.h"
#include "core/merkle/hash.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/verifier.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"
#include "node/audit/audit_log.h"
#include "node/audit/testing/test_util.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

using ::cbx::node::audit::testing::EnvNumber;
using ::cbx::node::audit::testing::RawQuery;

constexpr char kNode[] = "RS";
constexpr char kOrigin[] = "cbx/RS/audit";
constexpr int kEvaluateThreads = 3;
constexpr int kFullCheckEvery = 50;

// Codes a call gets when the node died under it or was not up: nothing was
// acknowledged. Every other code is an answer from the node itself.
bool NotAnswered(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED ||
         code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::INTERNAL;
}

// What the node acknowledged during one cycle, from every load thread.
struct Acknowledged {
  std::mutex mu;
  // EnvelopeSha256 of each envelope the node answered -> the code it
  // answered with.
  std::map<Bytes, int> envelopes;
  std::vector<std::string> cases;
  std::vector<std::string> checkpoints;  // notes served by GetCheckpoint
  std::vector<std::string> unexpected;   // answers no load should get
};

class NodeCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    options.edit_spec = [](nlohmann::json& spec) {
      spec["policy"]["evaluations_per_peer_per_day"] = 100'000'000;
    };
    options.edit_config = [](const std::string& cc, nlohmann::json& config) {
      if (cc != kNode) return;
      config["audit"]["checkpoint_interval_ms"] = 300;
      config["audit"]["checkpoint_every_entries"] = 50;
    };
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = *std::move(f);
    absl::Status started = fed_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
    auto verifier =
        note::Verifier::Create(kOrigin, note::SignatureType::kEd25519,
                               fed_->SigningKey(kNode).public_key());
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = std::make_unique<note::Verifier>(*std::move(verifier));
  }

  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  std::string AuditDb() const {
    return fed_->NodeDir(kNode) + "/data/audit.db";
  }
  std::string NodeDb() const { return fed_->NodeDir(kNode) + "/data/node.db"; }

  // Runs the load until `stop`; records what the node acknowledged.
  void RunLoad(uint64_t cycle, std::atomic<bool>& stop, Acknowledged& acked) {
    std::vector<std::thread> threads;
    auto evaluate = fed_->PeerAs(kNode, "MK");
    auto deadline = [] {
      return std::chrono::system_clock::now() + Scaled(std::chrono::seconds(5));
    };
    auto answered = [&acked](const v1::Envelope& env, grpc::StatusCode code,
                             grpc::StatusCode expected) {
      if (NotAnswered(code)) return;
      std::lock_guard<std::mutex> lock(acked.mu);
      if (code != expected) {
        acked.unexpected.push_back(absl::StrCat("Evaluate answered ", code));
      }
      acked.envelopes[envelope::EnvelopeSha256(env)] = code;
    };
    for (int t = 0; t < kEvaluateThreads; ++t) {
      threads.emplace_back([&] {
        while (!stop.load()) {
          v1::Envelope env = SealAs(*fed_, "MK", kNode,
                                    [](v1::Message& m) { FillEvaluate(m); });
          grpc::ClientContext ctx;
          ctx.set_deadline(deadline());
          v1::Envelope reply;
          grpc::Status s = evaluate->Evaluate(&ctx, env, &reply);
          answered(env, s.error_code(), grpc::StatusCode::OK);
          if (NotAnswered(s.error_code())) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
      });
    }
    // Envelopes with a broken signature: refused, and logged as refused.
    threads.emplace_back([&] {
      auto forged_stub = fed_->PeerAs(kNode, "BA");
      while (!stop.load()) {
        v1::Envelope env =
            SealAs(*fed_, "BA", kNode, [](v1::Message& m) { FillEvaluate(m); });
        (*env.mutable_signature())[7] ^= 1;
        grpc::ClientContext ctx;
        ctx.set_deadline(deadline());
        v1::Envelope reply;
        grpc::Status s = forged_stub->Evaluate(&ctx, env, &reply);
        answered(env, s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        // At most about 90 in a cycle's 1.35 s: within BA's budget of 100
        // refusals a minute logged one by one (spec/audit-log.md §2.12).
        std::this_thread::sleep_for(
            std::chrono::milliseconds(NotAnswered(s.error_code()) ? 20 : 15));
      }
    });
    // RS's prosecutor adds cases.
    threads.emplace_back([&, cycle] {
      auto office = fed_->Office(kNode);
      for (int n = 0; !stop.load(); ++n) {
        v1::AddCaseRequest req;
        v1::Case* c = req.mutable_case_();
        const std::string number = absl::StrCat("RS-CRASH-", cycle, "-", n);
        c->set_case_number(number);
        v1::Identifier* id = c->add_identifiers();
        id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
        id->set_value(absl::StrCat("crash_loop_", cycle, "_", n));
        c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
        c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
        c->set_contact_point("+000 duty prosecutor (fictional)");
        grpc::ClientContext ctx;
        ctx.set_deadline(deadline());
        v1::Case out;
        grpc::Status s = office->AddCase(&ctx, req, &out);
        if (NotAnswered(s.error_code())) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        std::lock_guard<std::mutex> lock(acked.mu);
        if (s.ok()) {
          acked.cases.push_back(number);
        } else {
          acked.unexpected.push_back("AddCase answered " + s.error_message());
        }
      }
    });
    // MK's view of RS's checkpoints, as a witness fetches them.
    threads.emplace_back([&] {
      auto peer = fed_->PeerAs(kNode, "MK");
      while (!stop.load()) {
        grpc::ClientContext ctx;
        ctx.set_deadline(deadline());
        v1::GetCheckpointResponse resp;
        grpc::Status s =
            peer->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp);
        if (s.ok()) {
          std::lock_guard<std::mutex> lock(acked.mu);
          acked.checkpoints.push_back(resp.checkpoint());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    });
    for (auto& t : threads) t.join();
  }

  // The latest checkpoint RS serves, with a consistency proof from `since`;
  // checks both.
  absl::StatusOr<note::Checkpoint> CheckpointSince(
      const note::Checkpoint& since) {
    auto peer = fed_->PeerAs(kNode, "MK");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(10)));
    v1::GetCheckpointRequest req;
    req.set_since_size(since.size);
    v1::GetCheckpointResponse resp;
    grpc::Status s = peer->GetCheckpoint(&ctx, req, &resp);
    if (!s.ok()) {
      return absl::UnavailableError("GetCheckpoint: " + s.error_message());
    }
    auto opened = note::OpenCheckpoint(resp.checkpoint(), kOrigin, *verifier_);
    if (!opened.ok()) return opened.status();
    const note::Checkpoint& now = opened->checkpoint;
    if (now.size < since.size) {
      return absl::DataLossError(
          absl::StrCat("served ", now.size, " after ", since.size));
    }
    if (since.size > 0) {
      std::vector<Bytes> proof(resp.consistency_proof().begin(),
                               resp.consistency_proof().end());
      absl::Status consistent =
          now.size == since.size
              ? (now.root_hash == since.root_hash
                     ? absl::OkStatus()
                     : absl::DataLossError("two roots at one size"))
              : merkle::VerifyConsistency(since.size, now.size, proof,
                                          since.root_hash, now.root_hash);
      if (!consistent.ok()) {
        return absl::DataLossError(absl::StrCat(
            "checkpoint ", now.size, " is not consistent with checkpoint ",
            since.size, " served before the kill: ", consistent.message()));
      }
    }
    return now;
  }

  // Exports [begin, end of the latest checkpoint) as an auditor, checks
  // indices and inclusion proofs, and adds each RECEIVED envelope hash with
  // its code to *logged. Returns the checkpoint's size.
  absl::StatusOr<uint64_t> ExportFrom(uint64_t begin,
                                      std::map<Bytes, int>* logged) {
    auto auditor = fed_->Office(kNode, "auditor");
    grpc::ClientContext cp_ctx;
    v1::AuditCheckpointResponse cp;
    grpc::Status s =
        auditor->AuditCheckpoint(&cp_ctx, v1::AuditCheckpointRequest(), &cp);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    auto opened = note::OpenCheckpoint(cp.checkpoint(), kOrigin, *verifier_);
    if (!opened.ok()) return opened.status();
    const note::Checkpoint& checkpoint = opened->checkpoint;
    if (checkpoint.size <= begin) return checkpoint.size;
    grpc::ClientContext ctx;
    v1::AuditExportRequest req;
    req.set_begin(begin);
    req.set_end(checkpoint.size);
    req.set_size(checkpoint.size);
    auto reader = auditor->AuditExport(&ctx, req);
    v1::AuditExportChunk chunk;
    uint64_t next = begin;
    while (reader->Read(&chunk)) {
      for (const v1::AuditExportedEntry& e : chunk.entries()) {
        if (e.index() != next) {
          return absl::DataLossError(
              absl::StrCat("exported index ", e.index(), ", expected ", next));
        }
        ++next;
        v1::AuditEntry entry;
        if (!entry.ParseFromString(e.leaf()) || entry.sequence() != e.index()) {
          return absl::DataLossError(
              absl::StrCat("leaf ", e.index(), " has another sequence"));
        }
        std::vector<Bytes> proof(e.inclusion_proof().begin(),
                                 e.inclusion_proof().end());
        absl::Status included = merkle::VerifyInclusion(
            e.index(), checkpoint.size, merkle::LeafHash(e.leaf()), proof,
            checkpoint.root_hash);
        if (!included.ok()) {
          return absl::DataLossError(
              absl::StrCat("leaf ", e.index(), ": ", included.message()));
        }
        if (entry.direction() == v1::AUDIT_DIRECTION_RECEIVED &&
            entry.rpc() == "Peer.Evaluate") {
          (*logged)[entry.envelope_sha256()] = entry.outcome().status_code();
        }
      }
    }
    s = reader->Finish();
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    if (next != checkpoint.size) {
      return absl::DataLossError(absl::StrCat("export ended at ", next));
    }
    return checkpoint.size;
  }

  // Stops RS and re-checks its whole log offline; restarts it.
  void FullCheck() {
    fed_->Stop(kNode);
    node::audit::AuditLogOptions options;
    auto log = node::audit::AuditLog::Open(AuditDb(), options);
    ASSERT_TRUE(log.ok()) << log.status();
    absl::Status verified = (*log)->Verify();
    EXPECT_TRUE(verified.ok()) << verified;
    log->reset();
    absl::Status started = fed_->Start(kNode);
    ASSERT_TRUE(started.ok()) << started;
  }

  std::unique_ptr<Federation> fed_;
  std::unique_ptr<note::Verifier> verifier_;
};

TEST_F(NodeCrashTest, SigkillUnderLoadLosesNothingAcknowledged) {
  const uint64_t cycles = EnvNumber("CBX_NODE_CRASH_CYCLES", 24);
  const uint64_t seed =
      EnvNumber("CBX_NODE_CRASH_SEED", std::random_device{}());
  std::printf("  node crash loop: %llu cycles, CBX_NODE_CRASH_SEED=%llu\n",
              static_cast<unsigned long long>(cycles),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  note::Checkpoint trusted;  // size 0: nothing yet
  uint64_t exported_to = 0;  // entries below this were checked
  std::set<std::string> cases;
  uint64_t total_envelopes = 0, total_refused = 0, total_cases = 0,
           total_checkpoints = 0, kills_while_starting = 0;
  const auto began = std::chrono::steady_clock::now();
  for (uint64_t cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle, " (seed ", seed, ")"));
    Acknowledged acked;
    if (rng() % 5 == 0) {
      // Killed while starting: opening the databases, or before serving.
      fed_->Kill(kNode);
      ASSERT_TRUE(fed_->Spawn(kNode).ok());
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 400'000));
      fed_->Kill(kNode);
      ++kills_while_starting;
      ASSERT_EQ(RawQuery(AuditDb(), "PRAGMA integrity_check"), "ok");
      ASSERT_EQ(RawQuery(NodeDb(), "PRAGMA integrity_check"), "ok");
      absl::Status started = fed_->Start(kNode);
      ASSERT_TRUE(started.ok()) << started;
    }
    std::atomic<bool> stop{false};
    std::thread load([&] { RunLoad(cycle, stop, acked); });
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 1200));
    fed_->Kill(kNode);
    stop.store(true);
    load.join();
    EXPECT_TRUE(acked.unexpected.empty()) << acked.unexpected.front();

    ASSERT_EQ(RawQuery(AuditDb(), "PRAGMA integrity_check"), "ok");
    ASSERT_EQ(RawQuery(NodeDb(), "PRAGMA integrity_check"), "ok");
    absl::Status started = fed_->Start(kNode);
    ASSERT_TRUE(started.ok()) << started;

    // Every checkpoint served before the kill is extended by the log now.
    std::map<uint64_t, note::Checkpoint> served;
    for (const std::string& note : acked.checkpoints) {
      auto opened = note::OpenCheckpoint(note, kOrigin, *verifier_);
      ASSERT_TRUE(opened.ok()) << opened.status() << "\n" << note;
      auto [it, inserted] =
          served.emplace(opened->checkpoint.size, opened->checkpoint);
      ASSERT_EQ(it->second.root_hash, opened->checkpoint.root_hash)
          << "two roots served for size " << it->first;
    }
    served.emplace(trusted.size, trusted);
    for (const auto& [size, cp] : served) {
      absl::StatusOr<note::Checkpoint> now = CheckpointSince(cp);
      ASSERT_TRUE(now.ok()) << now.status();
      trusted = std::max(trusted, *now, [](const auto& a, const auto& b) {
        return a.size < b.size;
      });
    }

    // Every envelope answered is logged with its answer: read the log from
    // where the last cycle's check ended, as checkpoints come to cover it.
    std::map<Bytes, int> logged;
    auto wait_until =
        std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
    size_t missing = acked.envelopes.size();
    while (true) {
      absl::StatusOr<uint64_t> size = ExportFrom(exported_to, &logged);
      ASSERT_TRUE(size.ok()) << size.status();
      exported_to = std::max(exported_to, *size);
      missing = 0;
      for (const auto& [sha, code] : acked.envelopes) {
        auto it = logged.find(sha);
        if (it == logged.end()) {
          ++missing;
        } else {
          EXPECT_EQ(it->second, code) << "logged with another code";
        }
      }
      if (missing == 0 || std::chrono::steady_clock::now() > wait_until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(missing, 0u) << missing << " of " << acked.envelopes.size()
                           << " acknowledged envelopes are not in the log";

    // Every acknowledged case is still there.
    for (const std::string& c : acked.cases) cases.insert(c);
    {
      auto office = fed_->Office(kNode);
      std::set<std::string> present;
      v1::ListCasesRequest req;
      req.set_page_size(1000);
      do {
        grpc::ClientContext ctx;
        v1::ListCasesResponse page;
        grpc::Status s = office->ListCases(&ctx, req, &page);
        ASSERT_TRUE(s.ok()) << s.error_message();
        for (const v1::Case& c : page.cases()) present.insert(c.case_number());
        req.set_page_token(page.next_page_token());
      } while (!req.page_token().empty());
      for (const std::string& c : cases) {
        ASSERT_TRUE(present.count(c)) << "acknowledged case lost: " << c;
      }
    }

    total_envelopes += acked.envelopes.size();
    for (const auto& [sha, code] : acked.envelopes) total_refused += code != 0;
    total_cases += acked.cases.size();
    total_checkpoints += served.size() - 1;
    if ((cycle + 1) % kFullCheckEvery == 0) FullCheck();
  }
  FullCheck();
  // The witnesses cosigned RS's log throughout and never saw a fork.
  for (const char* witness : {"MK", "BA"}) {
    EXPECT_EQ(Slurp(fed_->LogOf(witness)).find("ALERT-inconsistent-checkpoint"),
              std::string::npos)
        << witness;
  }
  EXPECT_GT(total_envelopes, 0u);
  EXPECT_GT(total_cases, 0u);
  std::printf(
      "  node crash loop: %llu cycles (%llu killed while starting) in %.0f s: "
      "%llu envelopes answered (%llu refused), %llu cases, %llu distinct "
      "checkpoints served, all kept; log size %llu\n",
      static_cast<unsigned long long>(cycles),
      static_cast<unsigned long long>(kills_while_starting),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
          .count(),
      static_cast<unsigned long long>(total_envelopes),
      static_cast<unsigned long long>(total_refused),
      static_cast<unsigned long long>(total_cases),
      static_cast<unsigned long long>(total_checkpoints),
      static_cast<unsigned long long>(exported_to));
}

}  // namespace
}  // namespace cbx::testing
