// End to end for auditors: the real `cbx audit` commands, run as a child
// process, against in-process FakeAuditOffice services (MK's and RS's logs)
// over mutual TLS on 127.0.0.1, with the PKI of make_test_certs.sh (the
// auditor certificate is spiffe://cbx/office/MK/DZLP/auditor).
//
//   cbx_audit_e2e_test --cbx=PATH/cbx --make-certs=PATH/make_test_certs.sh
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "client/audit/test_log.h"
#include "client/e2e/fake_audit_office.h"
#include "client/e2e/process.h"
#include "core/directory/testing/test_federation.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/server_credentials.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::client::testing {
namespace {

namespace fs = std::filesystem;
namespace fed = directory::testing;
using audit::testing::MakeEntry;
using audit::testing::Witness;

std::string g_cbx;
std::string g_make_certs;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  out << data;
}

// The PKI and the pinned genesis, made once.
class PkiEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/cbx_audit_e2e_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string cmd = "bash '" + g_make_certs + "' '" + dir_.string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    WriteFile(dir_ / "genesis.pb", fed::SignedGenesis().SerializeAsString());
  }
  void TearDown() override { fs::remove_all(dir_); }

  static PkiEnvironment* Get() { return instance_; }
  static void Set(PkiEnvironment* e) { instance_ = e; }
  std::string File(const std::string& name) const {
    return (dir_ / name).string();
  }

 private:
  static inline PkiEnvironment* instance_ = nullptr;
  fs::path dir_;
};

PkiEnvironment& Pki() { return *PkiEnvironment::Get(); }

// One fake node serving `member`'s log.
class FakeNode {
 public:
  explicit FakeNode(const std::string& member, const std::string& key = "")
      : office_(member, key) {
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = ReadFile(Pki().File("ca.pem"));
    ssl.pem_key_cert_pairs.push_back({ReadFile(Pki().File("server.key")),
                                      ReadFile(Pki().File("server.pem"))});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                             &port_);
    builder.RegisterService(&office_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_GT(port_, 0);
  }
  ~FakeNode() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
  }

  FakeAuditOffice& office() { return office_; }

  // The connection and genesis options of the auditor (or `who`).
  std::vector<std::string> Conn(const std::string& who = "auditor") const {
    return {"--node",    "127.0.0.1:" + std::to_string(port_),
            "--cert",    Pki().File(who + ".pem"),
            "--key",     Pki().File(who + ".key"),
            "--ca",      Pki().File("ca.pem"),
            "--genesis", Pki().File("genesis.pb")};
  }

 private:
  FakeAuditOffice office_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cbx_audit_e2e_run_XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const {
    return (path_ / name).string();
  }

 private:
  fs::path path_;
};

ProcessRun RunCbx(std::vector<std::string> args,
                  const std::vector<std::string>& more,
                  const std::vector<std::string>& env = {}) {
  args.insert(args.end(), more.begin(), more.end());
  return RunProcess(g_cbx, args, env);
}

std::string Joined(const ProcessRun& r) {
  return "stdout:\n" + r.out + "stderr:\n" + r.err;
}

constexpr int64_t kT0 = audit::testing::kTestNowMs;
constexpr int64_t kMinute = 60000;

// MK's log: exchanges with RS and AL over an hour.
void FillMk(FakeAuditOffice& mk) {
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0));
  mk.Append(
      MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "q1", kT0 + 10 * kMinute));
  mk.Append(
      MakeEntry(v1::AUDIT_DIRECTION_RECEIVED, "RS", "a1", kT0 + 10 * kMinute));
  mk.Append(
      MakeEntry(v1::AUDIT_DIRECTION_SENT, "AL", "q2", kT0 + 15 * kMinute));
  mk.Append(
      MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "q3", kT0 + 20 * kMinute));
  mk.Append(
      MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "q4", kT0 + 30 * kMinute));
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0 + 60 * kMinute));
}

// RS's log: it answered q1, refused q3 and never logged q4.
void FillRs(FakeAuditOffice& rs) {
  rs.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0));
  rs.Append(
      MakeEntry(v1::AUDIT_DIRECTION_RECEIVED, "MK", "q1", kT0 + 10 * kMinute));
  rs.Append(
      MakeEntry(v1::AUDIT_DIRECTION_SENT, "MK", "a1", kT0 + 10 * kMinute));
  rs.Append(MakeEntry(v1::AUDIT_DIRECTION_RECEIVED, "MK", "q3",
                      kT0 + 20 * kMinute, /*status_code=*/7));
  rs.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0 + 60 * kMinute));
}

TEST(CbxAuditE2eTest, CheckpointWitnessedOrNot) {
  FakeNode mk("MK");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  ProcessRun r = RunCbx(mk.Conn(), {"audit", "checkpoint"});
  ASSERT_EQ(r.code, 0) << Joined(r);
  EXPECT_NE(r.out.find("log        cbx/MK/audit\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("size       7\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("witnessed  yes: 2 of the 2 needed (RS, AL)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("RS       cbx/RS/witness+"), std::string::npos);

  ProcessRun j = RunCbx(mk.Conn(), {"audit", "checkpoint", "--json"});
  ASSERT_EQ(j.code, 0) << Joined(j);
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["verified"], true);
  EXPECT_EQ(doc["size"], 7);
  EXPECT_EQ(doc["witnesses"], 2);

  // A newer checkpoint with one cosignature so far.
  mk.office().Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0 + 1));
  mk.office().Publish({Witness("AL")});
  ProcessRun one = RunCbx(mk.Conn(), {"audit", "checkpoint"});
  EXPECT_EQ(one.code, 1) << Joined(one);
  EXPECT_NE(one.out.find("witnessed  NO: 1 of the 2 needed (AL)"),
            std::string::npos)
      << one.out;
  EXPECT_NE(one.err.find("cbx: audit checkpoint: checkpoint 8 of cbx/MK/audit "
                         "is not witnessed: 1 witness cosigned it (AL), "
                         "directory version 1 requires 2"),
            std::string::npos)
      << one.err;
  ProcessRun allowed =
      RunCbx(mk.Conn(), {"audit", "checkpoint", "--allow-unwitnessed"});
  EXPECT_EQ(allowed.code, 0) << Joined(allowed);
}

TEST(CbxAuditE2eTest,
     VerifyTrustsFirstThenChecksConsistencyThenCatchesARewrite) {
  FakeNode mk("MK");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  TempDir state;
  const std::vector<std::string> verify = {"audit", "verify", "--state",
                                           state.File("st")};

  ProcessRun first = RunCbx(mk.Conn(), verify);
  ASSERT_EQ(first.code, 0) << Joined(first);
  EXPECT_NE(first.out.find("first use: no checkpoint of cbx/MK/audit was "
                           "trusted yet; trusting this one from now on"),
            std::string::npos)
      << first.out;
  const std::string trusted_file = state.File("st/cbx_MK_audit.checkpoint");
  ASSERT_TRUE(fs::exists(trusted_file));
  const std::string trusted7 = ReadFile(trusted_file);
  EXPECT_NE(trusted7.find("cbx/MK/audit\n7\n"), std::string::npos);

  // The log grows; the new checkpoint is proven to extend the trusted one.
  for (int i = 0; i < 6; ++i) {
    mk.office().Append(MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS",
                                 "more " + std::to_string(i),
                                 kT0 + (61 + i) * kMinute));
  }
  mk.office().Publish({Witness("RS"), Witness("AL")});
  ProcessRun grown = RunCbx(mk.Conn(), verify, {});
  ASSERT_EQ(grown.code, 0) << Joined(grown);
  EXPECT_NE(grown.out.find("consistent with the trusted checkpoint 7 (proof "
                           "of "),
            std::string::npos)
      << grown.out;
  EXPECT_NE(ReadFile(trusted_file).find("cbx/MK/audit\n13\n"),
            std::string::npos);

  ProcessRun again = RunCbx(mk.Conn(), {"audit", "verify", "--json"},
                            {"XDG_STATE_HOME=" + state.File("xdg")});
  ASSERT_EQ(again.code, 0) << Joined(again);
  auto doc = nlohmann::json::parse(again.out);
  EXPECT_EQ(doc["consistency"]["result"], "first_use");
  EXPECT_EQ(doc["consistency"]["state_file"],
            state.File("xdg/cbx/audit/cbx_MK_audit.checkpoint"));

  // History is rewritten (entry 3 now says it went to RS, not AL) and the
  // log grows; even cosigned, the auditor catches it.
  const std::string before = ReadFile(trusted_file);
  mk.office().Rewrite(
      3, MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "q2", kT0 + 15 * kMinute));
  mk.office().Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0 + 2));
  mk.office().Publish({Witness("RS"), Witness("AL")});
  ProcessRun forked = RunCbx(mk.Conn(), verify);
  EXPECT_EQ(forked.code, 1) << Joined(forked);
  EXPECT_NE(forked.err.find("cbx: audit verify: the log was rewritten: "
                            "checkpoint 14 is not consistent with the trusted "
                            "checkpoint 13"),
            std::string::npos)
      << forked.err;
  EXPECT_NE(forked.err.find(")\nthe trusted checkpoint 13 is kept in " +
                            trusted_file),
            std::string::npos)
      << forked.err;
  EXPECT_EQ(ReadFile(trusted_file), before);
  // The evidence was kept.
  bool evidence = false;
  for (const auto& e : fs::directory_iterator(state.File("st"))) {
    if (e.path().filename().string().rfind("cbx_MK_audit.evidence-", 0) == 0) {
      auto ev = nlohmann::json::parse(ReadFile(e.path()));
      EXPECT_EQ(ev["trusted_checkpoint"], before);
      EXPECT_FALSE(ev["consistency_proof"].empty());
      evidence = true;
    }
  }
  EXPECT_TRUE(evidence);
  // And it stays caught.
  ProcessRun still = RunCbx(mk.Conn(), verify);
  EXPECT_EQ(still.code, 1) << Joined(still);
}

TEST(CbxAuditE2eTest, ProveShowsTheEntryAndThatItIsIncluded) {
  FakeNode mk("MK");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  ProcessRun r = RunCbx(mk.Conn(), {"audit", "prove", "4"});
  ASSERT_EQ(r.code, 0) << Joined(r);
  EXPECT_NE(r.out.find("entry 4 of cbx/MK/audit\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sequence         4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("time             2026-01-01T00:20:00Z\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("direction        sent\n"), std::string::npos);
  EXPECT_NE(r.out.find("peer             RS\n"), std::string::npos);
  EXPECT_NE(r.out.find("rpc              Peer.Evaluate\n"), std::string::npos);
  EXPECT_NE(r.out.find("included in checkpoint 7"), std::string::npos);

  ProcessRun sized = RunCbx(mk.Conn(), {"audit", "prove", "2", "--size", "5"});
  ASSERT_EQ(sized.code, 0) << Joined(sized);
  EXPECT_NE(sized.out.find("included in the tree of size 5, which checkpoint "
                           "7 extends"),
            std::string::npos)
      << sized.out;

  ProcessRun json = RunCbx(mk.Conn(), {"audit", "prove", "1", "--json"});
  ASSERT_EQ(json.code, 0) << Joined(json);
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["included"], true);
  EXPECT_EQ(doc["entry"]["direction"], "sent");
  EXPECT_EQ(doc["entry"]["sequence"], 1);

  ProcessRun beyond = RunCbx(mk.Conn(), {"audit", "prove", "7"});
  EXPECT_EQ(beyond.code, 1);
  EXPECT_NE(beyond.err.find("entry 7 is not in the tree of size 7 (its "
                            "entries are 0..6)"),
            std::string::npos)
      << beyond.err;

  mk.office().CorruptProofs(true);
  ProcessRun bad = RunCbx(mk.Conn(), {"audit", "prove", "4"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("cbx: audit prove: the node's proof: entry 4: the "
                         "leaf and its inclusion proof do not lead to the "
                         "root"),
            std::string::npos)
      << bad.err;
}

TEST(CbxAuditE2eTest, ExportVerifyExportAndReconcile) {
  FakeNode mk("MK");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  FakeNode rs("RS");
  FillRs(rs.office());
  rs.office().Publish({Witness("MK"), Witness("AL")});
  TempDir files;
  const std::string mk_file = files.File("mk.json");
  const std::string rs_file = files.File("rs.json");

  ProcessRun e1 = RunCbx(mk.Conn(), {"audit", "export", "--out", mk_file});
  ASSERT_EQ(e1.code, 0) << Joined(e1);
  EXPECT_NE(e1.out.find("wrote " + mk_file), std::string::npos) << e1.out;
  EXPECT_NE(e1.out.find("entries     0..6 (7 entries)"), std::string::npos)
      << e1.out;
  ProcessRun e2 = RunCbx(rs.Conn(), {"audit", "export", "--from", "0", "--to",
                                     "5", "--out", rs_file, "--json"});
  ASSERT_EQ(e2.code, 0) << Joined(e2);
  EXPECT_EQ(nlohmann::json::parse(e2.out)["entries"], 5);

  auto doc = nlohmann::json::parse(ReadFile(mk_file));
  EXPECT_EQ(doc["format"], "cbx-audit-export/1");
  EXPECT_EQ(doc["member"], "MK");
  EXPECT_EQ(doc["entries"].size(), 7u);
  EXPECT_EQ(doc["directory_versions"].size(), 1u);

  const std::vector<std::string> genesis = {"--genesis",
                                            Pki().File("genesis.pb")};
  ProcessRun v = RunCbx(genesis, {"audit", "verify-export", mk_file});
  ASSERT_EQ(v.code, 0) << Joined(v);
  EXPECT_NE(v.out.find("every entry is in the checkpoint's tree"),
            std::string::npos);

  ProcessRun rec = RunCbx(genesis, {"audit", "reconcile", mk_file, rs_file});
  EXPECT_EQ(rec.code, 1) << Joined(rec);
  // q1 and a1 matched, q3 refused but received; q4 never logged by RS.
  EXPECT_NE(rec.out.find("matched      3 pairs (1 received and refused by the "
                         "receiver)"),
            std::string::npos)
      << rec.out;
  EXPECT_NE(rec.out.find("sent by MK, not received by RS  5      "
                         "2026-01-01T00:30:00Z"),
            std::string::npos)
      << rec.out;
  EXPECT_NE(rec.err.find("cbx: audit reconcile: 1 orphan: "),
            std::string::npos);

  // A partial export, a range of the log.
  const std::string part = files.File("part.json");
  ProcessRun p = RunCbx(mk.Conn(), {"audit", "export", "--from", "2", "--to",
                                    "4", "--out", part});
  ASSERT_EQ(p.code, 0) << Joined(p);
  EXPECT_EQ(nlohmann::json::parse(ReadFile(part))["entries"][0]["index"], 2);

  // After a newer checkpoint, an export against the older one (the node
  // keeps the checkpoints it signed).
  mk.office().Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", kT0 + 3));
  mk.office().Publish({Witness("RS"), Witness("AL")});
  const std::string sized = files.File("sized.json");
  ProcessRun s =
      RunCbx(mk.Conn(), {"audit", "export", "--size", "7", "--out", sized});
  ASSERT_EQ(s.code, 0) << Joined(s);
  EXPECT_NE(s.out.find("entries     0..6 (7 entries)"), std::string::npos)
      << s.out;
  EXPECT_NE(ReadFile(sized).find("cbx/MK/audit\\n7\\n"), std::string::npos);
  ProcessRun latest = RunCbx(mk.Conn(), {"audit", "export", "--from", "6",
                                         "--out", files.File("tail.json")});
  ASSERT_EQ(latest.code, 0) << Joined(latest);
  EXPECT_NE(latest.out.find("entries     6..7 (2 entries)"), std::string::npos)
      << latest.out;

  // A node that sends a bad proof gets nothing written.
  mk.office().CorruptProofs(true);
  const std::string bad = files.File("bad.json");
  ProcessRun refused = RunCbx(mk.Conn(), {"audit", "export", "--out", bad});
  EXPECT_EQ(refused.code, 1) << Joined(refused);
  EXPECT_NE(refused.err.find("the export does not verify, nothing was "
                             "written: entry 0: "),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(bad));
}

TEST(CbxAuditE2eTest, TheNodeMustBelongToThePinnedFederation) {
  FakeNode mk("MK");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  v1::Directory other = fed::GenesisDirectory();
  other.set_federation("a-look-alike-federation");
  mk.office().SetDirectory({fed::SignAs(
      other, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}})});
  ProcessRun r = RunCbx(mk.Conn(), {"audit", "checkpoint"});
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("cbx: audit checkpoint: the node's directory: "
                       "directory chain, item 1: version 1 is not the pinned "
                       "genesis"),
            std::string::npos)
      << r.err;

  // The full chain with key rotation verifies.
  mk.office().SetDirectory(
      {fed::SignedGenesis(), fed::SignedV2(), fed::SignedV3()});
  ProcessRun ok = RunCbx(mk.Conn(), {"audit", "checkpoint"});
  EXPECT_EQ(ok.code, 0) << Joined(ok);
  EXPECT_NE(ok.out.find("directory  version 3\n"), std::string::npos);
}

TEST(CbxAuditE2eTest, CheckpointSignedByAnotherKeyIsRejected) {
  FakeNode mk("MK", "AL/node/1");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  ProcessRun r = RunCbx(mk.Conn(), {"audit", "checkpoint"});
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("the node's checkpoint: the checkpoint is not signed "
                       "by a node key of MK in directory version 1"),
            std::string::npos)
      << r.err;
}

TEST(CbxAuditE2eTest, OnlyAuditorsMayAudit) {
  FakeNode mk("MK");
  FillMk(mk.office());
  mk.office().Publish({Witness("RS"), Witness("AL")});
  ProcessRun r = RunCbx(mk.Conn("office"), {"audit", "checkpoint"});
  EXPECT_EQ(r.code, 1) << Joined(r);
  EXPECT_NE(r.err.find("cbx: audit checkpoint: fetching the directory: "
                       "your certificate may not do this: role prosecutor "
                       "may not call AuditDirectory\n"
                       "what to do: the audit commands need an auditor "
                       "certificate"),
            std::string::npos)
      << r.err;
}

TEST(CbxAuditE2eTest, GenesisMistakesSendNothing) {
  FakeNode mk("MK");
  std::vector<std::string> conn = mk.Conn();
  conn.resize(conn.size() - 2);  // no --genesis
  ProcessRun r = RunCbx(conn, {"audit", "checkpoint"});
  EXPECT_EQ(r.code, 2) << Joined(r);
  EXPECT_NE(r.err.find("no pinned genesis"), std::string::npos);
  ProcessRun env = RunCbx(conn, {"audit", "checkpoint"},
                          {"CBX_GENESIS=" + Pki().File("ca.pem")});
  EXPECT_EQ(env.code, 2) << Joined(env);
  EXPECT_NE(env.err.find("(from CBX_GENESIS)"), std::string::npos) << env.err;
  EXPECT_EQ(mk.office().calls(), 0);
}

}  // namespace
}  // namespace cbx::client::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--cbx=", 0) == 0) {
      cbx::client::testing::g_cbx = arg.substr(6);
    }
    if (arg.rfind("--make-certs=", 0) == 0) {
      cbx::client::testing::g_make_certs = arg.substr(13);
    }
  }
  if (cbx::client::testing::g_cbx.empty() ||
      cbx::client::testing::g_make_certs.empty()) {
    std::cerr << "usage: " << argv[0]
              << " --cbx=PATH/cbx --make-certs=PATH/make_test_certs.sh\n";
    return 2;
  }
  auto* env = new cbx::client::testing::PkiEnvironment();
  cbx::client::testing::PkiEnvironment::Set(env);
  ::testing::AddGlobalTestEnvironment(env);
  return RUN_ALL_TESTS();
}
