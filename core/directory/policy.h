// The federation policy's caps on a member (spec/directory.md §2,
// spec/threats.md), with the defaults that apply when a directory leaves a
// cap at 0 (directories written before the caps existed). Every reader of a
// cap goes through these, so the default is decided in one place.
#ifndef CBX_CORE_DIRECTORY_POLICY_H_
#define CBX_CORE_DIRECTORY_POLICY_H_

#include <cstdint>

#include "cbx/v1/directory.pb.h"

namespace cbx::directory {

inline constexpr uint32_t kDefaultMaxIndexTags = 1u << 20;          // 1,048,576
inline constexpr uint32_t kDefaultMaxIndexGrowthPerDay = 1u << 16;  // 65,536
inline constexpr uint32_t kDefaultResolvesPerPeerPerDay = 10'000;

// Largest index (tags) a member may publish.
inline uint32_t MaxIndexTags(const v1::Policy& p) {
  return p.max_index_tags() != 0 ? p.max_index_tags() : kDefaultMaxIndexTags;
}
// Largest growth of a member's index in one UTC day, in tags.
inline uint32_t MaxIndexGrowthPerDay(const v1::Policy& p) {
  return p.max_index_growth_per_day() != 0 ? p.max_index_growth_per_day()
                                           : kDefaultMaxIndexGrowthPerDay;
}
// Resolve outputs one member may send another per UTC day.
inline uint32_t ResolvesPerPeerPerDay(const v1::Policy& p) {
  return p.resolves_per_peer_per_day() != 0 ? p.resolves_per_peer_per_day()
                                            : kDefaultResolvesPerPeerPerDay;
}

// Cooperation after a hit (spec/cooperation.md §3): deadlines in seconds
// and the daily request quota.
inline constexpr uint32_t kDefaultInformationResponseS = 172'800;   // 48 h
inline constexpr uint32_t kDefaultPreservationReceiptS = 28'800;    // 8 h
inline constexpr uint32_t kDefaultPreservationResponseS = 86'400;   // 24 h
inline constexpr uint32_t kDefaultJitResponseS = 1'209'600;         // 14 days
inline constexpr uint32_t kDefaultCooperationRequestsPerPeerPerDay = 200;

inline uint32_t InformationResponseS(const v1::Policy& p) {
  return p.information_response_s() != 0 ? p.information_response_s()
                                         : kDefaultInformationResponseS;
}
inline uint32_t PreservationReceiptS(const v1::Policy& p) {
  return p.preservation_receipt_s() != 0 ? p.preservation_receipt_s()
                                         : kDefaultPreservationReceiptS;
}
inline uint32_t PreservationResponseS(const v1::Policy& p) {
  return p.preservation_response_s() != 0 ? p.preservation_response_s()
                                          : kDefaultPreservationResponseS;
}
inline uint32_t JitResponseS(const v1::Policy& p) {
  return p.jit_response_s() != 0 ? p.jit_response_s() : kDefaultJitResponseS;
}
inline uint32_t CooperationRequestsPerPeerPerDay(const v1::Policy& p) {
  return p.cooperation_requests_per_peer_per_day() != 0
             ? p.cooperation_requests_per_peer_per_day()
             : kDefaultCooperationRequestsPerPeerPerDay;
}

// Withdrawal of case references (spec/cooperation.md §2.4, §3).
inline constexpr uint32_t kDefaultWithdrawnReferenceRetentionS = 0;
inline constexpr uint32_t kDefaultWithdrawalRetryS = 604'800;  // 7 days
inline uint32_t WithdrawnReferenceRetentionS(const v1::Policy& p) {
  return p.withdrawn_reference_retention_s();  // 0 is the default itself
}
inline uint32_t WithdrawalRetryS(const v1::Policy& p) {
  return p.withdrawal_retry_s() != 0 ? p.withdrawal_retry_s()
                                     : kDefaultWithdrawalRetryS;
}

// Transparency report (spec/cooperation.md §7): the smallest figure shown.
inline constexpr uint32_t kDefaultReportMinCell = 5;
inline uint32_t ReportMinCell(const v1::Policy& p) {
  return p.report_min_cell() != 0 ? p.report_min_cell()
                                  : kDefaultReportMinCell;
}

}  // namespace cbx::directory

#endif  // CBX_CORE_DIRECTORY_POLICY_H_
