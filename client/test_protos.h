// Hand-built Office API responses shared by the output tests.
#ifndef CBX_CLIENT_TEST_PROTOS_H_
#define CBX_CLIENT_TEST_PROTOS_H_

#include <string>

#include "cbx/v1/office.pb.h"

namespace cbx::client::testing {

// 2025-03-14T09:26:53Z and friends.
inline constexpr int64_t kCreatedMs = 1741944413000;
inline constexpr int64_t kUpdatedMs = 1741948013000;   // +1 h
inline constexpr int64_t kJan1Ms = 1735689600000;      // 2025-01-01
inline constexpr int64_t kJun30EndMs = 1751327999999;  // 2025-06-30, last ms

inline v1::Case SampleCase() {
  v1::Case c;
  c.set_case_number("MK-2026-0142");
  c.set_case_token(
      std::string("\x0f\x1e\x2d\x3c\x4b\x5a\x69\x78"
                  "\x87\x96\xa5\xb4\xc3\xd2\xe1\xf0",
                  16));
  c.set_office("MK/PPO-Skopje");
  v1::Offence* o = c.add_offences();
  o->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  o->set_ai_manipulated(true);
  c.add_offences()->set_code(v1::OFFENCE_CODE_GROUP_ADMINISTRATION);
  c.set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  v1::Identifier* id = c.add_identifiers();
  id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id->set_value("smokva_admin");
  id->set_observed_from_ms(kJan1Ms);
  id->set_observed_to_ms(kJun30EndMs);
  id = c.add_identifiers();
  id->set_type(v1::IDENTIFIER_TYPE_PHONE);
  id->set_value("+38970123456");
  c.set_contact_point("+389 2 3100 100");
  c.set_status(v1::CASE_STATUS_OPEN);
  c.set_opened_month("2026-01");
  c.set_created_at_ms(kCreatedMs);
  c.set_updated_at_ms(kUpdatedMs);
  return c;
}

inline v1::CaseReference SampleReference() {
  v1::CaseReference r;
  r.set_case_token(std::string(16, '\xab'));
  r.set_member("RS");
  v1::Offence* o = r.add_offences();
  o->set_code(v1::OFFENCE_CODE_NCII_THREAT);
  o->set_attempted(true);
  r.set_role(v1::PERPETRATOR_ROLE_POSTER);
  v1::MatchedIdentifier* m = r.add_matched();
  m->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  m->set_observed_from_ms(kJan1Ms);
  m->set_observed_to_ms(0);
  m->set_input_index(0);
  m = r.add_matched();
  m->set_type(v1::IDENTIFIER_TYPE_PHONE);
  m->set_input_index(1);
  r.set_competent_office("RS/VJT-Beograd");
  r.set_contact_point("+381 11 000 0000");
  r.set_status(v1::CASE_STATUS_OPEN);
  r.set_opened_month("2025-11");
  return r;
}

inline v1::PeerAnswer HitAnswer() {
  v1::PeerAnswer a;
  a.set_member("RS");
  a.set_outcome(v1::PEER_OUTCOME_HIT);
  *a.add_references() = SampleReference();
  a.set_latency_ms(212);
  return a;
}

inline v1::PeerAnswer MissAnswer() {
  v1::PeerAnswer a;
  a.set_member("HR");
  a.set_outcome(v1::PEER_OUTCOME_MISS);
  a.set_latency_ms(95);
  return a;
}

inline v1::PeerAnswer ErrorAnswer() {
  v1::PeerAnswer a;
  a.set_member("BA");
  a.set_outcome(v1::PEER_OUTCOME_ERROR);
  a.set_status_code(4);  // DEADLINE_EXCEEDED
  a.set_error("BA did not answer within 3000 ms");
  a.set_latency_ms(3001);
  return a;
}

inline v1::QuerySummary SampleSummary() {
  v1::QuerySummary s;
  s.set_query_id("q-7f3c");
  s.add_hit_members("RS");
  s.add_miss_members("HR");
  s.add_failed_members("BA");
  s.set_elapsed_ms(3012);
  return s;
}

inline v1::ListHitsResponse SampleHits() {
  v1::ListHitsResponse r;
  v1::Hit* h = r.add_hits();
  h->set_query_id("q-7f3c");
  h->set_member("RS");
  *h->mutable_reference() = SampleReference();
  h->set_case_number("MK-2026-0142");
  h->set_received_at_ms(kCreatedMs);
  h->set_envelope_sha256(std::string(32, '\x01'));
  return r;
}

inline v1::ListInboxResponse SampleInbox() {
  v1::ListInboxResponse r;
  v1::Notification* n = r.add_notifications();
  n->set_at_ms(kUpdatedMs);
  n->set_from_member("AL");
  n->set_from_office("AL/SPAK-Tirana");
  n->set_case_number("MK-2026-0142");
  n->mutable_purpose()->set_case_number("AL-2026-77");
  n->mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
  n->mutable_purpose()->set_offence(v1::OFFENCE_CODE_CYBER_STALKING);
  return r;
}

inline v1::ListPeersResponse SamplePeers() {
  v1::ListPeersResponse r;
  r.set_directory_version(3);
  r.set_self("MK");
  v1::PeerStatus* p = r.add_peers();
  p->set_member("RS");
  p->set_display_name("Republic of Serbia");
  p->set_endpoint("cbx.rs.example:7443");
  p->set_status(v1::MEMBER_STATUS_ACTIVE);
  p->set_oprf_epoch(2);
  p->set_index_version(1200);
  p->set_index_count(48211);
  p->set_last_sync_ms(kUpdatedMs);
  p->set_cosigned_size(9120);
  p->set_cosigned_at_ms(kUpdatedMs);
  p = r.add_peers();
  p->set_member("XK");
  p->set_display_name("Kosovo");
  p->set_endpoint("cbx.xk.example:7443");
  p->set_status(v1::MEMBER_STATUS_SUSPENDED);
  p->set_oprf_epoch(1);
  p->set_last_error("UNAVAILABLE: connection refused");
  p->set_cosigned_size(310);
  p->set_cosigned_at_ms(kCreatedMs);
  p->set_witness_alert(
      "since 2025-03-14T10:26:53.000Z: XK's log shrank from 310 to 12 (1 "
      "checkpoint refused, the latest of size 12)");
  return r;
}

}  // namespace cbx::client::testing

#endif  // CBX_CLIENT_TEST_PROTOS_H_
