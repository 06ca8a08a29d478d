#include "node/storage/pg/pg_own_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::pgsql {

void SignedToUnsignedOrder(std::vector<Tag>& tags) {
  // In signed order the tags with the top bit set (negative) come first;
  // in unsigned order they come last.
  auto high_end = std::partition_point(tags.begin(), tags.end(),
                                       [](Tag t) { return (t >> 63) != 0; });
  std::rotate(tags.begin(), high_end, tags.end());
}

absl::StatusOr<IndexState> ReadIndexState(Database& db) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT version, compacted_through FROM own_index_state "
                 "WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::DataLossError("the own index state row is missing");
  return IndexState{static_cast<uint64_t>(select.ColumnInt(0)),
                    static_cast<uint64_t>(select.ColumnInt(1))};
}

absl::StatusOr<Generations> ReadGenerations(Database& db) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT current, previous, staging FROM oprf_generations "
                 "WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return absl::DataLossError("the OPRF generations row is missing");
  Generations g;
  g.current = select.ColumnInt(0);
  if (!select.IsNull(1)) g.previous = select.ColumnInt(1);
  g.staging = select.ColumnInt(2);
  return g;
}

namespace {

// Applies `deltas` to `generation`'s tag set; each tag that enters or
// leaves the set is appended to `*entered_or_left` if it is given.
absl::Status ApplyRefs(Database& db, int64_t generation,
                       const std::vector<std::pair<Tag, int64_t>>& deltas,
                       std::vector<std::pair<Tag, bool>>* entered_or_left) {
  for (const auto& [tag, delta] : deltas) {
    int64_t before = 0;
    {
      ASSIGN_OR_RETURN(Statement select,
                       db.Prepare("SELECT refs FROM own_index WHERE "
                                  "generation = $1 AND tag = $2"));
      select.BindInt(1, generation).BindInt(2, TagToSql(tag));
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (row) before = select.ColumnInt(0);
    }
    const int64_t after = before + delta;
    if (after < 0) {
      return absl::InternalError(
          absl::StrCat("own index count of tag ", tag, " would be ", after));
    }
    const char* sql =
        after == 0 ? "DELETE FROM own_index WHERE generation = $1 AND tag = $2"
        : before == 0
            ? "INSERT INTO own_index (generation, tag, refs) "
              "VALUES ($1, $2, $3)"
            : "UPDATE own_index SET refs = $3 WHERE generation = $1 AND "
              "tag = $2";
    {
      ASSIGN_OR_RETURN(Statement write, db.Prepare(sql));
      write.BindInt(1, generation).BindInt(2, TagToSql(tag));
      if (after != 0) write.BindInt(3, after);
      RETURN_IF_ERROR(write.Run());
    }
    if ((after == 0 || before == 0) && entered_or_left != nullptr) {
      entered_or_left->emplace_back(tag, after != 0);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyStagingTagDeltas(
    Database& db, int64_t generation,
    const std::vector<std::pair<Tag, int64_t>>& deltas) {
  return ApplyRefs(db, generation, deltas, nullptr);
}

absl::Status ApplyTagDeltas(
    Database& db, int64_t generation,
    const std::vector<std::pair<Tag, int64_t>>& deltas) {
  if (deltas.empty()) return absl::OkStatus();
  std::vector<std::pair<Tag, bool>> changes;
  RETURN_IF_ERROR(ApplyRefs(db, generation, deltas, &changes));
  if (changes.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(IndexState state, ReadIndexState(db));
  uint64_t version = state.version;
  for (const auto& [tag, added] : changes) {
    ASSIGN_OR_RETURN(Statement change,
                     db.Prepare("INSERT INTO index_changes (version, tag, "
                                "added) VALUES ($1, $2, $3)"));
    change.BindInt(1, static_cast<int64_t>(++version))
        .BindInt(2, TagToSql(tag))
        .BindInt(3, added ? 1 : 0);
    RETURN_IF_ERROR(change.Run());
  }
  ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare("UPDATE own_index_state SET version = $1 WHERE id = 1"));
  update.BindInt(1, static_cast<int64_t>(version));
  return update.Run();
}

}  // namespace cbx::node::pgsql
