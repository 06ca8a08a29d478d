#include "client/arguments.h"

#include <string>
#include <vector>

#include "client/names.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

std::string Message(const absl::Status& s) { return std::string(s.message()); }

AddCaseArgs ValidAdd() {
  AddCaseArgs a;
  a.number = "MK-2026-0142";
  a.ids = {"telegram_username:@smokva_admin",
           "phone@2025-01-01..2025-06-30:+389 70 123 456"};
  a.offences = {"ncii-sharing+ai", "group-admin"};
  a.role = "administrator";
  a.contact = "+389 2 3100 100 (24/7)";
  a.opened = "2026-01";
  return a;
}

TEST(OffenceArgTest, ParsesCodesAndParameters) {
  auto o = ParseOffenceArg("ncii-threat");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->code(), v1::OFFENCE_CODE_NCII_THREAT);
  EXPECT_FALSE(o->attempted() || o->ai_manipulated() || o->minor_victim());

  o = ParseOffenceArg("ncii-sharing+minor+attempted+ai");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->code(), v1::OFFENCE_CODE_NCII_SHARING);
  EXPECT_TRUE(o->attempted());
  EXPECT_TRUE(o->ai_manipulated());
  EXPECT_TRUE(o->minor_victim());

  for (auto [arg, code] :
       {std::pair{"cyber-stalking", v1::OFFENCE_CODE_CYBER_STALKING},
        {"cyber-harassment+attempted", v1::OFFENCE_CODE_CYBER_HARASSMENT},
        {"cyber-incitement", v1::OFFENCE_CODE_CYBER_INCITEMENT},
        {"csam+ai", v1::OFFENCE_CODE_CSAM},
        {"group-admin+minor", v1::OFFENCE_CODE_GROUP_ADMINISTRATION}}) {
    auto parsed = ParseOffenceArg(arg);
    ASSERT_TRUE(parsed.ok()) << arg;
    EXPECT_EQ(parsed->code(), code) << arg;
  }
}

TEST(OffenceArgTest, RejectsWhatItDoesNotKnow) {
  auto bad = ParseOffenceArg("sextortion");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(bad.status()).find("ncii-threat"), std::string::npos);
  bad = ParseOffenceArg("csam+child");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(bad.status()).find("'+child'"), std::string::npos);
  bad = ParseOffenceArg("csam+ai+ai");
  EXPECT_NE(Message(bad.status()).find("given twice"), std::string::npos);
  EXPECT_EQ(ParseOffenceArg("csam+").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseOffenceArg("+ai").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseOffenceArg("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MemberArgTest, AcceptsTwoLettersOnly) {
  EXPECT_EQ(*ParseMemberArg("rs"), "RS");
  EXPECT_EQ(*ParseMemberArg("XK"), "XK");
  for (std::string_view bad : {"", "R", "SRB", "R1", "Р С"}) {
    EXPECT_EQ(ParseMemberArg(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(CaseNumberTest, Validates) {
  const std::string longest = "A" + std::string(63, '7');
  for (std::string_view good :
       {std::string_view("MK-2026-0142"), std::string_view("KO-123/25"),
        std::string_view("1"), std::string_view("PPO.Skopje_2026-7"),
        std::string_view(longest)}) {
    EXPECT_TRUE(ValidateCaseNumber(good).ok()) << good;
  }
  const std::string too_long = longest + "7";
  for (std::string_view bad :
       {std::string_view(""), std::string_view(" MK-1"),
        std::string_view("MK-1 "), std::string_view("MK 1"),
        std::string_view("MK\n1"), std::string_view("-MK-1"),
        std::string_view("/MK"), std::string_view("КО-123/25"),
        std::string_view("MK#1"), std::string_view(too_long)}) {
    EXPECT_EQ(ValidateCaseNumber(bad).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(AddCaseTest, BuildsTheRequest) {
  auto r = BuildAddCaseRequest(ValidAdd());
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::Case& c = r->case_();
  EXPECT_EQ(c.case_number(), "MK-2026-0142");
  ASSERT_EQ(c.identifiers_size(), 2);
  EXPECT_EQ(c.identifiers(0).type(), v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  EXPECT_EQ(c.identifiers(0).value(), "@smokva_admin");
  EXPECT_EQ(c.identifiers(1).type(), v1::IDENTIFIER_TYPE_PHONE);
  EXPECT_EQ(c.identifiers(1).observed_from_ms(), 1735689600000);
  ASSERT_EQ(c.offences_size(), 2);
  EXPECT_EQ(c.offences(0).code(), v1::OFFENCE_CODE_NCII_SHARING);
  EXPECT_TRUE(c.offences(0).ai_manipulated());
  EXPECT_EQ(c.offences(1).code(), v1::OFFENCE_CODE_GROUP_ADMINISTRATION);
  EXPECT_EQ(c.role(), v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  EXPECT_EQ(c.contact_point(), "+389 2 3100 100 (24/7)");
  EXPECT_EQ(c.opened_month(), "2026-01");
  // Set by the node, never by the office.
  EXPECT_TRUE(c.case_token().empty());
  EXPECT_TRUE(c.office().empty());
  EXPECT_EQ(c.status(), v1::CASE_STATUS_UNSPECIFIED);
}

TEST(AddCaseTest, EveryRoleParses) {
  for (auto [name, role] :
       {std::pair{"creator", v1::PERPETRATOR_ROLE_CREATOR},
        {"administrator", v1::PERPETRATOR_ROLE_ADMINISTRATOR},
        {"poster", v1::PERPETRATOR_ROLE_POSTER},
        {"resharer", v1::PERPETRATOR_ROLE_RESHARER},
        {"requester", v1::PERPETRATOR_ROLE_REQUESTER}}) {
    AddCaseArgs a = ValidAdd();
    a.role = name;
    auto r = BuildAddCaseRequest(a);
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(r->case_().role(), role);
  }
}

TEST(AddCaseTest, RejectsEachBadArgumentNamingTheOption) {
  struct {
    void (*mutate)(AddCaseArgs&);
    std::string want;
  } cases[] = {
      {[](AddCaseArgs& a) { a.number = ""; }, "NUMBER"},
      {[](AddCaseArgs& a) { a.ids.clear(); }, "--id"},
      {[](AddCaseArgs& a) { a.ids.push_back("msisdn:+38970123456"); },
       "--id 'msisdn:+38970123456': unknown identifier type"},
      {[](AddCaseArgs& a) { a.ids.push_back("phone@2025-13..:+38970123456"); },
       "--id 'phone@2025-13..:+38970123456': observed window"},
      {[](AddCaseArgs& a) { a.ids.push_back("phone:070 123 456"); },
       "country code"},
      {[](AddCaseArgs& a) { a.offences.clear(); }, "--offence"},
      {[](AddCaseArgs& a) { a.offences.push_back("revenge-porn"); },
       "--offence 'revenge-porn': unknown offence code"},
      {[](AddCaseArgs& a) { a.offences.push_back("ncii-sharing"); },
       "is given twice"},
      {[](AddCaseArgs& a) { a.role = "admin"; },
       "--role 'admin': unknown perpetrator role"},
      {[](AddCaseArgs& a) { a.role = ""; }, "--role"},
      {[](AddCaseArgs& a) { a.contact = "  "; },
       "--contact: must not be empty"},
      {[](AddCaseArgs& a) { a.contact = "a\nb"; },
       "--contact: must be one line"},
      {[](AddCaseArgs& a) { a.opened = "2026-1"; }, "--opened '2026-1'"},
      {[](AddCaseArgs& a) { a.opened = "2026-01-15"; }, "--opened"},
  };
  for (const auto& c : cases) {
    AddCaseArgs a = ValidAdd();
    c.mutate(a);
    auto r = BuildAddCaseRequest(a);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_NE(Message(r.status()).find(c.want), std::string::npos)
        << Message(r.status()) << " should contain " << c.want;
  }
}

TEST(AmendCaseTest, BuildsOnlyTheGivenChanges) {
  AmendCaseArgs a;
  a.number = "MK-2026-0142";
  a.add_ids = {"telegram_chat@2025-02..:https://t.me/balkan_room"};
  a.remove_ids = {"phone:+389 70 123 456"};
  auto r = BuildAmendCaseRequest(a);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->case_number(), "MK-2026-0142");
  ASSERT_EQ(r->add_identifiers_size(), 1);
  EXPECT_EQ(r->add_identifiers(0).type(), v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
  EXPECT_NE(r->add_identifiers(0).observed_from_ms(), 0);
  ASSERT_EQ(r->remove_identifiers_size(), 1);
  EXPECT_EQ(r->remove_identifiers(0).value(), "+389 70 123 456");
  EXPECT_EQ(r->offences_size(), 0);
  EXPECT_EQ(r->role(), v1::PERPETRATOR_ROLE_UNSPECIFIED);
  EXPECT_EQ(r->contact_point(), "");

  AmendCaseArgs b;
  b.number = "MK-2026-0142";
  b.offences = {"ncii-threat+attempted"};
  b.role = "poster";
  b.contact = "+389 2 000 000";
  r = BuildAmendCaseRequest(b);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->offences_size(), 1);
  EXPECT_TRUE(r->offences(0).attempted());
  EXPECT_EQ(r->role(), v1::PERPETRATOR_ROLE_POSTER);
  EXPECT_EQ(r->contact_point(), "+389 2 000 000");
}

TEST(AmendCaseTest, Rejects) {
  AmendCaseArgs a;
  a.number = "MK-2026-0142";
  auto r = BuildAmendCaseRequest(a);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(r.status()).find("nothing to amend"), std::string::npos);

  a.remove_ids = {"phone@2025-01:+38970123456"};
  r = BuildAmendCaseRequest(a);
  EXPECT_NE(Message(r.status()).find("--remove-id"), std::string::npos);
  EXPECT_NE(Message(r.status()).find("not used here"), std::string::npos);

  a.remove_ids.clear();
  a.role = "boss";
  EXPECT_NE(Message(BuildAmendCaseRequest(a).status()).find("--role 'boss'"),
            std::string::npos);
}

TEST(CloseCaseTest, BuildsAndRejects) {
  auto r = BuildCloseCaseRequest("MK-2026-0142");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->case_number(), "MK-2026-0142");
  EXPECT_EQ(BuildCloseCaseRequest("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

QueryArgs ValidQuery() {
  QueryArgs q;
  q.ids = {"telegram_username:@smokva_admin", "phone:+38970123456"};
  q.case_number = "MK-2026-0142";
  q.legal_basis = "MLA-Convention-1959 Art.1";
  q.offence = "ncii-sharing";
  q.peers = {"rs", "HR"};
  return q;
}

TEST(QueryTest, BuildsTheRequest) {
  auto r = BuildQueryRequest(ValidQuery());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->identifiers_size(), 2);
  EXPECT_EQ(r->purpose().case_number(), "MK-2026-0142");
  EXPECT_EQ(r->purpose().legal_basis(), "MLA-Convention-1959 Art.1");
  EXPECT_EQ(r->purpose().offence(), v1::OFFENCE_CODE_NCII_SHARING);
  ASSERT_EQ(r->peers_size(), 2);
  EXPECT_EQ(r->peers(0), "RS");
  EXPECT_EQ(r->peers(1), "HR");

  QueryArgs all = ValidQuery();
  all.peers.clear();
  r = BuildQueryRequest(all);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->peers_size(), 0);  // every active peer
}

TEST(QueryTest, RejectsEachBadArgument) {
  struct {
    void (*mutate)(QueryArgs&);
    std::string want;
  } cases[] = {
      {[](QueryArgs& q) { q.ids.clear(); }, "--id"},
      {[](QueryArgs& q) { q.ids = {"username:@x"}; }, "--id 'username:@x'"},
      {[](QueryArgs& q) { q.case_number = ""; }, "--case"},
      {[](QueryArgs& q) { q.legal_basis = ""; }, "--legal-basis"},
      {[](QueryArgs& q) { q.offence = "ncii-sharing+ai"; }, "bare offence"},
      {[](QueryArgs& q) { q.offence = "stalking"; }, "--offence 'stalking'"},
      {[](QueryArgs& q) { q.peers = {"SRB"}; }, "--peer 'SRB'"},
      {[](QueryArgs& q) {
         q.peers = {"RS", "rs"};
       },
       "given twice"},
  };
  for (const auto& c : cases) {
    QueryArgs q = ValidQuery();
    c.mutate(q);
    auto r = BuildQueryRequest(q);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_NE(Message(r.status()).find(c.want), std::string::npos)
        << Message(r.status()) << " should contain " << c.want;
  }
}

TEST(ListFiltersTest, EmptyMeansEverything) {
  EXPECT_EQ(BuildListHitsRequest("")->case_number(), "");
  EXPECT_EQ(BuildListHitsRequest("MK-1")->case_number(), "MK-1");
  EXPECT_EQ(BuildListInboxRequest("")->case_number(), "");
  EXPECT_EQ(BuildListInboxRequest("MK-1")->case_number(), "MK-1");
  EXPECT_EQ(BuildListInboxRequest(" MK-1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --both-types asks a Telegram name as a username and as a chat (issue 14):
// each twin follows its identifier; a value valid as one type only, or
// already asked as both, is not doubled.
TEST(ArgumentsTest, BothTypesAsksTelegramNamesAsUsernameAndChat) {
  QueryArgs a;
  a.ids = {"telegram_chat:smokva_grupa", "phone:+38970123456",
           "telegram_username:t.me/Balkan_Admin",
           "telegram_chat:balkan_admin"};
  a.case_number = "MK-2026-0142";
  a.legal_basis = "MLA";
  a.offence = "ncii-sharing";
  a.both_types = true;
  absl::StatusOr<v1::QueryRequest> r = BuildQueryRequest(a);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> got;
  for (const v1::Identifier& id : r->identifiers()) {
    got.push_back(IdentifierTypeName(id.type()) + ":" + id.value());
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "telegram_chat:smokva_grupa",
                     "telegram_username:smokva_grupa",
                     "phone:+38970123456",
                     "telegram_username:t.me/Balkan_Admin",
                     // Its twin is this chat, asked already: not doubled.
                     "telegram_chat:balkan_admin",
                 }));
  a.both_types = false;
  r = BuildQueryRequest(a);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->identifiers_size(), 4);
}

}  // namespace
}  // namespace cbx::client
