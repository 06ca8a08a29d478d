// The console's cooperation pages in process: MK and RS are two TestNodes
// (MemoryStorage, real audit logs), each with its Office service, its
// cooperation module and its console pages; each one's FakePeers routes
// Peer.Cooperate to the other's PeerService (the envelope checks
// included). A request is sent from a hit card in MK's console and
// answered in RS's, and every page is logged as the Office call it
// stands for.
#include "node/console_cooperation_pages.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/checkpoints.h"
#include "node/console_hit_pages.h"
#include "node/cooperation.h"
#include "node/peer_service.h"
#include "node/testing/fake_peer.h"
#include "node/testing/test_node.h"

namespace cbx::node {
namespace {

using ::cbx::node::testing::FakeGenesis;
using ::cbx::node::testing::FakePeers;
using ::cbx::node::testing::TestNode;
using console::Request;
using console::Response;

constexpr char kMkOffice[] = "MK/PPO-Skopje";
constexpr char kRsOffice[] = "RS/VJT-Beograd";
const Bytes kToken(16, 't');

bool Inline(std::function<void()> work) {
  work();
  return true;
}

// One member: its node, Peer service, cooperation module, Office service
// and console pages.
struct Member {
  explicit Member(const std::string& code)
      : node(FakeGenesis(), code),
        checkpoints(&node.ctx()),
        service(&node.ctx(), &checkpoints),
        peers(FakeGenesis(), code, &node.clock()),
        cooperation(&node.ctx(), &peers),
        office(&node.ctx(), nullptr, nullptr, nullptr, nullptr),
        language(code, node.ctx().storage.get(), Inline),
        pages(&office, &language, Inline),
        hits(code, &office, &language, Inline) {
    service.set_cooperation(&cooperation);
    office.set_cooperation(&cooperation);
    pages.AddRoutes(routes);
    hits.AddRoutes(routes);
  }
  Storage& storage() { return *node.ctx().storage; }
  std::vector<v1::AuditEntry> Logged(const std::string& rpc) {
    return node.AuditEntries(v1::AUDIT_DIRECTION_LOCAL, rpc);
  }
  absl::StatusOr<Page<v1::CooperationRecord>> Records(
      const std::string& office_name) {
    return cooperation.List(office_name, false, PageRequest{"", 100});
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
    routes.at({method, path})(r, [&](Response a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(Response{});
  }

  TestNode node;
  Checkpoints checkpoints;
  PeerService service;
  FakePeers peers;
  Cooperation cooperation;
  OfficeService office;
  ConsoleLanguage language;
  CooperationPages pages;
  HitPages hits;
  std::map<std::pair<std::string, std::string>, console::Handler> routes;
};

Request As(const std::string& office, const std::string& role,
           const std::string& person = "", const std::string& lang = "en") {
  Request r;
  r.caller = console::Caller{office, role, person};
  r.session.form_token = std::string(64, 'f');
  r.accept_language = lang;
  return r;
}

StoredCase Case(const std::string& number, const std::string& office,
                const Bytes& token) {
  StoredCase c;
  c.record.set_case_number(number);
  c.record.set_case_token(token);
  c.record.set_office(office);
  c.record.set_status(v1::CASE_STATUS_OPEN);
  c.record.set_contact_point("+381 11 000 000");
  StoredIdentifier id;
  id.type = v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
  id.normalized_value = "cbx_test_account";
  id.y = Bytes(32, static_cast<char>(number.size()));
  id.tag = 7 + number.size();
  c.identifiers.push_back(id);
  return c;
}

class CooperationPagesTest : public ::testing::Test {
 protected:
  CooperationPagesTest() : mk_("MK"), rs_("RS") {
    mk_.peers.OnCooperate(
        [this](const std::string&,
               const v1::Envelope& e) -> absl::StatusOr<v1::Envelope> {
          return rs_.service.CooperateAs(std::string("MK"), &e);
        });
    rs_.peers.OnCooperate(
        [this](const std::string&,
               const v1::Envelope& e) -> absl::StatusOr<v1::Envelope> {
          return mk_.service.CooperateAs(std::string("RS"), &e);
        });
    // RS holds RS-1 and gave its reference to MK; MK holds MK-1 and the
    // hit its query got.
    EXPECT_TRUE(rs_.storage().AddCase(Case("RS-1", kRsOffice, kToken)).ok());
    v1::Notification note;
    note.set_at_ms(rs_.node.clock().NowMs());
    note.set_from_member("MK");
    note.set_case_number("RS-1");
    EXPECT_TRUE(rs_.storage().AddNotification(note).ok());
    EXPECT_TRUE(
        mk_.storage().AddCase(Case("MK-1", kMkOffice, Bytes(16, 'm'))).ok());
    EXPECT_TRUE(mk_.storage().AddHit(hit_).ok());
  }

  static v1::Hit HitOf(const Bytes& token) {
    v1::Hit hit;
    hit.set_member("RS");
    hit.set_case_number("MK-1");
    hit.set_query_id("q1");
    hit.mutable_reference()->set_case_token(token);
    hit.mutable_reference()->set_member("RS");
    hit.mutable_reference()->set_competent_office(kRsOffice);
    hit.mutable_reference()->add_matched()->set_type(
        v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    v1::HitMatch* m = hit.add_matches();
    m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    m->set_value("@CBX_test_account");
    m->set_normalized("cbx_test_account");
    return hit;
  }

  // The send form's fields for the hit, with `more` appended.
  std::string SendFields(const std::string& more) const {
    return absl::StrCat("form_token=", std::string(64, 'f'),
                        "&hit=", console::UrlEncode(HitId(hit_)),
                        "&case_token=", absl::BytesToHexString(kToken),
                        "&case_number=MK-1", more);
  }

  const v1::Hit hit_ = HitOf(kToken);
  Member mk_;
  Member rs_;
  const Request mk_clerk_ = As(kMkOffice, "prosecutor", "mk-0042");
  const Request rs_clerk_ = As(kRsOffice, "prosecutor", "rs-0007");
};

// Attack test (written first): an auditor's certificate may not send or
// answer a cooperation request from the console. Its POSTs get 403, each is
// logged as the Office port logs the same call refused by role
// (PERMISSION_DENIED, no office), and nothing is sent or stored.
TEST_F(CooperationPagesTest, AuditorsPostsAreRefusedLoggedAndChangeNothing) {
  const Request mk_auditor = As("MK/Audit", "auditor");
  Response sent =
      mk_.Call("POST", "/requests", mk_auditor,
               SendFields("&type=1&legal_basis=Budapest+Convention+Art.+25"));
  EXPECT_EQ(sent.status, 403);
  EXPECT_NE(sent.body.find("your certificate's role is auditor"),
            std::string::npos)
      << sent.body;
  std::vector<v1::AuditEntry> logged =
      mk_.Logged("Office.SendCooperationRequest");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].kind(), "send_cooperation_request");
  EXPECT_EQ(logged[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(logged[0].office(), "");
  ASSERT_TRUE(mk_.Records(kMkOffice).ok());
  EXPECT_TRUE(mk_.Records(kMkOffice)->items.empty());
  EXPECT_TRUE(rs_.Records(kRsOffice)->items.empty());
  EXPECT_TRUE(rs_.node.AuditEntries(v1::AUDIT_DIRECTION_RECEIVED, kCooperateRpc)
                  .empty());

  // RS's auditor cannot answer the request RS's office received.
  Response real =
      mk_.Call("POST", "/requests", mk_clerk_,
               SendFields("&type=1&legal_basis=Budapest+Convention+Art.+25"));
  ASSERT_EQ(real.status, 303) << real.body;
  const std::string id = real.location.substr(real.location.find('=') + 1);
  Response answered =
      rs_.Call("POST", "/requests/respond", As("RS/Audit", "auditor"),
               absl::StrCat("form_token=", std::string(64, 'f'), "&id=", id,
                            "&outcome=1"));
  EXPECT_EQ(answered.status, 403);
  logged = rs_.Logged("Office.RespondToCooperationRequest");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].outcome().status_code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<v1::CooperationRecord> kept =
      rs_.cooperation.Get(kRsOffice, id);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_FALSE(kept->has_response());
  // Nor may it read the office's requests.
  EXPECT_EQ(rs_.Call("GET", "/requests", As("RS/Audit", "auditor")).status,
            403);
  EXPECT_EQ(rs_.Logged("Office.ListCooperationRequests")
                .back()
                .outcome()
                .status_code(),
            static_cast<int>(absl::StatusCode::kPermissionDenied));
}

TEST_F(CooperationPagesTest, RequestSentFromAHitCardIsAnsweredByThePeer) {
  // The hit card and the hit's record lead to the send form.
  const std::string link =
      absl::StrCat("/requests/new?hit=", console::UrlEncode(HitId(hit_)));
  EXPECT_NE(mk_.Call("GET", "/hits", mk_clerk_).body.find(link),
            std::string::npos);
  EXPECT_NE(mk_.Call("GET", "/hit", mk_clerk_,
                     "id=" + console::UrlEncode(HitId(hit_)))
                .body.find(link),
            std::string::npos);
  Response form = mk_.Call("GET", "/requests/new", mk_clerk_,
                           "hit=" + console::UrlEncode(HitId(hit_)));
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_NE(form.body.find(absl::BytesToHexString(kToken)), std::string::npos);
  EXPECT_NE(form.body.find("value=\"2:@CBX_test_account\" checked"),
            std::string::npos)
      << form.body;
  EXPECT_NE(form.body.find("<label for=\"legal_basis\">"), std::string::npos);

  // A preservation request: the account the hit matched, a period, data.
  Response sent =
      mk_.Call("POST", "/requests", mk_clerk_,
               SendFields("&type=2&legal_basis=Budapest+Convention+Art.+29"
                          "&platform=telegram&account=2%3A%40CBX_test_account"
                          "&period_from=2026-01-01&period_until=2026-01-31"
                          "&data=1&data=2&note=urgent%3A+account+active"));
  ASSERT_EQ(sent.status, 303) << sent.body;
  ASSERT_EQ(sent.location.rfind("/request?id=", 0), 0u);
  const std::string id = sent.location.substr(12);
  std::vector<v1::AuditEntry> logged =
      mk_.Logged("Office.SendCooperationRequest");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].office(), kMkOffice);
  EXPECT_EQ(logged[0].user(), "mk-0042");
  EXPECT_EQ(logged[0].outcome().status_code(), 0);

  Response mk_list = mk_.Call("GET", "/requests", mk_clerk_);
  EXPECT_NE(mk_list.body.find("sent to RS (RS/VJT-Beograd)"), std::string::npos)
      << mk_list.body;
  EXPECT_NE(mk_list.body.find("accepted; awaiting the answer"),
            std::string::npos);
  EXPECT_EQ(mk_.Logged("Office.ListCooperationRequests").size(), 1u);

  // RS's office sees it received, in Macedonian here, with the form.
  Response rs_list =
      rs_.Call("GET", "/requests", As(kRsOffice, "prosecutor", "", "mk"));
  EXPECT_NE(rs_list.body.find("примено од MK (MK/PPO-Skopje)"),
            std::string::npos)
      << rs_list.body;
  Response rs_record = rs_.Call("GET", "/request", rs_clerk_, "id=" + id);
  ASSERT_EQ(rs_record.status, 200);
  EXPECT_NE(rs_record.body.find("action=\"/requests/respond\""),
            std::string::npos);
  EXPECT_NE(rs_record.body.find("urgent: account active"), std::string::npos);
  EXPECT_NE(rs_record.body.find("name=\"preserved_until\""), std::string::npos);
  EXPECT_EQ(rs_.Logged("Office.GetCooperationRequest").size(), 1u);

  Response answered =
      rs_.Call("POST", "/requests/respond", rs_clerk_,
               absl::StrCat("form_token=", std::string(64, 'f'), "&id=", id,
                            "&outcome=1&reason=0&mla_reference="
                            "&preserved_until=2026-07-31&note="));
  ASSERT_EQ(answered.status, 303) << answered.body;
  logged = rs_.Logged("Office.RespondToCooperationRequest");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].user(), "rs-0007");

  // The answer reached MK's node.
  Response mk_record = mk_.Call("GET", "/request", mk_clerk_, "id=" + id);
  EXPECT_NE(mk_record.body.find("answered: Done"), std::string::npos)
      << mk_record.body;
  EXPECT_NE(mk_record.body.find("2026-07-31T23:59:59Z"), std::string::npos);
  EXPECT_EQ(mk_record.body.find("action=\"/requests/respond\""),
            std::string::npos);
  // Its signed messages, each by its signer and under the SHA-256 the
  // audit logs record for it (here: MK's log, the request it sent).
  EXPECT_NE(mk_record.body.find("<h2>Signed messages</h2>"), std::string::npos);
  EXPECT_NE(mk_record.body.find("<td>MK (MK/PPO-Skopje)</td>"),
            std::string::npos);
  EXPECT_NE(mk_record.body.find("<td>RS (RS/VJT-Beograd)</td>"),
            std::string::npos);
  bool found = false;
  for (const v1::AuditEntry& e :
       mk_.node.AuditEntries(v1::AUDIT_DIRECTION_SENT, "Peer.Cooperate")) {
    if (e.envelope_sha256().empty()) continue;
    EXPECT_NE(mk_record.body.find(absl::BytesToHexString(e.envelope_sha256())),
              std::string::npos)
        << e.kind();
    found = true;
    break;
  }
  EXPECT_TRUE(found);
  for (const char* message :
       {"<td>Request</td>", "<td>Receipt of the request</td>",
        "<td>Answer</td>", "<td>Receipt of the answer</td>"}) {
    EXPECT_NE(mk_record.body.find(message), std::string::npos) << message;
  }
  // Answered: RS's page offers no second answer.
  EXPECT_EQ(rs_.Call("GET", "/request", rs_clerk_, "id=" + id)
                .body.find("action=\"/requests/respond\""),
            std::string::npos);
}

TEST_F(CooperationPagesTest, PagesOwnChecksAreShownNextToTheirFieldUnsent) {
  struct Case {
    std::string fields;
    std::string field;
    std::string text;
  };
  const std::vector<Case> cases = {
      {"&type=0&legal_basis=CPC", "type", "Choose the kind of request."},
      {"&type=1&legal_basis=+", "legal_basis",
       "Give the legal basis of the request."},
      {"&type=2&legal_basis=CPC&platform=&account=2%3Ax&period_from="
       "2026-01-01&period_until=2026-01-02&data=1",
       "platform", "Give the platform"},
      {"&type=2&legal_basis=CPC&platform=telegram&period_from=2026-01-01"
       "&period_until=2026-01-02&data=1",
       "account", "Tick at least one account"},
      {"&type=2&legal_basis=CPC&platform=telegram&account=2%3Ax"
       "&period_from=2026-02-01&period_until=2026-01-02&data=1",
       "period", "Give the period to preserve"},
      {"&type=2&legal_basis=CPC&platform=telegram&account=2%3Ax"
       "&period_from=2026-01-01&period_until=2026-01-02",
       "data", "Tick at least one kind of data"},
      {"&type=1&legal_basis=CPC&note=" + std::string(1001, 'n'), "note",
       "The note must be one line"},
  };
  for (const Case& c : cases) {
    Response r = mk_.Call("POST", "/requests", mk_clerk_, SendFields(c.fields));
    EXPECT_EQ(r.status, 400) << c.field;
    const size_t at = r.body.find("id=\"" + c.field + "_error\">");
    ASSERT_NE(at, std::string::npos) << c.field << r.body;
    const std::string mark = "id=\"" + c.field + "_error\">";
    EXPECT_EQ(r.body.find(c.text, at), at + mark.size()) << c.field;
  }
  // None was sent, none logged.
  EXPECT_TRUE(mk_.Logged("Office.SendCooperationRequest").empty());
  EXPECT_TRUE(mk_.Records(kMkOffice)->items.empty());

  // In the page's language: Albanian.
  Response sq =
      mk_.Call("POST", "/requests", As(kMkOffice, "prosecutor", "", "sq"),
               SendFields("&type=0&legal_basis=CPC"));
  EXPECT_NE(sq.body.find("Zgjidhni llojin e kërkesës."), std::string::npos);

  // The node's own refusal follows the translated framing: a token no
  // hit of the case carries.
  Response node =
      mk_.Call("POST", "/requests", mk_clerk_,
               absl::StrCat("form_token=", std::string(64, 'f'),
                            "&hit=", console::UrlEncode(HitId(hit_)),
                            "&case_token=", std::string(32, 'a'),
                            "&case_number=MK-1&type=1&legal_basis=CPC"));
  EXPECT_EQ(node.status, 404) << node.body;
  EXPECT_NE(node.body.find("The node did not accept this:"), std::string::npos);
  ASSERT_EQ(mk_.Logged("Office.SendCooperationRequest").size(), 1u);
  EXPECT_EQ(
      mk_.Logged("Office.SendCooperationRequest")[0].outcome().status_code(),
      static_cast<int>(absl::StatusCode::kNotFound));
}

TEST_F(CooperationPagesTest, AnswerFormChecksWhatEachOutcomeNeeds) {
  Response sent =
      mk_.Call("POST", "/requests", mk_clerk_,
               SendFields("&type=1&legal_basis=Budapest+Convention+Art.+25"));
  ASSERT_EQ(sent.status, 303) << sent.body;
  const std::string id = sent.location.substr(12);
  auto answer = [&](const std::string& fields) {
    return rs_.Call(
        "POST", "/requests/respond", rs_clerk_,
        absl::StrCat("form_token=", std::string(64, 'f'), "&id=", id, fields));
  };
  struct Case {
    std::string fields;
    std::string field;
  };
  for (const Case& c :
       std::vector<Case>{{"&outcome=0", "outcome"},
                         {"&outcome=3&reason=0", "reason"},
                         {"&outcome=1&reason=2", "reason"},
                         {"&outcome=4", "mla_reference"},
                         {"&outcome=1&mla_reference=X", "mla_reference"}}) {
    Response r = answer(c.fields);
    EXPECT_EQ(r.status, 400) << c.fields;
    EXPECT_NE(r.body.find("id=\"" + c.field + "_error\""), std::string::npos)
        << c.fields << r.body;
  }
  EXPECT_TRUE(rs_.Logged("Office.RespondToCooperationRequest").empty());

  Response refused = answer("&outcome=3&reason=1");
  ASSERT_EQ(refused.status, 303) << refused.body;
  // Answered and acknowledged: the node refuses a second answer, in its
  // words after the framing.
  Response again = answer("&outcome=1");
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("The node did not accept this:"),
            std::string::npos);
  EXPECT_NE(mk_.Call("GET", "/request", mk_clerk_, "id=" + id)
                .body.find("Refused: No legal basis"),
            std::string::npos);
  // An id the office has no request under is 404.
  EXPECT_EQ(rs_.Call("GET", "/request", rs_clerk_, "id=" + std::string(32, '0'))
                .status,
            404);
}

}  // namespace
}  // namespace cbx::node
