// A hit in context (spec/office-api.md §4.6): for each identifier a case
// reference matched, the value as the office asked it, the querier's and
// the peer's observed windows, and whether they overlap. Office-local: the
// context is stored with the hit and never sent to a peer.
//
// Threading: pure functions; thread-safe.
#ifndef CBX_NODE_HIT_CONTEXT_H_
#define CBX_NODE_HIT_CONTEXT_H_

#include <cstdint>
#include <string_view>

#include "cbx/v1/office.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace cbx::node {

// Whether [querier_from, querier_to] and [peer_from, peer_to] (closed
// intervals in ms; 0 = an unknown bound) overlap: DISJOINT when a known end
// of one lies before a known start of the other (the rule of
// identifiers::ObservedWindowsOverlap); else OVERLAP when all four bounds
// are known; else UNKNOWN. Equal endpoints overlap.
v1::WindowsOverlap CompareWindows(int64_t querier_from_ms,
                                  int64_t querier_to_ms, int64_t peer_from_ms,
                                  int64_t peer_to_ms);

// The hit's overall verdict from its matches: DISJOINT if any is, else
// OVERLAP if any is, else UNKNOWN (also for no matches).
v1::WindowsOverlap HitOverlap(
    const google::protobuf::RepeatedPtrField<v1::HitMatch>& matches);

// Fills `hit.matches` (one per hit.reference().matched entry, whose
// input_index points into `asked`) and `hit.windows_overlap`. `asked` is
// the query's identifiers; null for a standing watch's hit, which keeps no
// value: its matches carry the type, input_index and the peer's window
// only (UNKNOWN). `home_member` words nothing: Normalize's own argument.
// An entry whose input_index is past `asked` gets the type only.
void FillHitContext(
    const google::protobuf::RepeatedPtrField<v1::Identifier>* asked,
    std::string_view home_member, v1::Hit& hit);

}  // namespace cbx::node

#endif  // CBX_NODE_HIT_CONTEXT_H_
