// Offices see their own, with real nodes (spec/cooperation.md §5–§6,
// office-api.md §2): two offices of MK, PPO-Skopje and PPO-Bitola, each
// acting through a per-person certificate (.../prosecutor/person/<id>).
// Each holds a case that hits RS's, is hit by RS, sends and receives a
// cooperation request and keeps a watch; each lists only its own; Bitola
// cannot look at, amend or close Skopje's case, answer a request addressed
// to Skopje or remove Skopje's watch (the documented codes, nothing
// changed); the operator gets GetCounts and no listing; both audit logs
// name the acting person on the entries of each office call. One
// federation (MK, RS) serves the suite; the tests run in the order written.
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cbx/v1/audit.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/federation.h"
#include "tests/integration/federation_ops.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

constexpr char kSkopje[] = "MK/PPO-Skopje";
constexpr char kBitola[] = "MK/PPO-Bitola";
// The opaque staff identifiers of the two persons (never names).
constexpr char kSkopjePerson[] = "sk-0017";
constexpr char kBitolaPerson[] = "bt-0042";
constexpr char kSkopjeCase[] = "MK-SK-2026-1";
constexpr char kBitolaCase[] = "MK-BT-2026-1";

v1::Identifier Id(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

grpc::ClientContext* Ctx(grpc::ClientContext& ctx) {
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(60)));
  return &ctx;
}

v1::Purpose PurposeOf(const std::string& case_number) {
  v1::Purpose p;
  p.set_case_number(case_number);
  p.set_legal_basis("MLA-Convention-1959 Art.1");
  p.set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  return p;
}

class OfficeScopeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    FederationOptions options;
    options.countries = {"MK", "RS"};
    options.persons = {kSkopjePerson, kBitolaPerson};
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = f->release();
    ASSERT_TRUE(fed_->StartAll().ok());
    const std::string offices = fed_->NodeDir("MK") + "/offices/";
    const std::string roots = Slurp(fed_->NodeDir("MK") + "/ca.crt");
    auto stub = [&](const std::string& name) {
      return v1::Office::NewStub(
          OfficeChannelWith(*fed_, "MK", offices + name + ".crt",
                            offices + name + ".key", roots));
    };
    skopje_ = stub(std::string("PPO-Skopje-prosecutor-person-") + kSkopjePerson)
                  .release();
    bitola_ = stub(std::string("PPO-Bitola-prosecutor-person-") + kBitolaPerson)
                  .release();
    operator_ = stub("PPO-Skopje-operator").release();

    AddCase(*fed_->Office("RS"), "RS-2026-1", "cbx_scope_skopje");
    AddCase(*fed_->Office("RS"), "RS-2026-2", "cbx_scope_bitola");
    AddCase(*skopje_, kSkopjeCase, "cbx_scope_skopje");
    AddCase(*bitola_, kBitolaCase, "cbx_scope_bitola");
    ASSERT_TRUE(fed_->WaitForIndex("MK", {{"RS", 2}}).ok());
    ASSERT_TRUE(fed_->WaitForIndex("RS", {{"MK", 2}}).ok());
    // Each office's hit at RS, and RS's hits of each office's case (the
    // notifications in MK's inbox).
    skopje_token_ = Hit(*skopje_, "RS", kSkopjeCase, "cbx_scope_skopje");
    bitola_token_ = Hit(*bitola_, "RS", kBitolaCase, "cbx_scope_bitola");
    rs_to_skopje_ =
        Hit(*fed_->Office("RS"), "MK", "RS-2026-1", "cbx_scope_skopje");
    rs_to_bitola_ =
        Hit(*fed_->Office("RS"), "MK", "RS-2026-2", "cbx_scope_bitola");
    ASSERT_EQ(skopje_token_.size(), 16u);
    ASSERT_EQ(bitola_token_.size(), 16u);
    ASSERT_EQ(rs_to_skopje_.size(), 16u);
    ASSERT_EQ(rs_to_bitola_.size(), 16u);
  }
  static void TearDownTestSuite() {
    delete skopje_;
    delete bitola_;
    delete operator_;
    delete fed_;
    fed_ = nullptr;
  }
  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  static void AddCase(v1::Office::Stub& office, const std::string& number,
                      const std::string& account) {
    v1::AddCaseRequest req;
    v1::Case* c = req.mutable_case_();
    c->set_case_number(number);
    *c->add_identifiers() = Id(account);
    c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
    c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
    c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
    grpc::ClientContext ctx;
    v1::Case out;
    grpc::Status s = office.AddCase(Ctx(ctx), req, &out);
    ASSERT_TRUE(s.ok()) << number << " " << s.error_message();
  }

  // `office` queries `account` at `peer` for its case; the reference's
  // token ("" without a hit).
  static std::string Hit(v1::Office::Stub& office, const std::string& peer,
                         const std::string& number,
                         const std::string& account) {
    v1::QueryRequest req;
    *req.add_identifiers() = Id(account);
    *req.mutable_purpose() = PurposeOf(number);
    req.add_peers(peer);
    grpc::ClientContext ctx;
    auto reader = office.Query(Ctx(ctx), req);
    v1::QueryEvent event;
    std::string token;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().references_size() > 0) {
        token = event.answer().references(0).case_token();
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    return token;
  }

  static grpc::Status SendRequest(v1::Office::Stub& office,
                                  const std::string& token,
                                  const std::string& number,
                                  v1::CooperationRecord* out) {
    v1::SendCooperationRequestRequest req;
    req.set_case_token(token);
    req.set_case_number(number);
    req.set_type(v1::COOPERATION_TYPE_INFORMATION);
    req.set_legal_basis("MLA-Convention-1959 Art.1");
    grpc::ClientContext ctx;
    return office.SendCooperationRequest(Ctx(ctx), req, out);
  }

  static std::vector<v1::Case> Cases(v1::Office::Stub& office) {
    v1::ListCasesRequest req;
    req.set_include_closed(true);
    v1::ListCasesResponse out;
    grpc::ClientContext ctx;
    EXPECT_TRUE(office.ListCases(Ctx(ctx), req, &out).ok());
    return {out.cases().begin(), out.cases().end()};
  }
  static std::vector<v1::CooperationRecord> Requests(v1::Office::Stub& office) {
    v1::ListCooperationRequestsResponse out;
    grpc::ClientContext ctx;
    EXPECT_TRUE(office.ListCooperationRequests(Ctx(ctx), {}, &out).ok());
    return {out.requests().begin(), out.requests().end()};
  }
  static std::vector<v1::Watch> Watches(v1::Office::Stub& office) {
    v1::ListWatchesResponse out;
    grpc::ClientContext ctx;
    EXPECT_TRUE(office.ListWatches(Ctx(ctx), {}, &out).ok());
    return {out.watches().begin(), out.watches().end()};
  }

  // `cc`'s whole audit log as a checkpoint made after this call covers it
  // (polled; checkpoints come every 2 s). The latest checkpoint now may
  // predate the last calls; the next one cannot, and is larger: every
  // auditor call, this one's first included, is logged.
  static std::vector<v1::AuditEntry> AuditLog(const std::string& cc) {
    auto auditor = fed_->Office(cc, "auditor");
    uint64_t first = 0;
    uint64_t size = 0;
    EXPECT_TRUE(WaitUntil(
        [&] {
          grpc::ClientContext ctx;
          v1::AuditCheckpointResponse cp;
          if (!auditor->AuditCheckpoint(Ctx(ctx), {}, &cp).ok()) return false;
          const std::string& note = cp.checkpoint();
          const size_t a = note.find('\n') + 1;  // line 2: the tree size
          size = std::stoull(note.substr(a, note.find('\n', a) - a));
          if (first == 0) first = size;
          return size > first;
        },
        std::chrono::seconds(30)));
    v1::AuditExportRequest req;
    req.set_begin(0);
    req.set_end(size);
    grpc::ClientContext ctx;
    auto reader = auditor->AuditExport(Ctx(ctx), req);
    std::vector<v1::AuditEntry> log;
    v1::AuditExportChunk chunk;
    while (reader->Read(&chunk)) {
      for (const auto& e : chunk.entries()) {
        v1::AuditEntry entry;
        EXPECT_TRUE(entry.ParseFromString(e.leaf()));
        log.push_back(entry);
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    return log;
  }

  static Federation* fed_;
  static v1::Office::Stub* skopje_;
  static v1::Office::Stub* bitola_;
  static v1::Office::Stub* operator_;
  static std::string skopje_token_, bitola_token_;
  static std::string rs_to_skopje_, rs_to_bitola_;
  static std::string skopje_request_, skopje_watch_;
};

Federation* OfficeScopeTest::fed_ = nullptr;
v1::Office::Stub* OfficeScopeTest::skopje_ = nullptr;
v1::Office::Stub* OfficeScopeTest::bitola_ = nullptr;
v1::Office::Stub* OfficeScopeTest::operator_ = nullptr;
std::string OfficeScopeTest::skopje_token_;
std::string OfficeScopeTest::bitola_token_;
std::string OfficeScopeTest::rs_to_skopje_;
std::string OfficeScopeTest::rs_to_bitola_;
std::string OfficeScopeTest::skopje_request_;
std::string OfficeScopeTest::skopje_watch_;

TEST_F(OfficeScopeTest, EachOfficeListsOnlyItsOwn) {
  // Requests: each office sends one to RS, and RS sends one to each.
  v1::CooperationRecord out;
  ASSERT_TRUE(SendRequest(*skopje_, skopje_token_, kSkopjeCase, &out).ok());
  ASSERT_TRUE(SendRequest(*bitola_, bitola_token_, kBitolaCase, &out).ok());
  ASSERT_TRUE(
      SendRequest(*fed_->Office("RS"), rs_to_skopje_, "RS-2026-1", &out).ok());
  EXPECT_EQ(out.receipt().competent_office(), kSkopje);
  skopje_request_ = out.id();
  ASSERT_TRUE(
      SendRequest(*fed_->Office("RS"), rs_to_bitola_, "RS-2026-2", &out).ok());
  EXPECT_EQ(out.receipt().competent_office(), kBitola);
  // A watch each.
  for (auto [office, number, watched] :
       {std::tuple{skopje_, kSkopjeCase, "cbx_scope_watch_sk"},
        std::tuple{bitola_, kBitolaCase, "cbx_scope_watch_bt"}}) {
    v1::AddWatchRequest req;
    *req.add_identifiers() = Id(watched);
    *req.mutable_purpose() = PurposeOf(number);
    req.add_peers("RS");
    req.set_duration_s(3600);
    v1::AddWatchResponse added;
    grpc::ClientContext ctx;
    grpc::Status s = office->AddWatch(Ctx(ctx), req, &added);
    ASSERT_TRUE(s.ok()) << s.error_message();
    if (office == skopje_) skopje_watch_ = added.watch().watch_id();
  }

  for (auto [office, name, number] :
       {std::tuple{skopje_, kSkopje, kSkopjeCase},
        std::tuple{bitola_, kBitola, kBitolaCase}}) {
    SCOPED_TRACE(name);
    std::vector<v1::Case> cases = Cases(*office);
    ASSERT_EQ(cases.size(), 1u);
    EXPECT_EQ(cases[0].case_number(), number);
    EXPECT_EQ(cases[0].office(), name);

    v1::ListHitsResponse hits;
    {
      grpc::ClientContext ctx;
      ASSERT_TRUE(office->ListHits(Ctx(ctx), {}, &hits).ok());
    }
    ASSERT_EQ(hits.hits_size(), 1);
    EXPECT_EQ(hits.hits(0).case_number(), number);

    v1::ListInboxResponse inbox;
    {
      grpc::ClientContext ctx;
      ASSERT_TRUE(office->ListInbox(Ctx(ctx), {}, &inbox).ok());
    }
    ASSERT_EQ(inbox.notifications_size(), 1);
    EXPECT_EQ(inbox.notifications(0).case_number(), number);
    EXPECT_EQ(inbox.notifications(0).from_member(), "RS");

    std::vector<v1::CooperationRecord> requests = Requests(*office);
    ASSERT_EQ(requests.size(), 2u);
    std::set<v1::CooperationDirection> directions;
    for (const v1::CooperationRecord& r : requests) {
      EXPECT_EQ(r.office(), name);
      EXPECT_EQ(r.case_number(), number);
      directions.insert(r.direction());
    }
    EXPECT_EQ(directions.size(), 2u);  // one sent, one received

    std::vector<v1::Watch> watches = Watches(*office);
    ASSERT_EQ(watches.size(), 1u);
    EXPECT_EQ(watches[0].office(), name);
    EXPECT_EQ(watches[0].purpose().case_number(), number);
  }
}

TEST_F(OfficeScopeTest, AnotherOfficesItemsAreRefusedAndUnchanged) {
  ASSERT_FALSE(skopje_request_.empty());
  ASSERT_FALSE(skopje_watch_.empty());
  const std::vector<v1::Case> before = Cases(*skopje_);
  auto code = [](const grpc::Status& s) { return s.error_code(); };
  v1::Case c;
  {
    v1::ListHitsRequest req;
    req.set_case_number(kSkopjeCase);
    v1::ListHitsResponse out;
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->ListHits(Ctx(ctx), req, &out)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::ListInboxRequest req;
    req.set_case_number(kSkopjeCase);
    v1::ListInboxResponse out;
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->ListInbox(Ctx(ctx), req, &out)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::AmendCaseRequest req;
    req.set_case_number(kSkopjeCase);
    req.set_contact_point("+000 changed by another office (fictional)");
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->AmendCase(Ctx(ctx), req, &c)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::CloseCaseRequest req;
    req.set_case_number(kSkopjeCase);
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->CloseCase(Ctx(ctx), req, &c)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    // Skopje's case and hit's token, named by Bitola.
    v1::CooperationRecord out;
    EXPECT_EQ(code(SendRequest(*bitola_, skopje_token_, kSkopjeCase, &out)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::GetCooperationRequestRequest req;
    req.set_id(skopje_request_);
    v1::CooperationRecord out;
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->GetCooperationRequest(Ctx(ctx), req, &out)),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::RespondToCooperationRequestRequest req;
    req.set_id(skopje_request_);
    req.set_outcome(v1::RESPONSE_OUTCOME_REFUSED);
    req.set_reason(v1::RESPONSE_REFUSAL_NOT_COMPETENT);
    v1::CooperationRecord out;
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->RespondToCooperationRequest(Ctx(ctx), req, &out)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::RemoveWatchRequest req;
    req.set_watch_id(skopje_watch_);
    v1::Watch out;
    grpc::ClientContext ctx;
    EXPECT_EQ(code(bitola_->RemoveWatch(Ctx(ctx), req, &out)),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Nothing changed: Skopje's case, request and watch are as they were.
  const std::vector<v1::Case> after = Cases(*skopje_);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].SerializeAsString(), before[0].SerializeAsString());
  EXPECT_EQ(after[0].status(), v1::CASE_STATUS_OPEN);
  v1::GetCooperationRequestRequest get;
  get.set_id(skopje_request_);
  v1::CooperationRecord record;
  grpc::ClientContext ctx;
  ASSERT_TRUE(skopje_->GetCooperationRequest(Ctx(ctx), get, &record).ok());
  EXPECT_FALSE(record.has_response());
  std::vector<v1::Watch> watches = Watches(*skopje_);
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].watch_id(), skopje_watch_);
}

TEST_F(OfficeScopeTest, OperatorGetsCountsOnly) {
  v1::GetCountsResponse counts;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(operator_->GetCounts(Ctx(ctx), {}, &counts).ok());
  }
  std::map<std::string, v1::OfficeCounts> by_office;
  for (const v1::OfficeCounts& o : counts.offices()) by_office[o.office()] = o;
  for (const char* name : {kSkopje, kBitola}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(by_office.contains(name));
    const v1::OfficeCounts& o = by_office[name];
    EXPECT_EQ(o.cases_open(), 1u);
    EXPECT_EQ(o.cases_closed(), 0u);
    EXPECT_EQ(o.hits(), 1u);
    EXPECT_EQ(o.inbox(), 1u);
    EXPECT_EQ(o.requests_sent(), 1u);
    EXPECT_EQ(o.requests_received(), 1u);
    EXPECT_EQ(o.watches(), 1u);
  }
  const grpc::StatusCode denied = grpc::StatusCode::PERMISSION_DENIED;
  {
    grpc::ClientContext ctx;
    v1::ListCasesResponse out;
    EXPECT_EQ(operator_->ListCases(Ctx(ctx), {}, &out).error_code(), denied);
  }
  {
    grpc::ClientContext ctx;
    v1::ListHitsResponse out;
    EXPECT_EQ(operator_->ListHits(Ctx(ctx), {}, &out).error_code(), denied);
  }
  {
    grpc::ClientContext ctx;
    v1::ListInboxResponse out;
    EXPECT_EQ(operator_->ListInbox(Ctx(ctx), {}, &out).error_code(), denied);
  }
  {
    grpc::ClientContext ctx;
    v1::ListCooperationRequestsResponse out;
    EXPECT_EQ(
        operator_->ListCooperationRequests(Ctx(ctx), {}, &out).error_code(),
        denied);
  }
  {
    grpc::ClientContext ctx;
    v1::ListWatchesResponse out;
    EXPECT_EQ(operator_->ListWatches(Ctx(ctx), {}, &out).error_code(), denied);
  }
  // The withdrawals listing likewise, and the auditor has none of these.
  auto auditor = fed_->Office("MK", "auditor");
  for (v1::Office::Stub* stub : {operator_, auditor.get()}) {
    grpc::ClientContext ctx;
    v1::ListWithdrawalsResponse out;
    EXPECT_EQ(stub->ListWithdrawals(Ctx(ctx), {}, &out).error_code(), denied);
  }
  {
    grpc::ClientContext ctx;
    v1::ListCasesResponse out;
    EXPECT_EQ(auditor->ListCases(Ctx(ctx), {}, &out).error_code(), denied);
  }
}

// Every entry of an office call names the person whose certificate made
// it, at MK (the call's own entries and the envelopes it sent) and at RS
// (the Evaluate and Resolve it received for that call). At MK only the
// persons' certificates make the calls below (the harness's operator and
// auditor certificates name no person, and their entries no user).
TEST_F(OfficeScopeTest, AuditLogsNameTheActingPerson) {
  const std::map<std::string, std::string> person = {{kSkopje, kSkopjePerson},
                                                     {kBitola, kBitolaPerson}};
  const std::set<std::string> persons_calls = {
      "Office.AddCase",
      "Office.AmendCase",
      "Office.CloseCase",
      "Office.Query",
      "Office.AddWatch",
      "Office.RemoveWatch",
      "Office.SendCooperationRequest",
      "Office.GetCooperationRequest",
      "Office.RespondToCooperationRequest"};
  std::map<std::string, std::set<std::string>> office_calls;  // office → rpcs
  for (const v1::AuditEntry& e : AuditLog("MK")) {
    auto it = person.find(e.office());
    if (it == person.end()) continue;
    // The envelopes the call sent (not the receipts this node gives a
    // peer's request for the office: the node's own act, no person's).
    const bool sent_for_it =
        e.direction() == v1::AUDIT_DIRECTION_SENT &&
        (e.kind() == "evaluate_request" || e.kind() == "resolve_request" ||
         e.kind() == "cooperation_request");
    // No entry names another office's person.
    if (!e.user().empty()) {
      EXPECT_EQ(e.user(), it->second) << e.rpc();
    }
    if (!persons_calls.contains(e.rpc()) && !sent_for_it) continue;
    EXPECT_EQ(e.user(), it->second) << e.rpc() << " " << e.kind();
    office_calls[e.office()].insert(e.rpc());
  }
  for (const auto& [office, id] : person) {
    SCOPED_TRACE(office);
    for (const char* rpc : {"Office.AddCase", "Office.Query", "Office.AddWatch",
                            "Office.SendCooperationRequest", "Peer.Evaluate",
                            "Peer.Resolve", "Peer.Cooperate"}) {
      EXPECT_TRUE(office_calls[office].contains(rpc)) << rpc;
    }
  }
  // RS's entries of what it received for each MK office's query and watch.
  std::map<std::string, std::set<std::string>> received;
  for (const v1::AuditEntry& e : AuditLog("RS")) {
    // The requests MK sent (not the replies to RS's own queries of MK).
    if (e.direction() != v1::AUDIT_DIRECTION_RECEIVED || e.peer() != "MK" ||
        (e.kind() != "evaluate_request" && e.kind() != "resolve_request")) {
      continue;
    }
    auto it = person.find(e.office());
    ASSERT_NE(it, person.end())
        << "office \"" << e.office() << "\" " << e.rpc() << " " << e.kind()
        << " user \"" << e.user() << "\" code " << e.outcome().status_code();
    EXPECT_EQ(e.user(), it->second) << e.rpc();
    received[e.office()].insert(e.rpc());
  }
  for (const auto& [office, id] : person) {
    EXPECT_EQ(received[office],
              (std::set<std::string>{"Peer.Evaluate", "Peer.Resolve"}))
        << office;
  }
}

// The transition to per-person certificates (spec/cooperation.md §5,
// office-api.md A7), on a real node whose genesis policy requires them from
// a time already past: a role-only prosecutor certificate is refused
// UNAUTHENTICATED and changes nothing; the same office's per-person
// certificate is served.
TEST(PersonCertificatesRequiredTest, RoleOnlyCertificateIsRefusedAfterTheDate) {
  FederationOptions options;
  options.countries = {"MK", "RS"};
  options.persons = {kSkopjePerson};
  options.edit_spec = [](nlohmann::json& spec) {
    spec["policy"]["person_certificates_required_from_ms"] = 1'000'000'000'000;
  };
  auto fed = Federation::Create(options);
  ASSERT_TRUE(fed.ok()) << fed.status();
  ASSERT_TRUE((*fed)->Start("MK").ok());
  const std::string offices = (*fed)->NodeDir("MK") + "/offices/";
  const std::string roots = Slurp((*fed)->NodeDir("MK") + "/ca.crt");
  auto stub = [&](const std::string& name) {
    return v1::Office::NewStub(OfficeChannelWith(
        **fed, "MK", offices + name + ".crt", offices + name + ".key", roots));
  };
  auto role_only = stub("PPO-Skopje-prosecutor");
  auto person =
      stub(std::string("PPO-Skopje-prosecutor-person-") + kSkopjePerson);
  v1::AddCaseRequest add;
  add.mutable_case_()->set_case_number("MK-2026-77");
  *add.mutable_case_()->add_identifiers() = Id("cbx_person_required");
  add.mutable_case_()->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  add.mutable_case_()->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  add.mutable_case_()->set_contact_point("+000 duty prosecutor (fictional)");
  {
    grpc::ClientContext ctx;
    v1::Case out;
    grpc::Status s = role_only->AddCase(Ctx(ctx), add, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(s.error_message().find("this certificate names no person"),
              std::string::npos)
        << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    v1::ListCasesResponse out;
    ASSERT_TRUE(person->ListCases(Ctx(ctx), {}, &out).ok());
    EXPECT_EQ(out.cases_size(), 0);  // the refused call added nothing
  }
  grpc::ClientContext ctx;
  v1::Case out;
  grpc::Status s = person->AddCase(Ctx(ctx), add, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (HasFailure()) (*fed)->DumpLogs();
}

}  // namespace
}  // namespace cbx::testing
