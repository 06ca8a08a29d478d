#include "node/node_signing_keys.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/envelope/envelope.h"
#include "core/util/status_macros.h"
#include "node/log.h"

namespace cbx::node {
namespace {

std::string UtcTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

// `member`'s entry for the key `public_key` in `dir`; nullptr if none.
const v1::NodeKey* Listed(const directory::Directory& dir,
                          const std::string& member, const Bytes& public_key) {
  const v1::Member* me = dir.FindMember(member);
  if (me == nullptr) return nullptr;
  for (const v1::NodeKey& nk : me->node_keys()) {
    if (nk.public_key() == public_key) return &nk;
  }
  return nullptr;
}

bool ValidAt(const v1::NodeKey& nk, int64_t now_ms) {
  return nk.not_before_ms() <= now_ms &&
         (nk.not_after_ms() == 0 || now_ms < nk.not_after_ms());
}

}  // namespace

NodeSigningKeys::NodeSigningKeys(std::string member, std::vector<Key> keys,
                                 const directory::DirectoryState* directory,
                                 const Clock* clock)
    : member_(std::move(member)),
      keys_(std::move(keys)),
      directory_(directory),
      clock_(clock) {}

std::unique_ptr<NodeSigningKeys> NodeSigningKeys::Single(
    std::string member, crypto::Ed25519PrivateKey key,
    const directory::DirectoryState* directory, const Clock* clock) {
  Key k;
  k.field = "keys.node_signing_key";
  k.key_id = directory::NodeKeyId(key.public_key().bytes());
  k.signer = std::make_shared<crypto::Ed25519Signer>(std::move(key));
  std::vector<Key> keys;
  keys.push_back(std::move(k));
  return std::make_unique<NodeSigningKeys>(std::move(member), std::move(keys),
                                           directory, clock);
}

std::vector<size_t> NodeSigningKeys::ValidNow(const directory::Directory& dir,
                                              int64_t now_ms) const {
  std::vector<std::pair<int64_t, size_t>> valid;  // (not_before, index)
  for (size_t i = 0; i < keys_.size(); ++i) {
    const v1::NodeKey* nk =
        Listed(dir, member_, keys_[i].signer->public_key().bytes());
    if (nk != nullptr && ValidAt(*nk, now_ms)) {
      valid.emplace_back(nk->not_before_ms(), i);
    }
  }
  // Newest first; on a tie the later in the config (the next key).
  std::sort(valid.rbegin(), valid.rend());
  std::vector<size_t> out;
  for (const auto& [not_before, i] : valid) out.push_back(i);
  return out;
}

absl::Status NodeSigningKeys::NoneValid(const directory::Directory& dir,
                                        int64_t now_ms) const {
  std::vector<std::string> why;
  for (const Key& k : keys_) {
    const v1::NodeKey* nk =
        Listed(dir, member_, k.signer->public_key().bytes());
    std::string s =
        absl::StrCat(k.field, " (key id ", HexEncode(k.key_id), ") ");
    if (nk == nullptr) {
      absl::StrAppend(&s, "is not one of ", member_, "'s node keys");
    } else if (now_ms < nk->not_before_ms()) {
      absl::StrAppend(&s, "is valid only from ", UtcTime(nk->not_before_ms()));
    } else {
      absl::StrAppend(&s, "expired at ", UtcTime(nk->not_after_ms()));
    }
    why.push_back(std::move(s));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no node signing key may sign at ", UtcTime(now_ms),
      " under directory version ", dir.version(), ": ",
      absl::StrJoin(why, "; "),
      " (install a key the directory lists as keys.node_signing_key_next)"));
}

void NodeSigningKeys::Note(const std::vector<size_t>& valid,
                           const directory::Directory& dir,
                           int64_t now_ms) const {
  const long now_choice = valid.empty() ? -2 : static_cast<long>(valid[0]);
  long before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = last_;
    if (before == now_choice) return;
    last_ = now_choice;
  }
  if (now_choice == -2) {
    LogEvent(member_, "error", "ALERT-node-key-invalid",
             {{"reason", std::string(NoneValid(dir, now_ms).message())}});
    return;
  }
  const Key& to = keys_[static_cast<size_t>(now_choice)];
  if (before == -1) {
    LogEvent(member_, "info", "node-key",
             {{"key_id", HexEncode(to.key_id)}, {"field", to.field}});
    return;
  }
  LogEvent(member_, "info", "node-key-switched",
           {{"from", before >= 0 ? HexEncode(keys_[before].key_id) : "none"},
            {"to", HexEncode(to.key_id)},
            {"field", to.field},
            {"directory_version", std::to_string(dir.version())}});
}

absl::StatusOr<std::vector<std::shared_ptr<const crypto::Signer>>>
NodeSigningKeys::AllValid() const {
  std::shared_ptr<const directory::Directory> dir = directory_->Current();
  const int64_t now_ms = clock_->NowMs();
  const std::vector<size_t> valid = ValidNow(*dir, now_ms);
  Note(valid, *dir, now_ms);
  if (valid.empty()) return NoneValid(*dir, now_ms);
  std::vector<std::shared_ptr<const crypto::Signer>> out;
  for (size_t i : valid) out.push_back(keys_[i].signer);
  return out;
}

absl::StatusOr<std::shared_ptr<const crypto::Signer>> NodeSigningKeys::Current()
    const {
  ASSIGN_OR_RETURN(auto valid, AllValid());
  return valid.front();
}

absl::StatusOr<v1::Envelope> NodeSigningKeys::Seal(
    const v1::Message& message) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const crypto::Signer> signer, Current());
  return envelope::Seal(message, *signer);
}

void NodeSigningKeys::Refresh() const { (void)AllValid(); }

bool NodeSigningKeys::AnyListedIn(const directory::Directory& dir) const {
  for (const Key& k : keys_) {
    if (Listed(dir, member_, k.signer->public_key().bytes()) != nullptr) {
      return true;
    }
  }
  return false;
}

}  // namespace cbx::node
