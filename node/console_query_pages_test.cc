// The console's query page in process: the handlers called as the console
// server calls them, with a recording stream and a scripted Office.Query
// (the node binds LookupQuerier::Run; tests/integration/console_test.cc
// runs it against real peers).
#include "node/console_query_pages.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using console::Request;
using console::Response;

constexpr char kOhrid[] = "MK/PPO-Ohrid";

// The chunks a streamed answer wrote, in order.
class RecordingStream : public console::Stream {
 public:
  bool Write(std::string chunk) override {
    if (ended) return false;
    chunks.push_back(std::move(chunk));
    return true;
  }
  void End() override { ended = true; }
  std::vector<std::string> chunks;
  bool ended = false;
};

v1::QueryEvent Answer(const std::string& member, v1::PeerOutcome outcome,
                      int64_t index_age_ms) {
  v1::QueryEvent e;
  v1::PeerAnswer* a = e.mutable_answer();
  a->set_member(member);
  a->set_outcome(outcome);
  a->set_index_version(7);
  a->set_index_age_ms(index_age_ms);
  if (outcome == v1::PEER_OUTCOME_HIT) a->add_references();
  return e;
}

// A query's closing summary, with nothing in it but its id.
v1::QueryEvent Summary(const std::string& query_id) {
  v1::QueryEvent e;
  e.mutable_summary()->set_query_id(query_id);
  return e;
}

class QueryPagesTest : public testing::DomainFixture {
 protected:
  QueryPagesTest() {
    pages_.AddRoutes(routes_);
    EXPECT_TRUE(
        book_.Add(testing::kOffice, testing::NewCase("MK-1", {"a_user"}), "")
            .ok());
    EXPECT_TRUE(
        book_.Add(testing::kOffice, testing::NewCase("MK-2", {"c_user"}), "")
            .ok());
    EXPECT_TRUE(book_.Close(testing::kOffice, "MK-2", "").ok());
    EXPECT_TRUE(
        book_.Add(kOhrid, testing::NewCase("MK-9", {"b_user"}), "").ok());
  }

  // Calls the page; a streamed answer goes to stream_.
  Response Call(const std::string& method, Request r,
                const std::string& encoded = "") {
    r.method = method;
    r.path = "/query";
    absl::StatusOr<console::Form> form = console::ParseForm(encoded);
    EXPECT_TRUE(form.ok());
    (method == "GET" ? r.query : r.form) = *form;
    r.stream = [this](int status) {
      stream_status_ = status;
      return stream_;
    };
    std::optional<Response> answer;
    routes_.at({method, "/query"})(r,
                                   [&](Response a) { answer = std::move(a); });
    return answer.value_or(Response{0, "", "", ""});
  }

  CaseBook book_{"MK", &storage_, &oprf_key_, &trail_, &clock_};
  OfficeScope scope_{&storage_, &clock_};
  // The scripted query: what it got, and what it does.
  std::vector<v1::QueryRequest> asked_;
  std::function<absl::Status(const std::function<bool(const v1::QueryEvent&)>&)>
      script_;
  ConsoleLanguage language_{"MK", &storage_, [](std::function<void()> work) {
                              work();
                              return true;
                            }};
  QueryPages pages_{
      "MK",
      &scope_,
      &language_,
      [] {
        return std::vector<std::string>{"AL", "RS"};
      },
      [this](const v1::QueryRequest& q, const console::Caller&,
             const std::function<bool(const v1::QueryEvent&)>& emit) {
        asked_.push_back(q);
        return script_(emit);
      },
      [](std::function<void()> work) {
        work();
        return true;
      }};
  std::map<std::pair<std::string, std::string>, console::Handler> routes_;
  std::shared_ptr<RecordingStream> stream_ =
      std::make_shared<RecordingStream>();
  int stream_status_ = 0;
  Request skopje_ = [] {
    Request r;
    r.caller = console::Caller{testing::kOffice, "prosecutor", ""};
    r.session.form_token = std::string(64, 'f');
    return r;
  }();
};

constexpr char kAsk[] =
    "case_number=MK-1&legal_basis=MLA+1959&offence=1"
    "&q_type_0=0&q_value_0=%40Balkan_Leaks&q_from_0=2026-01-01"
    "&q_to_0=2026-01-31&q_chat_0=1"
    "&q_type_1=0&q_value_1=%2B389+70+555+0101"
    "&peers_shown=1&peer=RS&peer=AL";

TEST_F(QueryPagesTest, FormOffersTheOfficesOpenCasesAndEveryPeer) {
  Response form = Call("GET", skopje_);
  EXPECT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("<option value=\"MK-1\">"), std::string::npos);
  EXPECT_EQ(form.body.find("MK-2"), std::string::npos);  // closed
  EXPECT_EQ(form.body.find("MK-9"), std::string::npos);  // Ohrid's
  EXPECT_NE(form.body.find("name=\"peer\" value=\"AL\" checked"),
            std::string::npos);
  EXPECT_NE(form.body.find("name=\"peer\" value=\"RS\" checked"),
            std::string::npos);
  EXPECT_NE(form.body.find("Detect from the value"), std::string::npos);
  EXPECT_NE(form.body.find("Also ask as a Telegram group or channel"),
            std::string::npos);
  EXPECT_NE(form.body.find("<label for=\"q_value_0\">"), std::string::npos);
  EXPECT_NE(
      form.body.find("name=\"form_token\" value=\"" + std::string(64, 'f')),
      std::string::npos);
  EXPECT_TRUE(asked_.empty());
}

TEST_F(QueryPagesTest, StreamShowsEachPeerBeforeTheSummaryThenTheHitCards) {
  script_ = [this](const std::function<bool(const v1::QueryEvent&)>& emit) {
    // The hit LookupQuerier stores before it emits the answer.
    v1::Hit hit;
    hit.set_query_id("q-77");
    hit.set_member("RS");
    hit.set_case_number("MK-1");
    hit.mutable_reference()->set_case_token(std::string(16, '\x02'));
    hit.mutable_reference()->set_contact_point("<b>24/7</b>");
    v1::HitMatch* m = hit.add_matches();
    m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
    m->set_value("@Balkan_Leaks");
    EXPECT_TRUE(storage_.AddHit(hit).ok());
    EXPECT_TRUE(emit(Answer("RS", v1::PEER_OUTCOME_HIT, 3'000)));
    // The page has the RS line out before AL has answered.
    EXPECT_EQ(stream_->chunks.size(), 2u);
    EXPECT_NE(stream_->chunks.back().find("<strong>RS</strong>"),
              std::string::npos);
    EXPECT_TRUE(emit(Answer("AL", v1::PEER_OUTCOME_MISS, 30 * 60'000)));
    v1::QueryEvent summary;
    summary.mutable_summary()->set_query_id("q-77");
    summary.mutable_summary()->add_hit_members("RS");
    summary.mutable_summary()->add_miss_members("AL");
    summary.mutable_summary()->set_stale_index_after_ms(6'000);
    summary.mutable_summary()->add_stale_index_members("AL");
    EXPECT_TRUE(emit(summary));
    return absl::OkStatus();
  };
  Response none = Call("POST", skopje_, kAsk);
  EXPECT_EQ(none.status, 0);  // streamed: no Reply
  EXPECT_EQ(stream_status_, 200);
  ASSERT_TRUE(stream_->ended);
  const std::string page = absl::StrJoin(stream_->chunks, "");
  const size_t rs = page.find("<strong>RS</strong>: <strong>found a case");
  const size_t al = page.find(
      "<strong>AL</strong>: no case; its index copy "
      "was 30 min old");
  const size_t summary = page.find("<h2>Summary</h2>");
  const size_t card = page.find("<section class=\"hit\">");
  ASSERT_NE(rs, std::string::npos) << page;
  ASSERT_NE(al, std::string::npos) << page;
  ASSERT_NE(summary, std::string::npos);
  ASSERT_NE(card, std::string::npos);
  EXPECT_LT(rs, al);
  EXPECT_LT(al, summary);
  EXPECT_LT(summary, card);
  EXPECT_NE(page.find("its index copy was 3 s old"), std::string::npos);
  EXPECT_NE(page.find("older than 6 s (AL)"), std::string::npos);
  EXPECT_NE(page.find("@Balkan_Leaks"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;24/7&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);

  // What was asked: the @name as both types (the box ticked), the phone
  // detected, the purpose and the two peers ticked.
  ASSERT_EQ(asked_.size(), 1u);
  const v1::QueryRequest& q = asked_[0];
  ASSERT_EQ(q.identifiers_size(), 3);
  EXPECT_EQ(q.identifiers(0).type(), v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  EXPECT_EQ(q.identifiers(1).type(), v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
  EXPECT_EQ(q.identifiers(1).value(), "@Balkan_Leaks");
  EXPECT_EQ(q.identifiers(1).observed_from_ms(), 1767225600000);
  EXPECT_EQ(q.identifiers(1).observed_to_ms(), 1769903999999);
  EXPECT_EQ(q.identifiers(2).type(), v1::IDENTIFIER_TYPE_PHONE);
  EXPECT_EQ(q.purpose().case_number(), "MK-1");
  EXPECT_EQ(q.purpose().legal_basis(), "MLA 1959");
  EXPECT_EQ(q.purpose().offence(), v1::OFFENCE_CODE_NCII_SHARING);
  EXPECT_EQ(q.peers_size(), 2);
}

TEST_F(QueryPagesTest, NodeRefusalIsTheFormWithWhatWasTypedAndTheNodesWords) {
  // A refusal of Office.Query that the page's own checks did not foresee
  // (the case closed between the form and the POST): above the form, in
  // the node's words, nothing streamed.
  script_ = [](const std::function<bool(const v1::QueryEvent&)>&) {
    return absl::FailedPreconditionError(
        "purpose.case_number: case MK-1 is closed; query under one of your "
        "open cases");
  };
  Response refused = Call("POST", skopje_, kAsk);
  EXPECT_EQ(refused.status, 400);
  EXPECT_TRUE(stream_->chunks.empty());
  EXPECT_NE(refused.body.find("role=\"alert\">The query was not sent: "
                              "purpose.case_number: case MK-1 is closed"),
            std::string::npos)
      << refused.body;
  EXPECT_NE(refused.body.find("value=\"MLA 1959\""), std::string::npos);
  EXPECT_NE(refused.body.find("value=\"@Balkan_Leaks\""), std::string::npos);
  EXPECT_NE(refused.body.find("name=\"q_chat_0\" value=\"1\" "
                              "aria-describedby=\"chat_hint\" checked"),
            std::string::npos);
}

// A form the page refuses itself, before Office.Query is called.
struct FieldCase {
  const char* form;
  const char* field;  // the id of the error paragraph
  const char* text;   // in the error paragraph
};

TEST_F(QueryPagesTest, EachFieldIsCheckedAndItsErrorShownNextToIt) {
  const std::string purpose = "case_number=MK-1&legal_basis=x&offence=1";
  const std::vector<FieldCase> cases = {
      // Another office's case, a closed one, none.
      {"case_number=MK-9&legal_basis=x&offence=1&q_value_0=%40smokva_grupa",
       "case_number_error", "MK-9 is not one of your office&#39;s open cases"},
      {"case_number=MK-2&legal_basis=x&offence=1&q_value_0=%40smokva_grupa",
       "case_number_error", "MK-2 is not one of your office"},
      {"legal_basis=x&offence=1&q_value_0=%40smokva_grupa", "case_number_error",
       "Choose one of your office&#39;s open cases."},
      {"case_number=MK-1&legal_basis=+&offence=1&q_value_0=%40smokva_grupa",
       "legal_basis_error", "Give the legal basis of the request."},
      {"case_number=MK-1&legal_basis=x&offence=999&q_value_0=%40smokva_grupa",
       "offence_error", "Choose the offence."},
      {"case_number=MK-1&legal_basis=x&offence=1", "q_row_0_error",
       "Give at least one identifier to ask about."},
      {"case_number=MK-1&legal_basis=x&offence=1&q_value_0=ok"
       "&q_value_1=what+is+this",
       "q_row_0_error",
       "Identifier 1: the type cannot be told from the value; choose its "
       "type."},
      // A national number typed as a phone: the normalizer's words, next
      // to the second row.
      {"case_number=MK-1&legal_basis=x&offence=1&q_value_0=%40smokva_grupa"
       "&q_type_1=4&q_value_1=12+34",
       "q_row_1_error", "Identifier 2: "},
      {"case_number=MK-1&legal_basis=x&offence=1&q_value_0=%40smokva_grupa"
       "&q_from_0=31.01.2026",
       "q_row_0_error",
       "identifier 1, seen from: &#39;31.01.2026&#39; is not a date"},
      {"case_number=MK-1&legal_basis=x&offence=1&q_value_0=%40smokva_grupa"
       "&q_from_0=2026-02-01&q_to_0=2026-01-01",
       "q_row_0_error",
       "Identifier 1: &quot;seen until&quot; is before &quot;seen from&quot;."},
      {"case_number=MK-1&legal_basis=x&offence=1&q_value_0=%40smokva_grupa"
       "&peers_shown=1",
       "peers_error", "Choose at least one peer to ask."},
      {"case_number=MK-1&legal_basis=x&offence=1&q_value_0=%40smokva_grupa"
       "&peers_shown=1&peer=RS&peer=XX",
       "peers_error", "XX is not one of the peers this node can ask."},
  };
  for (const FieldCase& c : cases) {
    Response refused = Call("POST", skopje_, c.form);
    EXPECT_EQ(refused.status, 400) << c.form;
    const size_t at =
        refused.body.find(absl::StrCat("id=\"", c.field, "\">", c.text));
    EXPECT_NE(at, std::string::npos) << c.form << "\n" << refused.body;
    // The same text above the form, and no other field marked.
    EXPECT_NE(refused.body.find(absl::StrCat(
                  "role=\"alert\">The query was not sent: ", c.text)),
              std::string::npos)
        << c.form;
    size_t marked = 0;
    for (size_t i = refused.body.find("_error\">"); i != std::string::npos;
         i = refused.body.find("_error\">", i + 1)) {
      ++marked;
    }
    EXPECT_EQ(marked, 1u) << c.form;
  }
  // A box left unticked stays unticked.
  Response no_peer = Call("POST", skopje_,
                          purpose + "&q_value_0=%40smokva_grupa&peers_shown=1");
  EXPECT_NE(no_peer.body.find("name=\"peer\" value=\"RS\">"),
            std::string::npos);
  EXPECT_TRUE(asked_.empty());
}

TEST_F(QueryPagesTest, FormAndRefusalInTheCallersLanguage) {
  Request mk = skopje_;
  mk.accept_language = "mk";
  Response form = Call("GET", mk);
  EXPECT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("<html lang=\"mk\">"), std::string::npos);
  EXPECT_NE(form.body.find("Препознај од вредноста"), std::string::npos);
  EXPECT_NE(form.body.find("Прашај и како група или канал на Telegram"),
            std::string::npos);
  EXPECT_NE(form.body.find("<legend>Идентификатор 1</legend>"),
            std::string::npos);
  // No English text of the page is left.
  for (const char* english :
       {"Detect from the value", "Why you ask", "Legal basis", "Peers to ask",
        "Seen from", "Identifier 1", "Also ask as"}) {
    EXPECT_EQ(form.body.find(english), std::string::npos) << english;
  }
  Response refused =
      Call("POST", mk, "case_number=MK-9&legal_basis=x&offence=1&q_value_0=a");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("id=\"case_number_error\">MK-9 не е еден од "
                              "отворените предмети"),
            std::string::npos)
      << refused.body;
  EXPECT_NE(refused.body.find("Прашањето не е испратено: MK-9"),
            std::string::npos);
}

TEST_F(QueryPagesTest, MissSaysWhichTypesWereAskedAndOffersToAskBoth) {
  script_ = [](const std::function<bool(const v1::QueryEvent&)>& emit) {
    emit(Answer("RS", v1::PEER_OUTCOME_MISS, 0));
    emit(Summary("q-1"));
    return absl::OkStatus();
  };
  Call("POST", skopje_,
       "case_number=MK-1&legal_basis=x&offence=1&q_value_0=t.me%2Fsmokva_grupa"
       "&q_value_1=%2B389+70+555+0101");
  ASSERT_EQ(asked_.size(), 1u);
  ASSERT_EQ(asked_[0].identifiers_size(), 2);
  EXPECT_EQ(asked_[0].peers_size(), 0);  // no boxes shown: every peer
  const std::string page = absl::StrJoin(stream_->chunks, "");
  EXPECT_NE(page.find("Identifier 1 (t.me/smokva_grupa) was asked as: "
                      "Telegram username."),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("Identifier 2 (+389 70 555 0101) was asked as: Phone "
                      "number."),
            std::string::npos);
  EXPECT_NE(page.find("Identifier 1 (t.me/smokva_grupa) was asked as a "
                      "Telegram username only"),
            std::string::npos);
  // The offer: the same form again with the row's box ticked.
  const size_t offer = page.find("<form method=\"post\" action=\"/query\">");
  ASSERT_NE(offer, std::string::npos);
  const std::string form =
      page.substr(offer, page.find("</form>", offer) - offer);
  EXPECT_NE(form.find("name=\"form_token\" value=\"" + std::string(64, 'f')),
            std::string::npos);
  EXPECT_NE(form.find("name=\"q_value_0\" value=\"t.me/smokva_grupa\""),
            std::string::npos);
  EXPECT_NE(form.find("name=\"case_number\" value=\"MK-1\""),
            std::string::npos);
  EXPECT_NE(form.find("name=\"q_chat_0\" value=\"1\""), std::string::npos);
  EXPECT_NE(page.find("No peer named a case."), std::string::npos);

  // Asked as both, it says so and offers nothing.
  stream_ = std::make_shared<RecordingStream>();
  Call("POST", skopje_,
       "case_number=MK-1&legal_basis=x&offence=1&q_value_0=t.me%2Fsmokva_grupa"
       "&q_chat_0=1");
  const std::string both = absl::StrJoin(stream_->chunks, "");
  EXPECT_NE(both.find("was asked as: Telegram username, Telegram group or "
                      "channel."),
            std::string::npos)
      << both;
  EXPECT_EQ(both.find("username only"), std::string::npos);
  EXPECT_EQ(both.find("<form method=\"post\" action=\"/query\">"),
            std::string::npos);
}

TEST_F(QueryPagesTest, FailureAfterAnswersEndsThePageSayingSo) {
  script_ = [](const std::function<bool(const v1::QueryEvent&)>& emit) {
    emit(Answer("RS", v1::PEER_OUTCOME_MISS, 0));
    return absl::UnavailableError("the audit log cannot be written");
  };
  Call("POST", skopje_, kAsk);
  ASSERT_TRUE(stream_->ended);
  const std::string page = absl::StrJoin(stream_->chunks, "");
  EXPECT_NE(page.find("The query stopped before it ended: the audit log "
                      "cannot be written"),
            std::string::npos)
      << page;
  size_t lists = 0;
  for (size_t at = page.find("</ul>"); at != std::string::npos;
       at = page.find("</ul>", at + 1)) {
    ++lists;
  }
  EXPECT_EQ(lists, 1u);
  EXPECT_NE(page.find("</html>"), std::string::npos);
}

// "Add another row" brings the form back with one more identifier row,
// everything typed kept, and asks nothing; the fifth row is then asked.
TEST_F(QueryPagesTest, AddAnotherRowGrowsTheFormAndAsksNothing) {
  Response more =
      Call("POST", skopje_, std::string(kAsk) + "&rows=4&add_row=1");
  EXPECT_EQ(more.status, 200) << more.body;
  EXPECT_NE(more.body.find("name=\"q_value_4\""), std::string::npos);
  EXPECT_EQ(more.body.find("name=\"q_value_5\""), std::string::npos);
  EXPECT_NE(more.body.find("value=\"@Balkan_Leaks\""), std::string::npos);
  EXPECT_LT(more.body.find("type=\"submit\">"),
            more.body.find("name=\"add_row\""));
  EXPECT_TRUE(asked_.empty());

  script_ = [](const std::function<bool(const v1::QueryEvent&)>& emit) {
    emit(Summary("q-5"));
    return absl::OkStatus();
  };
  Call("POST", skopje_,
       std::string(kAsk) + "&rows=5&q_value_4=fifth%40example.org");
  ASSERT_EQ(asked_.size(), 1u);
  bool fifth = false;
  for (const v1::Identifier& id : asked_[0].identifiers()) {
    fifth = fifth || id.value() == "fifth@example.org";
  }
  EXPECT_TRUE(fifth) << asked_[0].DebugString();
}

// At its most rows the query form says where more go: a bulk check from a
// file. A form with fewer rows does not.
TEST_F(QueryPagesTest, TheFormAtItsMostRowsPointsToTheBulkCheck) {
  Response most =
      Call("POST", skopje_, std::string(kAsk) + "&rows=30&add_row=1");
  EXPECT_EQ(most.status, 200) << most.body;
  EXPECT_NE(most.body.find("at most 30 identifiers"), std::string::npos);
  EXPECT_NE(most.body.find("A bulk check asks up to 65,536 identifiers from "
                           "a file: cbx query --ids-file FILE"),
            std::string::npos)
      << most.body;
  EXPECT_TRUE(asked_.empty());
  Response fewer =
      Call("POST", skopje_, std::string(kAsk) + "&rows=4&add_row=1");
  EXPECT_EQ(fewer.body.find("--ids-file"), std::string::npos);
}

// A number written in national form is asked as a number of the row's
// country (the office's own by default): the selector applies the hint
// the normalizer would give.
TEST_F(QueryPagesTest, PhoneCountryTurnsANationalNumberInternational) {
  Response form = Call("GET", skopje_);
  EXPECT_NE(form.body.find("<option value=\"MK\" selected>MK +389</option>"),
            std::string::npos);
  EXPECT_NE(form.body.find("<label for=\"q_cc_0\">"), std::string::npos);
  script_ = [](const std::function<bool(const v1::QueryEvent&)>& emit) {
    emit(Summary("q-cc"));
    return absl::OkStatus();
  };
  Call("POST", skopje_,
       "case_number=MK-1&legal_basis=MLA+1959&offence=1"
       "&q_type_0=0&q_value_0=064%2F555-0101&q_cc_0=RS"
       "&q_type_1=4&q_value_1=070+555+0101"
       "&peers_shown=1&peer=RS");
  ASSERT_EQ(asked_.size(), 1u);
  std::vector<std::string> values;
  for (const v1::Identifier& id : asked_[0].identifiers()) {
    EXPECT_EQ(id.type(), v1::IDENTIFIER_TYPE_PHONE);
    values.push_back(id.value());
  }
  EXPECT_EQ(values,
            (std::vector<std::string>{"+381645550101", "+389705550101"}))
      << asked_[0].DebugString();
}

TEST_F(QueryPagesTest, OtherRolesAreRefused) {
  Request auditor = skopje_;
  auditor.caller.role = "auditor";
  EXPECT_EQ(Call("GET", auditor).status, 403);
  EXPECT_EQ(Call("POST", auditor, kAsk).status, 403);
  EXPECT_TRUE(asked_.empty());
}

TEST(DetectTypeTest, TellsTheTypeOrSaysItCannot) {
  struct Case {
    const char* value;
    v1::IdentifierType type;
    bool could_be_chat;
  };
  const std::string sha256(64, 'a');
  for (const Case& c : std::vector<Case>{
           {"@Balkan_Leaks", v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, true},
           {"https://t.me/Balkan_Leaks", v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
            true},
           {"t.me/+AbCdEf123", v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, false},
           {"t.me/joinchat/AbCdEf", v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, false},
           {"+381 64 555-0101", v1::IDENTIFIER_TYPE_PHONE, false},
           {"00381-64-555-01-01", v1::IDENTIFIER_TYPE_PHONE, false},
           {"someone@example.mk", v1::IDENTIFIER_TYPE_EMAIL, false},
           {sha256.c_str(), v1::IDENTIFIER_TYPE_CONTENT_SHA256, false},
       }) {
    absl::StatusOr<DetectedType> d = DetectType(c.value);
    ASSERT_TRUE(d.ok()) << c.value;
    EXPECT_EQ(d->type, c.type) << c.value;
    EXPECT_EQ(d->could_be_chat, c.could_be_chat) << c.value;
  }
  for (const char* value : {"064/555-0101", "smokva", "@", "12345"}) {
    EXPECT_EQ(DetectType(value).status().code(),
              absl::StatusCode::kInvalidArgument)
        << value;
  }
}

}  // namespace
}  // namespace cbx::node
