#include "node/directory_store.h"

#include "absl/strings/str_cat.h"
#include "core/logcheck/log_generation.h"
#include "core/util/clock.h"

namespace cbx::node {
namespace {

std::string Key(uint64_t version) {
  return absl::StrCat("directory/", version);
}

}  // namespace

absl::Status PersistDirectoryVersion(Storage& storage,
                                     const directory::Directory& version) {
  const std::string key = Key(version.version());
  return storage.ReadWriteTransaction(
      [&](StorageTransaction& txn) -> absl::Status {
        auto stored = txn.GetSetting(key);
        if (!stored.ok()) return stored.status();
        if (stored->has_value()) {
          v1::SignedDirectory held;
          if (held.ParseFromString(**stored) &&
              held.directory() == version.signed_directory().directory()) {
            return absl::OkStatus();
          }
          return absl::FailedPreconditionError(absl::StrCat(
              "directory version ", version.version(),
              " is stored already with other contents (installed meanwhile?)"));
        }
        return txn.PutSetting(key,
                              version.signed_directory().SerializeAsString());
      });
}

absl::StatusOr<bool> KeepEquivocation(Storage& storage,
                                      const directory::Equivocation& e,
                                      const std::string& served_by,
                                      int64_t now_ms) {
  DirectoryEvidence evidence;
  evidence.version = e.version;
  evidence.served_by = served_by;
  evidence.received_at_ms = now_ms;
  evidence.adopted = e.adopted.SerializeAsString();
  evidence.conflicting = e.conflicting.SerializeAsString();
  absl::Status kept = storage.AddDirectoryEvidence(evidence);
  if (kept.code() == absl::StatusCode::kAlreadyExists) return false;
  if (!kept.ok()) return kept;
  return true;
}

absl::StatusOr<int> AdoptStoredVersions(Storage& storage,
                                        directory::DirectoryState& state) {
  int adopted = 0;
  for (uint64_t v = state.Current()->version() + 1;; ++v) {
    auto stored = storage.GetSetting(Key(v));
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) return adopted;
    v1::SignedDirectory next;
    if (!next.ParseFromString(**stored)) {
      return absl::DataLossError(
          absl::StrCat("stored directory version ", v, " does not parse"));
    }
    directory::DirectoryState::UpdateResult r =
        state.AdoptVersions({next}, nullptr);  // stored already
    if (!r.status.ok()) return r.status;
    adopted += r.adopted;
  }
}

absl::StatusOr<uint64_t> InstallDirectory(Storage& storage,
                                          const v1::SignedDirectory& genesis,
                                          const v1::SignedDirectory& next) {
  auto state = LoadDirectoryState(storage, genesis);
  if (!state.ok()) return state.status();
  const uint64_t before = (*state)->Current()->version();
  // The same version again (an operator repeating a step, or installing
  // what the node already fetched from a peer): nothing to do, and not an
  // error. Other contents under an installed number go on below and are
  // kept as an equivocation.
  v1::Directory inner;
  if (inner.ParseFromString(next.directory()) && inner.version() >= 1 &&
      inner.version() <= before) {
    auto stored = storage.GetSetting(Key(inner.version()));
    if (!stored.ok()) return stored.status();
    v1::SignedDirectory held;
    if (stored->has_value() && held.ParseFromString(**stored) &&
        held.directory() == next.directory()) {
      return absl::AlreadyExistsError(
          absl::StrCat("directory version ", inner.version(),
                       " is installed already (the same contents); the node "
                       "uses version ",
                       before));
    }
  }
  directory::DirectoryState::UpdateResult result = (*state)->AdoptVersions(
      {next}, [&storage](const directory::Directory& version) {
        return PersistDirectoryVersion(storage, version);
      });
  for (const directory::Equivocation& e : result.equivocations) {
    absl::StatusOr<bool> kept = KeepEquivocation(storage, e, kOperatorInstall,
                                                 SystemClock::Get().NowMs());
    if (!kept.ok()) return kept.status();
  }
  if (!result.status.ok()) return result.status;
  if (result.adopted == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("directory versions never go back: version ",
                     (*state)->Current()->version(), " is installed already"));
  }
  return before + 1;
}

absl::StatusOr<std::unique_ptr<directory::DirectoryState>> LoadDirectoryState(
    Storage& storage, const v1::SignedDirectory& genesis) {
  auto start = directory::Directory::FromGenesis(genesis);
  if (!start.ok()) return start.status();
  auto stored_genesis = storage.GetSetting(Key(1));
  if (!stored_genesis.ok()) return stored_genesis.status();
  if (stored_genesis->has_value()) {
    v1::SignedDirectory stored;
    if (!stored.ParseFromString(**stored_genesis) ||
        stored.directory() != genesis.directory()) {
      return absl::FailedPreconditionError(
          "the pinned genesis differs from the one this node's database was "
          "started with");
    }
  } else {
    absl::Status s = PersistDirectoryVersion(storage, **start);
    if (!s.ok()) return s;
  }
  auto state = std::make_unique<directory::DirectoryState>(
      *start, logcheck::CheckGenerationSuccessor);
  auto adopted = AdoptStoredVersions(storage, *state);
  if (!adopted.ok()) return adopted.status();
  return state;
}

}  // namespace cbx::node
