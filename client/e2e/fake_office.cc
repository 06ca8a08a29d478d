#include "client/e2e/fake_office.h"

#include <algorithm>
#include <thread>

#include "absl/strings/numbers.h"
#include "core/identifiers/identifiers.h"
#include "grpcpp/grpcpp.h"

namespace cbx::client::testing {
namespace {

// The fake serves at most two items per page (fewer if asked), so that the
// CLI's tests cross page boundaries. Its page tokens are item offsets.
template <typename Item, typename AddTo>
grpc::Status ServePage(const std::vector<Item>& items, uint32_t page_size,
                       const std::string& token, std::string* next,
                       AddTo add_to) {
  size_t begin = 0;
  if (!token.empty() && !absl::SimpleAtoi(token, &begin)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "page_token: not a token this node gave");
  }
  const size_t size = std::min<size_t>(page_size == 0 ? 2 : page_size, 2);
  for (size_t i = begin; i < items.size() && i < begin + size; ++i) {
    add_to(items[i]);
  }
  if (begin + size < items.size()) *next = std::to_string(begin + size);
  return grpc::Status::OK;
}

constexpr char kOfficePrefix[] = "spiffe://cbx/office/";
// 2025-11-03T08:00:00Z: the fake's clock, so outputs are predictable.
constexpr int64_t kNowMs = 1762156800000;

int64_t NowMs() { return kNowMs; }

}  // namespace

FakeOffice::FakeOffice()
    : peers_({
          // Listed in directory order; they answer in delay order.
          {"AL", std::chrono::milliseconds(250), "", {}},
          {"BA",
           std::chrono::milliseconds(450),
           "BA did not answer within 400 ms",
           {}},
          {"HR", std::chrono::milliseconds(50), "", {}},
          {"RS",
           std::chrono::milliseconds(150),
           "",
           {{v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, "smokva_admin"},
            {v1::IDENTIFIER_TYPE_PHONE, "+381631234567"}}},
      }) {}

grpc::Status FakeOffice::Authorize(grpc::ServerContext* ctx,
                                   const std::vector<std::string>& allowed,
                                   std::string* office) {
  ++calls_;
  std::string uri;
  for (const char* property :
       {"peer_uri", "peer_spiffe_id", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& v :
         ctx->auth_context()->FindPropertyValues(property)) {
      std::string value(v.data(), v.size());
      if (value.rfind(kOfficePrefix, 0) == 0) uri = value;
    }
    if (!uri.empty()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_caller_ = uri;
  }
  // spiffe://cbx/office/<CC>/<office>/<role>
  std::string rest = uri.substr(std::min(uri.size(), sizeof kOfficePrefix - 1));
  size_t a = rest.find('/');
  size_t b = a == std::string::npos ? a : rest.find('/', a + 1);
  if (uri.empty() || b == std::string::npos) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no office identity in the client certificate");
  }
  std::string role = rest.substr(b + 1);
  *office = rest.substr(0, b);
  if (std::find(allowed.begin(), allowed.end(), role) == allowed.end()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "role " + role + " may not call this");
  }
  return grpc::Status::OK;
}

grpc::Status FakeOffice::NormalizeInto(
    const google::protobuf::RepeatedPtrField<v1::Identifier>& in,
    google::protobuf::RepeatedPtrField<v1::Identifier>* out) {
  for (const v1::Identifier& id : in) {
    auto normalized = identifiers::Normalize(id.type(), id.value());
    if (!normalized.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(normalized.status().message()));
    }
    v1::Identifier* copy = out->Add();
    *copy = id;
    copy->set_value(*normalized);
  }
  return grpc::Status::OK;
}

grpc::Status FakeOffice::AddCase(grpc::ServerContext* ctx,
                                 const v1::AddCaseRequest* request,
                                 v1::Case* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  v1::Case c = request->case_();
  c.clear_identifiers();
  s = NormalizeInto(request->case_().identifiers(), c.mutable_identifiers());
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (cases_.count(c.case_number()) > 0) {
    return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                        "case " + c.case_number() + " exists");
  }
  std::string token(16, '\0');
  token[15] = static_cast<char>(next_token_++);
  token[0] = '\xc8';
  c.set_case_token(token);
  c.set_office(office);
  c.set_status(v1::CASE_STATUS_OPEN);
  if (c.opened_month().empty()) c.set_opened_month("2025-11");
  c.set_created_at_ms(NowMs());
  c.set_updated_at_ms(NowMs());
  cases_[c.case_number()] = c;
  *response = c;
  return grpc::Status::OK;
}

grpc::Status FakeOffice::AmendCase(grpc::ServerContext* ctx,
                                   const v1::AmendCaseRequest* request,
                                   v1::Case* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  google::protobuf::RepeatedPtrField<v1::Identifier> add, remove;
  s = NormalizeInto(request->add_identifiers(), &add);
  if (!s.ok()) return s;
  s = NormalizeInto(request->remove_identifiers(), &remove);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cases_.find(request->case_number());
  if (it == cases_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no case " + request->case_number());
  }
  v1::Case& c = it->second;
  for (const v1::Identifier& r : remove) {
    auto* ids = c.mutable_identifiers();
    for (int i = ids->size() - 1; i >= 0; --i) {
      if (ids->Get(i).type() == r.type() && ids->Get(i).value() == r.value()) {
        ids->DeleteSubrange(i, 1);
      }
    }
  }
  for (const v1::Identifier& a : add) *c.add_identifiers() = a;
  if (!request->offences().empty()) *c.mutable_offences() = request->offences();
  if (request->role() != v1::PERPETRATOR_ROLE_UNSPECIFIED) {
    c.set_role(request->role());
  }
  if (!request->contact_point().empty()) {
    c.set_contact_point(request->contact_point());
  }
  c.set_updated_at_ms(NowMs() + 60000);
  *response = c;
  return grpc::Status::OK;
}

grpc::Status FakeOffice::CloseCase(grpc::ServerContext* ctx,
                                   const v1::CloseCaseRequest* request,
                                   v1::Case* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cases_.find(request->case_number());
  if (it == cases_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no case " + request->case_number());
  }
  it->second.set_status(v1::CASE_STATUS_CLOSED);
  it->second.set_updated_at_ms(NowMs() + 120000);
  *response = it->second;
  return grpc::Status::OK;
}

grpc::Status FakeOffice::ListCases(grpc::ServerContext* ctx,
                                   const v1::ListCasesRequest* request,
                                   v1::ListCasesResponse* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Case> listed;
  for (const auto& [number, c] : cases_) {
    if (c.status() == v1::CASE_STATUS_CLOSED && !request->include_closed()) {
      continue;
    }
    listed.push_back(c);
  }
  return ServePage(listed, request->page_size(), request->page_token(),
                   response->mutable_next_page_token(),
                   [&](const v1::Case& c) { *response->add_cases() = c; });
}

grpc::Status FakeOffice::Query(grpc::ServerContext* ctx,
                               const v1::QueryRequest* request,
                               grpc::ServerWriter<v1::QueryEvent>* writer) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  // As the node (spec/office-api.md Q2).
  if (request->identifiers_size() > 1024) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "identifiers: at most 1024 per query");
  }
  google::protobuf::RepeatedPtrField<v1::Identifier> queried;
  s = NormalizeInto(request->identifiers(), &queried);
  if (!s.ok()) return s;
  if (request->purpose().legal_basis().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "purpose.legal_basis: give the legal basis of the "
                        "request");
  }
  std::string query_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    query_id = "q-" + std::to_string(next_query_++);
    query_sizes_.push_back(request->identifiers_size());
  }

  // As the node: named peers must be members, and not this node itself.
  for (const std::string& code : request->peers()) {
    if (code == "MK") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "peers: this node's own member is not a peer");
    }
    if (std::none_of(peers_.begin(), peers_.end(),
                     [&](const ScriptedPeer& p) { return p.member == code; })) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "peers: " + code + " is not a member of the directory");
    }
  }
  std::vector<const ScriptedPeer*> asked;
  for (const ScriptedPeer& p : peers_) {
    if (request->peers().empty() ||
        std::find(request->peers().begin(), request->peers().end(), p.member) !=
            request->peers().end()) {
      asked.push_back(&p);
    }
  }
  // Arrival order: the fastest peer first.
  std::sort(asked.begin(), asked.end(),
            [](const ScriptedPeer* a, const ScriptedPeer* b) {
              return a->delay < b->delay;
            });
  auto start = std::chrono::steady_clock::now();
  v1::QuerySummary summary;
  summary.set_query_id(query_id);
  for (const ScriptedPeer* p : asked) {
    std::this_thread::sleep_until(start + p->delay);
    if (ctx->IsCancelled()) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    v1::QueryEvent event;
    v1::PeerAnswer& answer = *event.mutable_answer();
    answer.set_member(p->member);
    answer.set_latency_ms(p->delay.count());
    if (!p->error.empty()) {
      answer.set_outcome(v1::PEER_OUTCOME_ERROR);
      answer.set_status_code(grpc::StatusCode::DEADLINE_EXCEEDED);
      answer.set_error(p->error);
      summary.add_failed_members(p->member);
    } else {
      v1::CaseReference ref;
      for (int i = 0; i < queried.size(); ++i) {
        auto [lo, hi] = p->holds.equal_range(queried[i].type());
        for (auto it = lo; it != hi; ++it) {
          if (it->second != queried[i].value()) continue;
          v1::MatchedIdentifier* m = ref.add_matched();
          m->set_type(queried[i].type());
          m->set_observed_from_ms(1735689600000);  // 2025-01-01
          m->set_observed_to_ms(1751327999999);    // 2025-06-30
          m->set_input_index(i);
        }
      }
      if (ref.matched().empty()) {
        answer.set_outcome(v1::PEER_OUTCOME_MISS);
        summary.add_miss_members(p->member);
      } else {
        ref.set_case_token(std::string(16, '\x5a'));
        ref.set_member(p->member);
        v1::Offence* o = ref.add_offences();
        o->set_code(v1::OFFENCE_CODE_NCII_SHARING);
        o->set_ai_manipulated(true);
        ref.add_offences()->set_code(v1::OFFENCE_CODE_GROUP_ADMINISTRATION);
        ref.set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
        ref.set_competent_office(p->member + "/VJT-Beograd");
        ref.set_contact_point("+381 11 000 0000");
        ref.set_status(v1::CASE_STATUS_OPEN);
        ref.set_opened_month("2025-09");
        answer.set_outcome(v1::PEER_OUTCOME_HIT);
        *answer.add_references() = ref;
        summary.add_hit_members(p->member);
        v1::Hit hit;
        hit.set_query_id(query_id);
        hit.set_member(p->member);
        *hit.mutable_reference() = ref;
        hit.set_case_number(request->purpose().case_number());
        hit.set_received_at_ms(NowMs());
        hit.set_envelope_sha256(std::string(32, '\x11'));
        std::lock_guard<std::mutex> lock(mu_);
        hits_.push_back(hit);
      }
    }
    if (!writer->Write(event)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
  }
  summary.set_elapsed_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count());
  v1::QueryEvent last;
  *last.mutable_summary() = summary;
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status FakeOffice::ListHits(grpc::ServerContext* ctx,
                                  const v1::ListHitsRequest* request,
                                  v1::ListHitsResponse* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::Hit> listed;
  for (const v1::Hit& h : hits_) {
    if (request->case_number().empty() ||
        h.case_number() == request->case_number()) {
      listed.push_back(h);
    }
  }
  return ServePage(listed, request->page_size(), request->page_token(),
                   response->mutable_next_page_token(),
                   [&](const v1::Hit& h) { *response->add_hits() = h; });
}

grpc::Status FakeOffice::ListInbox(grpc::ServerContext* ctx,
                                   const v1::ListInboxRequest* request,
                                   v1::ListInboxResponse* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor"}, &office);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  // Canned: Albania's SPAK resolved each of our cases once.
  std::vector<v1::Notification> listed;
  for (const auto& [number, c] : cases_) {
    if (!request->case_number().empty() && number != request->case_number()) {
      continue;
    }
    v1::Notification* n = &listed.emplace_back();
    n->set_at_ms(NowMs() + 3600000);
    n->set_from_member("AL");
    n->set_from_office("AL/SPAK-Tirana");
    n->set_case_number(number);
    n->mutable_purpose()->set_case_number("AL-2025-311");
    n->mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    n->mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_THREAT);
  }
  return ServePage(
      listed, request->page_size(), request->page_token(),
      response->mutable_next_page_token(),
      [&](const v1::Notification& n) { *response->add_notifications() = n; });
}

grpc::Status FakeOffice::ListPeers(grpc::ServerContext* ctx,
                                   const v1::ListPeersRequest*,
                                   v1::ListPeersResponse* response) {
  std::string office;
  grpc::Status s = Authorize(ctx, {"prosecutor", "operator"}, &office);
  if (!s.ok()) return s;
  response->set_directory_version(4);
  response->set_self("MK");
  for (const ScriptedPeer& p : peers_) {
    v1::PeerStatus* ps = response->add_peers();
    ps->set_member(p.member);
    ps->set_display_name(p.member == "RS" ? "Србија" : p.member);
    ps->set_endpoint("cbx." + p.member + ".example:7443");
    ps->set_status(v1::MEMBER_STATUS_ACTIVE);
    ps->set_oprf_epoch(1);
    ps->set_index_version(10);
    ps->set_index_count(p.holds.size());
    ps->set_last_sync_ms(NowMs());
    if (!p.error.empty()) ps->set_last_error(p.error);
    // As a witness, the node cosigned each peer's log a minute ago, except
    // BA's, which it refuses since an hour ago.
    if (p.member == "BA") {
      ps->set_cosigned_size(4120);
      ps->set_cosigned_at_ms(NowMs() - 3'600'000);
      ps->set_witness_alert(
          "since 2025-11-03T07:00:00.000Z: BA's log shrank from 4120 to 96 (2 "
          "checkpoints refused, the latest of size 130)");
    } else {
      ps->set_cosigned_size(1000 + p.holds.size());
      ps->set_cosigned_at_ms(NowMs() - 60'000);
    }
  }
  return grpc::Status::OK;
}

bool FakeOffice::GetCase(const std::string& number, v1::Case* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cases_.find(number);
  if (it == cases_.end()) return false;
  *out = it->second;
  return true;
}

std::string FakeOffice::last_caller() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_caller_;
}

std::vector<int> FakeOffice::query_sizes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return query_sizes_;
}

}  // namespace cbx::client::testing
