#include "admin/key_file.h"

#include <sys/stat.h>

#include "absl/status/status.h"
#include "admin/file_io.h"
#include "admin/test_support.h"
#include "core/directory/directory.h"
#include "core/util/env.h"
#include "gtest/gtest.h"

namespace cbx::admin {
namespace {

using testing::TempDir;
using testing::WriteTextFile;

// RFC 8032 section 7.1, TEST 1.
constexpr char kRfc8032Seed[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kRfc8032Public[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
// RFC 9497 appendix A.3.2 (P256-SHA256, VOPRF): skSm and pkSm.
constexpr char kRfc9497Secret[] =
    "ca5d94c8807817669a51b196c34c1b7f8442fde4334a7121ae4736364312fca6";
constexpr char kRfc9497Public[] =
    "03e17e70604bcabe198882c0a1f27a92441e774224ed9c702e51dd17038b102462";

TEST(KeyKindTest, NamesRoundTrip) {
  for (KeyKind kind : {KeyKind::kNode, KeyKind::kGovernance, KeyKind::kOprf}) {
    absl::StatusOr<KeyKind> parsed = ParseKeyKind(KeyKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  absl::StatusOr<KeyKind> bad = ParseKeyKind("tls");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("node, governance or oprf"),
            std::string::npos);
}

TEST(KeyFileTest, Ed25519KeyFileMatchesRfc8032) {
  for (KeyKind kind : {KeyKind::kNode, KeyKind::kGovernance}) {
    absl::StatusOr<KeyMaterial> key =
        DecodeKeyFile(kind, std::string(kRfc8032Seed) + "\n");
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(HexEncode(key->public_key), kRfc8032Public);
    EXPECT_EQ(EncodeKeyFile(*key), std::string(kRfc8032Seed) + "\n");
  }
}

TEST(KeyFileTest, ReadersAcceptUpperCaseAndNoNewline) {
  absl::StatusOr<KeyMaterial> upper = DecodeKeyFile(
      KeyKind::kGovernance,
      "9D61B19DEFFD5A60BA844AF492EC2CC44449C5697B326919703BAC031CAE7F60");
  ASSERT_TRUE(upper.ok()) << upper.status();
  EXPECT_EQ(HexEncode(upper->public_key), kRfc8032Public);
  // Written back in lower case.
  EXPECT_EQ(EncodeKeyFile(*upper), std::string(kRfc8032Seed) + "\n");
}

TEST(KeyFileTest, NodeKeyCarriesItsKeyId) {
  absl::StatusOr<KeyMaterial> node =
      DecodeKeyFile(KeyKind::kNode, kRfc8032Seed);
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE(node->key_id.has_value());
  EXPECT_EQ(*node->key_id, directory::NodeKeyId(node->public_key));
  EXPECT_EQ(node->key_id->size(), directory::kNodeKeyIdSize);
  absl::StatusOr<KeyMaterial> governance =
      DecodeKeyFile(KeyKind::kGovernance, kRfc8032Seed);
  ASSERT_TRUE(governance.ok());
  EXPECT_FALSE(governance->key_id.has_value());
}

TEST(KeyFileTest, OprfKeyFileMatchesRfc9497) {
  absl::StatusOr<KeyMaterial> key =
      DecodeKeyFile(KeyKind::kOprf, std::string(kRfc9497Secret) + "\n");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(HexEncode(key->public_key), kRfc9497Public);
}

TEST(KeyFileTest, RefusesMalformedContents) {
  std::string good(kRfc8032Seed);
  struct Case {
    std::string contents;
    std::string message_part;
  } cases[] = {
      {"", "expected 64 hex digits"},
      {good.substr(2) + "\n", "expected 64 hex digits"},
      {good + "\n\n", "expected 64 hex digits"},
      {good + " ", "expected 64 hex digits"},
      {good + "\r\n", "expected 64 hex digits"},
      {"0x" + good.substr(2) + "\n", "expected hex digits only"},
      {"zz" + good.substr(2) + "\n", "expected hex digits only"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<KeyMaterial> key = DecodeKeyFile(KeyKind::kNode, c.contents);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument)
        << c.contents;
    EXPECT_NE(key.status().message().find(c.message_part), std::string::npos)
        << key.status();
    // The secret is never echoed back in an error.
    EXPECT_EQ(key.status().message().find("9d61"), std::string::npos);
  }
}

TEST(KeyFileTest, RefusesOprfScalarOutOfRange) {
  std::string zero(64, '0');
  EXPECT_EQ(DecodeKeyFile(KeyKind::kOprf, zero).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string all_ff(64, 'f');  // above the P-256 group order
  EXPECT_EQ(DecodeKeyFile(KeyKind::kOprf, all_ff).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeyFileTest, GeneratedKeysRoundTripThroughTheFileFormat) {
  for (KeyKind kind : {KeyKind::kNode, KeyKind::kGovernance, KeyKind::kOprf}) {
    KeyMaterial key = GenerateKey(kind);
    EXPECT_EQ(key.secret.size(), 32u);
    EXPECT_EQ(key.public_key.size(), kind == KeyKind::kOprf ? 33u : 32u);
    std::string file = EncodeKeyFile(key);
    ASSERT_EQ(file.size(), 65u);
    EXPECT_EQ(file.back(), '\n');
    absl::StatusOr<KeyMaterial> back = DecodeKeyFile(kind, file);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->secret, key.secret);
    EXPECT_EQ(back->public_key, key.public_key);
  }
  EXPECT_NE(GenerateKey(KeyKind::kNode).secret,
            GenerateKey(KeyKind::kNode).secret);
}

TEST(KeyFileTest, GenerateKeyFileWritesMode0600AndNeverOverwrites) {
  TempDir dir;
  std::string path = dir.File("governance.key");
  // Even with a permissive umask the file is created 0600.
  mode_t old_umask = ::umask(0);
  absl::StatusOr<KeyMaterial> key = GenerateKeyFile(KeyKind::kGovernance, path);
  ::umask(old_umask);
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<FileInfo> info = Env::Default()->Stat(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, 0600u);

  absl::StatusOr<LoadedKey> loaded = LoadKeyFile(KeyKind::kGovernance, path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->key.public_key, key->public_key);
  EXPECT_FALSE(loaded->readable_by_others);

  absl::StatusOr<KeyMaterial> again =
      GenerateKeyFile(KeyKind::kGovernance, path);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<LoadedKey> still = LoadKeyFile(KeyKind::kGovernance, path);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->key.secret, key->secret);
}

TEST(KeyFileTest, LoadReportsLoosePermissionsAndNamesThePath) {
  TempDir dir;
  std::string path = dir.File("node-signing.key");
  WriteTextFile(path, std::string(kRfc8032Seed) + "\n");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  absl::StatusOr<LoadedKey> loaded = LoadKeyFile(KeyKind::kNode, path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->readable_by_others);
  EXPECT_EQ(loaded->mode, 0644u);

  WriteTextFile(path, "not a key\n");
  absl::StatusOr<LoadedKey> bad = LoadKeyFile(KeyKind::kNode, path);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(path + ": not a node key file"),
            std::string::npos)
      << bad.status();

  EXPECT_EQ(LoadKeyFile(KeyKind::kNode, dir.File("absent.key")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cbx::admin
