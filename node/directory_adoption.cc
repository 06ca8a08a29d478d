#include "node/directory_adoption.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/crypto/sha256.h"
#include "core/util/bytes.h"
#include "core/util/status_macros.h"
#include "node/directory_store.h"
#include "node/log.h"

namespace cbx::node {
namespace {

// The first 16 hex digits of the SHA-256 of a serialized SignedDirectory's
// directory bytes (what the governance signed), to name a version.
std::string ShortDigest(const v1::SignedDirectory& d) {
  return HexEncode(crypto::Sha256(d.directory())).substr(0, 16);
}

std::string ShortDigestOfSerialized(const Bytes& serialized) {
  v1::SignedDirectory d;
  if (!d.ParseFromString(serialized)) return "unparsable";
  return ShortDigest(d);
}

void Announce(NodeContext& ctx, const directory::Directory& before,
              const std::string& from) {
  std::shared_ptr<const directory::Directory> after = ctx.directory->Current();
  if (after->version() == before.version()) return;
  LogEvent(ctx.self(), "info", "directory-adopted",
           {{"from", from}, {"version", std::to_string(after->version())}});
  ctx.DirectoryAdopted(before, *after);
}

}  // namespace

absl::Status AdoptDirectoryVersions(
    NodeContext& ctx, const std::vector<v1::SignedDirectory>& versions,
    const std::string& served_by) {
  std::shared_ptr<const directory::Directory> before = ctx.directory->Current();
  Storage& storage = *ctx.storage;
  directory::DirectoryState::UpdateResult result = ctx.directory->AdoptVersions(
      versions, [&storage](const directory::Directory& next) {
        return PersistDirectoryVersion(storage, next);
      });
  if (result.persist_failed) {
    LogEvent(ctx.self(), "error", "directory-persist-failed",
             {{"from", served_by},
              {"reason", std::string(result.status.message())}});
  }
  for (const directory::Equivocation& e : result.equivocations) {
    absl::StatusOr<bool> fresh =
        KeepEquivocation(storage, e, served_by, ctx.clock->NowMs());
    if (!fresh.ok()) {
      LogEvent(ctx.self(), "error", "directory-evidence-not-kept",
               {{"version", std::to_string(e.version)},
                {"peer", served_by},
                {"reason", std::string(fresh.status().message())}});
    }
    if (!fresh.ok() || *fresh) {  // alarm also if the evidence was lost
      LogEvent(ctx.self(), "error", "ALERT-directory-equivocation",
               {{"version", std::to_string(e.version)},
                {"peer", served_by},
                {"adopted_sha256", ShortDigest(e.adopted)},
                {"conflicting_sha256", ShortDigest(e.conflicting)}});
    }
  }
  Announce(ctx, *before, served_by);
  return result.status;
}

absl::StatusOr<int> AdoptInstalledVersions(NodeContext& ctx) {
  std::shared_ptr<const directory::Directory> before = ctx.directory->Current();
  absl::StatusOr<int> adopted =
      AdoptStoredVersions(*ctx.storage, *ctx.directory);
  Announce(ctx, *before, "local install");
  return adopted;
}

void WatchMembership(NodeContext& ctx) {
  NodeContext* c = &ctx;
  ctx.AddDirectoryListener([c](const directory::Directory& before,
                               const directory::Directory& after) {
    for (const v1::Member& m : before.proto().members()) {
      if (m.code() == c->self()) continue;
      if (after.FindMember(m.code()) == nullptr) {
        c->peer_indexes.Remove(m.code());
        absl::Status deleted = c->storage->DeletePeerIndex(m.code());
        LogEvent(c->self(), deleted.ok() ? "info" : "error", "member-removed",
                 {{"member", m.code()},
                  {"version", std::to_string(after.version())},
                  {"index_copy",
                   deleted.ok() ? "deleted" : std::string(deleted.message())}});
      } else if (before.IsActive(m.code()) != after.IsActive(m.code())) {
        LogEvent(c->self(), "info",
                 after.IsActive(m.code()) ? "member-reactivated"
                                          : "member-suspended",
                 {{"member", m.code()},
                  {"version", std::to_string(after.version())}});
      }
    }
    for (const v1::Member& m : after.proto().members()) {
      if (before.FindMember(m.code()) == nullptr) {
        // What an operator must know (issue 12): a new CA is trusted from
        // this version on, and nodes still on an older version refuse the
        // new member's handshakes ("certificate verify failed").
        bool ca_known = false;
        for (const v1::Member& old : before.proto().members()) {
          for (const std::string& pem : old.ca_certificates_pem()) {
            for (const std::string& mine : m.ca_certificates_pem()) {
              ca_known = ca_known || pem == mine;
            }
          }
        }
        const std::string v = std::to_string(after.version());
        LogEvent(
            c->self(), "info", "member-added",
            {{"member", m.code()},
             {"version", v},
             {"endpoint", m.endpoint()},
             {"ca", ca_known ? "known" : "new"},
             {"action", "none on this node; nodes not yet on version " + v +
                            " refuse " + m.code() +
                            "'s handshakes (certificate verify failed) until "
                            "they adopt it; " +
                            m.code() + "'s node needs version " + v +
                            " installed (cbx-node --install-directory) before "
                            "its first start"}});
      }
    }
  });
}

absl::StatusOr<std::string> DirectoryAlert(Storage& storage) {
  ASSIGN_OR_RETURN(std::vector<DirectoryEvidence> kept,
                   storage.ListDirectoryEvidence());
  std::vector<std::string> parts;
  for (const DirectoryEvidence& e : kept) {
    parts.push_back(absl::StrCat(
        "version ", e.version, " served by ", e.served_by, " (adopted sha256 ",
        ShortDigestOfSerialized(e.adopted), ", conflicting sha256 ",
        ShortDigestOfSerialized(e.conflicting), ")"));
  }
  if (parts.empty()) return std::string();
  return absl::StrCat("directory equivocation: ", absl::StrJoin(parts, "; "));
}

}  // namespace cbx::node
