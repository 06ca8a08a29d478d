#include "node/hit_context.h"

#include <string>

#include "absl/status/statusor.h"
#include "core/identifiers/identifiers.h"

namespace cbx::node {

v1::WindowsOverlap CompareWindows(int64_t querier_from_ms,
                                  int64_t querier_to_ms, int64_t peer_from_ms,
                                  int64_t peer_to_ms) {
  if (!identifiers::ObservedWindowsOverlap(querier_from_ms, querier_to_ms,
                                           peer_from_ms, peer_to_ms)) {
    return v1::WINDOWS_OVERLAP_DISJOINT;
  }
  // Not provably apart: together only if every bound is known (a window
  // the node did not refuse has from <= to, so both then share a moment).
  if (querier_from_ms > 0 && querier_to_ms > 0 && peer_from_ms > 0 &&
      peer_to_ms > 0 && querier_from_ms <= querier_to_ms &&
      peer_from_ms <= peer_to_ms) {
    return v1::WINDOWS_OVERLAP_OVERLAP;
  }
  return v1::WINDOWS_OVERLAP_UNKNOWN;
}

v1::WindowsOverlap HitOverlap(
    const google::protobuf::RepeatedPtrField<v1::HitMatch>& matches) {
  v1::WindowsOverlap out = v1::WINDOWS_OVERLAP_UNKNOWN;
  for (const v1::HitMatch& m : matches) {
    if (m.windows_overlap() == v1::WINDOWS_OVERLAP_DISJOINT) {
      return v1::WINDOWS_OVERLAP_DISJOINT;
    }
    if (m.windows_overlap() == v1::WINDOWS_OVERLAP_OVERLAP) {
      out = v1::WINDOWS_OVERLAP_OVERLAP;
    }
  }
  return out;
}

void FillHitContext(
    const google::protobuf::RepeatedPtrField<v1::Identifier>* asked,
    std::string_view home_member, v1::Hit& hit) {
  hit.clear_matches();
  for (const v1::MatchedIdentifier& mi : hit.reference().matched()) {
    v1::HitMatch* m = hit.add_matches();
    m->set_type(mi.type());
    m->set_input_index(mi.input_index());
    m->set_peer_from_ms(mi.observed_from_ms());
    m->set_peer_to_ms(mi.observed_to_ms());
    if (asked == nullptr ||
        mi.input_index() >= static_cast<uint32_t>(asked->size())) {
      continue;  // a watch's hit: no value, no window of ours
    }
    const v1::Identifier& id = (*asked)[static_cast<int>(mi.input_index())];
    m->set_value(id.value());
    absl::StatusOr<std::string> normalized =
        identifiers::Normalize(id.type(), id.value(), home_member);
    if (normalized.ok()) m->set_normalized(*std::move(normalized));
    m->set_querier_from_ms(id.observed_from_ms());
    m->set_querier_to_ms(id.observed_to_ms());
    m->set_windows_overlap(
        CompareWindows(id.observed_from_ms(), id.observed_to_ms(),
                       mi.observed_from_ms(), mi.observed_to_ms()));
  }
  hit.set_windows_overlap(HitOverlap(hit.matches()));
}

}  // namespace cbx::node
