#include "node/directory_store.h"

#include "absl/strings/str_cat.h"

namespace cbx::node {
namespace {

std::string Key(uint64_t version) {
  return absl::StrCat("directory/", version);
}

}  // namespace

absl::Status SaveDirectoryVersion(Storage& storage,
                                  const directory::Directory& version) {
  return storage.PutSetting(Key(version.version()),
                            version.signed_directory().SerializeAsString());
}

absl::Status SaveAdoptedVersions(Storage& storage,
                                 const directory::DirectoryState& state,
                                 uint64_t since) {
  // VersionsAfter returns since+1, since+2, ... in order.
  uint64_t version = since;
  for (const v1::SignedDirectory& v : state.VersionsAfter(since)) {
    absl::Status saved =
        storage.PutSetting(Key(++version), v.SerializeAsString());
    if (!saved.ok()) return saved;
  }
  return absl::OkStatus();
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
    absl::Status s = state.Update({next});
    if (!s.ok()) return s;
    ++adopted;
  }
}

absl::StatusOr<uint64_t> InstallDirectory(Storage& storage,
                                          const v1::SignedDirectory& genesis,
                                          const v1::SignedDirectory& next) {
  auto state = LoadDirectoryState(storage, genesis);
  if (!state.ok()) return state.status();
  std::shared_ptr<const directory::Directory> current = (*state)->Current();
  auto adopted = current->Adopt(next);
  if (!adopted.ok()) return adopted.status();
  absl::Status saved = SaveDirectoryVersion(storage, **adopted);
  if (!saved.ok()) return saved;
  return (*adopted)->version();
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
    absl::Status s = SaveDirectoryVersion(storage, **start);
    if (!s.ok()) return s;
  }
  auto state = std::make_unique<directory::DirectoryState>(*start);
  auto adopted = AdoptStoredVersions(storage, *state);
  if (!adopted.ok()) return adopted.status();
  return state;
}

}  // namespace cbx::node
