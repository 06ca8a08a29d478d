// The key-file reader (spec/keys.md §3): what it accepts, every refusal, and
// the permission check, through the Env (and a FaultEnv for read errors).
#include "core/util/key_file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "core/util/testing/fault_env.h"
#include "gtest/gtest.h"

namespace cbx {
namespace {

// RFC 8032 test 1's secret key.
constexpr char kSeed[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

class KeyFileTest : public ::testing::Test {
 protected:
  KeyFileTest() {
    std::string tmpl =
        (std::filesystem::path(::testing::TempDir()) / "cbx_key_XXXXXX")
            .string();
    dir_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~KeyFileTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  // Writes `contents` to a fresh file of mode `mode` and returns its path.
  std::string Write(const std::string& contents, unsigned mode = 0600) {
    const std::string path = dir_ + "/k" + std::to_string(++files_) + ".key";
    std::ofstream(path, std::ios::binary) << contents;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  absl::StatusOr<KeyFile> Read(
      const std::string& path,
      KeyFileAccess access = KeyFileAccess::kOwnerOnly) {
    return ReadKeyFile(Env::Default(), path, "an OPRF key", access);
  }

  std::string dir_;
  int files_ = 0;
};

TEST_F(KeyFileTest, AcceptsEitherCaseWithOrWithoutOneLineFeed) {
  const Bytes want = *HexDecode(kSeed);
  std::string upper(kSeed);
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  for (const std::string& contents :
       {std::string(kSeed) + "\n", std::string(kSeed), upper + "\n", upper}) {
    absl::StatusOr<KeyFile> key = Read(Write(contents));
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->secret, want);
    EXPECT_EQ(key->mode, 0600u);
  }
  EXPECT_TRUE(Read(Write(std::string(kSeed) + "\n", 0400)).ok());
}

TEST_F(KeyFileTest, RefusesAnythingElseNamingTheFile) {
  const std::string good(kSeed);
  const std::string cases[] = {
      "",
      good.substr(2) + "\n",                        // short
      good + "00\n",                                // long
      good + "\n\n",                                // two line feeds
      good + "\r\n",                                // CR LF
      good + " \n",                                 // trailing space
      " " + good,                                   // leading space
      "\t" + good + "\n",                           // tab
      "0x" + good.substr(2),                        // 0x prefix
      "zz" + good.substr(2),                        // not hex
      good.substr(0, 32) + "\n" + good.substr(32),  // a line break inside
      good + "\n" + std::string(1000, 'a'),         // much longer
  };
  for (const std::string& contents : cases) {
    const std::string path = Write(contents);
    absl::StatusOr<KeyFile> key = Read(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument)
        << contents;
    EXPECT_NE(key.status().message().find(path + ": not an OPRF key file: "),
              std::string::npos)
        << key.status();
    EXPECT_EQ(key.status().message().find("9d61"), std::string::npos)
        << "echoes the secret: " << key.status();
  }
}

TEST_F(KeyFileTest, RefusesAFileGroupOrOthersMayReadAndSaysHowToFixIt) {
  for (unsigned mode : {0640u, 0604u, 0644u, 0660u, 0601u, 0610u, 0777u}) {
    const std::string path = Write(std::string(kSeed) + "\n", mode);
    absl::StatusOr<KeyFile> key = Read(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition)
        << std::oct << mode;
    char octal[8];
    std::snprintf(octal, sizeof(octal), "0%o", mode);
    EXPECT_NE(key.status().message().find(path + " has mode " + octal),
              std::string::npos)
        << key.status();
    EXPECT_NE(key.status().message().find("run: chmod 600 " + path),
              std::string::npos)
        << key.status();
    // cbx-admin's reading sees the mode instead.
    absl::StatusOr<KeyFile> any = Read(path, KeyFileAccess::kAnyMode);
    ASSERT_TRUE(any.ok()) << any.status();
    EXPECT_EQ(any->mode, mode);
  }
}

TEST_F(KeyFileTest, PassesOnTheEnvsErrors) {
  EXPECT_EQ(Read(dir_ + "/absent.key").status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = Write(std::string(kSeed) + "\n");
  testing::FaultEnv env;
  env.FailAlways(FileOp::kRead, EIO);
  absl::StatusOr<KeyFile> key =
      ReadKeyFile(&env, path, "a node signing key", KeyFileAccess::kOwnerOnly);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(key.status().message().find(path), std::string::npos)
      << key.status();
}

TEST(ParseKeyFileTest, ParsesTheTextAlone) {
  ASSERT_TRUE(ParseKeyFile(std::string(kSeed) + "\n").ok());
  EXPECT_EQ(ParseKeyFile("abc").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx
