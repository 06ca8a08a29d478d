#include "node/audit/head_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "core/merkle/hash.h"
#include "gtest/gtest.h"
#include "node/audit/testing/test_util.h"

namespace cbx::node::audit {
namespace {

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(AuditHeadFileTest, RoundTrips) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  EXPECT_EQ(ReadHead(path).value(), std::nullopt);
  const Head head{12345, merkle::LeafHash("x")};
  ASSERT_TRUE(WriteHead(path, head).ok());
  EXPECT_EQ(ReadHead(path).value(), head);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const Head next{12346, merkle::LeafHash("y")};
  ASSERT_TRUE(WriteHead(path, next).ok());
  EXPECT_EQ(ReadHead(path).value(), next);
}

TEST(AuditHeadFileTest, OverwritesAStaleTemporaryFile) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  WriteText(path + ".tmp", "half a head");
  const Head head{0, merkle::EmptyRoot()};
  ASSERT_TRUE(WriteHead(path, head).ok());
  EXPECT_EQ(ReadHead(path).value(), head);
}

TEST(AuditHeadFileTest, MalformedFilesAreDataLoss) {
  testing::ScopedTempDir tmp;
  const std::string path = tmp.path() + "/audit.db.head";
  const std::string root = Base64Encode(merkle::EmptyRoot());
  for (const std::string& text : {
           std::string(""),
           "cbx-audit-head/v1\n0\n" + root,  // no final newline
           "cbx-audit-head/v2\n0\n" + root + "\n",
           "cbx-audit-head/v1\n00\n" + root + "\n",
           "cbx-audit-head/v1\n-1\n" + root + "\n",
           "cbx-audit-head/v1\n18446744073709551616\n" + root + "\n",
           "cbx-audit-head/v1\n1\n" + Base64Encode("short") + "\n",
           "cbx-audit-head/v1\n1\n" + root + "\n\n",
           std::string(1000, 'x'),
       }) {
    WriteText(path, text);
    EXPECT_EQ(ReadHead(path).status().code(), absl::StatusCode::kDataLoss)
        << text;
  }
}

}  // namespace
}  // namespace cbx::node::audit
