// The console's watch pages in process, over the Office service of a test
// node whose watches ask two fake peers (RS, AL) through a real
// LookupQuerier: adding from the form (with type detection), listing,
// renewing and cancelling, each logged as the Office call it stands for
// by node/watches.h; and the role refusal.
#include "node/console_watch_pages.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/executor.h"
#include "node/index_sync.h"
#include "node/lookup_querier.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"
#include "node/watches.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;
using console::Request;
using console::Response;

constexpr char kCase[] = "MK-2026-1";
constexpr char kOffice[] = "MK/PPO-Skopje";

bool Inline(std::function<void()> work) {
  work();
  return true;
}

Request As(const std::string& office, const std::string& role,
           const std::string& lang = "en") {
  Request r;
  r.caller = console::Caller{office, role, "mk-0042"};
  r.session.form_token = std::string(64, 'f');
  r.accept_language = lang;
  return r;
}

class WatchPagesTest : public ::testing::Test {
 protected:
  WatchPagesTest()
      : node_(genesis_),
        peers_(genesis_, "MK", &node_.clock()),
        executor_("test", 2),
        sync_(&node_.ctx(), &peers_, &executor_),
        querier_(&node_.ctx(), &peers_, &executor_),
        watches_(&node_.ctx(), &querier_) {
    office_.SetWatches(&watches_);
    pages_.AddRoutes(routes_);
  }
  ~WatchPagesTest() override {
    peers_.Release();
    executor_.Shutdown();
  }
  void SetUp() override {
    StoredCase c;
    c.record.set_case_number(kCase);
    c.record.set_office(kOffice);
    c.record.set_status(v1::CASE_STATUS_OPEN);
    ASSERT_TRUE(node_.ctx().storage->AddCase(c).ok());
    ASSERT_TRUE(sync_.SyncIndex("RS").ok());
    ASSERT_TRUE(sync_.SyncIndex("AL").ok());
  }

  Response Call(const std::string& method, const std::string& path,
                const Request& as, const std::string& fields = "") {
    Request r = as;
    r.method = method;
    r.path = path;
    absl::StatusOr<console::Form> form = console::ParseForm(fields);
    EXPECT_TRUE(form.ok()) << fields;
    (method == "GET" ? r.query : r.form) = *form;
    std::optional<Response> answer;
    routes_.at({method, path})(r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }
  // The add form's fields: the e-mail row left to detection.
  static std::string AddFields(const std::string& more) {
    return absl::StrCat("form_token=", std::string(64, 'f'),
                        "&case_number=", kCase,
                        "&legal_basis=CPC+art.+1&offence=1&q_type_0=0"
                        "&q_value_0=suspect%40example.org",
                        more);
  }
  std::vector<v1::AuditEntry> Logged(const std::string& rpc) {
    return node_.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, rpc);
  }
  std::vector<v1::Watch> Stored() {
    absl::StatusOr<std::vector<v1::Watch>> all = watches_.List(caller_);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : std::vector<v1::Watch>{};
  }

  v1::SignedDirectory genesis_ = FakeGenesis();
  TestNode node_;
  FakePeers peers_;
  Executor executor_;
  IndexSync sync_;
  LookupQuerier querier_;
  Watches watches_;
  OfficeService office_{&node_.ctx(), &querier_, &sync_, nullptr, nullptr};
  ConsoleLanguage language_{"MK", node_.ctx().storage.get(), Inline};
  WatchPages pages_{"MK", &office_, &language_,
                    [] {
                      return std::vector<std::string>{"AL", "RS"};
                    },
                    Inline};
  std::map<std::pair<std::string, std::string>, console::Handler> routes_;
  OfficeCaller caller_{"MK", "PPO-Skopje", OfficeRole::kProsecutor};
  const Request clerk_ = As(kOffice, "prosecutor");
};

// Attack test (written first): an auditor may not add, renew or cancel a
// watch from the console. Each POST gets 403, is logged as the Office port
// logs the call refused by role (PERMISSION_DENIED, no office), and
// nothing changes.
TEST_F(WatchPagesTest, AuditorsPostsAreRefusedLoggedAndChangeNothing) {
  const Request auditor = As("MK/Audit", "auditor");
  EXPECT_EQ(Call("POST", "/watches", auditor, AddFields("&days=30")).status,
            403);
  EXPECT_TRUE(Stored().empty());
  ASSERT_EQ(Call("POST", "/watches", clerk_, AddFields("&days=30")).status,
            303);
  ASSERT_EQ(Stored().size(), 1u);
  const v1::Watch before = Stored()[0];
  const std::string id = before.watch_id();
  EXPECT_EQ(Call("POST", "/watches/renew", auditor,
                 absl::StrCat("form_token=", std::string(64, 'f'),
                              "&watch_id=", id, "&case_number=", kCase,
                              "&legal_basis=Other&offence=1&days=10"))
                .status,
            403);
  Response removed =
      Call("POST", "/watches/remove", auditor,
           "form_token=" + std::string(64, 'f') + "&watch_id=" + id);
  EXPECT_EQ(removed.status, 403);
  EXPECT_NE(removed.body.find("your certificate's role is auditor"),
            std::string::npos);
  ASSERT_EQ(Stored().size(), 1u);
  EXPECT_EQ(Stored()[0].expires_at_ms(), before.expires_at_ms());
  EXPECT_EQ(Stored()[0].purpose().legal_basis(), "CPC art. 1");
  for (const char* rpc :
       {"Office.AddWatch", "Office.RenewWatch", "Office.RemoveWatch"}) {
    std::vector<v1::AuditEntry> logged = Logged(rpc);
    ASSERT_FALSE(logged.empty()) << rpc;
    EXPECT_EQ(logged[0].outcome().status_code(),
              static_cast<int>(absl::StatusCode::kPermissionDenied))
        << rpc;
    EXPECT_EQ(logged[0].office(), "") << rpc;
  }
  EXPECT_EQ(Call("GET", "/watches", auditor).status, 403);
}

TEST_F(WatchPagesTest, AddedFromTheFormListedRenewedAndCancelled) {
  Response form = Call("GET", "/watches/new", clerk_);
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("At most 90 days"), std::string::npos);
  EXPECT_NE(form.body.find("<option value=\"MK-2026-1\""), std::string::npos);
  EXPECT_NE(form.body.find("Detect from the value"), std::string::npos);

  Response added = Call("POST", "/watches", clerk_, AddFields("&days=30"));
  ASSERT_EQ(added.status, 303) << added.body;
  EXPECT_EQ(added.location, "/watches");
  std::vector<v1::Watch> stored = Stored();
  ASSERT_EQ(stored.size(), 1u);
  // Detected as an e-mail address; watched at both peers for 30 days.
  ASSERT_EQ(stored[0].identifier_types_size(), 1);
  EXPECT_EQ(stored[0].identifier_types(0), v1::IDENTIFIER_TYPE_EMAIL);
  EXPECT_EQ(stored[0].expires_at_ms() - stored[0].created_at_ms(),
            int64_t{30} * 86'400'000);
  std::vector<v1::AuditEntry> logged = Logged("Office.AddWatch");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].kind(), "watch_created");
  EXPECT_EQ(logged[0].office(), kOffice);
  EXPECT_EQ(logged[0].user(), "mk-0042");

  const std::string id = stored[0].watch_id();
  // (Stored() is itself a listing the domain logs.)
  const size_t listed = Logged("Office.ListWatches").size();
  Response list = Call("GET", "/watches", As(kOffice, "prosecutor", "sq"));
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(id), std::string::npos);
  EXPECT_NE(list.body.find("AL, RS"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("Anulo vëzhgimin"), std::string::npos);
  EXPECT_EQ(Logged("Office.ListWatches").size(), listed + 1);

  // A renewal needs a new purpose: the same one is the node's refusal.
  const std::string renew =
      absl::StrCat("form_token=", std::string(64, 'f'), "&watch_id=", id,
                   "&case_number=", kCase, "&offence=1&days=60");
  EXPECT_EQ(Call("GET", "/watches/renew", clerk_, "id=" + id).status, 200);
  Response same =
      Call("POST", "/watches/renew", clerk_, renew + "&legal_basis=CPC+art.+1");
  EXPECT_EQ(same.status, 400);
  EXPECT_NE(same.body.find("The node did not accept this:"), std::string::npos);
  Response renewed =
      Call("POST", "/watches/renew", clerk_, renew + "&legal_basis=CPC+art.+2");
  ASSERT_EQ(renewed.status, 303) << renewed.body;
  EXPECT_EQ(Stored()[0].purpose().legal_basis(), "CPC art. 2");
  EXPECT_EQ(Stored()[0].expires_at_ms() - Stored()[0].renewed_at_ms(),
            int64_t{60} * 86'400'000);

  Response cancelled =
      Call("POST", "/watches/remove", clerk_,
           "form_token=" + std::string(64, 'f') + "&watch_id=" + id);
  ASSERT_EQ(cancelled.status, 303);
  EXPECT_TRUE(Stored().empty());
  EXPECT_EQ(Logged("Office.RemoveWatch").size(), 1u);
  EXPECT_EQ(Call("POST", "/watches/remove", clerk_,
                 "form_token=" + std::string(64, 'f') + "&watch_id=" + id)
                .status,
            404);
}

TEST_F(WatchPagesTest, AddAnotherRowGrowsTheFormAndAddsNothing) {
  Response more =
      Call("POST", "/watches", clerk_, AddFields("&days=30&add_row=1"));
  EXPECT_EQ(more.status, 200) << more.body;
  EXPECT_NE(more.body.find("name=\"q_value_4\""), std::string::npos);
  EXPECT_NE(more.body.find("name=\"rows\" value=\"5\""), std::string::npos);
  EXPECT_TRUE(Stored().empty());
  EXPECT_TRUE(Logged("Office.AddWatch").empty());
}

TEST_F(WatchPagesTest, PagesOwnChecksAreShownNextToTheirFieldUnsent) {
  struct Case {
    std::string fields;
    std::string field;
    std::string text;
  };
  const std::string token = "form_token=" + std::string(64, 'f');
  const std::vector<Case> cases = {
      {AddFields("&days=0"), "days", "Give a number of days from 1 to 90."},
      {AddFields("&days=91"), "days", "Give a number of days from 1 to 90."},
      {AddFields("&days=many"), "days", "Give a number of days from 1 to 90."},
      {token + "&case_number=MK-9&legal_basis=CPC&offence=1&q_value_0=a%40b.c"
               "&days=3",
       "case_number", "MK-9 is not one of your office"},
      {token + "&case_number=MK-2026-1&legal_basis=CPC&offence=1"
               "&q_value_0=smokva_grupa&days=3",
       "q_row_0", "Identifier 1: the type cannot be told"},
  };
  for (const Case& c : cases) {
    Response r = Call("POST", "/watches", clerk_, c.fields);
    EXPECT_EQ(r.status, 400) << c.fields;
    const std::string mark = "id=\"" + c.field + "_error\">";
    const size_t at = r.body.find(mark);
    ASSERT_NE(at, std::string::npos) << c.fields << r.body;
    EXPECT_EQ(r.body.find(c.text, at), at + mark.size()) << c.fields;
  }
  EXPECT_TRUE(Logged("Office.AddWatch").empty());
  EXPECT_TRUE(Stored().empty());
  // In the page's language (Macedonian).
  Response mk = Call("POST", "/watches", As(kOffice, "prosecutor", "mk"),
                     AddFields("&days=0"));
  EXPECT_NE(mk.body.find("Внесете број на денови од 1 до 90."),
            std::string::npos);
}

}  // namespace
}  // namespace cbx::node
