#include "node/storage/validation.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace cbx::node {

absl::Status ValidateCase(const StoredCase& c) {
  const v1::Case& r = c.record;
  if (r.case_number().empty()) {
    return absl::InvalidArgumentError("case number is empty");
  }
  if (r.status() != v1::CASE_STATUS_OPEN &&
      r.status() != v1::CASE_STATUS_CLOSED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "case ", r.case_number(), ": status must be OPEN or CLOSED"));
  }
  std::set<std::pair<int, std::string>> seen;
  for (const StoredIdentifier& id : c.identifiers) {
    if (id.y.size() != kOutputSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", r.case_number(), ": y of ", id.normalized_value,
                       " is ", id.y.size(), " bytes, not ", kOutputSize));
    }
    if (!seen.emplace(static_cast<int>(id.type), id.normalized_value).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", r.case_number(), ": identifier ",
                       id.normalized_value, " appears twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePeerIndex(const PeerIndex& index) {
  if (index.member.empty()) {
    return absl::InvalidArgumentError("peer index without a member");
  }
  for (size_t i = 1; i < index.tags.size(); ++i) {
    if (index.tags[i - 1] >= index.tags[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer index of ", index.member,
                       ": tags not strictly ascending at position ", i));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateIndexEvidence(const IndexEvidence& evidence) {
  if (evidence.member.empty()) {
    return absl::InvalidArgumentError("index evidence without a member");
  }
  if (evidence.manifest.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index evidence of ", evidence.member, " without a manifest"));
  }
  return absl::OkStatus();
}

absl::Status ValidateDirectoryEvidence(const DirectoryEvidence& evidence) {
  if (evidence.version == 0 || evidence.adopted.empty() ||
      evidence.conflicting.empty()) {
    return absl::InvalidArgumentError(
        "directory evidence needs a version and both directories");
  }
  return absl::OkStatus();
}

absl::Status ValidateOutputs(
    const std::vector<std::pair<std::string, StoredIdentifier>>& outputs) {
  using Key = std::tuple<const std::string*, int, const std::string*>;
  std::vector<Key> keys;
  keys.reserve(outputs.size());
  for (const auto& [number, id] : outputs) {
    if (id.y.size() != kOutputSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", number, ": y of ", id.normalized_value, " is ",
                       id.y.size(), " bytes, not ", kOutputSize));
    }
    keys.emplace_back(&number, static_cast<int>(id.type), &id.normalized_value);
  }
  auto less = [](const Key& a, const Key& b) {
    return std::tie(*std::get<0>(a), std::get<1>(a), *std::get<2>(a)) <
           std::tie(*std::get<0>(b), std::get<1>(b), *std::get<2>(b));
  };
  std::sort(keys.begin(), keys.end(), less);
  for (size_t i = 1; i < keys.size(); ++i) {
    if (!less(keys[i - 1], keys[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", *std::get<0>(keys[i]), ": identifier ",
                       *std::get<2>(keys[i]), " is named twice"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::pair<Tag, int64_t>> TagDeltas(const std::vector<Tag>& removed,
                                               const std::vector<Tag>& added) {
  // Sorted runs merged in one pass: a bulk import brings a million tags.
  std::vector<Tag> minus = removed, plus = added;
  std::sort(minus.begin(), minus.end());
  std::sort(plus.begin(), plus.end());
  std::vector<std::pair<Tag, int64_t>> out;
  size_t i = 0, j = 0;
  while (i < minus.size() || j < plus.size()) {
    const Tag tag = j == plus.size() || (i < minus.size() && minus[i] < plus[j])
                        ? minus[i]
                        : plus[j];
    int64_t delta = 0;
    for (; i < minus.size() && minus[i] == tag; ++i) --delta;
    for (; j < plus.size() && plus[j] == tag; ++j) ++delta;
    if (delta != 0) out.emplace_back(tag, delta);
  }
  return out;
}

absl::Status ValidateWatch(const StoredWatch& w) {
  if (w.record.watch_id().empty()) {
    return absl::InvalidArgumentError("watch id is empty");
  }
  if (w.record.office().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("watch ", w.record.watch_id(), ": office is empty"));
  }
  std::set<std::pair<std::string, uint32_t>> seen;
  for (const WatchOutput& o : w.outputs) {
    if (o.member.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "watch ", w.record.watch_id(), ": an output names no member"));
    }
    if (o.y.size() != kOutputSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "watch ", w.record.watch_id(), ": y must be ", kOutputSize, " bytes"));
    }
    if (!seen.emplace(o.member, o.input).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("watch ", w.record.watch_id(), ": two outputs of ",
                       o.member, " for input ", o.input));
    }
  }
  return absl::OkStatus();
}

std::vector<Tag> OpenTags(const StoredCase& c) {
  std::vector<Tag> tags;
  if (!IsOpen(c.record)) return tags;
  tags.reserve(c.identifiers.size());
  for (const StoredIdentifier& id : c.identifiers) tags.push_back(id.tag);
  return tags;
}

}  // namespace cbx::node
