#include "node/audit/audit_checks.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/merkle/hash.h"
#include "core/merkle/proof_builder.h"
#include "core/merkle/verify.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "node/audit/leaf.h"
#include "node/audit/stored_hash_source.h"

namespace cbx::node::audit {
namespace {

std::string Short(const Bytes& hash) { return HexEncode(hash).substr(0, 16); }

// The state row, with its compact range parsed and checked against the
// row's own size and root.
absl::StatusOr<std::pair<StateRow, merkle::CompactRange>> ReadCheckedState(
    AuditStore& store) {
  ASSIGN_OR_RETURN(StateRow state, store.ReadState());
  absl::StatusOr<merkle::CompactRange> range =
      merkle::CompactRange::Parse(state.compact_range);
  if (!range.ok()) {
    return absl::DataLossError(
        absl::StrCat("the audit state row's compact range is malformed (",
                     range.status().message(), ")"));
  }
  if (range->size() != state.size || range->Root() != state.root) {
    return absl::DataLossError(absl::StrCat(
        "the audit state row contradicts itself: size ", state.size, " root ",
        Short(state.root), "..., but its compact range gives size ",
        range->size(), " root ", Short(range->Root()), "..."));
  }
  return std::make_pair(std::move(state), *std::move(range));
}

// OK if (old_size, old_root), which `what` recorded, is a prefix of the
// stored tree of `size` with root `root` (already trusted).
absl::Status CheckPrefix(AuditStore& store, uint64_t size, const Bytes& root,
                         uint64_t old_size, const Bytes& old_root,
                         const std::string& what) {
  if (old_size > size) {
    return absl::DataLossError(
        absl::StrCat("the audit database is older than its ", what,
                     ": a copy may have been put back (the database holds ",
                     size, " entries, the ", what, " records ", old_size, ")"));
  }
  absl::Status status;
  if (old_size == 0) {
    if (old_root != merkle::EmptyRoot()) {
      status = absl::DataLossError("root of the empty tree is wrong");
    }
  } else if (old_size == size) {
    if (old_root != root) status = absl::DataLossError("roots differ");
  } else {
    StoredHashSource source(store, size);
    ASSIGN_OR_RETURN(std::vector<Bytes> proof,
                     merkle::ConsistencyProof(source, old_size, size));
    status = merkle::VerifyConsistency(old_size, size, proof, old_root, root);
  }
  if (!status.ok()) {
    return absl::DataLossError(
        absl::StrCat("the audit database does not extend the tree its ", what,
                     " records (size ", old_size, ", root ", Short(old_root),
                     "...; the database holds ", size, " entries, root ",
                     Short(root), "...): ", status.message()));
  }
  return absl::OkStatus();
}

// The checkpoint a stored row holds, checked against the row's columns.
absl::StatusOr<note::Checkpoint> ParseStoredCheckpoint(
    const CheckpointRow& row) {
  absl::StatusOr<note::Note> parsed = note::ParseNote(row.note);
  absl::StatusOr<note::Checkpoint> checkpoint =
      parsed.ok() ? note::ParseCheckpoint(parsed->text)
                  : absl::StatusOr<note::Checkpoint>(parsed.status());
  if (!checkpoint.ok()) {
    return absl::DataLossError(
        absl::StrCat("the stored checkpoint of size ", row.size,
                     " is not a checkpoint: ", checkpoint.status().message()));
  }
  if (checkpoint->size != row.size || checkpoint->root_hash != row.root) {
    return absl::DataLossError(
        absl::StrCat("the stored checkpoint of size ", row.size, " says size ",
                     checkpoint->size, " root ", Short(checkpoint->root_hash),
                     "... in its signed text"));
  }
  return *std::move(checkpoint);
}

// True if the lowest and highest stored sequences are those of a log of
// `size` entries (no rows for the empty log).
bool EndsMatch(uint64_t size, const LeafStats& ends) {
  if (size == 0) return !ends.min_sequence.has_value();
  return ends.min_sequence == 0 && ends.max_sequence == size - 1;
}

// DATA_LOSS unless `leaves` are the sequences 0 .. size-1.
absl::Status CheckLeafStats(uint64_t size, const LeafStats& leaves) {
  if (leaves.count == size && EndsMatch(size, leaves)) {
    return absl::OkStatus();
  }
  std::string found =
      leaves.count == 0
          ? std::string("no leaf rows")
          : absl::StrCat(leaves.count, " leaf rows with sequences ",
                         leaves.min_sequence.value_or(0), " to ",
                         leaves.max_sequence.value_or(0));
  return absl::DataLossError(absl::StrCat(
      "the audit log's leaves are not the sequences 0 to size-1: the "
      "state says ",
      size, " entries, the database holds ", found,
      leaves.count < size ? " (rows were deleted)"
                          : " (rows were added or renumbered)"));
}

// CheckLeafCount counts this many sequences per statement, and looks at
// its `stop` between them.
constexpr uint64_t kCountChunk = uint64_t{1} << 18;

}  // namespace

absl::Status CheckLeafCount(AuditStore& store,
                            const std::function<bool()>& stop,
                            const std::function<void()>& before_count) {
  ASSIGN_OR_RETURN(auto txn, store.BeginRead());
  ASSIGN_OR_RETURN(StateRow state, store.ReadState());
  ASSIGN_OR_RETURN(LeafStats leaves, store.ReadLeafEnds());
  if (before_count) before_count();
  if (!EndsMatch(state.size, leaves)) {
    ASSIGN_OR_RETURN(leaves, store.ReadLeafStats());
    return CheckLeafStats(state.size, leaves);
  }
  // The ends match: every row is below the size, and counting [0, size)
  // counts them all.
  for (uint64_t begin = 0; begin < state.size; begin += kCountChunk) {
    if (stop && stop()) {
      return absl::CancelledError("the audit log closed during its check");
    }
    const uint64_t end = std::min(state.size, begin + kCountChunk);
    ASSIGN_OR_RETURN(uint64_t counted, store.CountLeaves(begin, end));
    leaves.count += counted;
  }
  return CheckLeafStats(state.size, leaves);
}

absl::StatusOr<merkle::CompactRange> CheckOnOpen(
    AuditStore& store, const std::optional<Head>& head,
    const std::string& head_path) {
  ASSIGN_OR_RETURN(auto checked, ReadCheckedState(store));
  const StateRow& state = checked.first;
  merkle::CompactRange& range = checked.second;
  const uint64_t size = state.size;

  // The ends of the leaves (two seeks); their count is CheckLeafCount's,
  // run after Open. Ends that are wrong are counted here, for the message.
  ASSIGN_OR_RETURN(LeafStats ends, store.ReadLeafEnds());
  if (!EndsMatch(size, ends)) {
    ASSIGN_OR_RETURN(LeafStats leaves, store.ReadLeafStats());
    RETURN_IF_ERROR(CheckLeafStats(size, leaves));
  }

  StoredHashSource source(store, size);
  ASSIGN_OR_RETURN(merkle::CompactRange from_store,
                   merkle::CompactRange::FromHashSource(source, size));
  if (!(from_store == range)) {
    return absl::DataLossError(absl::StrCat(
        "the stored perfect subtrees do not reproduce the audit log's state "
        "(size ",
        size, ", root ", Short(state.root), "..., from the subtrees ",
        Short(from_store.Root()),
        "...): a stored hash or the state row was altered"));
  }

  if (!head.has_value()) {
    if (size > 0) {
      return absl::DataLossError(absl::StrCat(
          "the audit head file ", head_path,
          " is missing, but the database holds ", size,
          " entries: the database may come from elsewhere, or the head file "
          "was deleted"));
    }
  } else {
    RETURN_IF_ERROR(CheckPrefix(store, size, state.root, head->size, head->root,
                                absl::StrCat("head file (", head_path, ")")));
  }

  ASSIGN_OR_RETURN(std::optional<CheckpointRow> latest,
                   store.LatestCheckpoint());
  if (latest.has_value()) {
    RETURN_IF_ERROR(ParseStoredCheckpoint(*latest).status());
    RETURN_IF_ERROR(CheckPrefix(store, size, state.root, latest->size,
                                latest->root, "latest signed checkpoint"));
  }
  return std::move(range);
}

namespace {

// Roots the tree rebuilt from the stored leaves must have at given sizes,
// each with who recorded it.
using ExpectedRoots = std::multimap<uint64_t, std::pair<Bytes, std::string>>;

// The roots recorded by the log's committed state, the head file and every
// stored signed checkpoint (whose cosignature lines must parse). DATA_LOSS if
// a record is missing, malformed, names a second origin, or records a size
// beyond the database's `size` (an older copy put back).
absl::StatusOr<ExpectedRoots> CollectExpectedRoots(AuditStore& store,
                                                   const FullCheckInput& input,
                                                   uint64_t size) {
  ExpectedRoots expected_roots;
  expected_roots.emplace(
      input.committed_size,
      std::make_pair(input.committed_root, "the log's committed state"));
  if (input.head.has_value()) {
    expected_roots.emplace(
        input.head->size,
        std::make_pair(input.head->root,
                       absl::StrCat("the head file ", input.head_path)));
  } else if (size > 0) {
    return absl::DataLossError(
        absl::StrCat("the audit head file ", input.head_path, " is missing"));
  }
  ASSIGN_OR_RETURN(std::vector<CheckpointRow> checkpoints,
                   store.ListCheckpoints());
  std::string origin;
  for (const CheckpointRow& row : checkpoints) {
    ASSIGN_OR_RETURN(note::Checkpoint checkpoint, ParseStoredCheckpoint(row));
    if (!origin.empty() && checkpoint.origin != origin) {
      return absl::DataLossError(
          absl::StrCat("the stored checkpoints name two origins: ", origin,
                       " and ", checkpoint.origin));
    }
    origin = checkpoint.origin;
    ASSIGN_OR_RETURN(std::vector<std::string> cosignatures,
                     store.ReadCosignatures(row.size));
    for (const std::string& line : cosignatures) {
      if (!note::ParseSignatureLine(line).ok()) {
        return absl::DataLossError(
            absl::StrCat("a stored cosignature of the checkpoint of size ",
                         row.size, " is malformed"));
      }
    }
    expected_roots.emplace(
        row.size,
        std::make_pair(row.root, absl::StrCat("the signed checkpoint of size ",
                                              row.size)));
  }
  if (!expected_roots.empty() && expected_roots.rbegin()->first > size) {
    return absl::DataLossError(absl::StrCat(
        "the audit database (", size, " entries) is older than ",
        expected_roots.rbegin()->second.second, ", which records size ",
        expected_roots.rbegin()->first, ": a copy may have been put back"));
  }

  return expected_roots;
}

// DATA_LOSS unless `root`, the rebuilt tree's root at size `at`, is the one
// every record of that size holds.
absl::Status CheckRoots(const ExpectedRoots& expected_roots, uint64_t at,
                        const Bytes& root) {
  auto [first, last] = expected_roots.equal_range(at);
  for (auto it = first; it != last; ++it) {
    if (it->second.first != root) {
      return absl::DataLossError(
          absl::StrCat("the tree rebuilt from the stored leaves has root ",
                       Short(root), "... at size ", at, ", but ",
                       it->second.second, " records ", Short(it->second.first),
                       "...: stored leaves or that record were altered"));
    }
  }
  return absl::OkStatus();
}

// Rebuilds the tree from the `size` stored leaves in order, checking each
// row (no gap, no extra row, its hash, its entry's sequence, its perfect
// subtree hashes) and the root at every recorded size. Counts the leaves
// hashed into `*leaves_hashed`. The rebuilt tree, or the first DATA_LOSS.
// (The per-row checks are one lambda: ScanLeaves calls it for every row.)
absl::StatusOr<merkle::CompactRange> RebuildFromLeaves(
    AuditStore& store, uint64_t size, const ExpectedRoots& expected_roots,
    uint64_t* leaves_hashed) {
  merkle::CompactRange rebuilt;
  uint64_t next = 0;
  RETURN_IF_ERROR(store.ScanLeaves([&](uint64_t sequence,
                                       std::string_view leaf_hash,
                                       std::string_view data,
                                       std::string_view subtrees)
                                       -> absl::Status {
    if (sequence >= size) {
      return absl::DataLossError(
          absl::StrCat("the audit database holds leaf ", sequence,
                       " beyond the state's size ", size, ": rows were added"));
    }
    if (sequence != next) {
      return absl::DataLossError(absl::StrCat(
          "leaf ", next, " is missing from the audit database",
          sequence > next + 1 ? absl::StrCat(" (and up to ", sequence - 1, ")")
                              : std::string(),
          ": rows were deleted"));
    }
    const Bytes hash = merkle::LeafHash(data);
    ++*leaves_hashed;
    if (hash != leaf_hash) {
      return absl::DataLossError(absl::StrCat(
          "leaf ", sequence,
          ": its stored bytes do not hash to its stored leaf hash"));
    }
    absl::StatusOr<v1::AuditEntry> entry = DecodeLeaf(data);
    if (!entry.ok() || entry->sequence() != sequence) {
      return absl::DataLossError(absl::StrCat(
          "leaf ", sequence,
          entry.ok()
              ? absl::StrCat(" holds the entry of sequence ", entry->sequence())
              : std::string(" does not parse as an AuditEntry")));
    }
    ASSIGN_OR_RETURN(std::vector<merkle::PerfectSubtree> completed,
                     rebuilt.Append(hash));
    if (subtrees.size() != (completed.size() - 1) * merkle::kHashSize) {
      return absl::DataLossError(
          absl::StrCat("the row of leaf ", sequence, " holds ", subtrees.size(),
                       " bytes of perfect subtree hashes; it completes ",
                       completed.size() - 1, " subtrees"));
    }
    for (size_t i = 1; i < completed.size(); ++i) {
      const merkle::PerfectSubtree& subtree = completed[i];
      if (subtrees.substr((i - 1) * merkle::kHashSize, merkle::kHashSize) !=
          subtree.hash) {
        return absl::DataLossError(absl::StrCat(
            "perfect subtree (level ", subtree.level, ", index ", subtree.index,
            ") differs from the one rebuilt from the stored leaves: a stored "
            "hash or leaf was altered"));
      }
    }
    ++next;
    if (expected_roots.count(next) != 0) {
      RETURN_IF_ERROR(CheckRoots(expected_roots, next, rebuilt.Root()));
    }
    return absl::OkStatus();
  }));
  if (next != size) {
    return absl::DataLossError(absl::StrCat(
        next + 1 == size
            ? absl::StrCat("leaf ", next, " is")
            : absl::StrCat("leaves ", next, " to ", size - 1, " are"),
        " missing from the audit database: rows were deleted"));
  }
  if (next != size) {
    return absl::DataLossError(absl::StrCat(
        next + 1 == size
            ? absl::StrCat("leaf ", next, " is")
            : absl::StrCat("leaves ", next, " to ", size - 1, " are"),
        " missing from the audit database: rows were deleted"));
  }
  return rebuilt;
}

}  // namespace

absl::Status CheckEverything(AuditStore& store, const FullCheckInput& input,
                             uint64_t* leaves_hashed) {
  ASSIGN_OR_RETURN(auto txn, store.BeginRead());
  ASSIGN_OR_RETURN(auto checked, ReadCheckedState(store));
  const StateRow& state = checked.first;
  const merkle::CompactRange& range = checked.second;
  const uint64_t size = state.size;
  if (size < input.committed_size) {
    return absl::DataLossError(absl::StrCat(
        "the audit database holds ", size, " entries, fewer than the ",
        input.committed_size,
        " this log committed: it was replaced or rolled back while open"));
  }

  ASSIGN_OR_RETURN(ExpectedRoots expected_roots,
                   CollectExpectedRoots(store, input, size));
  RETURN_IF_ERROR(CheckRoots(expected_roots, 0, merkle::EmptyRoot()));
  ASSIGN_OR_RETURN(
      merkle::CompactRange rebuilt,
      RebuildFromLeaves(store, size, expected_roots, leaves_hashed));
  if (!(rebuilt == range)) {
    return absl::DataLossError(absl::StrCat(
        "the audit state row (root ", Short(state.root),
        "...) differs from the tree rebuilt from the stored leaves (root ",
        Short(rebuilt.Root()), "...)"));
  }
  return absl::OkStatus();
}

}  // namespace cbx::node::audit
