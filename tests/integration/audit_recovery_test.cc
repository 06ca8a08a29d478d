// Audit log disaster recovery (spec/audit-log.md §12, docs/operations.md
// "Recovering a lost audit log") with real cbx-node processes for MK, RS
// and BA: RS loses its audit.db; a recovery without a directory that
// announces it is refused; governance proposes `new_audit_log` with RS's
// last witnessed checkpoint (cbx-admin propose / cosign / combine); RS's
// node refuses to start until its operator runs --recover-audit-log; MK and
// BA then witness RS's new log (cbx/RS/audit/2) without an inconsistency
// alert; MK's office keeps querying RS; an old copy of RS's audit.db put
// back is refused; and an auditor verifies both generations, chained by the
// update.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cbx/v1/office.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"
#include "tests/integration/federation_ops.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr const char* kAuditFiles[] = {"audit.db", "audit.db-wal",
                                       "audit.db-shm", "audit.db.head"};

// Moves (or copies) RS's audit files from `from` to `to`.
void MoveAuditFiles(const std::string& from, const std::string& to,
                    bool copy = false) {
  fs::create_directories(to);
  for (const char* name : kAuditFiles) {
    fs::remove(to + "/" + name);
    if (!fs::exists(from + "/" + name)) continue;
    if (copy) {
      fs::copy_file(from + "/" + name, to + "/" + name);
    } else {
      fs::rename(from + "/" + name, to + "/" + name);
    }
  }
}

// How many lines of `cc`'s log contain `text`.
int Lines(const Federation& fed, const std::string& cc,
          const std::string& text) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(Slurp(fed.LogOf(cc)), '\n')) {
    if (line.find(text) != absl::string_view::npos) ++n;
  }
  return n;
}

class AuditRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    options.edit_config = [](const std::string& cc, nlohmann::json& config) {
      if (cc == "RS") config["audit"]["checkpoint_interval_ms"] = 500;
    };
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = *std::move(f);
    ASSERT_TRUE(fed_->StartAll().ok());
    updates_ = std::make_unique<DirectoryUpdates>(
        *fed_, std::vector<std::string>{"MK", "RS", "BA"});
    absl::Status added = AddTelegramCase(*fed_, "RS", "RS-2026-7", "dr_rs");
    ASSERT_TRUE(added.ok()) << added;
    // The case MkFindsRs queries under (spec/office-api.md §4.5).
    added = AddTelegramCase(*fed_, "MK", "MK-2026-9", "dr_mk");
    ASSERT_TRUE(added.ok()) << added;
    absl::Status synced = fed_->WaitForIndex("MK", {{"RS", 1}});
    ASSERT_TRUE(synced.ok()) << synced;
  }

  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  std::string Node(const std::string& cc) {
    return NodeBinary() + " --allow-root --config " + fed_->NodeDir(cc) +
           "/node.json";
  }

  // `cbx audit ARGS` as RS's auditor against RS's node.
  int CbxAudit(const std::string& args, std::string* out) {
    const std::string cert = fed_->OfficeCertificate("RS", "auditor");
    return RunCommand(
        absl::StrCat(CliBinary(), " audit ", args, " --node localhost:",
                     NodeConfigField(*fed_, "RS", "office_listen").substr(10),
                     " --cert ", cert, " --key ",
                     cert.substr(0, cert.size() - 4), ".key --ca ",
                     fed_->NodeDir("RS"), "/ca.crt --genesis ", fed_->dir(),
                     "/genesis.pb"),
        out);
  }

  // RS's witnessed checkpoint as its auditor is shown it.
  absl::StatusOr<CheckpointView> Witnessed(const std::string& origin_member) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(5)));
    v1::AuditCheckpointResponse resp;
    grpc::Status s =
        fed_->Office("RS", "auditor")
            ->AuditCheckpoint(&ctx, v1::AuditCheckpointRequest(), &resp);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return ViewCheckpoint(resp.checkpoint(), origin_member);
  }

  // MK's office queries RS's identifier: RS answers with its case.
  bool MkFindsRs() {
    v1::QueryRequest req;
    *req.add_identifiers() = Telegram("dr_rs");
    req.mutable_purpose()->set_case_number("MK-2026-9");
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + Scaled(seconds(20)));
    auto reader = fed_->Office("MK")->Query(&ctx, req);
    v1::QueryEvent event;
    bool hit = false;
    while (reader->Read(&event)) {
      if (!event.has_summary()) continue;
      for (const std::string& m : event.summary().hit_members()) {
        hit = hit || m == "RS";
      }
    }
    return reader->Finish().ok() && hit;
  }

  std::unique_ptr<Federation> fed_;
  std::unique_ptr<DirectoryUpdates> updates_;
};

TEST_F(AuditRecoveryTest, ALostLogIsReplacedByAGenerationEveryoneFollows) {
  const std::string data = fed_->NodeDir("RS") + "/data";
  const std::string state = fed_->dir() + "/auditor-state";
  std::string out;

  // 1. RS's log is witnessed by MK and BA; RS's auditor trusts it. The
  //    witnesses are paused so that the witnessed checkpoint stays the
  //    newest one while it is taken (it becomes the predecessor).
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto v = Witnessed("RS");
        return v.ok() && v->witnesses.size() >= 2;
      },
      seconds(30)));
  fed_->Pause("MK");
  fed_->Pause("BA");
  auto predecessor = Witnessed("RS");
  ASSERT_TRUE(predecessor.ok()) << predecessor.status();
  ASSERT_GE(predecessor->witnesses.size(), 2u) << predecessor->note;
  ASSERT_EQ(CbxAudit("verify --state " + state, &out), 0) << out;
  fed_->Stop("RS");
  fed_->Resume("MK");
  fed_->Resume("BA");
  const std::string note_file = fed_->dir() + "/rs-predecessor.note";
  std::ofstream(note_file) << predecessor->note;

  // 2. RS's disk is lost; an old copy of its log is kept aside (it must
  //    never come back).
  const std::string old_copy = fed_->dir() + "/rs-old-copy";
  MoveAuditFiles(data, old_copy);
  EXPECT_EQ(RunCommand(Node("RS"), &out), 2) << out;
  EXPECT_NE(out.find("audit.db is missing"), std::string::npos) << out;

  // 3. A recovery the directory does not announce is refused.
  EXPECT_EQ(RunCommand(Node("RS") + " --recover-audit-log", &out), 2) << out;
  EXPECT_NE(out.find("must name, for RS, audit log generation 2"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(data + "/audit.db"));

  // 4. Governance announces generation 2; every node installs it.
  auto version = updates_->Next(nlohmann::json::array(
      {{{"new_audit_log",
         {{"member", "RS"}, {"predecessor_checkpoint", note_file}}}}}));
  ASSERT_TRUE(version.ok()) << version.status();
  for (const char* cc : {"MK", "BA", "RS"}) {
    absl::Status installed = updates_->Install(cc, *version);
    ASSERT_TRUE(installed.ok()) << cc << ": " << installed;
  }

  // 5. Without the flag RS refuses to start; with it the new log starts.
  EXPECT_EQ(RunCommand(Node("RS"), &out), 2) << out;
  EXPECT_NE(out.find("--recover-audit-log"), std::string::npos) << out;
  ASSERT_EQ(RunCommand(Node("RS") + " --recover-audit-log", &out), 0) << out;
  EXPECT_NE(out.find("cbx/RS/audit/2"), std::string::npos) << out;
  ASSERT_TRUE(fed_->Start("RS").ok());

  // 6. MK and BA witness the new log, without an inconsistency alert.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto v = Witnessed("RS");
        return v.ok() && v->witnesses.size() >= 2 &&
               v->note.rfind("cbx/RS/audit/2\n", 0) == 0;
      },
      seconds(40)))
      << "RS's new log was not witnessed by MK and BA; RS shows: " << [&] {
           auto v = Witnessed("RS");
           if (!v.ok()) return v.status().ToString();
           return absl::StrCat(v->witnesses.size(), " witnesses on\n", v->note);
         }();
  for (const char* cc : {"MK", "BA"}) {
    EXPECT_EQ(Lines(*fed_, cc, "ALERT-inconsistent-checkpoint"), 0) << cc;
    EXPECT_EQ(Lines(*fed_, cc, "witness-log-recovered"), 1) << cc;
  }

  // 7. MK's office still finds RS's case.
  EXPECT_TRUE(WaitUntil([&] { return MkFindsRs(); }, seconds(30)));

  // 8. The auditor verifies the new generation, chained to the old one.
  ASSERT_EQ(CbxAudit("verify --state " + state, &out), 0) << out;
  EXPECT_NE(out.find("log chain"), std::string::npos) << out;
  EXPECT_NE(out.find("continues cbx/RS/audit after its witnessed checkpoint " +
                     std::to_string(predecessor->size)),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("at or before its predecessor checkpoint"),
            std::string::npos)
      << out;
  const std::string file = fed_->dir() + "/export-rs-2.json";
  ASSERT_EQ(CbxAudit("export --from 0 --out " + file, &out), 0) << out;
  EXPECT_EQ(RunCommand(absl::StrCat(CliBinary(), " audit verify-export ", file,
                                    " --genesis ", fed_->dir(), "/genesis.pb"),
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("log chain"), std::string::npos) << out;

  // 9. Putting the old copy back is refused; the new log is kept.
  fed_->Stop("RS");
  const std::string new_log = fed_->dir() + "/rs-new-log";
  MoveAuditFiles(data, new_log);
  MoveAuditFiles(old_copy, data, /*copy=*/true);
  EXPECT_EQ(RunCommand(Node("RS"), &out), 2) << out;
  MoveAuditFiles(new_log, data);
  ASSERT_TRUE(fed_->Start("RS").ok());
}

}  // namespace
}  // namespace cbx::testing
