#include "node/storage/pg/pg_peer_index.h"

#include <bit>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace cbx::node::pgsql {
namespace {

// Big-endian to host order and back (the same swap).
uint64_t SwapBigEndian(uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    return __builtin_bswap64(v);
  } else {
    return v;
  }
}

}  // namespace

Bytes PackTags(const std::vector<Tag>& tags) {
  Bytes packed(tags.size() * sizeof(Tag), '\0');
  for (size_t i = 0; i < tags.size(); ++i) {
    const uint64_t be = SwapBigEndian(tags[i]);
    std::memcpy(packed.data() + i * sizeof(Tag), &be, sizeof(Tag));
  }
  return packed;
}

absl::Status WritePeerIndex(Database& db, const PeerIndex& index) {
  const Bytes packed = PackTags(index.tags);
  absl::StatusOr<Statement> upsert = db.Prepare(
      "INSERT INTO peer_indexes (member, oprf_epoch, version, synced_at_ms, "
      "tag_count, tags) VALUES ($1, $2, $3, $4, $5, $6) "
      "ON CONFLICT (member) DO UPDATE SET oprf_epoch = excluded.oprf_epoch, "
      "version = excluded.version, synced_at_ms = excluded.synced_at_ms, "
      "tag_count = excluded.tag_count, tags = excluded.tags");
  if (!upsert.ok()) return upsert.status();
  upsert->BindText(1, index.member)
      .BindInt(2, index.oprf_epoch)
      .BindInt(3, static_cast<int64_t>(index.version))
      .BindInt(4, index.synced_at_ms)
      .BindInt(5, static_cast<int64_t>(index.tags.size()))
      .BindBlob(6, packed);
  RETURN_IF_ERROR(upsert->Run());
  ASSIGN_OR_RETURN(
      Statement baseline,
      db.Prepare("INSERT INTO peer_index_baselines (member, day, count) "
                 "VALUES ($1, $2, $3) ON CONFLICT (member) DO UPDATE SET "
                 "day = excluded.day, count = excluded.count"));
  baseline.BindText(1, index.member)
      .BindInt(2, index.baseline_day)
      .BindInt(3, static_cast<int64_t>(index.baseline_count));
  return baseline.Run();
}

absl::StatusOr<PeerIndex> ReadPeerIndex(Database&, const Statement& stmt) {
  PeerIndex index;
  index.member = stmt.ColumnText(1);
  index.oprf_epoch = static_cast<uint32_t>(stmt.ColumnInt(2));
  index.version = static_cast<uint64_t>(stmt.ColumnInt(3));
  index.synced_at_ms = stmt.ColumnInt(4);
  const int64_t count = stmt.ColumnInt(5);
  index.baseline_day = stmt.ColumnInt(6);
  index.baseline_count = static_cast<uint64_t>(stmt.ColumnInt(7));

  const std::string_view packed = stmt.ColumnBlobView(8);
  if (count < 0 ||
      packed.size() != static_cast<uint64_t>(count) * sizeof(Tag)) {
    return absl::DataLossError(absl::StrCat("the index copy of ", index.member,
                                            " has ", packed.size(),
                                            " bytes for ", count, " tags"));
  }
  index.tags.resize(count);
  if (count > 0) std::memcpy(index.tags.data(), packed.data(), packed.size());
  for (Tag& tag : index.tags) tag = SwapBigEndian(tag);
  for (size_t i = 1; i < index.tags.size(); ++i) {
    if (index.tags[i - 1] >= index.tags[i]) {
      return absl::DataLossError(absl::StrCat(
          "the index copy of ", index.member, " is out of order at ", i));
    }
  }
  return index;
}

absl::Status WriteIndexEvidence(Database& db, const IndexEvidence& evidence) {
  {
    ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO index_evidence (member, version, count, "
                   "received_at_ms, status_code, reason, manifest) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)"));
    insert.BindText(1, evidence.member)
        .BindInt(2, static_cast<int64_t>(evidence.version))
        .BindInt(3, static_cast<int64_t>(evidence.count))
        .BindInt(4, evidence.received_at_ms)
        .BindInt(5, evidence.status_code)
        .BindText(6, evidence.reason)
        .BindBlob(7, evidence.manifest);
    RETURN_IF_ERROR(insert.Run());
  }
  ASSIGN_OR_RETURN(
      Statement trim,
      db.Prepare("DELETE FROM index_evidence WHERE member = $1 AND id NOT IN "
                 "(SELECT id FROM index_evidence WHERE member = $1 "
                 "ORDER BY id DESC LIMIT NULLIF($2, -1))"));
  trim.BindText(1, evidence.member)
      .BindInt(2, static_cast<int64_t>(kMaxIndexEvidencePerMember));
  return trim.Run();
}

absl::StatusOr<std::vector<IndexEvidence>> ReadIndexEvidence(
    Database& db, const std::string& member) {
  ASSIGN_OR_RETURN(
      Statement select,
      db.Prepare("SELECT member, version, count, received_at_ms, status_code, "
                 "reason, manifest FROM index_evidence "
                 "WHERE $1 = '' OR member = $1 ORDER BY id"));
  select.BindText(1, member);
  std::vector<IndexEvidence> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    IndexEvidence e;
    e.member = select.ColumnText(0);
    e.version = static_cast<uint64_t>(select.ColumnInt(1));
    e.count = static_cast<uint64_t>(select.ColumnInt(2));
    e.received_at_ms = select.ColumnInt(3);
    e.status_code = static_cast<int32_t>(select.ColumnInt(4));
    e.reason = select.ColumnText(5);
    e.manifest = select.ColumnBlob(6);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace cbx::node::pgsql
