// A federation that lives through change while queries run (issue 10, "One
// scenario test under load"): real cbx-node processes for MK, RS, AL, BA
// and HR on loopback, ME added during the run, and two offices of MK
// (PPO-Skopje and PPO-Bitola) querying without pause — identifiers with a
// case at RS, AL, BA, HR and (from step 5) ME, and one nobody has. In
// order:
//
//   1. RS rotates its OPRF key (spec/oprf.md §2.1);
//   2. RS rotates its node signing key, the next key published ahead with
//      an overlap (spec/keys.md §4);
//   3. AL's TLS certificate is renewed by replacing its files (keys.md §5.1);
//   4. BA changes CA: a version adds the new CA, BA's certificate from it is
//      put in place, a version removes the old CA (keys.md §4, §5.2);
//   5. ME joins: a version lists it, it starts with it installed, syncs, is
//      witnessed, and its case hits from MK (directory.md §6.1);
//   6. HR is suspended (directory.md §6.1);
//   7. MK's CA revokes the Skopje office's certificate, and AL's CA revokes
//      AL's node certificate, by CRL (keys.md §5.3).
//
// Every office call and every peer answer is recorded in the phase it
// started in: each step has a change phase (the operator's action until the
// federation reached the new state) and a settled phase (at least one round
// of every identifier from each office after it). After each step: no
// silent miss anywhere (the owner of a case answering MISS), refusals only
// the documented ones for that step, none at all once settled, and the
// latest checkpoint of every live member cosigned by the policy's number of
// witnesses within a bounded wait. At the end an auditor runs `cbx audit
// verify` (consistency from the checkpoint it trusted before step 1: RS's
// log then spans two node keys), `export` and `verify-export` for every
// member's log from the pinned genesis. The figures per step are printed
// as a table (stdout, so the ctest log keeps it).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cbx/v1/office.grpc.pb.h"
#include "cbx/v1/peer.grpc.pb.h"
#include "client/names.h"
#include "core/util/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/integration/federation_ops.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kSkopje[] = "PPO-Skopje";  // its certificate is revoked in 7
constexpr char kBitola[] = "PPO-Bitola";
// The policy's witness_threshold (make-federation.sh: 2 for 3+ members).
constexpr size_t kWitnessThreshold = 2;

// One identifier the offices ask for, and the member holding its case ("" :
// nobody).
struct Probe {
  std::string telegram;
  std::string owner;
};

// What one office saw in one phase.
struct Figures {
  int64_t calls = 0;
  int64_t ok = 0;       // calls that finished OK
  int64_t clean = 0;    // OK and no peer answered ERROR
  int64_t answers = 0;  // peer answers
  // Answers from the owner of the case asked for, but for timeouts.
  int64_t hits_expected = 0;
  int64_t hits_got = 0;
  // "<member> <CODE>: <message>" ("-" as member: the call itself) -> count.
  std::map<std::string, int64_t> errors;
  std::vector<std::string> silent_misses;          // the owner answered MISS
  std::vector<std::string> unexpected_hits;        // a HIT from another member
  std::map<std::string, int64_t> owner_not_asked;  // owner -> times

  void Add(const Figures& o) {
    calls += o.calls;
    ok += o.ok;
    clean += o.clean;
    answers += o.answers;
    hits_expected += o.hits_expected;
    hits_got += o.hits_got;
    for (const auto& [k, n] : o.errors) errors[k] += n;
    silent_misses.insert(silent_misses.end(), o.silent_misses.begin(),
                         o.silent_misses.end());
    unexpected_hits.insert(unexpected_hits.end(), o.unexpected_hits.begin(),
                           o.unexpected_hits.end());
    for (const auto& [k, n] : o.owner_not_asked) owner_not_asked[k] += n;
  }
};

// A refusal a phase may show: from `member` ("-": the office call itself),
// with `code` and `needle` in its message, to `office` ("" : either).
struct Refusal {
  std::string office;
  std::string member;
  std::string code;
  std::string needle;
};

// Two offices of MK querying in a loop, one thread each; every call is
// recorded in the phase current when it started.
//
// Threading model: one thread per office plus the test thread; figures and
// the probe list are guarded by mu_; the phase is an atomic.
class OfficeLoad {
 public:
  struct Office {
    std::string name;
    std::shared_ptr<grpc::Channel> channel;
    std::string case_number;  // its own open case, the queries' purpose
  };

  explicit OfficeLoad(std::vector<Probe> probes) : probes_(std::move(probes)) {}
  ~OfficeLoad() { Stop(); }

  void Start(std::vector<Office> offices) {
    for (Office& o : offices) {
      names_.push_back(o.name);
      threads_.emplace_back([this, o] { Run(o); });
    }
  }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  void AddProbe(Probe p) {
    std::lock_guard<std::mutex> lock(mu_);
    probes_.push_back(std::move(p));
  }
  size_t probe_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return probes_.size();
  }
  void SetPhase(int phase) { phase_ = phase; }
  int phase() const { return phase_; }

  Figures Of(int phase, const std::string& office) {
    std::lock_guard<std::mutex> lock(mu_);
    return figures_[phase][office];
  }
  Figures Total(int phase) {
    std::lock_guard<std::mutex> lock(mu_);
    Figures total;
    for (const auto& [office, f] : figures_[phase]) total.Add(f);
    return total;
  }
  // Waits until each office finished `calls` calls started in the current
  // phase.
  bool WaitCalls(int64_t calls, milliseconds timeout) {
    const int phase = phase_;
    return WaitUntil(
        [&] {
          for (const std::string& name : names_) {
            if (Of(phase, name).calls < calls) return false;
          }
          return true;
        },
        timeout);
  }
  const std::vector<std::string>& offices() const { return names_; }

 private:
  void Run(const Office& office) {
    auto stub = v1::Office::NewStub(office.channel);
    for (size_t n = 0; !stop_; ++n) {
      Probe probe;
      {
        std::lock_guard<std::mutex> lock(mu_);
        probe = probes_[n % probes_.size()];
      }
      const int phase = phase_;
      Figures f = QueryOnce(*stub, probe, office.case_number);
      {
        std::lock_guard<std::mutex> lock(mu_);
        figures_[phase][office.name].Add(f);
      }
      // A steady pace rather than flat out: two cores carry six nodes.
      std::this_thread::sleep_for(milliseconds(30));
    }
  }

  static Figures QueryOnce(v1::Office::Stub& stub, const Probe& probe,
                           const std::string& case_number) {
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram(probe.telegram);
    req.mutable_purpose()->set_case_number(case_number);
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(20)));
    // A connection that failed under load is retried, not a refusal.
    ctx.set_wait_for_ready(true);
    auto reader = stub.Query(&ctx, req);
    Figures f;
    f.calls = 1;
    bool owner_asked = false, any_error = false;
    v1::QueryEvent event;
    while (reader->Read(&event)) {
      if (!event.has_answer()) continue;
      const v1::PeerAnswer& a = event.answer();
      ++f.answers;
      const bool owner = a.member() == probe.owner;
      owner_asked = owner_asked || owner;
      const bool timeout =
          a.outcome() == v1::PEER_OUTCOME_ERROR &&
          a.status_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      // An owner's error answer is either a documented refusal or fails
      // the step (ExpectOnlyAllowed); only its other answers must hit.
      if (owner && a.outcome() != v1::PEER_OUTCOME_ERROR) ++f.hits_expected;
      switch (a.outcome()) {
        case v1::PEER_OUTCOME_HIT:
          if (owner) {
            ++f.hits_got;
          } else {
            f.unexpected_hits.push_back(a.member() + " for " + probe.telegram);
          }
          break;
        case v1::PEER_OUTCOME_MISS:
          if (owner) f.silent_misses.push_back(a.member());
          break;
        default:
          any_error = true;
          f.errors[absl::StrCat(a.member(), " ",
                                client::StatusCodeName(a.status_code()), ": ",
                                a.error().substr(0, 300))]++;
      }
    }
    grpc::Status s = reader->Finish();
    if (s.ok()) {
      ++f.ok;
      if (!any_error) ++f.clean;
    } else {
      f.errors[absl::StrCat("- ", client::StatusCodeName(s.error_code()), ": ",
                            s.error_message().substr(0, 300))]++;
    }
    if (s.ok() && !probe.owner.empty() && !owner_asked) {
      f.owner_not_asked[probe.owner]++;
    }
    return f;
  }

  std::mutex mu_;
  std::vector<Probe> probes_;                              // guarded by mu_
  std::map<int, std::map<std::string, Figures>> figures_;  // guarded by mu_
  std::atomic<int> phase_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::string> names_;
  std::vector<std::thread> threads_;
};

// The errors in `f` that are not a peer's timeout, joined; "" for none.
std::string RefusalsOf(const Figures& f) {
  std::string out;
  for (const auto& [error, n] : f.errors) {
    if (absl::StrContains(error, " DEADLINE_EXCEEDED: ") &&
        absl::StrContains(error, " did not answer within ")) {
      continue;
    }
    absl::StrAppend(&out, n, " x ", error, "; ");
  }
  return out;
}

class LifecycleScenarioTest : public ::testing::Test {
 protected:
  static constexpr const char* kMembers[] = {"MK", "RS", "AL",
                                             "BA", "HR", "ME"};

  void SetUp() override;
  void TearDown() override {
    if (load_ != nullptr) load_->Stop();
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  // The running members.
  std::vector<std::string> Running() const {
    std::vector<std::string> out;
    for (const char* cc : kMembers) {
      if (fed_->Pid(cc) != 0) out.push_back(cc);
    }
    return out;
  }
  std::string Roots(const std::string& cc) { return roots_[cc]; }
  std::string RootsFile(const std::string& cc) {
    std::string path = fed_->dir() + "/roots-" + cc + ".pem";
    std::ofstream(path) << roots_[cc];
    return path;
  }
  // A channel of MK's prosecutor office `office`, and the case it queries
  // under.
  std::shared_ptr<grpc::Channel> MkOfficeChannel(const std::string& office) {
    const std::string stem =
        fed_->NodeDir("MK") + "/offices/" + office + "-prosecutor";
    return OfficeChannelWith(*fed_, "MK", stem + ".crt", stem + ".key",
                             Roots("MK"));
  }
  static std::string OfficeCase(const std::string& office) {
    return office == kSkopje ? "MK-2026-0500" : "MK-2026-0501";
  }
  std::unique_ptr<v1::Office::Stub> OfficeOf(const std::string& cc,
                                             const std::string& role) {
    std::string cert = fed_->OfficeCertificate(cc, role);
    return v1::Office::NewStub(OfficeChannelWith(
        *fed_, cc, cert, cert.substr(0, cert.size() - 4) + ".key", Roots(cc)));
  }
  // A Peer stub to `target` presenting `as`'s node certificate.
  std::unique_ptr<v1::Peer::Stub> PeerAs(const std::string& target,
                                         const std::string& as) {
    return v1::Peer::NewStub(
        PeerChannelWith(*fed_, target, fed_->NodeDir(as) + "/node.crt",
                        fed_->NodeDir(as) + "/node.key", Roots(target)));
  }
  grpc::Status GetDirectory(v1::Peer::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
    ctx.set_wait_for_ready(true);
    v1::GetDirectoryResponse resp;
    return stub.GetDirectory(&ctx, v1::GetDirectoryRequest(), &resp);
  }
  uint64_t DirectoryVersion(const std::string& cc) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
    ctx.set_wait_for_ready(true);
    v1::ListPeersResponse resp;
    if (!OfficeOf(cc, "operator")
             ->ListPeers(&ctx, v1::ListPeersRequest(), &resp)
             .ok()) {
      return 0;
    }
    return resp.directory_version();
  }
  // The serial `target`'s Peer port presents on a new connection.
  std::string PresentedSerial(const std::string& target) {
    auto channel =
        PeerChannelWith(*fed_, target, fed_->NodeDir("MK") + "/node.crt",
                        fed_->NodeDir("MK") + "/node.key", Roots(target));
    auto stub = v1::Peer::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
    ctx.set_wait_for_ready(true);
    v1::GetDirectoryResponse resp;
    if (!stub->GetDirectory(&ctx, v1::GetDirectoryRequest(), &resp).ok()) {
      return "";
    }
    auto pems = ctx.auth_context()->FindPropertyValues("x509_pem_cert");
    if (pems.empty()) return "";
    const std::string file = fed_->dir() + "/presented.pem";
    std::ofstream(file) << std::string(pems.front().data(),
                                       pems.front().size());
    return OperatorPki::Serial(file);
  }
  std::string Log(const std::string& cc) { return Slurp(fed_->LogOf(cc)); }
  // Waits until MK's copy of each of `counts`' indexes holds that many tags
  // and was synced after `after_ms`.
  absl::Status WaitForMkIndex(const std::map<std::string, uint64_t>& counts,
                              int64_t after_ms = 0) {
    std::string last;
    bool done = WaitUntil(
        [&] {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() +
                           Scaled(seconds(15)));
          ctx.set_wait_for_ready(true);
          v1::ListPeersResponse resp;
          grpc::Status s = OfficeOf("MK", "operator")
                               ->ListPeers(&ctx, v1::ListPeersRequest(), &resp);
          if (!s.ok()) {
            last = s.error_message();
            return false;
          }
          size_t good = 0;
          last.clear();
          for (const v1::PeerStatus& p : resp.peers()) {
            auto it = counts.find(p.member());
            if (it == counts.end()) continue;
            good +=
                p.index_count() == it->second && p.last_sync_ms() > after_ms;
            absl::StrAppend(&last, p.member(), "=", p.index_count(), "@",
                            p.last_sync_ms(), " ");
          }
          return good == counts.size();
        },
        seconds(30));
    if (done) return absl::OkStatus();
    return absl::DeadlineExceededError("MK's index copies: " + last);
  }

  // Makes the next directory version and installs it at every running
  // node (one that fetched it from a peer already refuses the install as
  // "installed already"); waits until all of them use it.
  void Publish(const nlohmann::json& changes);
  // Installs every version made so far into `cc` (a node not started yet).
  void InstallAllVersions(const std::string& cc);

  // Starts a phase of `step`; the settled phase is 2 * step, the change
  // phase 2 * step - 1.
  void BeginChange(int step) { load_->SetPhase(2 * step - 1); }
  void BeginSettled(int step) { load_->SetPhase(2 * step); }
  // Lets each office finish a round of every identifier in the settled
  // phase, then checks it and the change phase before it.
  void CheckStep(int step, const std::vector<Refusal>& change_allowed,
                 const std::vector<Refusal>& settled_allowed,
                 const std::set<std::string>& may_be_unasked = {});
  void ExpectOnlyAllowed(int phase, const std::vector<Refusal>& allowed,
                         const std::string& what);
  // The latest checkpoint of each of `members` (as a peer sees it now) is
  // shown to the member's auditor with >= the policy's cosignatures within
  // a bounded wait.
  void ExpectWitnessed(const std::vector<std::string>& members,
                       const std::string& step);
  absl::StatusOr<CheckpointView> AuditorCheckpoint(const std::string& cc);
  // `cbx audit ARGS` as `cc`'s auditor against its node.
  int CbxAudit(const std::string& cc, const std::string& args,
               std::string* out);
  void PrintTable();

  std::unique_ptr<Federation> fed_;
  std::unique_ptr<OperatorPki> pki_;
  std::unique_ptr<DirectoryUpdates> updates_;
  std::unique_ptr<OfficeLoad> load_;
  std::map<std::string, std::string> roots_;  // trust roots per member
  nlohmann::json me_entry_;                   // ME's member entry, for step 5
  std::vector<std::string> step_names_;
  std::vector<double> step_seconds_;
};

constexpr const char* LifecycleScenarioTest::kMembers[];

void LifecycleScenarioTest::SetUp() {
  FederationOptions options;
  options.countries = {"MK", "RS", "AL", "BA", "HR", "ME"};
  options.edit_spec = [this](nlohmann::json& spec) {
    // ME is not a founder: step 5 adds it with its entry as
    // make-federation.sh wrote it.
    nlohmann::json members = nlohmann::json::array();
    for (const auto& m : spec["members"]) {
      if (m["code"] != "ME") {
        members.push_back(m);
      } else {
        me_entry_ = m;
      }
    }
    spec["members"] = members;
    // A node key overlap of 15 s covers the skew (spec/keys.md §4).
    spec["policy"]["max_clock_skew_s"] = 10;
  };
  options.edit_config = [](const std::string& cc, nlohmann::json& config) {
    config["tls"]["crl_dir"] = "crl";
    if (cc == "RS") {
      config["keys"]["oprf_key_next"] = "oprf-2.key";
      config["keys"]["node_signing_key_next"] = "node-signing-2.key";
    }
  };
  // Index copies refreshed every second: often enough for the waits below,
  // rarely enough to leave the two cores to the queries.
  options.index_interval_ms = 1000;
  auto created = Federation::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  fed_ = *std::move(created);
  for (const char* cc : kMembers) {
    std::filesystem::create_directories(fed_->NodeDir(cc) + "/crl");
    roots_[cc] = Slurp(fed_->NodeDir(cc) + "/ca.crt");
  }
  std::string out;
  for (const char* kind : {"oprf", "node"}) {
    const std::string file =
        fed_->NodeDir("RS") +
        (kind[0] == 'o' ? "/oprf-2.key" : "/node-signing-2.key");
    ASSERT_EQ(RunCommand(AdminBinary() + " key generate --kind " + kind +
                             " --out " + file,
                         &out),
              0)
        << out;
  }
  pki_ = std::make_unique<OperatorPki>(*fed_);
  updates_ = std::make_unique<DirectoryUpdates>(
      *fed_, std::vector<std::string>{"MK", "RS", "AL", "BA"});
  for (const char* cc : {"MK", "RS", "AL", "BA", "HR"}) {
    absl::Status started = fed_->Start(cc);
    ASSERT_TRUE(started.ok()) << started;
  }
  for (const char* cc : {"RS", "AL", "BA", "HR"}) {
    absl::Status added = AddTelegramCase(
        *fed_, cc, absl::StrCat(cc, "-2026-31"), absl::StrCat("lc_", cc));
    ASSERT_TRUE(added.ok()) << added;
  }
  absl::Status synced =
      WaitForMkIndex({{"RS", 1}, {"AL", 1}, {"BA", 1}, {"HR", 1}});
  ASSERT_TRUE(synced.ok()) << synced;
}

void LifecycleScenarioTest::Publish(const nlohmann::json& changes) {
  absl::StatusOr<std::string> file = updates_->Next(changes);
  ASSERT_TRUE(file.ok()) << file.status();
  for (const std::string& cc : Running()) {
    absl::Status installed = updates_->Install(cc, *file);
    EXPECT_TRUE(installed.ok() ||
                absl::StrContains(installed.message(), "installed already"))
        << installed;
  }
  const uint64_t version = updates_->current_version();
  for (const std::string& cc : Running()) {
    EXPECT_TRUE(
        WaitUntil([&] { return DirectoryVersion(cc) >= version; }, seconds(15)))
        << cc << " did not adopt version " << version;
  }
}

void LifecycleScenarioTest::InstallAllVersions(const std::string& cc) {
  for (const std::string& file : updates_->versions()) {
    absl::Status installed = updates_->Install(cc, file);
    ASSERT_TRUE(installed.ok()) << installed;
  }
}

void LifecycleScenarioTest::ExpectOnlyAllowed(
    int phase, const std::vector<Refusal>& allowed, const std::string& what) {
  for (const std::string& office : load_->offices()) {
    const Figures f = load_->Of(phase, office);
    EXPECT_TRUE(f.silent_misses.empty())
        << what << ", " << office << ": silent misses from "
        << absl::StrJoin(f.silent_misses, ", ");
    EXPECT_TRUE(f.unexpected_hits.empty())
        << what << ", " << office << ": hits from "
        << absl::StrJoin(f.unexpected_hits, ", ");
    int64_t timeouts = 0;
    for (const auto& [error, n] : f.errors) {
      // A peer slower than the policy's deadline is no refusal: on a
      // loaded machine a few happen whatever changes. Bounded below.
      if (absl::StrContains(error, " DEADLINE_EXCEEDED: ") &&
          absl::StrContains(error, " did not answer within ")) {
        timeouts += n;
        continue;
      }
      bool ok = false;
      for (const Refusal& r : allowed) {
        ok = ok || ((r.office.empty() || r.office == office) &&
                    absl::StartsWith(error, r.member + " " + r.code + ": ") &&
                    absl::StrContains(error, r.needle));
      }
      EXPECT_TRUE(ok) << what << ", " << office << ": " << n << " x " << error;
    }
    EXPECT_LE(timeouts * 20, f.answers)
        << what << ", " << office << ": more than 5% of the answers timed out";
  }
}

void LifecycleScenarioTest::CheckStep(
    int step, const std::vector<Refusal>& change_allowed,
    const std::vector<Refusal>& settled_allowed,
    const std::set<std::string>& may_be_unasked) {
  const int64_t round = static_cast<int64_t>(load_->probe_count()) + 1;
  EXPECT_TRUE(load_->WaitCalls(round, seconds(30)))
      << "step " << step << ": the offices did not finish a round";
  const std::string name = "step " + std::to_string(step);
  ExpectOnlyAllowed(2 * step - 1, change_allowed, name + " (change)");
  ExpectOnlyAllowed(2 * step, settled_allowed, name + " (settled)");
  // Settled: every owner that is asked hits, from each office whose calls
  // are not refused.
  for (const std::string& office : load_->offices()) {
    const Figures f = load_->Of(2 * step, office);
    if (f.ok == 0) continue;  // a revoked office (step 7)
    EXPECT_EQ(f.hits_got, f.hits_expected) << name << ", " << office;
    EXPECT_GT(f.hits_got, 0) << name << ", " << office;
    for (const auto& [owner, n] : f.owner_not_asked) {
      EXPECT_TRUE(may_be_unasked.count(owner))
          << name << ", " << office << ": " << owner << " not asked " << n
          << " times";
    }
  }
}

absl::StatusOr<CheckpointView> LifecycleScenarioTest::AuditorCheckpoint(
    const std::string& cc) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
  ctx.set_wait_for_ready(true);
  v1::AuditCheckpointResponse resp;
  grpc::Status s =
      OfficeOf(cc, "auditor")
          ->AuditCheckpoint(&ctx, v1::AuditCheckpointRequest(), &resp);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return ViewCheckpoint(resp.checkpoint(), cc);
}

void LifecycleScenarioTest::ExpectWitnessed(
    const std::vector<std::string>& members, const std::string& step) {
  std::map<std::string, uint64_t> latest;
  for (const std::string& cc : members) {
    auto stub = PeerAs(cc, cc == "RS" ? "MK" : "RS");
    v1::GetCheckpointResponse resp;
    grpc::Status s;
    WaitUntil(
        [&] {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() +
                           Scaled(seconds(15)));
          ctx.set_wait_for_ready(true);
          s = stub->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp);
          return s.ok();
        },
        seconds(30));
    ASSERT_TRUE(s.ok()) << step << ": " << cc << " " << s.error_message();
    auto view = ViewCheckpoint(resp.checkpoint(), cc);
    ASSERT_TRUE(view.ok()) << view.status();
    latest[cc] = view->size;
  }
  for (const std::string& cc : members) {
    std::string last;
    bool witnessed = WaitUntil(
        [&] {
          auto view = AuditorCheckpoint(cc);
          if (!view.ok()) {
            last = view.status().ToString();
            return false;
          }
          last = absl::StrCat("size ", view->size, " witnesses ",
                              absl::StrJoin(view->witnesses, ","));
          return view->size >= latest[cc] &&
                 view->witnesses.size() >= kWitnessThreshold;
        },
        seconds(20));
    EXPECT_TRUE(witnessed) << step << ": " << cc
                           << "'s checkpoint of size >= " << latest[cc]
                           << " not witnessed: " << last;
  }
}

int LifecycleScenarioTest::CbxAudit(const std::string& cc,
                                    const std::string& args, std::string* out) {
  const std::string cert = fed_->OfficeCertificate(cc, "auditor");
  return RunCommand(
      absl::StrCat(CliBinary(), " audit ", args, " --node localhost:",
                   NodeConfigField(*fed_, cc, "office_listen").substr(10),
                   " --cert ", cert, " --key ", cert.substr(0, cert.size() - 4),
                   ".key --ca ", RootsFile(cc), " --genesis ", fed_->dir(),
                   "/genesis.pb"),
      out);
}

void LifecycleScenarioTest::PrintTable() {
  std::ostringstream table;
  table << "\nlifecycle scenario: office queries from MK (" << kSkopje << ", "
        << kBitola << ") per step\n";
  char line[512];
  std::snprintf(line, sizeof(line), "%-34s %6s %6s %6s %8s %7s  %s\n", "step",
                "calls", "ok", "clean", "hits", "errors%", "errors by code");
  table << line;
  for (size_t step = 0; step < step_names_.size(); ++step) {
    Figures f = load_->Total(static_cast<int>(2 * step));
    if (step > 0) f.Add(load_->Total(static_cast<int>(2 * step - 1)));
    std::map<std::string, int64_t> by_code;
    for (const auto& [error, n] : f.errors) {
      // "<member> <CODE>: ..." -> "<CODE>(<member>)"
      const size_t sp = error.find(' ');
      const size_t colon = error.find(':');
      by_code[error.substr(sp + 1, colon - sp - 1) + "(" + error.substr(0, sp) +
              ")"] += n;
    }
    std::string codes;
    for (const auto& [code, n] : by_code) {
      absl::StrAppend(&codes, codes.empty() ? "" : " ", code, "=", n);
    }
    const double rate = f.calls == 0
                            ? 0
                            : 100.0 * static_cast<double>(f.calls - f.clean) /
                                  static_cast<double>(f.calls);
    std::snprintf(line, sizeof(line),
                  "%-34s %6lld %6lld %6lld %4lld/%-3lld %6.2f%%  %s\n",
                  (std::to_string(step) + " " + step_names_[step]).c_str(),
                  static_cast<long long>(f.calls), static_cast<long long>(f.ok),
                  static_cast<long long>(f.clean),
                  static_cast<long long>(f.hits_got),
                  static_cast<long long>(f.hits_expected), rate,
                  codes.empty() ? "-" : codes.c_str());
    table << line;
  }
  table << "(errors%: calls not OK or with a peer ERROR answer; a code's "
           "(member) is the peer, (-) the call; hits: owner HIT / owner "
           "answered)\n";
  std::printf("%s", table.str().c_str());
  std::fflush(stdout);
  std::ofstream(fed_->dir() + "/lifecycle-table.txt") << table.str();
}

TEST_F(LifecycleScenarioTest, QueriesLiveThroughEveryKindOfChange) {
  using Clock = std::chrono::steady_clock;
  auto step_start = Clock::now();
  const auto end_step = [&](const std::string& name) {
    step_names_.push_back(name);
    step_seconds_.push_back(
        std::chrono::duration<double>(Clock::now() - step_start).count());
    step_start = Clock::now();
  };

  // The auditor's first look: it trusts each founder's first witnessed
  // checkpoint (RS's signed by its first node key only).
  const std::string state = fed_->dir() + "/auditor-state";
  ExpectWitnessed({"MK", "RS", "AL", "BA", "HR"}, "start");
  for (const char* cc : {"MK", "RS", "AL", "BA", "HR"}) {
    std::string out;
    EXPECT_EQ(CbxAudit(cc, "verify --state " + state, &out), 0) << cc << out;
  }
  auto rs_first = AuditorCheckpoint("RS");
  ASSERT_TRUE(rs_first.ok()) << rs_first.status();
  const std::set<uint32_t> rs_first_keys = rs_first->log_key_ids;
  ASSERT_EQ(rs_first_keys.size(), 1u);

  std::vector<Probe> probes = {{"lc_RS", "RS"},
                               {"lc_AL", "AL"},
                               {"lc_BA", "BA"},
                               {"lc_HR", "HR"},
                               {"lc_nobody_has_this", ""}};
  load_ = std::make_unique<OfficeLoad>(probes);
  std::vector<OfficeLoad::Office> offices;
  // Each office queries under its own open case (spec/office-api.md §4.5).
  for (const char* office : {kSkopje, kBitola}) {
    const std::string number = OfficeCase(office);
    auto channel = MkOfficeChannel(office);
    absl::Status added = AddTelegramCaseAs(
        *v1::Office::NewStub(channel), "MK", number,
        office == std::string(kSkopje) ? "lc_mk_skopje" : "lc_mk_bitola");
    ASSERT_TRUE(added.ok()) << added;
    offices.push_back({office, channel, number});
  }
  load_->Start(offices);
  // Baseline: a round from each office before anything changes.
  CheckStep(0, {}, {});
  end_step("baseline");

  // 1. RS's OPRF key: staged at start (keys.oprf_key_next), listed by v2.
  BeginChange(1);
  ASSERT_TRUE(WaitUntil(
      [&] { return absl::StrContains(Log("RS"), "pass=done"); }, seconds(30)));
  const int64_t v2_at = SystemClock::Get().NowMs();
  Publish(
      {{{"replace_keys", {{"member", "RS"}, {"oprf_key", "RS/oprf-2.key"}}}}});
  EXPECT_TRUE(WaitUntil(
      [&] { return absl::StrContains(Log("RS"), "oprf-rotation-complete"); },
      seconds(30)));
  absl::Status resynced = WaitForMkIndex({{"RS", 1}}, v2_at);
  EXPECT_TRUE(resynced.ok()) << resynced;
  BeginSettled(1);
  CheckStep(1,
            {{"", "RS", "FAILED_PRECONDITION", "index sync pending"},
             {"", "RS", "UNAVAILABLE", "OPRF key rotation in progress"}},
            {});
  ExpectWitnessed({"MK", "RS", "AL", "BA", "HR"}, "step 1");
  end_step("OPRF key rotated (RS)");

  // 2. RS's node signing key: v3 lists the next key from 5 s ahead and
  // ends the old one 15 s after that.
  BeginChange(2);
  const int64_t now = SystemClock::Get().NowMs();
  const int64_t new_from = now + ScaledMs(5000);
  const int64_t old_until = new_from + ScaledMs(15000);
  Publish({{{"replace_keys",
             {{"member", "RS"},
              {"node_keys",
               {{{"key", "RS/node-signing.key"}, {"not_after_ms", old_until}},
                {{"key", "RS/node-signing-2.key"},
                 {"not_before_ms", new_from}}}}}}}});
  EXPECT_TRUE(WaitUntil(
      [&] { return absl::StrContains(Log("RS"), "node-key-switched"); },
      seconds(20)));
  // Witnesses cosign RS's checkpoints signed by the new key.
  std::string rs_keys;
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto view = AuditorCheckpoint("RS");
        if (!view.ok()) return false;
        rs_keys = absl::StrJoin(view->log_key_ids, ",");
        bool new_key = false;
        for (uint32_t id : view->log_key_ids) {
          new_key = new_key || !rs_first_keys.count(id);
        }
        return new_key && view->witnesses.size() >= kWitnessThreshold;
      },
      seconds(20)))
      << "RS's witnessed checkpoint is signed by keys " << rs_keys;
  BeginSettled(2);
  CheckStep(2, {}, {});
  ExpectWitnessed({"MK", "RS", "AL", "BA", "HR"}, "step 2");
  end_step("node signing key rotated (RS)");

  // 3. AL's certificate renewed: the files replaced, certificate first.
  BeginChange(3);
  const std::string al_staged = fed_->dir() + "/al-renewed";
  auto al_serial =
      pki_->IssueNodeCertificate("AL", fed_->NodeDir("AL"), al_staged);
  ASSERT_TRUE(al_serial.ok()) << al_serial.status();
  std::filesystem::rename(al_staged + ".crt",
                          fed_->NodeDir("AL") + "/node.crt");
  std::this_thread::sleep_for(milliseconds(300));  // an operator's pace
  std::filesystem::rename(al_staged + ".key",
                          fed_->NodeDir("AL") + "/node.key");
  EXPECT_TRUE(WaitUntil([&] { return PresentedSerial("AL") == *al_serial; },
                        seconds(15)))
      << "AL presents " << PresentedSerial("AL");
  BeginSettled(3);
  CheckStep(3, {}, {});
  ExpectWitnessed({"MK", "RS", "AL", "BA", "HR"}, "step 3");
  end_step("TLS certificate renewed (AL)");

  // 4. BA's new CA: listed beside the old one (v4), BA's certificate from
  // it put in place, the old CA removed (v5).
  BeginChange(4);
  const std::string ca2 = fed_->dir() + "/ba-ca2";
  ASSERT_TRUE(pki_->MakeCa(ca2, "/C=BA/CN=cbx demo national CA BA 2").ok());
  auto ba_serial = pki_->IssueNodeCertificate("BA", ca2, ca2 + "/node");
  ASSERT_TRUE(ba_serial.ok()) << ba_serial.status();
  roots_["BA"] += Slurp(ca2 + "/ca.crt");
  Publish(
      {{{"add_ca", {{"member", "BA"}, {"ca_certificate", ca2 + "/ca.crt"}}}}});
  std::filesystem::rename(ca2 + "/node.crt", fed_->NodeDir("BA") + "/node.crt");
  std::this_thread::sleep_for(milliseconds(300));
  std::filesystem::rename(ca2 + "/node.key", fed_->NodeDir("BA") + "/node.key");
  EXPECT_TRUE(WaitUntil([&] { return PresentedSerial("BA") == *ba_serial; },
                        seconds(15)))
      << "BA presents " << PresentedSerial("BA");
  const std::string old_ca =
      OperatorPki::Fingerprint(fed_->NodeDir("BA") + "/ca.crt");
  Publish({{{"remove_ca", {{"member", "BA"}, {"sha256", old_ca}}}}});
  EXPECT_EQ(PresentedSerial("BA"), *ba_serial);
  BeginSettled(4);
  CheckStep(4, {}, {});
  ExpectWitnessed({"MK", "RS", "AL", "BA", "HR"}, "step 4");
  end_step("CA changed (BA)");

  // 5. ME joins: v6 lists it; it starts with every version installed,
  // syncs, is witnessed, and its case hits from MK.
  BeginChange(5);
  Publish({{{"add_member", me_entry_}}});
  InstallAllVersions("ME");
  absl::Status me_started = fed_->Start("ME");
  ASSERT_TRUE(me_started.ok()) << me_started;
  ASSERT_TRUE(AddTelegramCase(*fed_, "ME", "ME-2026-31", "lc_ME").ok());
  absl::Status me_synced = WaitForMkIndex({{"ME", 1}});
  EXPECT_TRUE(me_synced.ok()) << me_synced;
  load_->AddProbe({"lc_ME", "ME"});
  BeginSettled(5);
  CheckStep(5, {{"", "ME", "FAILED_PRECONDITION", "index sync pending"}}, {});
  ExpectWitnessed({"MK", "RS", "AL", "BA", "HR", "ME"}, "step 5");
  {
    // Every settled round asked ME, and ME's case hit.
    Figures settled = load_->Total(10);
    EXPECT_EQ(settled.owner_not_asked.count("ME"), 0u);
  }
  end_step("member added (ME)");

  // 6. HR suspended (v7): not asked any more, its calls refused.
  BeginChange(6);
  Publish({{{"suspend", "HR"}}});
  {
    // The office naming HR: Q9.
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram("lc_HR");
    req.add_peers("HR");
    req.mutable_purpose()->set_case_number(OfficeCase(kBitola));
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(20)));
    ctx.set_wait_for_ready(true);
    auto reader = v1::Office::NewStub(MkOfficeChannel(kBitola))->Query(&ctx, req);
    v1::QueryEvent event;
    while (reader->Read(&event)) {
    }
    grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "peers: HR is suspended");
  }
  for (const char* cc : {"MK", "RS", "AL", "BA", "ME"}) {
    // HR as a witness (errors.md C1b) and as a sender (E17).
    auto stub = PeerAs(cc, "HR");
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
      ctx.set_wait_for_ready(true);
      v1::GetCheckpointResponse resp;
      grpc::Status s =
          stub->GetCheckpoint(&ctx, v1::GetCheckpointRequest(), &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << cc;
      EXPECT_EQ(s.error_message(), "caller HR is suspended") << cc;
    }
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
      ctx.set_wait_for_ready(true);
      v1::AddCosignatureRequest req;
      req.set_cosigned_checkpoint("cbx/" + std::string(cc) +
                                  "/audit\n1\nAAAA\n\n");
      v1::AddCosignatureResponse resp;
      grpc::Status s = stub->AddCosignature(&ctx, req, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << cc;
      EXPECT_EQ(s.error_message(), "caller HR is suspended") << cc;
    }
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(15)));
      ctx.set_wait_for_ready(true);
      v1::Envelope reply;
      grpc::Status s = stub->Evaluate(
          &ctx,
          SealAs(*fed_, "HR", cc, [](v1::Message& m) { FillEvaluate(m); }),
          &reply);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << cc;
      EXPECT_TRUE(absl::StrContains(s.error_message(), "HR is suspended"))
          << cc << ": " << s.error_message();
    }
  }
  BeginSettled(6);
  // A query in flight when MK adopted v7: HR's answer is refused
  // (office-api.md, check 7).
  CheckStep(6, {{"", "HR", "PERMISSION_DENIED", "sender HR is suspended"}}, {},
            {"HR"});
  {
    // Settled: HR was never asked.
    Figures settled = load_->Total(12);
    EXPECT_GT(settled.owner_not_asked["HR"], 0);
  }
  ExpectWitnessed({"MK", "RS", "AL", "BA", "ME"}, "step 6");
  end_step("member suspended (HR)");

  // 7a. MK's CA revokes the Skopje office's prosecutor certificate.
  BeginChange(7);
  const std::string skopje_cert =
      fed_->NodeDir("MK") + "/offices/" + kSkopje + "-prosecutor.crt";
  ASSERT_TRUE(pki_->Revoke(fed_->NodeDir("MK"), {skopje_cert},
                           fed_->NodeDir("MK") + "/crl/mk.crl")
                  .ok());
  EXPECT_TRUE(WaitUntil(
      [&] { return absl::StrContains(Log("MK"), "crl-loaded"); }, seconds(10)));
  const Refusal revoked_office = {kSkopje, "-", "UNAUTHENTICATED",
                                  "is revoked by the CRL of"};
  BeginSettled(7);
  CheckStep(7, {revoked_office}, {revoked_office}, {"HR"});
  {
    const Figures skopje = load_->Of(14, kSkopje);
    EXPECT_EQ(skopje.ok, 0) << "Skopje's calls after the CRL";
    EXPECT_GT(skopje.calls, 0);
    EXPECT_EQ(RefusalsOf(load_->Of(14, kBitola)), "") << "Bitola is unaffected";
  }
  ExpectWitnessed({"MK", "RS", "AL", "BA", "ME"}, "step 7a");
  end_step("office certificate revoked (MK)");

  // 7b. AL's CA revokes AL's (renewed) node certificate; every node gets
  // the CRL.
  BeginChange(8);
  for (const std::string& cc : Running()) {
    const std::string crl = fed_->NodeDir(cc) + "/crl/al.crl";
    if (cc == Running().front()) {
      ASSERT_TRUE(pki_->Revoke(fed_->NodeDir("AL"),
                               {fed_->NodeDir("AL") + "/node.crt"}, crl)
                      .ok());
    } else {
      std::filesystem::copy_file(
          fed_->NodeDir(Running().front()) + "/crl/al.crl", crl);
    }
  }
  for (const char* cc : {"MK", "RS", "BA", "ME"}) {
    grpc::Status refused;
    EXPECT_TRUE(WaitUntil(
        [&] {
          refused = GetDirectory(*PeerAs(cc, "AL"));
          return refused.error_code() == grpc::StatusCode::UNAUTHENTICATED;
        },
        seconds(10)))
        << cc << " still lets AL in: " << refused.error_message();
    EXPECT_TRUE(
        GetDirectory(*PeerAs(cc, cc == std::string("RS") ? "MK" : "RS")).ok())
        << cc << " refuses another peer";
  }
  {
    // AL's own office asks: every peer refuses AL's calls.
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram("lc_RS");
    req.mutable_purpose()->set_case_number("AL-2026-31");
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(20)));
    ctx.set_wait_for_ready(true);
    auto reader = OfficeOf("AL", "prosecutor")->Query(&ctx, req);
    v1::QueryEvent event;
    int answers = 0;
    while (reader->Read(&event)) {
      if (!event.has_answer()) continue;
      ++answers;
      EXPECT_EQ(event.answer().outcome(), v1::PEER_OUTCOME_ERROR)
          << event.answer().DebugString();
      EXPECT_EQ(event.answer().status_code(), grpc::StatusCode::UNAUTHENTICATED)
          << event.answer().DebugString();
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(answers, 4);  // MK, RS, BA, ME; HR is suspended
  }
  // MK no longer calls AL either: AL's Peer port presents the revoked
  // certificate (spec/keys.md §5.3, errors.md T7).
  const Refusal revoked_peer = {"", "AL", "UNAVAILABLE",
                                "presents a revoked certificate"};
  BeginSettled(8);
  CheckStep(8, {revoked_office, revoked_peer}, {revoked_office, revoked_peer},
            {"HR"});
  {
    const std::string bitola = RefusalsOf(load_->Of(16, kBitola));
    EXPECT_FALSE(absl::StrContains(bitola, "UNAUTHENTICATED"))
        << "Bitola is unaffected by Skopje's revocation: " << bitola;
  }
  // AL is cut off both ways: its peers refuse its calls and no longer call
  // it, so it neither witnesses nor is witnessed; the others go on.
  ExpectWitnessed({"MK", "RS", "BA", "ME"}, "step 7b");
  end_step("node certificate revoked (AL)");
  load_->Stop();
  PrintTable();

  // The auditor: every member's log from the pinned genesis; consistency
  // from the checkpoint trusted before step 1 (ME: first use).
  for (const char* cc : kMembers) {
    std::string out;
    EXPECT_EQ(CbxAudit(cc, "verify --state " + state, &out), 0) << cc << out;
    std::printf("auditor, %s: %s", cc, out.c_str());
    const std::string file = fed_->dir() + "/export-" + cc + ".json";
    EXPECT_EQ(CbxAudit(cc, "export --from 0 --out " + file, &out), 0)
        << cc << out;
    EXPECT_EQ(
        RunCommand(absl::StrCat(CliBinary(), " audit verify-export ", file,
                                " --genesis ", fed_->dir(), "/genesis.pb"),
                   &out),
        0)
        << cc << out;
  }
  // RS's log spans two node keys: its latest witnessed checkpoint is signed
  // by the new key (only, once the old one's window closed).
  auto rs_last = AuditorCheckpoint("RS");
  ASSERT_TRUE(rs_last.ok()) << rs_last.status();
  bool rs_new_key = false;
  for (uint32_t id : rs_last->log_key_ids) {
    rs_new_key = rs_new_key || !rs_first_keys.count(id);
  }
  EXPECT_TRUE(rs_new_key);
  if (SystemClock::Get().NowMs() > old_until + ScaledMs(5000)) {
    EXPECT_EQ(rs_last->log_key_ids.size(), 1u)
        << "the old key's window has closed";
  }
  for (size_t i = 0; i < step_names_.size(); ++i) {
    std::printf("step %zu took %.1f s\n", i, step_seconds_[i]);
  }
}

}  // namespace
}  // namespace cbx::testing
