// A member that publishes more tags than the federation's policy allows
// (issue 9, index poisoning; spec/index-sync.md, "Caps"), end to end: real
// nodes, the real gRPC transport (the puller cancels the stream after the
// manifest) and the operator's view of the peer in Office.ListPeers.
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/federation.h"

namespace cbx::testing {
namespace {

v1::Identifier Email(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id.set_value(value);
  return id;
}

void AddCase(Federation& fed, const std::string& cc, const std::string& number,
             const std::vector<std::string>& emails) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  for (const std::string& e : emails) *c->add_identifiers() = Email(e);
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::Case out;
  grpc::Status s = fed.Office(cc)->AddCase(&ctx, req, &out);
  ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
}

v1::PeerStatus PeerStatusOf(Federation& fed, const std::string& cc,
                            const std::string& member) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListPeersResponse resp;
  grpc::Status s = fed.Office(cc, "operator")
                       ->ListPeers(&ctx, v1::ListPeersRequest(), &resp);
  EXPECT_TRUE(s.ok()) << cc << ": " << s.error_message();
  for (const v1::PeerStatus& p : resp.peers()) {
    if (p.member() == member) return p;
  }
  ADD_FAILURE() << cc << " lists no peer " << member;
  return v1::PeerStatus();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(IndexCapsTest, OverTheCapIsRefusedAlertedAndListed) {
  FederationOptions options;
  options.countries = {"MK", "RS", "BA"};
  options.edit_spec = [](nlohmann::json& spec) {
    spec["policy"]["max_index_tags"] = 2;
  };
  auto created = Federation::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Federation> fed = *std::move(created);
  ASSERT_TRUE(fed->StartAll().ok());
  // RS publishes three tags at once, over the cap of 2; BA two, at it.
  AddCase(*fed, "RS", "RS-2026-1",
          {"a@example.org", "b@example.org", "c@example.org"});
  AddCase(*fed, "BA", "BA-2026-1", {"d@example.org", "e@example.org"});
  ASSERT_TRUE(fed->WaitForIndex("MK", {{"BA", 2}}).ok());

  v1::PeerStatus rs;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    rs = PeerStatusOf(*fed, "MK", "RS");
    if (!rs.index_alert().empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(rs.index_alert().find("has 3 tags, over the policy's cap of 2 "
                                  "(FAILED_PRECONDITION)"),
            std::string::npos)
      << rs.index_alert();
  EXPECT_EQ(rs.index_count(), 0u);  // the last good copy: RS before its case
  EXPECT_EQ(PeerStatusOf(*fed, "MK", "BA").index_alert(), "");
  const std::string log = ReadAll(fed->LogOf("MK"));
  EXPECT_NE(log.find("ALERT-index-over-cap peer=RS"), std::string::npos);
  if (::testing::Test::HasFailure()) fed->DumpLogs();
}

}  // namespace
}  // namespace cbx::testing
