#include "node/directory_adoption.h"

#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "core/crypto/sha256.h"
#include "core/logcheck/log_generation.h"
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

// A version the generation rule refused, as kept in kRefusedVersionsSetting.
struct Refusal {
  uint64_t version = 0;
  std::string digest;  // ShortDigest: two refused versions N are two lines
  std::string member;
  std::string served_by;
  std::string why;
};

// Serializes the read-modify-write of kRefusedVersionsSetting: directory
// pulls from several peers run on several threads.
std::mutex& RefusalsMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}

// One field of a kept line: no tab or line break inside it.
std::string Field(const std::string& text) {
  return absl::StrReplaceAll(text, {{"\t", " "}, {"\n", " "}});
}

absl::StatusOr<std::vector<Refusal>> ReadRefusals(Storage& storage) {
  ASSIGN_OR_RETURN(std::optional<Bytes> kept,
                   storage.GetSetting(kRefusedVersionsSetting));
  std::vector<Refusal> out;
  if (!kept.has_value()) return out;
  for (absl::string_view line :
       absl::StrSplit(*kept, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits('\t', 4));
    Refusal r;
    if (f.size() != 5 || !absl::SimpleAtoi(f[0], &r.version)) {
      return absl::DataLossError(absl::StrCat(
          "node.db setting ", kRefusedVersionsSetting, " does not parse"));
    }
    r.digest = f[1];
    r.member = f[2];
    r.served_by = f[3];
    r.why = f[4];
    out.push_back(std::move(r));
  }
  return out;
}

// Keeps `r` unless a line for the same version and digest is kept already;
// true if it was new (the alert is raised once per distinct version).
absl::StatusOr<bool> KeepRefusal(Storage& storage, const Refusal& r) {
  std::lock_guard<std::mutex> lock(RefusalsMutex());
  ASSIGN_OR_RETURN(std::vector<Refusal> kept, ReadRefusals(storage));
  std::string text;
  for (const Refusal& k : kept) {
    if (k.version == r.version && k.digest == r.digest) return false;
    absl::StrAppend(&text, k.version, "\t", k.digest, "\t", k.member, "\t",
                    k.served_by, "\t", k.why, "\n");
  }
  absl::StrAppend(&text, r.version, "\t", r.digest, "\t", Field(r.member), "\t",
                  Field(r.served_by), "\t", Field(r.why), "\n");
  RETURN_IF_ERROR(storage.PutSetting(kRefusedVersionsSetting, text));
  return true;
}

// A version the successor rule refused (spec/directory.md §5.2 step 8):
// kept, and alerted once, naming the member whose log generation breaks it.
void RaiseGenerationAlert(NodeContext& ctx,
                          const directory::DirectoryState::UpdateResult& result,
                          const std::string& served_by) {
  const directory::Directory& refused = *result.refused_by_rule;
  logcheck::GenerationBreak broken = logcheck::FindGenerationBreak(
      result.rule_previous->proto(), refused.proto());
  Refusal r;
  r.version = refused.version();
  r.digest = ShortDigest(refused.signed_directory());
  r.member = broken.member.empty() ? "unknown" : broken.member;
  r.served_by = served_by;
  r.why = std::string(result.status.message());
  absl::StatusOr<bool> fresh = KeepRefusal(*ctx.storage, r);
  if (!fresh.ok()) {
    LogEvent(ctx.self(), "error", "directory-refusal-not-kept",
             {{"version", std::to_string(r.version)},
              {"reason", std::string(fresh.status().message())}});
  }
  if (fresh.ok() && !*fresh) return;
  const std::string stays = std::to_string(result.rule_previous->version());
  LogEvent(ctx.self(), "error", "ALERT-directory-log-generation",
           {{"version", std::to_string(r.version)},
            {"peer", served_by},
            {"member", r.member},
            {"sha256", r.digest},
            {"reason", r.why},
            {"action", "not adopted: this node stays on version " + stays +
                           "; governance must issue a version that follows "
                           "the audit log generation rule (spec/directory.md "
                           "5.2 step 8)"}});
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
  if (result.refused_by_rule != nullptr && result.rule_previous != nullptr) {
    RaiseGenerationAlert(ctx, result, served_by);
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

absl::StatusOr<std::string> EquivocationAlert(Storage& storage) {
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

absl::StatusOr<std::string> RefusedVersionAlert(Storage& storage,
                                                uint64_t current_version) {
  std::vector<Refusal> kept;
  {
    std::lock_guard<std::mutex> lock(RefusalsMutex());
    ASSIGN_OR_RETURN(kept, ReadRefusals(storage));
  }
  std::vector<std::string> parts;
  for (const Refusal& r : kept) {
    // Once a version that new is adopted, the refused one is history (a
    // validly signed other version N shows as an equivocation instead).
    if (r.version <= current_version) continue;
    parts.push_back(absl::StrCat("directory version ", r.version, " (sha256 ",
                                 r.digest, ") served by ", r.served_by,
                                 " not adopted: ", r.why));
  }
  return absl::StrJoin(parts, "; ");
}

absl::StatusOr<std::string> DirectoryAlert(Storage& storage,
                                           uint64_t current_version) {
  ASSIGN_OR_RETURN(std::string equivocation, EquivocationAlert(storage));
  ASSIGN_OR_RETURN(std::string refused,
                   RefusedVersionAlert(storage, current_version));
  if (equivocation.empty()) return refused;
  if (refused.empty()) return equivocation;
  return absl::StrCat(equivocation, "; ", refused);
}

}  // namespace cbx::node
