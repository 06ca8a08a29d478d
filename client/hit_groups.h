// `cbx hits` grouped per peer case (issue 14): the hits of one case token
// of one member, however many queries found it, as one group with the
// identifiers that matched it and the queries that found it.
//
// Threading: pure functions; thread-safe.
#ifndef CBX_CLIENT_HIT_GROUPS_H_
#define CBX_CLIENT_HIT_GROUPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cbx/v1/office.pb.h"

namespace cbx::client {

// The hits of one peer case.
struct HitGroup {
  std::string member;
  std::string case_token;  // bytes, as CaseReference.case_token
  // The newest hit's reference (offences, status, contact as last seen).
  v1::CaseReference reference;
  int64_t latest_received_ms = 0;
  // Our case numbers the queries were for, each once, newest first.
  std::vector<std::string> case_numbers;
  // What matched, each identifier once (same type, value or normal form,
  // and windows), newest first.
  std::vector<v1::HitMatch> matches;
  // Of hits stored before HitMatch existed: their matched entries, once.
  std::vector<v1::MatchedIdentifier> legacy_matched;
  // The queries (query ids) and watches (watch ids) that found it, once.
  std::vector<std::string> query_ids;
  std::vector<std::string> watch_ids;
  // Whether any hit of the group has disjoint windows.
  bool disjoint = false;
  // When the origin withdrew the case (spec/cooperation.md §2.4): the
  // latest withdrawn_at_ms of the group's hits; 0 if none was withdrawn.
  int64_t withdrawn_at_ms = 0;
};

// The hits of `response` (newest first, as ListHits returns them) grouped
// by (member, case token), groups ordered by their newest hit.
std::vector<HitGroup> GroupHits(const v1::ListHitsResponse& response);

}  // namespace cbx::client

#endif  // CBX_CLIENT_HIT_GROUPS_H_
