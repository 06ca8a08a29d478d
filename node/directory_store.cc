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

absl::StatusOr<std::vector<v1::SignedDirectory>> LoadDirectoryVersionsAfter(
    Storage& storage, uint64_t since,
    const std::shared_ptr<const directory::Directory>& current) {
  std::vector<v1::SignedDirectory> out;
  for (uint64_t v = since + 1; v <= current->version(); ++v) {
    auto stored = storage.GetSetting(Key(v));
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) {
      return absl::DataLossError(
          absl::StrCat("directory version ", v, " is missing from storage"));
    }
    v1::SignedDirectory signed_dir;
    if (!signed_dir.ParseFromString(**stored)) {
      return absl::DataLossError(
          absl::StrCat("stored directory version ", v, " does not parse"));
    }
    out.push_back(std::move(signed_dir));
  }
  return out;
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
  for (uint64_t v = 2;; ++v) {
    auto stored = storage.GetSetting(Key(v));
    if (!stored.ok()) return stored.status();
    if (!stored->has_value()) break;
    v1::SignedDirectory next;
    if (!next.ParseFromString(**stored)) {
      return absl::DataLossError(
          absl::StrCat("stored directory version ", v, " does not parse"));
    }
    absl::Status s = state->Update({next});
    if (!s.ok()) return s;
  }
  return state;
}

}  // namespace cbx::node
