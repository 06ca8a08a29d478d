#include "client/json_output.h"

#include <string>

#include "client/test_protos.h"
#include "gtest/gtest.h"

namespace cbx::client {
namespace {

using namespace ::cbx::client::testing;

// What a consumer sees: the printed line, parsed back.
nlohmann::json RoundTrip(const Json& doc) {
  std::string line = JsonLine(doc);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per document";
  return nlohmann::json::parse(line);
}

TEST(JsonOutputTest, Case) {
  nlohmann::json j = RoundTrip(CaseJson(SampleCase(), Lang::kEn));
  EXPECT_EQ(j["case_number"], "MK-2026-0142");
  EXPECT_EQ(j["case_token"], "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  EXPECT_EQ(j["office"], "MK/PPO-Skopje");
  EXPECT_EQ(j["status"], "open");
  EXPECT_EQ(j["opened_month"], "2026-01");
  EXPECT_EQ(j["role"], "administrator");
  ASSERT_EQ(j["offences"].size(), 2u);
  EXPECT_EQ(j["offences"][0], nlohmann::json::parse(R"({"code": "ncii-sharing",
              "label": "Non-consensual sharing of intimate or manipulated material",
              "attempted": false, "ai_manipulated": true,
              "minor_victim": false})"));
  EXPECT_EQ(j["offences"][1]["code"], "group-admin");
  ASSERT_EQ(j["identifiers"].size(), 2u);
  EXPECT_EQ(j["identifiers"][0],
            nlohmann::json::parse(R"({"type": "telegram_username",
              "value": "smokva_admin",
              "observed_from": "2025-01-01T00:00:00Z",
              "observed_to": "2025-06-30T23:59:59.999Z"})"));
  EXPECT_TRUE(j["identifiers"][1]["observed_from"].is_null());
  EXPECT_TRUE(j["identifiers"][1]["observed_to"].is_null());
  EXPECT_EQ(j["contact_point"], "+389 2 3100 100");
  EXPECT_EQ(j["created_at"], "2025-03-14T09:26:53Z");
  EXPECT_EQ(j["updated_at"], "2025-03-14T10:26:53Z");
}

TEST(JsonOutputTest, KeysKeepTheirDocumentedOrder) {
  std::string line = JsonLine(CaseJson(SampleCase(), Lang::kEn));
  EXPECT_EQ(line.rfind("{\"case_number\":\"MK-2026-0142\",\"case_token\":", 0),
            0u)
      << line;
}

TEST(JsonOutputTest, CaseListAndLabelsFollowLang) {
  v1::ListCasesResponse r;
  *r.add_cases() = SampleCase();
  nlohmann::json j = RoundTrip(CaseListJson(r, Lang::kHr));
  ASSERT_EQ(j["cases"].size(), 1u);
  // The code is the same in every language; only the label changes.
  EXPECT_EQ(j["cases"][0]["offences"][0]["code"], "ncii-sharing");
  EXPECT_EQ(j["cases"][0]["offences"][0]["label"],
            "Dijeljenje intimnog ili izmijenjenog materijala bez privole");
  EXPECT_EQ(RoundTrip(CaseListJson(v1::ListCasesResponse(), Lang::kEn)),
            nlohmann::json::parse(R"({"cases": []})"));
}

TEST(JsonOutputTest, QueryEvents) {
  nlohmann::json hit = RoundTrip(PeerAnswerJson(HitAnswer(), Lang::kEn));
  EXPECT_EQ(hit["event"], "answer");
  EXPECT_EQ(hit["member"], "RS");
  EXPECT_EQ(hit["outcome"], "hit");
  EXPECT_EQ(hit["latency_ms"], 212);
  EXPECT_FALSE(hit.contains("status_code"));
  ASSERT_EQ(hit["references"].size(), 1u);
  const nlohmann::json& ref = hit["references"][0];
  EXPECT_EQ(ref["case_token"], "abababababababababababababababab");
  EXPECT_EQ(ref["member"], "RS");
  EXPECT_EQ(ref["offences"][0]["code"], "ncii-threat");
  EXPECT_EQ(ref["offences"][0]["attempted"], true);
  EXPECT_EQ(ref["role"], "poster");
  EXPECT_EQ(ref["matched"], nlohmann::json::parse(R"([
              {"type": "telegram_username",
               "observed_from": "2025-01-01T00:00:00Z", "observed_to": null,
               "input_index": 0},
              {"type": "phone", "observed_from": null, "observed_to": null,
               "input_index": 1}])"));
  EXPECT_EQ(ref["competent_office"], "RS/VJT-Beograd");
  EXPECT_EQ(ref["contact_point"], "+381 11 000 0000");
  EXPECT_EQ(ref["status"], "open");
  EXPECT_EQ(ref["opened_month"], "2025-11");

  nlohmann::json miss = RoundTrip(PeerAnswerJson(MissAnswer(), Lang::kEn));
  EXPECT_EQ(miss, nlohmann::json::parse(R"({"event": "answer", "member": "HR",
      "outcome": "miss", "latency_ms": 95, "references": []})"));

  nlohmann::json error = RoundTrip(PeerAnswerJson(ErrorAnswer(), Lang::kEn));
  EXPECT_EQ(error, nlohmann::json::parse(R"({"event": "answer",
      "member": "BA", "outcome": "error", "latency_ms": 3001,
      "status_code": "DEADLINE_EXCEEDED",
      "error": "BA did not answer within 3000 ms", "references": []})"));

  EXPECT_EQ(RoundTrip(QuerySummaryJson(SampleSummary())),
            nlohmann::json::parse(R"({"event": "summary",
      "query_id": "q-7f3c", "hit_members": ["RS"], "miss_members": ["HR"],
      "failed_members": ["BA"], "elapsed_ms": 3012})"));
}

TEST(JsonOutputTest, PhantomAnswerAndPeerAlerts) {
  v1::PeerAnswer a = MissAnswer();
  a.set_outcome(v1::PEER_OUTCOME_PHANTOM);
  a.set_error("phantom hit: HR's index at version 3 holds identifiers[0]");
  EXPECT_EQ(RoundTrip(PeerAnswerJson(a, Lang::kEn)),
            nlohmann::json::parse(R"({"event": "answer", "member": "HR",
      "outcome": "phantom", "latency_ms": 95, "status_code": "OK",
      "error": "phantom hit: HR's index at version 3 holds identifiers[0]",
      "references": []})"));
  v1::ListPeersResponse peers;
  v1::PeerStatus* p = peers.add_peers();
  p->set_member("RS");
  p->set_phantom_hits(2);
  p->set_hit_rate_alert("since 2026-01-01T00:00:00.000Z: hit rate 6.0%");
  nlohmann::json j = RoundTrip(PeersJson(peers));
  EXPECT_EQ(j["peers"][0]["phantom_hits"], 2);
  EXPECT_EQ(j["peers"][0]["hit_rate_alert"],
            "since 2026-01-01T00:00:00.000Z: hit rate 6.0%");
}

TEST(JsonOutputTest, Hits) {
  nlohmann::json j = RoundTrip(HitsJson(SampleHits(), Lang::kEn));
  ASSERT_EQ(j["hits"].size(), 1u);
  const nlohmann::json& h = j["hits"][0];
  EXPECT_EQ(h["query_id"], "q-7f3c");
  EXPECT_EQ(h["member"], "RS");
  EXPECT_EQ(h["case_number"], "MK-2026-0142");
  EXPECT_EQ(h["received_at"], "2025-03-14T09:26:53Z");
  EXPECT_EQ(h["envelope_sha256"],
            "0101010101010101010101010101010101010101010101010101010101010101");
  EXPECT_EQ(h["reference"]["competent_office"], "RS/VJT-Beograd");
}

TEST(JsonOutputTest, WithdrawnHit) {
  v1::ListHitsResponse hits = SampleHits();
  EXPECT_FALSE(
      RoundTrip(HitsJson(hits, Lang::kEn))["hits"][0].contains("withdrawn_at"));
  hits.mutable_hits(0)->set_withdrawn_at_ms(1'767'225'600'000);
  hits.mutable_hits(0)->set_withdrawal_reason(v1::WITHDRAWAL_REASON_CLOSED);
  nlohmann::json h = RoundTrip(HitsJson(hits, Lang::kEn))["hits"][0];
  EXPECT_EQ(h["withdrawn_at"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(h["withdrawal_reason"], "closed");
}

TEST(JsonOutputTest, Inbox) {
  EXPECT_EQ(RoundTrip(InboxJson(SampleInbox(), Lang::kMk)),
            nlohmann::json::parse(R"({"notifications": [{
      "at": "2025-03-14T10:26:53Z", "from_member": "AL",
      "from_office": "AL/SPAK-Tirana", "case_number": "MK-2026-0142",
      "purpose": {"case_number": "AL-2026-77",
                  "legal_basis": "MLA-Convention-1959 Art.1",
                  "offence": "cyber-stalking",
                  "offence_label": "Сајбер демнење"}}]})"));
}

TEST(JsonOutputTest, Peers) {
  nlohmann::json expected = nlohmann::json::parse(R"({
      "directory_version": 3, "self": "MK", "node_alert": null, "peers": [
      {"member": "RS", "display_name": "Republic of Serbia",
       "endpoint": "cbx.rs.example:7443", "status": "active",
       "oprf_epoch": 2, "index_version": 1200, "index_count": 48211,
       "last_sync": "2025-03-14T10:26:53Z", "last_error": null,
       "cosigned_size": 9120, "cosigned_at": "2025-03-14T10:26:53Z",
       "witness_alert": null, "index_alert": null},
      {"member": "XK", "display_name": "Kosovo",
       "endpoint": "cbx.xk.example:7443", "status": "suspended",
       "oprf_epoch": 1, "index_version": 0, "index_count": 0,
       "last_sync": null, "last_error": "UNAVAILABLE: connection refused",
       "cosigned_size": 310, "cosigned_at": "2025-03-14T09:26:53Z",
       "witness_alert": "", "index_alert": null}]})");
  // As a querier (added with the phantom-hit counts): nothing to report.
  for (nlohmann::json& peer : expected["peers"]) {
    peer["phantom_hits"] = 0;
    peer["hit_rate_alert"] = nullptr;
  }
  expected["peers"][1]["witness_alert"] =
      "since 2025-03-14T10:26:53.000Z: XK's log shrank from 310 to 12 (1 "
      "checkpoint refused, the latest of size 12)";
  EXPECT_EQ(RoundTrip(PeersJson(SamplePeers())), expected);
  // Never cosigned: a size of 0 and no time.
  v1::ListPeersResponse fresh;
  fresh.add_peers()->set_member("BA");
  nlohmann::json j = RoundTrip(PeersJson(fresh));
  EXPECT_EQ(j["peers"][0]["cosigned_size"], 0);
  EXPECT_TRUE(j["peers"][0]["cosigned_at"].is_null());
  EXPECT_TRUE(j["peers"][0]["witness_alert"].is_null());
  EXPECT_TRUE(j["peers"][0]["index_alert"].is_null());
  // A peer whose index was refused under the caps.
  v1::ListPeersResponse refused = SamplePeers();
  refused.mutable_peers(0)->set_index_alert(
      "since 2025-03-14T10:26:53.000Z: RS's index version 9 has 2000000 "
      "tags, over the policy's cap of 1048576 (FAILED_PRECONDITION)");
  j = RoundTrip(PeersJson(refused));
  EXPECT_EQ(j["peers"][0]["index_alert"], refused.peers(0).index_alert());
  EXPECT_TRUE(j["peers"][1]["index_alert"].is_null());
  // This node's own storage failing.
  refused.set_node_alert("node.db: No space left on device");
  EXPECT_EQ(RoundTrip(PeersJson(refused))["node_alert"],
            "node.db: No space left on device");
  // A directory equivocation: the key appears only when there is one.
  EXPECT_FALSE(RoundTrip(PeersJson(refused)).contains("directory_alert"));
  refused.set_directory_alert("directory equivocation: version 4 served by RS");
  EXPECT_EQ(RoundTrip(PeersJson(refused))["directory_alert"],
            "directory equivocation: version 4 served by RS");
  // Certificates in use: the keys appear only once seen.
  EXPECT_FALSE(RoundTrip(PeersJson(refused)).contains("own_certificate"));
  v1::CertificateInUse own;
  own.set_serial("1A2B");
  own.set_not_after_ms(1767225600000);
  own.set_sha256_fingerprint("1A:99");
  own.set_first_seen_ms(1741948013000);
  own.set_last_seen_ms(1741948013000);
  *refused.mutable_own_certificate() = own;
  *refused.mutable_peers(1)->mutable_server_certificate() = own;
  j = RoundTrip(PeersJson(refused));
  nlohmann::json expected_certificate = nlohmann::json::parse(R"({
      "serial": "1A2B", "not_after": "2026-01-01T00:00:00Z",
      "sha256_fingerprint": "1A:99", "first_seen": "2025-03-14T10:26:53Z",
      "last_seen": "2025-03-14T10:26:53Z"})");
  EXPECT_EQ(j["own_certificate"], expected_certificate);
  EXPECT_EQ(j["peers"][1]["server_certificate"], expected_certificate);
  EXPECT_FALSE(j["peers"][1].contains("client_certificate"));
  EXPECT_FALSE(j["peers"][0].contains("server_certificate"));
}

TEST(JsonOutputTest, UnknownEnumValuesAndBadUtf8DoNotBreakTheOutput) {
  v1::Case c = SampleCase();
  c.mutable_offences(0)->set_code(static_cast<v1::OffenceCode>(42));
  c.set_contact_point("bad \xff utf8");
  nlohmann::json j = RoundTrip(CaseJson(c, Lang::kEn));
  EXPECT_EQ(j["offences"][0]["code"], "#42");
  EXPECT_EQ(j["contact_point"], "bad \xef\xbf\xbd utf8");
}

}  // namespace
}  // namespace cbx::client
