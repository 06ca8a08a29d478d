// `cbx audit ...` through RunCli: argument and genesis checks (exit 2,
// nothing sent) and the offline commands on real export files.
#include "client/cli.h"

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client/audit/export.h"
#include "client/audit/test_log.h"
#include "client/audit_files.h"
#include "core/directory/testing/test_federation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::client::audit {
namespace {

namespace fed = directory::testing;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::MakeEntry;
using testing::TestLog;
using testing::Witness;

struct Result {
  int code;
  std::string out;
  std::string err;
};

class AuditCliTest : public ::testing::Test {
 protected:
  AuditCliTest() {
    char tmpl[] = "/tmp/cbx_audit_cli_XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    genesis_ = dir_ + "/genesis.pb";
    EXPECT_TRUE(
        WriteFileAtomically(genesis_, fed::SignedGenesis().SerializeAsString())
            .ok());
  }
  ~AuditCliTest() override { fs::remove_all(dir_); }

  Result Run(std::vector<std::string> args,
             std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), "cbx");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    EnvLookup lookup = [env](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    int code =
        RunCli(static_cast<int>(argv.size()), argv.data(), out, err, lookup);
    return {code, out.str(), err.str()};
  }

  // Writes an export of `log` [0, size) to `name` and returns its path.
  std::string WriteExport(const TestLog& log, const std::string& name) {
    std::vector<testing::TestCosigner> w;
    for (const char* m : {"MK", "RS", "AL"}) {
      if (log.member() != m) w.push_back(Witness(m));
    }
    AuditExport e =
        log.Export(0, log.size(), log.size(), log.Checkpoint(log.size(), w),
                   {fed::SignedGenesis()});
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomically(path, FormatExport(e)).ok());
    return path;
  }

  std::string dir_;
  std::string genesis_;
};

TEST_F(AuditCliTest, GenesisIsRequired) {
  Result r = Run({"audit", "checkpoint"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("cbx: audit checkpoint: no pinned genesis: "
                               "pass --genesis FILE or set CBX_GENESIS"));
  EXPECT_THAT(r.err, HasSubstr("nothing was sent"));
}

TEST_F(AuditCliTest, GenesisMustBeAGenesis) {
  const std::string v2 = dir_ + "/v2.pb";
  ASSERT_TRUE(
      WriteFileAtomically(v2, fed::SignedV2().SerializeAsString()).ok());
  Result r = Run({"audit", "checkpoint", "--genesis", v2});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--genesis '" + v2 + "': not a valid genesis"));
  Result missing =
      Run({"audit", "checkpoint"}, {{"CBX_GENESIS", dir_ + "/nope.pb"}});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("(from CBX_GENESIS): '" + dir_ +
                                     "/nope.pb': no such file"));
}

TEST_F(AuditCliTest, ArgumentMistakesExitTwo) {
  Result index = Run({"audit", "prove", "x1", "--genesis", genesis_});
  EXPECT_EQ(index.code, 2);
  EXPECT_THAT(index.err, HasSubstr("cbx: audit prove: INDEX 'x1': expected a "
                                   "whole number, 0 or more"));
  Result negative =
      Run({"audit", "prove", "1", "--size", "-3", "--genesis", genesis_});
  EXPECT_EQ(negative.code, 2);
  Result range = Run({"audit", "export", "--from", "5", "--to", "3", "--out",
                      dir_ + "/x.json", "--genesis", genesis_});
  EXPECT_EQ(range.code, 2);
  EXPECT_THAT(range.err, HasSubstr("--from 5 is not before --to 3"));
  Result empty = Run({"audit", "export", "--from", "3", "--to", "3", "--out",
                      dir_ + "/x.json", "--genesis", genesis_});
  EXPECT_EQ(empty.code, 2);
  EXPECT_THAT(empty.err, HasSubstr("the range [A, B) is empty"));
  const std::string exists = dir_ + "/exists.json";
  ASSERT_TRUE(WriteFileAtomically(exists, "{}").ok());
  Result out = Run({"audit", "export", "--out", exists, "--genesis", genesis_});
  EXPECT_EQ(out.code, 2);
  EXPECT_THAT(out.err, HasSubstr("exists; choose another name or remove it"));
  Result no_out = Run({"audit", "export", "--genesis", genesis_});
  EXPECT_EQ(no_out.code, 2);
  Result no_file = Run(
      {"audit", "verify-export", dir_ + "/none.json", "--genesis", genesis_});
  EXPECT_EQ(no_file.code, 2);
  Result no_sub = Run({"audit"});
  EXPECT_EQ(no_sub.code, 2);
  Result elsewhere = Run({"--genesis", genesis_, "peers"});
  EXPECT_EQ(elsewhere.code, 2);
  EXPECT_THAT(elsewhere.err, HasSubstr("--genesis and --allow-unwitnessed are "
                                       "for the audit commands"));
}

TEST_F(AuditCliTest, OnlineCommandsNeedTheConnection) {
  Result r = Run({"audit", "verify", "--genesis", genesis_, "--state", dir_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no node address: pass --node"));
}

TEST_F(AuditCliTest, VerifyExportOffline) {
  TestLog log("MK");
  for (int i = 0; i < 5; ++i) {
    log.Append(MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS",
                         "e" + std::to_string(i), testing::kTestNowMs + i));
  }
  const std::string path = WriteExport(log, "mk.json");
  Result ok = Run({"audit", "verify-export", path, "--genesis", genesis_});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("member      MK\n"));
  EXPECT_THAT(ok.out, HasSubstr("entries     0..4 (5 entries)\n"));
  EXPECT_THAT(ok.out, HasSubstr("witnessed   yes: 2 of the 2 needed (RS, AL)"));

  Result json = Run({"--json", "audit", "verify-export", path},
                    {{"CBX_GENESIS", genesis_}});
  EXPECT_EQ(json.code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["verified"], true);
  EXPECT_EQ(doc["entries"], 5);
  EXPECT_EQ(doc["checkpoint"]["size"], 5);

  // One flipped hex digit in a leaf.
  auto text = ReadWholeFile(path, 1 << 20);
  ASSERT_TRUE(text.ok());
  size_t at = text->find("\"leaf_hex\":\"", text->find("{\"index\":2,")) + 20;
  (*text)[at] = (*text)[at] == 'f' ? 'e' : 'f';
  const std::string bad = dir_ + "/bad.json";
  ASSERT_TRUE(WriteFileAtomically(bad, *text).ok());
  Result fail = Run({"audit", "verify-export", bad, "--genesis", genesis_});
  EXPECT_EQ(fail.code, 1);
  EXPECT_THAT(fail.err,
              HasSubstr("cbx: audit verify-export: " + bad +
                        ": does not verify: entry 2: the leaf and its "
                        "inclusion proof do not lead to the root"));
  Result fail_json =
      Run({"audit", "verify-export", bad, "--genesis", genesis_, "--json"});
  EXPECT_EQ(fail_json.code, 1);
  auto err_doc = nlohmann::json::parse(fail_json.out);
  EXPECT_EQ(err_doc["verified"], false);
  EXPECT_THAT(err_doc["error"].get<std::string>(), HasSubstr("entry 2: "));

  Result not_export =
      Run({"audit", "verify-export", genesis_, "--genesis", genesis_});
  EXPECT_EQ(not_export.code, 1);
  EXPECT_THAT(not_export.err, HasSubstr(": not an audit export: not JSON"));
}

TEST_F(AuditCliTest, UnwitnessedExportNeedsTheFlag) {
  TestLog log("MK");
  log.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", testing::kTestNowMs));
  AuditExport e = log.Export(0, 1, 1, log.Checkpoint(1, {Witness("RS")}), {});
  const std::string path = dir_ + "/one.json";
  ASSERT_TRUE(WriteFileAtomically(path, FormatExport(e)).ok());
  Result r = Run({"audit", "verify-export", path, "--genesis", genesis_});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not witnessed: 1 witness cosigned it (RS)"));
  EXPECT_THAT(r.err, HasSubstr("hint: pass --allow-unwitnessed"));
  Result allowed = Run({"audit", "--allow-unwitnessed", "verify-export", path,
                        "--genesis", genesis_});
  EXPECT_EQ(allowed.code, 0) << allowed.err;
  EXPECT_THAT(allowed.out, HasSubstr("witnessed   NO: 1 of the 2 needed (RS)"));
}

TEST_F(AuditCliTest, ReconcileOffline) {
  const int64_t t0 = testing::kTestNowMs;
  const int64_t min = 60000;
  TestLog mk("MK"), rs("RS");
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", t0));
  rs.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", t0));
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "q1", t0 + 20 * min));
  rs.Append(MakeEntry(v1::AUDIT_DIRECTION_RECEIVED, "MK", "q1", t0 + 20 * min));
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", t0 + 60 * min));
  rs.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", t0 + 60 * min));
  const std::string a = WriteExport(mk, "mk.json");
  const std::string b = WriteExport(rs, "rs.json");
  Result ok = Run({"audit", "reconcile", a, b, "--genesis", genesis_});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("matched      1 pair (0 received and refused"));
  EXPECT_THAT(ok.out, HasSubstr("reconciled: every envelope in range"));

  // MK sent one more that RS never logged.
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_SENT, "RS", "q2", t0 + 30 * min));
  mk.Append(MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "", t0 + 60 * min));
  const std::string a2 = WriteExport(mk, "mk2.json");
  Result orphan = Run({"audit", "reconcile", a2, b, "--genesis", genesis_});
  EXPECT_EQ(orphan.code, 1);
  EXPECT_THAT(orphan.out, HasSubstr("sent by MK, not received by RS  3"));
  EXPECT_THAT(orphan.out, HasSubstr("NOT reconciled: 1 orphan"));
  EXPECT_THAT(orphan.err, HasSubstr("cbx: audit reconcile: 1 orphan: envelopes "
                                    "one member logged and the other did "
                                    "not"));
  Result json = Run({"audit", "reconcile", a2, b, "--genesis", genesis_,
                     "--json", "--margin", "0"});
  EXPECT_EQ(json.code, 1);
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["reconciled"], false);
  EXPECT_EQ(doc["margin_s"], 0);
  EXPECT_EQ(doc["orphans"][0]["index"], 3);

  Result same = Run({"audit", "reconcile", a, a2, "--genesis", genesis_});
  EXPECT_EQ(same.code, 1);
  EXPECT_THAT(same.err, HasSubstr("both exports are of MK's log"));
}

}  // namespace
}  // namespace cbx::client::audit
