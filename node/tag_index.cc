#include "node/tag_index.h"

#include <algorithm>
#include <mutex>

#include "absl/status/status.h"
#include "core/crypto/sha256.h"

namespace cbx::node {

Bytes PackTags(const std::vector<Tag>& tags, size_t begin, size_t end) {
  Bytes out;
  out.reserve((end - begin) * 8);
  for (size_t i = begin; i < end; ++i) AppendUint64BE(out, tags[i]);
  return out;
}

absl::StatusOr<std::vector<Tag>> UnpackTags(std::string_view packed) {
  if (packed.size() % 8 != 0) {
    return absl::InvalidArgumentError(
        "packed tags are not a multiple of 8 bytes");
  }
  std::vector<Tag> tags;
  tags.reserve(packed.size() / 8);
  for (size_t i = 0; i < packed.size(); i += 8) {
    tags.push_back(ReadUint64BE(packed.substr(i, 8)));
  }
  return tags;
}

Bytes IndexDigest(const std::vector<Tag>& sorted_tags) {
  crypto::Sha256Hasher hasher;
  // Hash in blocks of 64 Ki tags: one EVP call per block, not per tag.
  constexpr size_t kBlock = 65536;
  for (size_t i = 0; i < sorted_tags.size(); i += kBlock) {
    hasher.Update(
        PackTags(sorted_tags, i, std::min(sorted_tags.size(), i + kBlock)));
  }
  return hasher.Finish();
}

std::vector<Tag> ApplyTagDelta(const std::vector<Tag>& sorted_held,
                               std::vector<Tag> added,
                               std::vector<Tag> removed) {
  std::sort(added.begin(), added.end());
  std::sort(removed.begin(), removed.end());
  std::vector<Tag> out;
  out.reserve(sorted_held.size() + added.size());
  auto next_removed = removed.begin();
  auto next_added = added.begin();
  // Appends `t` unless it repeats the last tag out.
  auto append = [&out](Tag t) {
    if (out.empty() || out.back() != t) out.push_back(t);
  };
  for (Tag t : sorted_held) {
    while (next_removed != removed.end() && *next_removed < t) ++next_removed;
    while (next_added != added.end() && *next_added < t) append(*next_added++);
    if (next_removed != removed.end() && *next_removed == t) continue;
    append(t);
  }
  while (next_added != added.end()) append(*next_added++);
  return out;
}

void PeerIndexSet::Put(PeerIndex index) {
  auto copy = std::make_shared<const PeerIndex>(std::move(index));
  std::unique_lock lock(mu_);
  confirmed_ms_[copy->member] = copy->synced_at_ms;
  copies_[copy->member] = std::move(copy);
}

std::shared_ptr<const PeerIndex> PeerIndexSet::Share(
    const std::string& member) const {
  std::shared_lock lock(mu_);
  auto it = copies_.find(member);
  return it == copies_.end() ? nullptr : it->second;
}

std::shared_ptr<const PeerIndex> PeerIndexSet::Share(
    const std::string& member, int64_t* confirmed_ms) const {
  std::shared_lock lock(mu_);
  *confirmed_ms = 0;
  auto it = copies_.find(member);
  if (it == copies_.end()) return nullptr;
  auto confirmed = confirmed_ms_.find(member);
  *confirmed_ms = confirmed == confirmed_ms_.end() ? it->second->synced_at_ms
                                                   : confirmed->second;
  return it->second;
}

void PeerIndexSet::Remove(const std::string& member) {
  std::unique_lock lock(mu_);
  copies_.erase(member);
  confirmed_ms_.erase(member);
}

void PeerIndexSet::Touch(const std::string& member, int64_t at_ms) {
  std::unique_lock lock(mu_);
  if (copies_.count(member) > 0) confirmed_ms_[member] = at_ms;
}

bool PeerIndexSet::Contains(const std::string& member, Tag tag) const {
  std::shared_ptr<const PeerIndex> copy;
  {
    std::shared_lock lock(mu_);
    auto it = copies_.find(member);
    if (it == copies_.end()) return false;
    copy = it->second;
  }
  return std::binary_search(copy->tags.begin(), copy->tags.end(), tag);
}

PeerIndexSet::Info PeerIndexSet::Describe(const std::string& member) const {
  std::shared_lock lock(mu_);
  auto it = copies_.find(member);
  if (it == copies_.end()) return Info{};
  const PeerIndex& copy = *it->second;
  auto confirmed = confirmed_ms_.find(member);
  return Info{
      true, copy.oprf_epoch, copy.version, copy.tags.size(),
      confirmed == confirmed_ms_.end() ? copy.synced_at_ms : confirmed->second};
}

PeerIndex PeerIndexSet::Get(const std::string& member) const {
  std::shared_lock lock(mu_);
  auto it = copies_.find(member);
  if (it == copies_.end()) return PeerIndex{};
  return *it->second;
}

}  // namespace cbx::node
