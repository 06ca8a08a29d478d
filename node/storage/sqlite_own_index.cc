#include "node/storage/sqlite_own_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::sqlite {

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

absl::Status ApplyTagDeltas(
    Database& db, const std::vector<std::pair<Tag, int64_t>>& deltas) {
  if (deltas.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(IndexState state, ReadIndexState(db));
  uint64_t version = state.version;
  for (const auto& [tag, delta] : deltas) {
    int64_t before = 0;
    {
      ASSIGN_OR_RETURN(Statement select,
                       db.Prepare("SELECT refs FROM own_index WHERE tag = ?1"));
      select.BindInt(1, TagToSql(tag));
      ASSIGN_OR_RETURN(bool row, select.Step());
      if (row) before = select.ColumnInt(0);
    }
    const int64_t after = before + delta;
    if (after < 0) {
      return absl::InternalError(
          absl::StrCat("own index count of tag ", tag, " would be ", after));
    }
    const char* sql = after == 0 ? "DELETE FROM own_index WHERE tag = ?1"
                      : before == 0
                          ? "INSERT INTO own_index (tag, refs) VALUES (?1, ?2)"
                          : "UPDATE own_index SET refs = ?2 WHERE tag = ?1";
    {
      ASSIGN_OR_RETURN(Statement write, db.Prepare(sql));
      write.BindInt(1, TagToSql(tag));
      if (after != 0) write.BindInt(2, after);
      RETURN_IF_ERROR(write.Run());
    }
    if (after == 0 || before == 0) {
      ASSIGN_OR_RETURN(Statement change,
                       db.Prepare("INSERT INTO index_changes (version, tag, "
                                  "added) VALUES (?1, ?2, ?3)"));
      change.BindInt(1, static_cast<int64_t>(++version))
          .BindInt(2, TagToSql(tag))
          .BindInt(3, after == 0 ? 0 : 1);
      RETURN_IF_ERROR(change.Run());
    }
  }
  ASSIGN_OR_RETURN(
      Statement update,
      db.Prepare("UPDATE own_index_state SET version = ?1 WHERE id = 1"));
  update.BindInt(1, static_cast<int64_t>(version));
  return update.Run();
}

}  // namespace cbx::node::sqlite
