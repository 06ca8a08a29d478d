// `cbx-node --check` on a federation's real files (issue 9): a key file
// group or others may read, or one the old reader accepted after stripping
// whitespace, is refused with exit 2 and a message naming the config field
// and the file (and, for the mode, the chmod to run).
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"
#include "tests/integration/federation.h"

namespace cbx::testing {
namespace {

TEST(NodeCheckTest, RefusesLooseOrMalformedKeyFilesAndSaysWhy) {
  FederationOptions options;
  options.countries = {"MK", "RS"};
  auto fed = Federation::Create(options);
  ASSERT_TRUE(fed.ok()) << fed.status();
  const std::string dir = (*fed)->NodeDir("MK");
  const std::string oprf = dir + "/oprf.key";
  const std::string check =
      NodeBinary() + " --config " + dir + "/node.json --check";
  std::string out;
  ASSERT_EQ(RunCommand(check, &out), 0) << out;

  ASSERT_EQ(::chmod(oprf.c_str(), 0644), 0);
  EXPECT_EQ(RunCommand(check, &out), 2) << out;
  EXPECT_NE(out.find("keys.oprf_key: " + oprf + " has mode 0644"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("run: chmod 600 " + oprf), std::string::npos) << out;
  ASSERT_EQ(::chmod(oprf.c_str(), 0600), 0);

  const std::string hex(absl::StripAsciiWhitespace(Slurp(oprf)));
  std::ofstream(oprf, std::ios::trunc) << " " << hex << "\r\n";
  EXPECT_EQ(RunCommand(check, &out), 2) << out;
  EXPECT_NE(out.find("keys.oprf_key: " + oprf + ": not an OPRF key file"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find(hex.substr(0, 8)), std::string::npos)
      << "the secret is echoed: " << out;

  std::ofstream(oprf, std::ios::trunc) << hex << "\n";
  EXPECT_EQ(RunCommand(check, &out), 0) << out;
}

}  // namespace
}  // namespace cbx::testing
