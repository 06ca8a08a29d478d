#include "node/storage/memory_watches.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/storage/validation.h"

namespace cbx::node {
namespace {

absl::Status NoWatch(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no watch ", id));
}

}  // namespace

absl::Status MemoryWatches::Add(const StoredWatch& w) {
  if (absl::Status s = ValidateWatch(w); !s.ok()) return s;
  if (watches_.count(w.record.watch_id()) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("watch ", w.record.watch_id(), " already exists"));
  }
  StoredWatch stored = w;
  std::sort(stored.outputs.begin(), stored.outputs.end(),
            [](const WatchOutput& a, const WatchOutput& b) {
              return std::tie(a.member, a.input) < std::tie(b.member, b.input);
            });
  watches_.emplace(w.record.watch_id(), std::move(stored));
  return absl::OkStatus();
}

absl::StatusOr<StoredWatch> MemoryWatches::Get(const std::string& id) const {
  auto it = watches_.find(id);
  if (it == watches_.end()) return NoWatch(id);
  return it->second;
}

absl::Status MemoryWatches::Update(const v1::Watch& record) {
  auto it = watches_.find(record.watch_id());
  if (it == watches_.end()) return NoWatch(record.watch_id());
  it->second.record = record;
  return absl::OkStatus();
}

absl::Status MemoryWatches::Delete(const std::string& id) {
  if (watches_.erase(id) == 0) return NoWatch(id);
  return absl::OkStatus();
}

std::vector<v1::Watch> MemoryWatches::List(const std::string& office) const {
  std::vector<v1::Watch> out;
  for (const auto& [id, w] : watches_) {
    if (office.empty() || w.record.office() == office) out.push_back(w.record);
  }
  return out;
}

std::vector<WatchedOutput> MemoryWatches::OutputsOf(
    const std::string& member) const {
  std::vector<WatchedOutput> out;
  for (const auto& [id, w] : watches_) {
    for (const WatchOutput& o : w.outputs) {
      if (o.member == member) out.push_back({id, o});
    }
  }
  return out;
}

absl::Status MemoryWatches::SetResolved(const std::string& id,
                                        const std::string& member,
                                        uint32_t input, uint64_t version) {
  auto it = watches_.find(id);
  if (it != watches_.end()) {
    for (WatchOutput& o : it->second.outputs) {
      if (o.member == member && o.input == input) {
        o.resolved_version = version;
        return absl::OkStatus();
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("watch ", id, " keeps no output of ",
                                          member, " for input ", input));
}

void MemoryWatches::DeleteOutputs(const std::string& id,
                                  const std::string& member) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  std::vector<WatchOutput>& outputs = it->second.outputs;
  outputs.erase(std::remove_if(outputs.begin(), outputs.end(),
                               [&](const WatchOutput& o) {
                                 return o.member == member;
                               }),
                outputs.end());
}

std::vector<std::string> MemoryWatches::Expired(int64_t now_ms,
                                                size_t limit) const {
  std::vector<std::pair<int64_t, std::string>> due;
  for (const auto& [id, w] : watches_) {
    if (w.record.expires_at_ms() <= now_ms) {
      due.emplace_back(w.record.expires_at_ms(), id);
    }
  }
  std::sort(due.begin(), due.end());
  if (limit != 0 && due.size() > limit) due.resize(limit);
  std::vector<std::string> out;
  for (auto& [at, id] : due) out.push_back(std::move(id));
  return out;
}

}  // namespace cbx::node
