#include "client/json_output.h"

#include <cctype>
#include <string>

#include "client/identifier_arg.h"
#include "client/names.h"
#include "client/time_format.h"
#include "core/util/bytes.h"

namespace cbx::client {
namespace {

// ISO 8601 string, or null for 0 ("not set").
Json Time(int64_t ms) {
  if (ms == 0) return nullptr;
  return FormatTimestampPrecise(ms);
}

// A string that is null when empty (optional fields).
Json Optional(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

Json Role(v1::PerpetratorRole role) { return Optional(RoleName(role)); }

Json Offences(const google::protobuf::RepeatedPtrField<v1::Offence>& offences,
              Lang lang) {
  Json out = Json::array();
  for (const v1::Offence& o : offences) out.push_back(OffenceJson(o, lang));
  return out;
}

Json Members(const google::protobuf::RepeatedPtrField<std::string>& members) {
  Json out = Json::array();
  for (const std::string& m : members) out.push_back(m);
  return out;
}

std::string OffenceCode(v1::OffenceCode code) {
  std::string_view name = OffenceCodeName(code);
  if (!name.empty()) return std::string(name);
  // A code this CLI does not know yet: its number, so nothing is lost.
  return "#" + std::to_string(static_cast<int>(code));
}

}  // namespace

Json OffenceJson(const v1::Offence& offence, Lang lang) {
  Json j;
  j["code"] = OffenceCode(offence.code());
  j["label"] = OffenceLabel(offence.code(), lang);
  j["attempted"] = offence.attempted();
  j["ai_manipulated"] = offence.ai_manipulated();
  j["minor_victim"] = offence.minor_victim();
  return j;
}

Json CaseReferenceJson(const v1::CaseReference& ref, Lang lang) {
  Json j;
  j["case_token"] = HexEncode(ref.case_token());
  j["member"] = ref.member();
  j["offences"] = Offences(ref.offences(), lang);
  j["role"] = Role(ref.role());
  Json matched = Json::array();
  for (const v1::MatchedIdentifier& m : ref.matched()) {
    Json mj;
    mj["type"] = IdentifierTypeName(m.type());
    mj["observed_from"] = Time(m.observed_from_ms());
    mj["observed_to"] = Time(m.observed_to_ms());
    mj["input_index"] = m.input_index();
    matched.push_back(std::move(mj));
  }
  j["matched"] = std::move(matched);
  j["competent_office"] = ref.competent_office();
  j["contact_point"] = ref.contact_point();
  j["status"] = CaseStatusName(ref.status());
  j["opened_month"] = Optional(ref.opened_month());
  return j;
}

Json CaseJson(const v1::Case& c, Lang lang) {
  Json j;
  j["case_number"] = c.case_number();
  j["case_token"] = HexEncode(c.case_token());
  j["office"] = c.office();
  j["status"] = CaseStatusName(c.status());
  j["opened_month"] = Optional(c.opened_month());
  j["role"] = Role(c.role());
  j["offences"] = Offences(c.offences(), lang);
  Json ids = Json::array();
  for (const v1::Identifier& id : c.identifiers()) {
    Json ij;
    ij["type"] = IdentifierTypeName(id.type());
    ij["value"] = id.value();
    ij["observed_from"] = Time(id.observed_from_ms());
    ij["observed_to"] = Time(id.observed_to_ms());
    ids.push_back(std::move(ij));
  }
  j["identifiers"] = std::move(ids);
  j["contact_point"] = c.contact_point();
  j["created_at"] = Time(c.created_at_ms());
  j["updated_at"] = Time(c.updated_at_ms());
  return j;
}

Json CaseListJson(const v1::ListCasesResponse& response, Lang lang) {
  Json cases = Json::array();
  for (const v1::Case& c : response.cases()) cases.push_back(CaseJson(c, lang));
  Json j;
  j["cases"] = std::move(cases);
  return j;
}

Json PeerAnswerJson(const v1::PeerAnswer& answer, Lang lang) {
  Json j;
  j["event"] = "answer";
  j["member"] = answer.member();
  std::string outcome = PeerOutcomeName(answer.outcome());
  for (char& ch : outcome) ch = static_cast<char>(std::tolower(ch));
  j["outcome"] = outcome;
  j["latency_ms"] = answer.latency_ms();
  if (answer.outcome() == v1::PEER_OUTCOME_ERROR ||
      answer.outcome() == v1::PEER_OUTCOME_PHANTOM) {
    j["status_code"] = StatusCodeName(answer.status_code());
    j["error"] = answer.error();
  }
  Json refs = Json::array();
  for (const v1::CaseReference& r : answer.references()) {
    refs.push_back(CaseReferenceJson(r, lang));
  }
  j["references"] = std::move(refs);
  // How old the peer's index copy was (only when a copy was used).
  if (answer.index_synced_at_ms() != 0) {
    j["index_version"] = answer.index_version();
    j["index_synced_at"] = Time(answer.index_synced_at_ms());
    j["index_age_ms"] = answer.index_age_ms();
  }
  return j;
}

Json QuerySummaryJson(const v1::QuerySummary& s) {
  Json j;
  j["event"] = "summary";
  j["query_id"] = s.query_id();
  j["hit_members"] = Members(s.hit_members());
  j["miss_members"] = Members(s.miss_members());
  j["failed_members"] = Members(s.failed_members());
  j["elapsed_ms"] = s.elapsed_ms();
  if (s.stale_index_after_ms() != 0) {
    j["stale_index_after_ms"] = s.stale_index_after_ms();
    j["stale_index_members"] = Members(s.stale_index_members());
  }
  return j;
}

namespace {

std::string OverlapName(v1::WindowsOverlap overlap) {
  switch (overlap) {
    case v1::WINDOWS_OVERLAP_OVERLAP:
      return "overlap";
    case v1::WINDOWS_OVERLAP_DISJOINT:
      return "disjoint";
    default:
      return "unknown";
  }
}

Json MatchJson(const v1::HitMatch& m) {
  Json j;
  j["type"] = IdentifierTypeName(m.type());
  j["value"] = Optional(m.value());
  j["normalized"] = Optional(m.normalized());
  j["input_index"] = m.input_index();
  j["querier_observed_from"] = Time(m.querier_from_ms());
  j["querier_observed_to"] = Time(m.querier_to_ms());
  j["peer_observed_from"] = Time(m.peer_from_ms());
  j["peer_observed_to"] = Time(m.peer_to_ms());
  j["windows_overlap"] = OverlapName(m.windows_overlap());
  return j;
}

}  // namespace

Json HitsJson(const v1::ListHitsResponse& response, Lang lang) {
  Json hits = Json::array();
  for (const v1::Hit& h : response.hits()) {
    Json hj;
    hj["query_id"] = h.query_id();
    hj["member"] = h.member();
    hj["case_number"] = h.case_number();
    hj["received_at"] = Time(h.received_at_ms());
    hj["envelope_sha256"] = HexEncode(h.envelope_sha256());
    hj["reference"] = CaseReferenceJson(h.reference(), lang);
    // A standing watch's hit names the watch (spec/cooperation.md §4).
    if (!h.watch_id().empty()) hj["watch_id"] = h.watch_id();
    // What matched, in context (spec/office-api.md §4.6); absent on hits
    // stored before the node kept it.
    if (!h.matches().empty()) {
      Json matches = Json::array();
      for (const v1::HitMatch& m : h.matches()) matches.push_back(MatchJson(m));
      hj["matches"] = std::move(matches);
      hj["windows_overlap"] = OverlapName(h.windows_overlap());
    }
    // A withdrawn reference (spec/cooperation.md §2.4): when and why.
    if (h.withdrawn_at_ms() != 0) {
      hj["withdrawn_at"] = Time(h.withdrawn_at_ms());
      hj["withdrawal_reason"] =
          h.withdrawal_reason() == v1::WITHDRAWAL_REASON_ERASED ? "erased"
                                                                : "closed";
    }
    hits.push_back(std::move(hj));
  }
  Json j;
  j["hits"] = std::move(hits);
  return j;
}

Json InboxJson(const v1::ListInboxResponse& response, Lang lang) {
  Json notifications = Json::array();
  for (const v1::Notification& n : response.notifications()) {
    Json nj;
    nj["at"] = Time(n.at_ms());
    nj["from_member"] = n.from_member();
    nj["from_office"] = n.from_office();
    nj["case_number"] = n.case_number();
    Json pj;
    pj["case_number"] = n.purpose().case_number();
    pj["legal_basis"] = n.purpose().legal_basis();
    if (n.purpose().offence() == v1::OFFENCE_CODE_UNSPECIFIED) {
      pj["offence"] = nullptr;
      pj["offence_label"] = nullptr;
    } else {
      pj["offence"] = OffenceCode(n.purpose().offence());
      pj["offence_label"] = OffenceLabel(n.purpose().offence(), lang);
    }
    nj["purpose"] = std::move(pj);
    notifications.push_back(std::move(nj));
  }
  Json j;
  j["notifications"] = std::move(notifications);
  return j;
}

// A certificate in use (spec/office-api.md §4.8).
Json CertificateJson(const v1::CertificateInUse& c) {
  Json j;
  j["serial"] = c.serial();
  j["not_after"] = Time(c.not_after_ms());
  j["sha256_fingerprint"] = c.sha256_fingerprint();
  j["first_seen"] = Time(c.first_seen_ms());
  j["last_seen"] = Time(c.last_seen_ms());
  return j;
}

Json PeersJson(const v1::ListPeersResponse& response) {
  Json peers = Json::array();
  for (const v1::PeerStatus& p : response.peers()) {
    Json pj;
    pj["member"] = p.member();
    pj["display_name"] = p.display_name();
    pj["endpoint"] = p.endpoint();
    pj["status"] = MemberStatusName(p.status());
    pj["oprf_epoch"] = p.oprf_epoch();
    pj["index_version"] = p.index_version();
    pj["index_count"] = p.index_count();
    pj["last_sync"] = Time(p.last_sync_ms());
    pj["last_error"] = Optional(p.last_error());
    pj["cosigned_size"] = p.cosigned_size();
    pj["cosigned_at"] = Time(p.cosigned_at_ms());
    pj["witness_alert"] = Optional(p.witness_alert());
    pj["phantom_hits"] = p.phantom_hits();
    pj["hit_rate_alert"] = Optional(p.hit_rate_alert());
    pj["index_alert"] = Optional(p.index_alert());
    // Certificates only once seen (added later; older outputs stay).
    if (p.has_client_certificate()) {
      pj["client_certificate"] = CertificateJson(p.client_certificate());
    }
    if (p.has_server_certificate()) {
      pj["server_certificate"] = CertificateJson(p.server_certificate());
    }
    peers.push_back(std::move(pj));
  }
  Json j;
  j["directory_version"] = response.directory_version();
  j["self"] = response.self();
  j["node_alert"] = Optional(response.node_alert());
  // Only when there is one (added later; older outputs stay as they were).
  if (!response.directory_alert().empty()) {
    j["directory_alert"] = response.directory_alert();
  }
  if (response.has_own_certificate()) {
    j["own_certificate"] = CertificateJson(response.own_certificate());
  }
  j["peers"] = std::move(peers);
  return j;
}

std::string JsonLine(const Json& doc) {
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace cbx::client
