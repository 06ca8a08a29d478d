#include "node/revocation.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace cbx::node {
namespace {

std::string Utc(int64_t unix_s) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_s),
                          absl::UTCTimeZone());
}

std::string Describe(const crypto::RevocationList& list) {
  return absl::StrCat(
      list.revoked.size(), " revoked, thisUpdate ", Utc(list.this_update_s),
      ", nextUpdate ",
      list.next_update_s == 0 ? "none" : Utc(list.next_update_s));
}

bool Expired(const crypto::RevocationList& list, int64_t now_s) {
  return list.next_update_s != 0 && list.next_update_s < now_s;
}

// A CRL to consider: its name in events, its PEM, the CAs that may sign it.
struct Source {
  std::string name;
  const std::string* pem;
  const std::vector<std::string>* cas;
};

// The folder's files (any trusted CA) then the directory's CRLs (their
// member's CAs only), named "directory:<member>#<i>".
std::vector<Source> Sources(const std::map<std::string, std::string>& files,
                            const std::vector<std::string>& trusted_cas,
                            const std::vector<DirectoryCrl>& from_directory) {
  std::vector<Source> sources;
  for (const auto& [file, pem] : files) {
    sources.push_back({file, &pem, &trusted_cas});
  }
  std::map<std::string, int> per_member;
  for (const DirectoryCrl& crl : from_directory) {
    sources.push_back(
        {absl::StrCat("directory:", crl.member, "#", per_member[crl.member]++),
         &crl.pem, &crl.member_cas});
  }
  return sources;
}

}  // namespace

absl::Status RevocationSet::Check(
    const crypto::CertificateSummary& cert) const {
  auto it = entries_.find(cert.issuer_der);
  if (it == entries_.end()) return absl::OkStatus();
  const crypto::RevocationList& list = it->second.list;
  if (list.revoked.count(cert.serial_hex) == 0) return absl::OkStatus();
  return absl::UnauthenticatedError(
      absl::StrCat("certificate ", cert.serial_hex, " (", cert.subject,
                   ") is revoked by the CRL of ", list.issuer, " (thisUpdate ",
                   Utc(list.this_update_s), ")"));
}

RevocationSet LoadRevocations(const std::map<std::string, std::string>& files,
                              const std::vector<std::string>& trusted_cas,
                              const RevocationSet& previous, int64_t now_s,
                              std::vector<RevocationEvent>* events) {
  return LoadRevocations(files, trusted_cas, {}, previous, now_s, events);
}

RevocationSet LoadRevocations(const std::map<std::string, std::string>& files,
                              const std::vector<std::string>& trusted_cas,
                              const std::vector<DirectoryCrl>& from_directory,
                              const RevocationSet& previous, int64_t now_s,
                              std::vector<RevocationEvent>* events) {
  const std::vector<Source> sources =
      Sources(files, trusted_cas, from_directory);
  std::vector<RevocationEvent> local;
  if (events == nullptr) events = &local;
  // The previous CRL of each file, to keep when its new content is refused.
  std::map<std::string, const RevocationSet::Entry*> by_file;
  for (const auto& [issuer, entry] : previous.entries()) {
    by_file[entry.file] = &entry;
  }
  std::map<std::string, RevocationSet::Entry> next;
  // Keeps `entry` for its issuer unless a newer CRL of that issuer is there.
  const auto offer = [&next](RevocationSet::Entry entry) {
    auto [it, inserted] = next.try_emplace(entry.list.issuer_der, entry);
    if (!inserted && entry.list.this_update_s > it->second.list.this_update_s) {
      it->second = std::move(entry);
    }
  };
  for (const Source& source : sources) {
    const std::string& file = source.name;
    auto list = crypto::ParseVerifiedCrl(*source.pem, *source.cas);
    auto before = by_file.find(file);
    if (!list.ok()) {
      events->push_back({"error", "crl-refused", file, "",
                         std::string(list.status().message())});
      if (before != by_file.end()) offer(*before->second);
      continue;
    }
    auto in_use = previous.entries().find(list->issuer_der);
    if (in_use != previous.entries().end() &&
        list->this_update_s < in_use->second.list.this_update_s) {
      events->push_back(
          {"error", "crl-refused", file, list->issuer,
           absl::StrCat("older than the CRL in use (thisUpdate ",
                        Utc(list->this_update_s), " < ",
                        Utc(in_use->second.list.this_update_s), ")")});
      offer(in_use->second);
      continue;
    }
    offer({*std::move(list), file});
  }
  for (const auto& [issuer, entry] : next) {
    auto old = previous.entries().find(issuer);
    bool changed = old == previous.entries().end() ||
                   old->second.list.this_update_s != entry.list.this_update_s ||
                   old->second.list.revoked != entry.list.revoked;
    if (changed) {
      events->push_back({"info", "crl-loaded", entry.file, entry.list.issuer,
                         Describe(entry.list)});
    }
    if (Expired(entry.list, now_s)) {
      events->push_back(
          {"warn", "ALERT-crl-expired", entry.file, entry.list.issuer,
           absl::StrCat("nextUpdate ", Utc(entry.list.next_update_s),
                        " has passed; its revocations stay in force, newer "
                        "ones are unknown until a fresh CRL is installed")});
    }
  }
  for (const auto& [issuer, entry] : previous.entries()) {
    if (next.count(issuer) == 0) {
      events->push_back({"info", "crl-removed", entry.file, entry.list.issuer,
                         "no CRL of this CA in the folder or the directory "
                         "any more"});
    }
  }
  return RevocationSet(std::move(next));
}

}  // namespace cbx::node
