#include "client/audit/state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "client/audit/test_log.h"
#include "client/audit_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cbx::client::audit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Msg(const absl::Status& s) {
  return std::string(s.message().data(), s.message().size());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cbx_audit_state_XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::function<std::optional<std::string>(const char*)> Env(
    std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DefaultStateDirTest, XdgThenHome) {
  EXPECT_EQ(*DefaultStateDir(
                Env({{"XDG_STATE_HOME", "/x/state"}, {"HOME", "/home/a"}})),
            "/x/state/cbx/audit");
  EXPECT_EQ(
      *DefaultStateDir(Env({{"XDG_STATE_HOME", ""}, {"HOME", "/home/a"}})),
      "/home/a/.local/state/cbx/audit");
  auto none = DefaultStateDir(Env({}));
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(Msg(none.status()), HasSubstr("pass --state DIR"));
}

TEST(TrustedStoreTest, SaveThenLoad) {
  TempDir tmp;
  TrustedStore store(tmp.path() + "/a/b");
  EXPECT_EQ(store.PathFor("cbx/MK/audit"),
            tmp.path() + "/a/b/cbx_MK_audit.checkpoint");
  auto none = store.Load("cbx/MK/audit");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  testing::TestLog log("MK");
  log.Append(testing::MakeEntry(v1::AUDIT_DIRECTION_LOCAL, "", "",
                                testing::kTestNowMs));
  const std::string note =
      log.Checkpoint(1, {testing::Witness("RS"), testing::Witness("AL")});
  ASSERT_TRUE(store.Save("cbx/MK/audit", note).ok());
  auto loaded = store.Load("cbx/MK/audit");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->note, note);
  EXPECT_EQ((*loaded)->checkpoint.size, 1u);
  EXPECT_EQ((*loaded)->checkpoint.root_hash, log.Root(1));

  struct stat st;
  ASSERT_EQ(::stat((tmp.path() + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(store.PathFor("cbx/MK/audit").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Another origin's file is not this one's.
  auto rs = store.Load("cbx/RS/audit");
  ASSERT_TRUE(rs.ok());
  EXPECT_FALSE(rs->has_value());
  fs::copy_file(store.PathFor("cbx/MK/audit"), store.PathFor("cbx/RS/audit"));
  auto wrong = store.Load("cbx/RS/audit");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(Msg(wrong.status()), HasSubstr("is of 'cbx/MK/audit', not "
                                             "'cbx/RS/audit'"));
}

TEST(TrustedStoreTest, CorruptFileIsAnError) {
  TempDir tmp;
  TrustedStore store(tmp.path());
  ASSERT_TRUE(
      WriteFileAtomically(store.PathFor("cbx/MK/audit"), "hello\n").ok());
  auto loaded = store.Load("cbx/MK/audit");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(Msg(loaded.status()), HasSubstr("is not a signed note"));
}

TEST(TrustedStoreTest, EvidenceFileKeepsBothCheckpointsAndTheProof) {
  TempDir tmp;
  TrustedStore store(tmp.path());
  auto path = store.SaveEvidence("cbx/MK/audit", "the log was rewritten",
                                 "old note\n", "new note\n",
                                 {std::string(32, '\x01')}, 1767225600123);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, tmp.path() + "/cbx_MK_audit.evidence-1767225600123.json");
  auto doc = nlohmann::json::parse(Slurp(*path));
  EXPECT_EQ(doc["origin"], "cbx/MK/audit");
  EXPECT_EQ(doc["recorded"], "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(doc["reason"], "the log was rewritten");
  EXPECT_EQ(doc["trusted_checkpoint"], "old note\n");
  EXPECT_EQ(doc["new_checkpoint"], "new note\n");
  EXPECT_EQ(doc["consistency_proof"][0], HexEncode(std::string(32, '\x01')));
}

TEST(AuditFilesTest, ReadLimitAndMissingFile) {
  TempDir tmp;
  const std::string p = tmp.path() + "/f";
  ASSERT_TRUE(WriteFileAtomically(p, "0123456789").ok());
  EXPECT_EQ(*ReadWholeFile(p, 10), "0123456789");
  auto big = ReadWholeFile(p, 9);
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(Msg(big.status()), HasSubstr("larger than 9 bytes"));
  auto missing = ReadWholeFile(tmp.path() + "/nope", 10);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // Replacing keeps no temporary files behind.
  ASSERT_TRUE(WriteFileAtomically(p, "new").ok());
  EXPECT_EQ(Slurp(p), "new");
  int files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  // A directory that cannot be made.
  auto bad = MakeDirectories(p + "/sub");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(Msg(bad), HasSubstr("is not a directory"));
}

}  // namespace
}  // namespace cbx::client::audit
