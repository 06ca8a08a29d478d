#include "client/audit_verify.h"

#include <cstdio>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/crypto/ed25519.h"
#include "core/merkle/hash.h"
#include "core/merkle/verify.h"
#include "core/note/note.h"
#include "core/note/verifier.h"

namespace cbx::client::audit {
namespace {

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

std::string Message(const absl::Status& status) {
  return Str(status.message());
}

absl::Status WithPrefix(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), prefix + Message(status));
}

std::string Num(uint64_t n) { return std::to_string(n); }

std::string VersionLabel(const directory::Directory& dir) {
  return "directory version " + Num(dir.version());
}

// A note key of the directory: which member it belongs to and whether it is
// that member's log key or witness key.
struct KnownKey {
  note::Verifier verifier;
  std::string member;
  bool log_key = false;
};

// "XX" if `name` is "cbx/XX/<suffix>" with XX two upper-case letters.
std::optional<std::string> MemberOfName(std::string_view name,
                                        std::string_view suffix) {
  const std::string_view prefix = "cbx/";
  if (name.size() != prefix.size() + 3 + suffix.size() ||
      name.substr(0, prefix.size()) != prefix ||
      name.substr(prefix.size() + 2, 1) != "/" ||
      name.substr(prefix.size() + 3) != suffix) {
    return std::nullopt;
  }
  std::string code(name.substr(prefix.size(), 2));
  if (!directory::IsMemberCode(code)) return std::nullopt;
  return code;
}

std::string IgnoredReason(const directory::Directory& dir,
                          std::string_view member, const note::Signature& sig) {
  const std::string id = KeyIdHex(sig.key_id);
  if (sig.name == LogOrigin(member)) {
    return "no node key of " + std::string(member) + " in " +
           VersionLabel(dir) + " has key ID " + id;
  }
  if (std::optional<std::string> wc = MemberOfName(sig.name, "witness")) {
    if (*wc == member) {
      return "a log cannot be witnessed by its own member";
    }
    if (dir.FindMember(*wc) == nullptr) {
      return *wc + " is not a member of " + VersionLabel(dir);
    }
    return "no node key of " + *wc + " in " + VersionLabel(dir) +
           " has key ID " + id;
  }
  if (MemberOfName(sig.name, "audit")) {
    return "a log signature for another origin";
  }
  return "not a cbx log or witness key name";
}

// The node keys of `m` as note verifiers named `name` of `type`.
absl::Status AddKeys(const v1::Member& m, const std::string& name,
                     note::SignatureType type, bool log_key,
                     std::vector<KnownKey>& out) {
  for (const v1::NodeKey& nk : m.node_keys()) {
    auto pk = crypto::Ed25519PublicKey::FromBytes(nk.public_key());
    if (!pk.ok()) {
      return absl::InvalidArgumentError("a node key of " + m.code() +
                                        " is not an Ed25519 key");
    }
    auto v = note::Verifier::Create(name, type, *pk);
    if (!v.ok()) return v.status();
    out.push_back(KnownKey{*std::move(v), m.code(), log_key});
  }
  return absl::OkStatus();
}

std::string TimeText(uint64_t seconds) {
  absl::Time t = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  return Str(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()));
}

}  // namespace

std::string LogOrigin(std::string_view member) {
  return "cbx/" + std::string(member) + "/audit";
}

std::string WitnessName(std::string_view member) {
  return "cbx/" + std::string(member) + "/witness";
}

std::string KeyIdHex(uint32_t key_id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", key_id);
  return buf;
}

absl::StatusOr<v1::SignedDirectory> ParseGenesis(std::string_view bytes) {
  v1::SignedDirectory genesis;
  if (bytes.empty() ||
      !genesis.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        "not a binary SignedDirectory (the genesis.pb that cbx-admin "
        "writes)");
  }
  auto verified = directory::Directory::FromGenesis(genesis);
  if (!verified.ok()) {
    return WithPrefix(verified.status(), "not a valid genesis: ");
  }
  return genesis;
}

absl::StatusOr<VerifiedDirectory> VerifyDirectoryChain(
    const v1::SignedDirectory& genesis,
    const std::vector<v1::SignedDirectory>& versions) {
  auto start = directory::Directory::FromGenesis(genesis);
  if (!start.ok()) {
    return WithPrefix(start.status(), "the pinned genesis does not verify: ");
  }
  VerifiedDirectory out;
  out.latest = *std::move(start);
  for (size_t i = 0; i < versions.size(); ++i) {
    const v1::SignedDirectory& next = versions[i];
    const std::string where = "directory chain, item " + Num(i + 1);
    v1::Directory d;
    if (!d.ParseFromString(next.directory())) {
      return absl::InvalidArgumentError(where +
                                        ": does not parse as a Directory");
    }
    if (d.version() == 1) {
      if (i != 0) {
        return absl::FailedPreconditionError(
            where + ": version 1 after version " + Num(out.latest->version()) +
            ": directory versions never go back");
      }
      if (next.directory() != genesis.directory()) {
        return absl::InvalidArgumentError(
            where +
            ": version 1 is not the pinned genesis (--genesis): this log "
            "belongs to another federation, or its genesis was replaced");
      }
      out.versions.push_back(next);
      continue;
    }
    auto adopted = out.latest->Adopt(next);
    if (!adopted.ok()) {
      return WithPrefix(adopted.status(),
                        where + ": version " + Num(d.version()) +
                            " does not follow from version " +
                            Num(out.latest->version()) + ": ");
    }
    out.latest = *std::move(adopted);
    out.versions.push_back(next);
  }
  return out;
}

absl::StatusOr<CheckpointReport> VerifyCheckpoint(
    const directory::Directory& dir, std::string_view member,
    std::string_view note_text, int64_t now_ms) {
  const v1::Member* self = dir.FindMember(member);
  if (self == nullptr) {
    return absl::InvalidArgumentError("the log's member '" +
                                      std::string(member) + "' is not in " +
                                      VersionLabel(dir));
  }
  CheckpointReport report;
  report.member = std::string(member);
  report.origin = LogOrigin(member);
  report.directory_version = dir.version();
  report.note = std::string(note_text);
  report.threshold = dir.policy().witness_threshold();

  std::vector<KnownKey> keys;
  if (absl::Status s = AddKeys(*self, report.origin,
                               note::SignatureType::kEd25519, true, keys);
      !s.ok()) {
    return s;
  }
  for (const v1::Member& m : dir.proto().members()) {
    if (m.code() == member) continue;
    ++report.eligible_witnesses;
    if (absl::Status s =
            AddKeys(m, WitnessName(m.code()),
                    note::SignatureType::kCosignatureV1, false, keys);
        !s.ok()) {
      return s;
    }
  }

  auto parsed = note::ParseNote(note_text);
  if (!parsed.ok()) {
    return WithPrefix(parsed.status(),
                      "the checkpoint is not a valid signed note: ");
  }
  bool log_signed = false;
  std::set<std::string> witnesses;
  const int64_t skew_s = dir.policy().max_clock_skew_s();
  for (const note::Signature& sig : parsed->signatures) {
    const KnownKey* key = nullptr;
    for (const KnownKey& k : keys) {
      if (k.verifier.name() == sig.name && k.verifier.key_id() == sig.key_id) {
        key = &k;
        break;
      }
    }
    if (key == nullptr) {
      report.ignored.push_back(IgnoredSignature{
          sig.name, sig.key_id, IgnoredReason(dir, member, sig)});
      continue;
    }
    auto verified = key->verifier.Verify(parsed->text, sig);
    if (!verified.ok()) {
      if (key->log_key) {
        return absl::UnauthenticatedError(
            "the signature by " + sig.name + " (key ID " +
            KeyIdHex(sig.key_id) + ", a node key of " + key->member +
            ") does not verify: the checkpoint was altered after signing");
      }
      return absl::UnauthenticatedError(
          "the cosignature by " + sig.name + " (key ID " +
          KeyIdHex(sig.key_id) + ", a node key of " + key->member +
          ") does not verify: the checkpoint or the cosignature was altered");
    }
    if (key->log_key) {
      if (!log_signed) report.log_key_id = sig.key_id;
      log_signed = true;
      continue;
    }
    Cosignature c{key->member, sig.name, sig.key_id,
                  verified->timestamp.value_or(0)};
    if (now_ms >= 0 &&
        static_cast<int64_t>(c.timestamp) > now_ms / 1000 + skew_s) {
      report.warnings.push_back("the cosignature by " + c.witness +
                                " is dated " + TimeText(c.timestamp) +
                                ", in the future by more than the "
                                "directory's max_clock_skew_s (" +
                                Num(skew_s) + " s)");
    }
    witnesses.insert(c.witness);
    report.cosignatures.push_back(std::move(c));
  }
  if (!log_signed) {
    std::string message = "the checkpoint is not signed by a node key of " +
                          std::string(member) + " in " + VersionLabel(dir);
    for (const IgnoredSignature& ig : report.ignored) {
      if (ig.name == report.origin) {
        message += " (a signature named " + ig.name + " has key ID " +
                   KeyIdHex(ig.key_id) + ", which is no node key of " +
                   std::string(member) + ")";
        break;
      }
    }
    return absl::UnauthenticatedError(message);
  }
  auto checkpoint = note::ParseCheckpoint(parsed->text);
  if (!checkpoint.ok()) {
    return WithPrefix(checkpoint.status(),
                      "the checkpoint text is malformed: ");
  }
  if (checkpoint->origin != report.origin) {
    return absl::InvalidArgumentError("the checkpoint is for origin '" +
                                      checkpoint->origin + "', not '" +
                                      report.origin + "'");
  }
  report.checkpoint = *std::move(checkpoint);
  report.text = std::move(parsed->text);
  report.witnesses = witnesses.size();
  report.witnessed = report.witnesses >= report.threshold;
  return report;
}

std::string DescribeWitnesses(const CheckpointReport& report) {
  std::vector<std::string> names;
  for (const Cosignature& c : report.cosignatures) {
    bool seen = false;
    for (const std::string& n : names) seen = seen || n == c.witness;
    if (!seen) names.push_back(c.witness);
  }
  std::string out =
      Num(report.witnesses) + " of the " + Num(report.threshold) + " needed";
  if (!names.empty()) {
    out += " (";
    for (size_t i = 0; i < names.size(); ++i) {
      out += (i == 0 ? "" : ", ") + names[i];
    }
    out += ")";
  }
  return out;
}

absl::Status RequireWitnessed(const CheckpointReport& report) {
  if (report.witnessed) return absl::OkStatus();
  std::string message =
      "checkpoint " + Num(report.checkpoint.size) + " of " + report.origin +
      " is not witnessed: " + Num(report.witnesses) +
      (report.witnesses == 1 ? " witness" : " witnesses") + " cosigned it";
  std::vector<std::string> names;
  for (const Cosignature& c : report.cosignatures) {
    bool seen = false;
    for (const std::string& n : names) seen = seen || n == c.witness;
    if (!seen) names.push_back(c.witness);
  }
  if (!names.empty()) {
    message += " (";
    for (size_t i = 0; i < names.size(); ++i) {
      message += (i == 0 ? "" : ", ") + names[i];
    }
    message += ")";
  }
  message += ", directory version " + Num(report.directory_version) +
             " requires " + Num(report.threshold) + " (witness_threshold)";
  for (const IgnoredSignature& ig : report.ignored) {
    message +=
        "; ignored " + ig.name + "+" + KeyIdHex(ig.key_id) + ": " + ig.reason;
  }
  return absl::UnauthenticatedError(message);
}

bool NeedsConsistencyProof(const note::Checkpoint& trusted,
                           const note::Checkpoint& latest) {
  return trusted.size > 0 && trusted.size < latest.size;
}

absl::StatusOr<Consistency> CheckConsistency(const note::Checkpoint& trusted,
                                             const note::Checkpoint& latest,
                                             const std::vector<Bytes>& proof) {
  if (trusted.origin != latest.origin) {
    return absl::InvalidArgumentError("the trusted checkpoint is of '" +
                                      trusted.origin + "', the new one of '" +
                                      latest.origin + "'");
  }
  const std::string rewritten =
      "the log was rewritten: checkpoint " + Num(latest.size) +
      " is not consistent with the trusted checkpoint " + Num(trusted.size);
  if (latest.size < trusted.size) {
    return absl::DataLossError(rewritten + " (the log shrank)");
  }
  if (trusted.size == 0) {
    if (trusted.root_hash != merkle::EmptyRoot()) {
      return absl::DataLossError(
          rewritten +
          " (the trusted checkpoint of size 0 does not have the "
          "empty tree's root)");
    }
    return Consistency::kFromEmpty;
  }
  if (latest.size == trusted.size) {
    if (latest.root_hash != trusted.root_hash) {
      return absl::DataLossError(rewritten +
                                 " (same size, different root hash)");
    }
    return Consistency::kSame;
  }
  absl::Status s = merkle::VerifyConsistency(
      trusted.size, latest.size, proof, trusted.root_hash, latest.root_hash);
  if (s.ok()) return Consistency::kExtended;
  if (s.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(rewritten + " (" + Message(s) + ")");
  }
  return absl::InvalidArgumentError(
      "the consistency proof from size " + Num(trusted.size) + " to " +
      Num(latest.size) + " is malformed: " + Message(s));
}

absl::StatusOr<v1::AuditEntry> ParseEntry(std::string_view leaf) {
  v1::AuditEntry entry;
  if (!entry.ParseFromArray(leaf.data(), static_cast<int>(leaf.size()))) {
    return absl::InvalidArgumentError("does not parse as an AuditEntry");
  }
  return entry;
}

namespace {

absl::StatusOr<v1::AuditEntry> CheckEntryBytes(uint64_t index,
                                               std::string_view leaf) {
  const std::string where = "entry " + Num(index) + ": ";
  auto entry = ParseEntry(leaf);
  if (!entry.ok()) {
    return absl::InvalidArgumentError(
        where + "the leaf is in the signed log but " + Message(entry.status()));
  }
  if (entry->sequence() != index) {
    return absl::InvalidArgumentError(where + "the entry says sequence " +
                                      Num(entry->sequence()) +
                                      ", not its index " + Num(index));
  }
  return entry;
}

absl::Status InclusionError(uint64_t index, uint64_t size,
                            const absl::Status& s) {
  const std::string where = "entry " + Num(index) + ": ";
  if (s.code() == absl::StatusCode::kDataLoss) {
    return absl::DataLossError(
        where +
        "the leaf and its inclusion proof do not lead to the root of "
        "the tree of size " +
        Num(size) + ": the leaf or the proof was altered (" + Message(s) + ")");
  }
  return absl::InvalidArgumentError(where +
                                    "malformed inclusion proof for "
                                    "the tree of size " +
                                    Num(size) + ": " + Message(s));
}

}  // namespace

absl::StatusOr<v1::AuditEntry> VerifyEntry(uint64_t index,
                                           std::string_view leaf,
                                           const std::vector<Bytes>& proof,
                                           uint64_t size,
                                           std::string_view root) {
  absl::Status s =
      merkle::VerifyInclusion(index, size, merkle::LeafHash(leaf), proof, root);
  if (!s.ok()) return InclusionError(index, size, s);
  return CheckEntryBytes(index, leaf);
}

absl::StatusOr<v1::AuditEntry> VerifyEntryAtSize(
    uint64_t index, std::string_view leaf,
    const std::vector<Bytes>& inclusion_proof, uint64_t size,
    const std::vector<Bytes>& consistency_proof,
    const note::Checkpoint& checkpoint) {
  if (size > checkpoint.size) {
    return absl::InvalidArgumentError("size " + Num(size) +
                                      " is beyond the checkpoint's size " +
                                      Num(checkpoint.size));
  }
  if (size == checkpoint.size) {
    return VerifyEntry(index, leaf, inclusion_proof, size,
                       checkpoint.root_hash);
  }
  auto root = merkle::RootFromInclusionProof(
      index, size, merkle::LeafHash(leaf), inclusion_proof);
  if (!root.ok()) return InclusionError(index, size, root.status());
  absl::Status s = merkle::VerifyConsistency(
      size, checkpoint.size, consistency_proof, *root, checkpoint.root_hash);
  if (!s.ok()) {
    const std::string where = "entry " + Num(index) + ": ";
    if (s.code() == absl::StatusCode::kDataLoss) {
      return absl::DataLossError(
          where + "the tree of size " + Num(size) +
          " that the inclusion proof implies is not a prefix of checkpoint " +
          Num(checkpoint.size) + ": the leaf or a proof was altered (" +
          Message(s) + ")");
    }
    return absl::InvalidArgumentError(
        where + "malformed consistency proof from size " + Num(size) + " to " +
        Num(checkpoint.size) + ": " + Message(s));
  }
  return CheckEntryBytes(index, leaf);
}

}  // namespace cbx::client::audit
