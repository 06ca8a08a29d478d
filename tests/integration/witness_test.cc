// Witnesses against a node operator who rewrites his own log's history
// (spec/witnessing.md): real cbx-node processes for MK, RS and BA, where RS's
// operator puts back an older copy of its audit log, or deletes it. RS
// cannot tell; MK and BA, which cosigned RS's checkpoints, must refuse its
// new ones, keep the evidence once per checkpoint, raise the alert once per
// checkpoint, and show it to their operators — and keep witnessing the
// members that did nothing wrong.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/note/signature.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kAlert[] = "ALERT-inconsistent-checkpoint";
// The files of a node's audit log (spec/audit-log.md §2.7, §2.8), in its
// data_dir.
constexpr const char* kAuditFiles[] = {"audit.db", "audit.db-wal",
                                       "audit.db-shm", "audit.db.head"};

// Polls `done` every 100 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// One ALERT-inconsistent-checkpoint line of a node's log, by its fields.
struct AlertLine {
  std::string peer;
  uint64_t size = 0;
  std::string root;  // hex
  std::string evidence;
  std::string line;
};

// The value of "key=" in a log line (values with spaces are quoted).
std::string Field(const std::string& line, const std::string& key) {
  size_t at = line.find(" " + key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 2;
  if (at < line.size() && line[at] == '"') {
    return line.substr(at + 1, line.find('"', at + 1) - at - 1);
  }
  return line.substr(at, line.find(' ', at) - at);
}

std::vector<AlertLine> Alerts(const Federation& fed, const std::string& cc,
                              const std::string& peer) {
  std::vector<AlertLine> out;
  for (absl::string_view line : absl::StrSplit(Slurp(fed.LogOf(cc)), '\n')) {
    if (line.find(kAlert) == absl::string_view::npos) continue;
    AlertLine alert;
    alert.line = std::string(line);
    alert.peer = Field(alert.line, "peer");
    if (alert.peer != peer) continue;
    EXPECT_TRUE(absl::SimpleAtoi(Field(alert.line, "size"), &alert.size))
        << line;
    alert.root = Field(alert.line, "root");
    alert.evidence = Field(alert.line, "evidence");
    out.push_back(alert);
  }
  return out;
}

// The rows of `cc`'s settings whose key starts with `prefix`, key to value,
// read from its database while it runs (WAL lets a reader in).
std::map<std::string, std::string> Settings(const Federation& fed,
                                            const std::string& cc,
                                            const std::string& prefix) {
  std::string out;
  int rc = RunCommand(
      "sqlite3 -cmd '.timeout 5000' -separator '\t' '" + fed.NodeDir(cc) +
          "/data/node.db' \"SELECT key, CAST(value AS TEXT) FROM settings "
          "WHERE substr(key, 1, " +
          std::to_string(prefix.size()) + ") = '" + prefix + "'\"",
      &out);
  EXPECT_EQ(rc, 0) << out;
  std::map<std::string, std::string> rows;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(line, absl::MaxSplits('\t', 1));
    rows[kv.first] = kv.second;
  }
  return rows;
}

// `cc`'s view of `member` in Office.ListPeers (as its operator).
v1::PeerStatus PeerStatusOf(Federation& fed, const std::string& cc,
                            const std::string& member) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(5)));
  v1::ListPeersResponse resp;
  grpc::Status s = fed.Office(cc, "operator")
                       ->ListPeers(&ctx, v1::ListPeersRequest(), &resp);
  EXPECT_TRUE(s.ok()) << cc << ": " << s.error_message();
  for (const v1::PeerStatus& p : resp.peers()) {
    if (p.member() == member) return p;
  }
  ADD_FAILURE() << cc << " lists no peer " << member;
  return v1::PeerStatus();
}

// The checkpoint `cc` shows its auditor (Office.AuditCheckpoint): the
// newest witnessed one, else the newest.
struct ShownCheckpoint {
  std::string note;
  uint64_t size = 0;
  std::set<std::string> signers;  // key names
};

// The checkpoint `note` as a test reads it: size and signer names.
ShownCheckpoint Shown(std::string note_text) {
  ShownCheckpoint shown;
  shown.note = std::move(note_text);
  auto note = note::ParseNote(shown.note);
  if (!note.ok()) return shown;
  auto checkpoint = note::ParseCheckpoint(note->text);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  if (checkpoint.ok()) shown.size = checkpoint->size;
  for (const note::Signature& sig : note->signatures) {
    shown.signers.insert(sig.name);
  }
  return shown;
}

ShownCheckpoint AuditCheckpointOf(Federation& fed, const std::string& cc) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(5)));
  v1::AuditCheckpointResponse resp;
  grpc::Status s =
      fed.Office(cc, "auditor")
          ->AuditCheckpoint(&ctx, v1::AuditCheckpointRequest(), &resp);
  EXPECT_TRUE(s.ok()) << cc << ": " << s.error_message();
  return Shown(resp.checkpoint());
}

// `cc`'s latest signed checkpoint, as its witnesses fetch it (Peer
// GetCheckpoint, asked as MK): unlike AuditCheckpoint, which shows the
// newest witnessed one, it includes a checkpoint no witness cosigned.
ShownCheckpoint LatestCheckpointOf(Federation& fed, const std::string& cc) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(5)));
  v1::GetCheckpointResponse resp;
  grpc::Status s = fed.PeerAs(cc, "MK")->GetCheckpoint(
      &ctx, v1::GetCheckpointRequest(), &resp);
  EXPECT_TRUE(s.ok()) << cc << ": " << s.error_message();
  return Shown(resp.checkpoint());
}

// The size of the tree `cc`'s audit log last committed, from its head file.
uint64_t HeadSize(const Federation& fed, const std::string& cc) {
  std::vector<std::string> lines =
      absl::StrSplit(Slurp(fed.NodeDir(cc) + "/data/audit.db.head"), '\n');
  uint64_t size = 0;
  if (lines.size() < 2 || !absl::SimpleAtoi(lines[1], &size)) return 0;
  return size;
}

// The node.db files, which travel with the audit log: a node.db kept
// beside an older log (or none) makes the node refuse to start
// (node/data_consistency.h). What the node cannot see, and its witnesses
// must, is the whole data folder put back (a virtual machine's snapshot).
constexpr const char* kNodeDbFiles[] = {"node.db", "node.db-wal",
                                        "node.db-shm"};

// Replaces the audit log files in `to` with those in `from`, with the
// node.db they belong with.
void CopyAuditFiles(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const char* name : kNodeDbFiles) {
    fs::remove(to + "/" + name);
    if (fs::exists(from + "/" + name)) {
      fs::copy_file(from + "/" + name, to + "/" + name);
    }
  }
  for (const char* name : kAuditFiles) {
    fs::remove(to + "/" + name);
    if (fs::exists(from + "/" + name)) {
      fs::copy_file(from + "/" + name, to + "/" + name);
    }
  }
}

// Makes `cc`'s log grow by `calls` entries: each office call is one.
void GrowLog(Federation& fed, const std::string& cc, int calls) {
  auto office = fed.Office(cc, "prosecutor");
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(5)));
    v1::ListCasesResponse cases;
    grpc::Status s = office->ListCases(&ctx, v1::ListCasesRequest(), &cases);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
}

// Changes `cc`'s node.json; takes effect at its next start.
void EditConfig(const Federation& fed, const std::string& cc,
                const std::function<void(nlohmann::json&)>& edit) {
  const std::string path = fed.NodeDir(cc) + "/node.json";
  nlohmann::json config = nlohmann::json::parse(Slurp(path));
  edit(config);
  std::ofstream(path) << config.dump(2);
}

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    options.edit_config = [](const std::string& cc, nlohmann::json& config) {
      // RS checkpoints often, so that its witnesses have plenty to cosign.
      if (cc == "RS") config["audit"]["checkpoint_interval_ms"] = 500;
    };
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = *std::move(f);
    absl::Status started = fed_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
  }

  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  // Waits until both witnesses cosigned a checkpoint of RS's log larger
  // than `size`; returns the smaller of their two sizes.
  uint64_t WaitUntilBothCosignedBeyond(uint64_t size) {
    uint64_t both = 0;
    EXPECT_TRUE(WaitFor([&] {
      both = std::min(PeerStatusOf(*fed_, "MK", "RS").cosigned_size(),
                      PeerStatusOf(*fed_, "BA", "RS").cosigned_size());
      return both > size;
    })) << "MK and BA cosigned RS's log up to "
        << both << ", not beyond " << size;
    return both;
  }

  // Every alert `cc` raised about RS names a distinct checkpoint, whose
  // evidence it kept once: as many lines as evidence rows as checkpoints.
  void ExpectOneAlertAndEvidencePerCheckpoint(const std::string& cc) {
    std::vector<AlertLine> alerts;
    std::set<std::pair<uint64_t, std::string>> distinct;
    std::map<std::string, std::string> evidence;
    // The witness keeps the evidence, then logs the alert that names it,
    // while its rounds go on: read both until a round is not half-way.
    WaitFor(
        [&] {
          evidence = Settings(*fed_, cc, "witness-evidence/RS/");
          alerts = Alerts(*fed_, cc, "RS");
          distinct.clear();
          for (const AlertLine& a : alerts) distinct.insert({a.size, a.root});
          return evidence.size() == distinct.size();
        },
        std::chrono::seconds(5));
    EXPECT_EQ(alerts.size(), distinct.size())
        << cc << " raised one checkpoint's alert more than once";
    EXPECT_EQ(evidence.size(), distinct.size());
    for (const auto& [size, root] : distinct) {
      EXPECT_EQ(
          evidence.count(absl::StrCat("witness-evidence/RS/", size, "/", root)),
          1u)
          << cc << " kept no evidence of checkpoint " << size;
    }
  }

  std::unique_ptr<Federation> fed_;
};

TEST_F(WitnessTest, RolledBackLogIsRefusedOnceWithEvidenceAndShownToOperators) {
  // 1. MK and BA witness RS's log: a checkpoint both cosigned.
  ShownCheckpoint witnessed;
  ASSERT_TRUE(WaitFor([&] {
    witnessed = AuditCheckpointOf(*fed_, "RS");
    return witnessed.signers.count("cbx/MK/witness") > 0 &&
           witnessed.signers.count("cbx/BA/witness") > 0;
  })) << witnessed.note;
  const uint64_t n1 = witnessed.size;
  ASSERT_GT(n1, 0u);
  WaitUntilBothCosignedBeyond(n1 - 1);

  // 2. RS's operator keeps a copy of its audit log.
  fed_->Stop("RS");
  const std::string data = fed_->NodeDir("RS") + "/data";
  const std::string saved = fed_->NodeDir("RS") + "/saved-audit";
  CopyAuditFiles(data, saved);
  const uint64_t copied = HeadSize(*fed_, "RS");
  ASSERT_GE(copied, n1);

  // 3. The log grows, and both witnesses cosign it beyond the copy.
  ASSERT_TRUE(fed_->Start("RS").ok());
  GrowLog(*fed_, "RS", 20);
  WaitUntilBothCosignedBeyond(copied + 10);
  fed_->Stop("RS");
  // A round that was cosigning as RS stopped records it right after.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::string genuine = fed_->NodeDir("RS") + "/genuine-audit";
  CopyAuditFiles(data, genuine);
  const v1::PeerStatus before = PeerStatusOf(*fed_, "MK", "RS");
  const uint64_t n2 = before.cosigned_size();
  const uint64_t n2_ba = PeerStatusOf(*fed_, "BA", "RS").cosigned_size();
  ASSERT_GT(n2, copied);
  EXPECT_GT(before.cosigned_at_ms(), 0);
  EXPECT_EQ(before.witness_alert(), "");

  // 4. The copy goes back. RS's own checks pass: the database and its head
  // file agree, so RS cannot tell. From now on RS signs a checkpoint only
  // when it starts, so that one checkpoint stays the latest long enough to
  // be asked about in many witness rounds.
  CopyAuditFiles(saved, data);
  EditConfig(*fed_, "RS", [](nlohmann::json& config) {
    config["audit"]["checkpoint_interval_ms"] = 86'400'000;
    config["audit"]["checkpoint_every_entries"] = 1'000'000'000;
  });
  ASSERT_TRUE(fed_->Start("RS").ok());
  EXPECT_EQ(Slurp(fed_->LogOf("RS")).find("ALERT-audit-log-damaged"),
            std::string::npos);
  // RS's latest checkpoint is now smaller than the ones MK and BA cosigned.
  ASSERT_TRUE(WaitFor([&] {
    return !Alerts(*fed_, "MK", "RS").empty() &&
           !Alerts(*fed_, "BA", "RS").empty();
  }));
  EXPECT_NE(Alerts(*fed_, "MK", "RS")[0].line.find(
                absl::StrCat("RS's log shrank from ", n2, " to ")),
            std::string::npos)
      << Alerts(*fed_, "MK", "RS")[0].line;

  // 5. New entries, a different history, grow past what the witnesses
  // cosigned; RS signs a checkpoint of it when it restarts.
  const uint64_t past = std::max(n2, n2_ba) + 5;
  const uint64_t grown = HeadSize(*fed_, "RS");
  if (grown < past) GrowLog(*fed_, "RS", static_cast<int>(past - grown));
  fed_->Stop("RS");
  ASSERT_TRUE(fed_->Start("RS").ok());
  ShownCheckpoint forked;
  ASSERT_TRUE(WaitFor([&] {
    // Not AuditCheckpoint: the node.db put back with the log records an
    // older witnessed checkpoint, which that call shows first.
    forked = LatestCheckpointOf(*fed_, "RS");
    return forked.size >= past;
  })) << "RS signed no checkpoint of its new history at start: "
      << forked.note;
  auto forked_note = note::ParseNote(forked.note);
  ASSERT_TRUE(forked_note.ok()) << forked_note.status();
  auto forked_checkpoint = note::ParseCheckpoint(forked_note->text);
  ASSERT_TRUE(forked_checkpoint.ok());
  const std::string forked_root = HexEncode(forked_checkpoint->root_hash);

  // Both witnesses refuse it: a consistency proof from what they cosigned
  // cannot reach it.
  for (const char* witness : {"MK", "BA"}) {
    ASSERT_TRUE(WaitFor([&] {
      for (const AlertLine& a : Alerts(*fed_, witness, "RS")) {
        if (a.size == forked.size && a.root == forked_root) return true;
      }
      return false;
    })) << witness
        << " raised no alert for RS's checkpoint " << forked.size;
  }
  // Many witness rounds (200 ms each) ask about that same checkpoint again.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  for (const char* witness : {"MK", "BA"}) {
    int lines = 0;
    for (const AlertLine& a : Alerts(*fed_, witness, "RS")) {
      if (a.size == forked.size && a.root == forked_root) {
        ++lines;
        EXPECT_NE(a.line.find("is not consistent with the one of size"),
                  std::string::npos)
            << a.line;
      }
    }
    EXPECT_EQ(lines, 1) << witness;
    ExpectOneAlertAndEvidencePerCheckpoint(witness);
  }

  // The evidence on MK: both signed checkpoints and the failing proof.
  const std::string key =
      absl::StrCat("witness-evidence/RS/", forked.size, "/", forked_root);
  std::map<std::string, std::string> evidence =
      Settings(*fed_, "MK", "witness-evidence/RS/");
  ASSERT_EQ(evidence.count(key), 1u);
  nlohmann::json doc = nlohmann::json::parse(evidence[key]);
  EXPECT_EQ(doc["origin"], "cbx/RS/audit");
  EXPECT_NE(doc["reason"].get<std::string>().find(
                absl::StrCat("RS's checkpoint ", forked.size,
                             " is not consistent with the one of size ", n2)),
            std::string::npos)
      << doc["reason"];
  const std::string trusted = doc["trusted_checkpoint"];
  EXPECT_EQ(trusted.rfind(absl::StrCat("cbx/RS/audit\n", n2, "\n"), 0), 0u)
      << trusted;
  EXPECT_NE(trusted.find("\n— cbx/RS/audit "), std::string::npos) << trusted;
  EXPECT_NE(trusted.find("\n— cbx/MK/witness "), std::string::npos) << trusted;
  // As RS served it: its own signature alone.
  EXPECT_EQ(
      doc["new_checkpoint"],
      absl::StrCat(forked_note->text, "\n",
                   note::FormatSignatureLine(forked_note->signatures[0])));
  EXPECT_FALSE(doc["consistency_proof"].empty());
  EXPECT_FALSE(doc["recorded"].get<std::string>().empty());

  // MK still stands by the checkpoint it cosigned, and cosigns nothing of
  // RS's new history.
  const v1::PeerStatus after = PeerStatusOf(*fed_, "MK", "RS");
  EXPECT_EQ(after.cosigned_size(), n2);
  EXPECT_EQ(after.cosigned_at_ms(), before.cosigned_at_ms());
  EXPECT_EQ(PeerStatusOf(*fed_, "BA", "RS").cosigned_size(), n2_ba);
  // An auditor asking RS is shown its newest witnessed checkpoint: one of
  // the history put back, below what the witnesses had cosigned since; the
  // new history's checkpoint has no cosignature.
  const ShownCheckpoint shown = AuditCheckpointOf(*fed_, "RS");
  EXPECT_LT(shown.size, n2) << shown.note;
  EXPECT_EQ(LatestCheckpointOf(*fed_, "RS").signers,
            std::set<std::string>{"cbx/RS/audit"});
  // MK's operator sees why, and since when.
  EXPECT_EQ(after.witness_alert().rfind("since 20", 0), 0u)
      << after.witness_alert();
  EXPECT_NE(after.witness_alert().find(
                absl::StrCat("RS's log shrank from ", n2, " to ")),
            std::string::npos)
      << after.witness_alert();
  EXPECT_NE(after.witness_alert().find(absl::StrCat(
                "checkpoints refused, the latest of size ", forked.size, ")")),
            std::string::npos)
      << after.witness_alert();

  // Meanwhile MK keeps witnessing BA, which did nothing wrong.
  const v1::PeerStatus ba_before = PeerStatusOf(*fed_, "MK", "BA");
  ASSERT_GT(ba_before.cosigned_size(), 0u);
  ASSERT_TRUE(WaitFor([&] {
    return PeerStatusOf(*fed_, "MK", "BA").cosigned_size() >
           ba_before.cosigned_size();
  }));
  const v1::PeerStatus ba_after = PeerStatusOf(*fed_, "MK", "BA");
  EXPECT_GT(ba_after.cosigned_at_ms(), ba_before.cosigned_at_ms());
  EXPECT_EQ(ba_after.witness_alert(), "");
  EXPECT_TRUE(Alerts(*fed_, "MK", "BA").empty());

  // RS's operator puts the genuine log back: it is consistent with what MK
  // cosigned, so MK witnesses RS again and closes the alert. The evidence
  // of the forked checkpoints stays.
  const size_t kept = Settings(*fed_, "MK", "witness-evidence/RS/").size();
  fed_->Stop("RS");
  CopyAuditFiles(genuine, data);
  ASSERT_TRUE(fed_->Start("RS").ok());
  v1::PeerStatus resumed;
  ASSERT_TRUE(WaitFor([&] {
    resumed = PeerStatusOf(*fed_, "MK", "RS");
    return resumed.witness_alert().empty();
  })) << resumed.witness_alert();
  EXPECT_GE(resumed.cosigned_size(), n2);
  EXPECT_NE(Slurp(fed_->LogOf("MK")).find("witness-resumed peer=RS"),
            std::string::npos);
  EXPECT_EQ(Settings(*fed_, "MK", "witness-evidence/RS/").size(), kept);
}

TEST_F(WitnessTest, DeletedLogStartsEmptyAndIsRefusedAsShrunk) {
  // Enough entries cosigned that the new log's first checkpoints are
  // smaller. Peers' calls alone grow the new log by some 60 entries a
  // second at this test's intervals; 300 leaves a loaded machine seconds
  // to witness it before it outgrows the old one.
  GrowLog(*fed_, "RS", 300);
  WaitUntilBothCosignedBeyond(300);
  fed_->Stop("RS");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t mk_size = PeerStatusOf(*fed_, "MK", "RS").cosigned_size();
  // Every file of the log, head file included: nothing is left that RS
  // could check the new, empty log against.
  const std::string data = fed_->NodeDir("RS") + "/data";
  for (const char* name : kAuditFiles) fs::remove(data + "/" + name);
  fs::remove(data + "/audit.db.lock");
  // With its node.db still there, RS refuses to start: node.db records the
  // checkpoints of the log that is gone (docs/operations.md, "Restored
  // node.db without its audit log").
  absl::Status refused = fed_->Start("RS");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("audit.db is missing"), std::string::npos)
      << refused;
  EXPECT_NE(refused.message().find("docs/operations.md"), std::string::npos)
      << refused;
  // The whole data folder lost: RS starts afresh, and its witnesses see
  // the new, empty log.
  for (const char* name : kNodeDbFiles) fs::remove(data + "/" + name);
  for (const char* name : kAuditFiles) fs::remove(data + "/" + name);
  fs::remove(data + "/audit.db.lock");
  absl::Status started = fed_->Start("RS");
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_EQ(Slurp(fed_->LogOf("RS")).find("ALERT-audit-log-damaged"),
            std::string::npos);
  GrowLog(*fed_, "RS", 1);  // RS serves its offices as if nothing happened

  ASSERT_TRUE(WaitFor([&] {
    return !Alerts(*fed_, "MK", "RS").empty() &&
           !Alerts(*fed_, "BA", "RS").empty();
  }));
  const AlertLine first = Alerts(*fed_, "MK", "RS")[0];
  // Should the machine be too slow for that, the new log is refused all
  // the same, as a log that does not extend the cosigned one.
  const bool shrunk = first.size < mk_size;
  const std::string why =
      shrunk ? absl::StrCat("RS's log shrank from ", mk_size, " to ",
                            first.size)
             : absl::StrCat("RS's checkpoint ", first.size,
                            " is not consistent with the one of size ",
                            mk_size, " this node cosigned");
  EXPECT_NE(first.line.find(why), std::string::npos) << first.line;
  // RS keeps checkpointing (every 500 ms) its new log; each checkpoint is
  // refused once, however many rounds ask.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ExpectOneAlertAndEvidencePerCheckpoint("MK");
  ExpectOneAlertAndEvidencePerCheckpoint("BA");
  std::map<std::string, std::string> evidence =
      Settings(*fed_, "MK", "witness-evidence/RS/");
  ASSERT_EQ(evidence.count(first.evidence), 1u) << first.line;
  nlohmann::json doc = nlohmann::json::parse(evidence[first.evidence]);
  EXPECT_EQ(doc["trusted_checkpoint"].get<std::string>().rfind(
                absl::StrCat("cbx/RS/audit\n", mk_size, "\n"), 0),
            0u);
  EXPECT_EQ(doc["new_checkpoint"].get<std::string>().rfind(
                absl::StrCat("cbx/RS/audit\n", first.size, "\n"), 0),
            0u);
  EXPECT_EQ(doc["consistency_proof"].empty(), shrunk);

  const v1::PeerStatus status = PeerStatusOf(*fed_, "MK", "RS");
  EXPECT_EQ(status.cosigned_size(), mk_size);
  EXPECT_NE(status.witness_alert().find(why), std::string::npos)
      << status.witness_alert();
  const ShownCheckpoint shown = AuditCheckpointOf(*fed_, "RS");
  EXPECT_EQ(shown.signers, std::set<std::string>{"cbx/RS/audit"}) << shown.note;
}

}  // namespace
}  // namespace cbx::testing
