// `cbx-node --check` on a federation's real files (issue 9): a key file
// group or others may read, or one the old reader accepted after stripping
// whitespace, is refused with exit 2 and a message naming the config field
// and the file (and, for the mode, the chmod to run).
#include <sys/stat.h>

#include <filesystem>
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
      NodeBinary() + " --allow-root --config " + dir + "/node.json --check";
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

// Every file under `dir` with its size and modification time: what a
// command that must write nothing must leave as it was.
std::string Snapshot(const std::string& dir) {
  std::string out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return "(absent)";
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    out += e.path().string();
    if (e.is_regular_file(ec)) {
      out += " " + std::to_string(e.file_size(ec)) + " " +
             std::to_string(e.last_write_time(ec).time_since_epoch().count());
    }
    out += "\n";
  }
  return out;
}

// Issue 12: --check wrote <data_dir>/tls and created node.db and audit.db.
// On a fresh data_dir it must leave it absent; on a node's data_dir (after
// the node ran and stopped) it must change nothing, and read node.db.
TEST(NodeCheckTest, WritesNothing) {
  FederationOptions options;
  options.countries = {"MK", "RS"};
  auto fed = Federation::Create(options);
  ASSERT_TRUE(fed.ok()) << fed.status();
  const std::string dir = (*fed)->NodeDir("MK");
  const std::string data = dir + "/data";
  const std::string check =
      NodeBinary() + " --allow-root --config " + dir + "/node.json --check";
  ASSERT_FALSE(std::filesystem::exists(data)) << "the fixture changed";
  std::string out;
  ASSERT_EQ(RunCommand(check, &out), 0) << out;
  EXPECT_FALSE(std::filesystem::exists(data)) << out;
  EXPECT_NE(out.find("node.db: absent"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing was written"), std::string::npos) << out;

  ASSERT_TRUE((*fed)->Start("MK").ok());
  (*fed)->Stop("MK");
  ASSERT_TRUE(std::filesystem::exists(data + "/node.db"));
  const std::string before = Snapshot(data);
  ASSERT_EQ(RunCommand(check, &out), 0) << out;
  EXPECT_NE(out.find("node.db: opened read-only"), std::string::npos) << out;
  EXPECT_EQ(Snapshot(data), before) << out;
}

// Issue 12: --check said "in order" for another member's certificate, a
// certificate and key that do not match, and an office certificate used
// as the node certificate; each is refused, naming tls.certificate.
TEST(NodeCheckTest, RefusesACertificateThatIsNotThisNodes) {
  FederationOptions options;
  options.countries = {"MK", "RS"};
  auto fed = Federation::Create(options);
  ASSERT_TRUE(fed.ok()) << fed.status();
  const std::string mk = (*fed)->NodeDir("MK");
  const std::string rs = (*fed)->NodeDir("RS");
  const std::string check =
      NodeBinary() + " --allow-root --config " + mk + "/node.json --check";
  const std::string cert = Slurp(mk + "/node.crt");
  const std::string key = Slurp(mk + "/node.key");
  const auto put = [&](const std::string& c, const std::string& k) {
    std::ofstream(mk + "/node.crt", std::ios::trunc) << c;
    std::ofstream(mk + "/node.key", std::ios::trunc) << k;
    ::chmod((mk + "/node.key").c_str(), 0600);
  };
  std::string out;
  put(Slurp(rs + "/node.crt"), Slurp(rs + "/node.key"));  // RS's pair
  EXPECT_EQ(RunCommand(check, &out), 2) << out;
  EXPECT_NE(out.find("tls.certificate: "), std::string::npos) << out;
  put(cert, Slurp(rs + "/node.key"));  // MK's certificate, RS's key
  EXPECT_EQ(RunCommand(check, &out), 2) << out;
  EXPECT_NE(out.find("tls.certificate: "), std::string::npos) << out;
  const std::string office = (*fed)->OfficeCertificate("MK", "operator");
  ASSERT_FALSE(office.empty());
  put(Slurp(office),
      Slurp(office.substr(0, office.size() - 4) + ".key"));  // an office's
  EXPECT_EQ(RunCommand(check, &out), 2) << out;
  EXPECT_NE(out.find("tls.certificate: "), std::string::npos) << out;
  put(cert, key);
  EXPECT_EQ(RunCommand(check, &out), 0) << out;
  EXPECT_FALSE(std::filesystem::exists(mk + "/data")) << out;
}

}  // namespace
}  // namespace cbx::testing
