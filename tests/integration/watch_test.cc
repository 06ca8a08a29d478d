// Standing watches end to end (issue 13; spec/cooperation.md §4): real
// nodes on loopback. MK watches an identifier that misses at HR; HR then
// registers a matching case; after HR's next index version MK's hits show
// the watch hit (and HR's inbox MK's resolve) without MK sending a new
// evaluation. A watch that expired first is gone with its outputs and never
// hits.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/federation.h"

namespace cbx::testing {
namespace {

constexpr char kWatched[] = "watched@example.org";
constexpr char kExpiring[] = "expiring@example.org";

v1::Identifier Email(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_EMAIL);
  id.set_value(value);
  return id;
}

std::unique_ptr<grpc::ClientContext> Call() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(10));
  return ctx;
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
  v1::Case out;
  grpc::Status s = fed.Office(cc)->AddCase(Call().get(), req, &out);
  ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
}

v1::AddWatchResponse AddWatch(Federation& fed, const std::string& email,
                              uint32_t duration_s) {
  v1::AddWatchRequest req;
  *req.add_identifiers() = Email(email);
  req.mutable_purpose()->set_case_number("MK-2026-1");
  req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
  req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  req.set_duration_s(duration_s);
  v1::AddWatchResponse out;
  grpc::Status s = fed.Office("MK")->AddWatch(Call().get(), req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

std::vector<v1::Watch> Watches(Federation& fed) {
  v1::ListWatchesResponse out;
  grpc::Status s = fed.Office("MK")->ListWatches(
      Call().get(), v1::ListWatchesRequest(), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {out.watches().begin(), out.watches().end()};
}

std::vector<v1::Hit> Hits(Federation& fed) {
  v1::ListHitsResponse out;
  grpc::Status s =
      fed.Office("MK")->ListHits(Call().get(), v1::ListHitsRequest(), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return {out.hits().begin(), out.hits().end()};
}

// Rows of MK's node.db for `sql` (sqlite3 prints one number).
std::string Sql(Federation& fed, const std::string& sql) {
  std::string out;
  RunCommand("sqlite3 '" + fed.NodeDir("MK") + "/data/node.db' \"" + sql +
                 "\"",
             &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

// Polls `done` every 50 ms for up to 20 s.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST(WatchTest, WatchHitsAfterThePeersNextIndexVersionAndExpiredOneNever) {
  FederationOptions options;
  options.countries = {"MK", "HR"};
  auto created = Federation::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Federation> fed = *std::move(created);
  ASSERT_TRUE(fed->StartAll().ok());
  AddCase(*fed, "MK", "MK-2026-1", {"own@example.org"});
  ASSERT_TRUE(fed->WaitForIndex("MK", {{"HR", 0}}).ok());

  // Both miss at HR now.
  const v1::AddWatchResponse kept = AddWatch(*fed, kWatched, 3600);
  const v1::AddWatchResponse expiring = AddWatch(*fed, kExpiring, 1);
  ASSERT_EQ(kept.answers_size(), 1);
  EXPECT_EQ(kept.answers(0).outcome(), v1::PEER_OUTCOME_MISS);
  const std::string kept_id = kept.watch().watch_id();
  const std::string expiring_id = expiring.watch().watch_id();
  ASSERT_FALSE(kept_id.empty());
  ASSERT_FALSE(expiring_id.empty());
  EXPECT_EQ(Sql(*fed, "SELECT COUNT(*) FROM watch_outputs WHERE watch_id='" +
                          expiring_id + "'"),
            "1");

  // The short watch ends (the listing, like the timer, deletes it) with
  // the output it kept.
  ASSERT_TRUE(Eventually([&] { return Watches(*fed).size() == 1; }));
  EXPECT_EQ(Watches(*fed)[0].watch_id(), kept_id);
  EXPECT_EQ(Sql(*fed, "SELECT COUNT(*) FROM watch_outputs WHERE watch_id='" +
                          expiring_id + "'"),
            "0");
  EXPECT_EQ(Sql(*fed, "SELECT COUNT(*) FROM watches WHERE watch_id='" +
                          expiring_id + "'"),
            "0");

  // HR registers a case with both identifiers; MK syncs HR's next version.
  AddCase(*fed, "HR", "HR-2026-7", {kWatched, kExpiring});
  ASSERT_TRUE(fed->WaitForIndex("MK", {{"HR", 2}}).ok());
  ASSERT_TRUE(Eventually([&] { return !Hits(*fed).empty(); }));
  const std::vector<v1::Hit> hits = Hits(*fed);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].watch_id(), kept_id);
  EXPECT_EQ(hits[0].member(), "HR");
  EXPECT_EQ(hits[0].case_number(), "MK-2026-1");
  ASSERT_EQ(hits[0].reference().matched_size(), 1);
  EXPECT_EQ(hits[0].reference().matched(0).type(), v1::IDENTIFIER_TYPE_EMAIL);
  ASSERT_TRUE(Eventually([&] {
    std::vector<v1::Watch> w = Watches(*fed);
    return w.size() == 1 && w[0].hits() == 1;
  }));
  // HR's inbox: MK resolved its case.
  v1::ListInboxResponse inbox;
  ASSERT_TRUE(fed->Office("HR")
                  ->ListInbox(Call().get(), v1::ListInboxRequest(), &inbox)
                  .ok());
  ASSERT_EQ(inbox.notifications_size(), 1);
  EXPECT_EQ(inbox.notifications(0).from_member(), "MK");
  // No identifier value in MK's node.db beyond its own case's.
  EXPECT_EQ(Sql(*fed, "SELECT COUNT(*) FROM watches WHERE CAST(record AS "
                      "TEXT) LIKE '%example.org%'"),
            "0");
  if (::testing::Test::HasFailure()) fed->DumpLogs();
}

}  // namespace
}  // namespace cbx::testing
