#include "node/config.h"

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

constexpr char kGood[] = R"({
  "member": "MK",
  "data_dir": "data",
  "peer_listen": "127.0.0.1:7101",
  "office_listen": "127.0.0.1:7201",
  "tls": {"certificate": "node.crt", "private_key": "node.key",
          "office_ca": "/etc/cbx/ca.crt"},
  "keys": {"node_signing_key": "node-signing.key", "oprf_key": "oprf.key"},
  "directory": {"genesis": "../genesis.pb"},
  "sync": {"index_interval_ms": 500}
})";

TEST(ConfigTest, ParsesAndResolvesRelativePaths) {
  auto c = ParseConfig(kGood, "/srv/cbx/mk", "node.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->member, "MK");
  EXPECT_EQ(c->data_dir, "/srv/cbx/mk/data");
  EXPECT_EQ(c->tls_certificate, "/srv/cbx/mk/node.crt");
  EXPECT_EQ(c->office_ca, "/etc/cbx/ca.crt");
  EXPECT_EQ(c->genesis, "/srv/cbx/genesis.pb");
  EXPECT_EQ(c->index_interval_ms, 500);
  EXPECT_EQ(c->directory_interval_ms, 10000);
  EXPECT_TRUE(c->admin_listen.empty());
}

struct BadCase {
  std::string from, to, message;
};

TEST(ConfigTest, EveryErrorNamesTheFieldAndTheProblem) {
  const std::vector<BadCase> cases = {
      {R"("member": "MK")", R"("member": "mk")",
       "member: 'mk' is not an ISO 3166-1 alpha-2 code"},
      {R"("member": "MK",)", "", "member: missing"},
      {R"("peer_listen": "127.0.0.1:7101")", R"("peer_listen": "nowhere")",
       "peer_listen: 'nowhere' is not host:port"},
      {R"("peer_listen": "127.0.0.1:7101")",
       R"("peer_listen": "127.0.0.1:99999")", "peer_listen: port 99999"},
      {R"("office_listen": "127.0.0.1:7201")",
       R"("office_listen": "127.0.0.1:7101")",
       "office_listen: must differ from peer_listen"},
      {R"("certificate": "node.crt", )", "", "tls.certificate: missing"},
      {R"("oprf_key": "oprf.key")", R"("oprf_key": 7)",
       "keys.oprf_key: must be a string"},
      {R"("index_interval_ms": 500)", R"("index_interval_ms": 5)",
       "sync.index_interval_ms: must be between"},
      {R"("index_interval_ms": 500)", R"("index_interval_ms": "fast")",
       "sync.index_interval_ms: must be an integer"},
      {R"("data_dir": "data",)", R"("data_dir": "data", "colour": "red",)",
       "colour: unknown field"},
  };
  for (const BadCase& bad : cases) {
    std::string text = kGood;
    size_t at = text.find(bad.from);
    ASSERT_NE(at, std::string::npos) << bad.from;
    text.replace(at, bad.from.size(), bad.to);
    auto c = ParseConfig(text, "/srv", "node.json");
    ASSERT_FALSE(c.ok()) << bad.message;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("node.json: " + bad.message),
              std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigTest, RejectsNonJsonAndMissingFile) {
  EXPECT_EQ(ParseConfig("{", "/", "x.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseConfig("[]", "/", "x.json").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadConfig("/nonexistent/cbx.json").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cbx::node
