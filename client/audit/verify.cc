#include "client/audit/verify.h"

#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/logcheck/log_generation.h"
#include "core/merkle/hash.h"
#include "core/merkle/verify.h"
#include "core/note/note.h"

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

std::string TimeText(uint64_t seconds) {
  absl::Time t = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  return Str(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()));
}

}  // namespace

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
    absl::Status follows = adopted.status();
    // Step 8 of spec/directory.md §5.2 (audit log generations), as nodes
    // apply it.
    if (follows.ok()) {
      follows = logcheck::CheckGenerationSuccessor(out.latest->proto(),
                                                   (*adopted)->proto());
    }
    if (!follows.ok()) {
      return WithPrefix(follows, where + ": version " + Num(d.version()) +
                                     " does not follow from version " +
                                     Num(out.latest->version()) + ": ");
    }
    out.latest = *std::move(adopted);
    out.versions.push_back(next);
  }
  return out;
}

uint32_t GenerationOfOrigin(std::string_view member, std::string_view origin) {
  const std::string first = logcheck::LogOrigin(member);
  if (origin == first) return 1;
  if (origin.size() <= first.size() + 1 ||
      origin.substr(0, first.size() + 1) != first + "/") {
    return 0;
  }
  uint32_t n = 0;
  for (char c : origin.substr(first.size() + 1)) {
    if (c < '0' || c > '9' || n > 100000) return 0;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  return n >= 2 && logcheck::LogOrigin(member, n) == origin ? n : 0;
}

std::string DescribeLogChain(const directory::Directory& dir,
                             std::string_view member, uint32_t generation,
                             CheckpointReport* report) {
  const v1::Member* m = dir.FindMember(member);
  if (m == nullptr) return "";
  const uint32_t current = logcheck::GenerationOf(*m);
  if (current < 2) return "";
  auto p = logcheck::PredecessorOf(*m);
  if (!p.ok()) return "";
  const std::string versions =
      " (directory version " + Num(dir.version()) + ", governance-signed)";
  if (generation == current) {
    return "generation " + Num(current) + "; continues " + p->origin +
           " after its witnessed checkpoint " + Num(p->size) + " (root " +
           HexEncode(p->root_hash) + ")" + versions +
           "; entries that log held after " + Num(p->size) + " are lost";
  }
  if (generation + 1 == current) {
    if (report != nullptr && report->checkpoint.size > p->size) {
      report->warnings.push_back(
          "this checkpoint of " + p->origin +
          " lies beyond the predecessor "
          "checkpoint " +
          Num(p->size) + ": the entries after " + Num(p->size) +
          " were declared lost; reconcile them with peers' "
          "logs");
    }
    return "generation " + Num(generation) + " of " + Num(current) +
           "; counts up to its witnessed checkpoint " + Num(p->size) +
           ", then continues as " + logcheck::LogOrigin(member, current) +
           versions + "; entries after " + Num(p->size) + " are lost";
  }
  return "generation " + Num(generation) + " of " + Num(current) +
         "; superseded (the current log is " +
         logcheck::LogOrigin(member, current) + ")";
}

absl::StatusOr<CheckpointReport> VerifyCheckpoint(
    const directory::Directory& dir, std::string_view member,
    std::string_view note_text, int64_t now_ms) {
  // A checkpoint of an earlier generation verifies with that origin.
  uint32_t generation = 0;
  if (auto n = note::ParseNote(note_text); n.ok()) {
    if (auto cp = note::ParseCheckpoint(n->text); cp.ok()) {
      generation = GenerationOfOrigin(member, cp->origin);
      const v1::Member* m = dir.FindMember(member);
      if (m != nullptr && generation > logcheck::GenerationOf(*m)) {
        generation = 0;  // a generation the directory does not know
      }
    }
  }
  auto keys = logcheck::KeysOfLog(dir, member, generation);
  if (!keys.ok()) return keys.status();
  auto verified = logcheck::VerifyCheckpoint(*keys, note_text);
  if (!verified.ok()) return verified.status();
  CheckpointReport report;
  static_cast<logcheck::VerifiedCheckpoint&>(report) = *std::move(verified);
  report.note = std::string(note_text);
  report.log_chain = DescribeLogChain(dir, member, keys->generation, &report);
  const int64_t skew_s = keys->max_clock_skew_s;
  for (const Cosignature& c : report.cosignatures) {
    if (now_ms >= 0 &&
        static_cast<int64_t>(c.timestamp) > now_ms / 1000 + skew_s) {
      report.warnings.push_back("the cosignature by " + c.witness +
                                " is dated " + TimeText(c.timestamp) +
                                ", in the future by more than the "
                                "directory's max_clock_skew_s (" +
                                Num(skew_s) + " s)");
    }
  }
  return report;
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
