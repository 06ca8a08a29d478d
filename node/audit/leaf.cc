#include "node/audit/leaf.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace cbx::node::audit {

absl::StatusOr<std::string> EncodeLeaf(const v1::AuditEntry& entry) {
  // Unknown fields are written after the known ones, so the order rule of
  // the spec would not hold; an entry built in this process has none.
  if (!entry.GetReflection()->GetUnknownFields(entry).empty() ||
      !entry.outcome()
           .GetReflection()
           ->GetUnknownFields(entry.outcome())
           .empty()) {
    return absl::InvalidArgumentError("audit entry has unknown fields");
  }
  const size_t size = entry.ByteSizeLong();
  if (size > kMaxLeafSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit entry encodes to ", size, " bytes, more than ", kMaxLeafSize));
  }
  std::string leaf;
  {
    google::protobuf::io::StringOutputStream stream(&leaf);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    entry.SerializeWithCachedSizes(&out);
    if (out.HadError()) {
      return absl::InternalError("cannot serialize the audit entry");
    }
  }
  // proto3 string fields must be UTF-8; the serializer only logs a bad one,
  // and a leaf that does not parse would be useless to an auditor.
  v1::AuditEntry check;
  if (!check.ParseFromString(leaf)) {
    return absl::InvalidArgumentError(
        "audit entry has a string field that is not valid UTF-8");
  }
  return leaf;
}

absl::StatusOr<v1::AuditEntry> DecodeLeaf(std::string_view leaf) {
  v1::AuditEntry entry;
  if (!entry.ParseFromArray(leaf.data(), static_cast<int>(leaf.size()))) {
    return absl::InvalidArgumentError("leaf is not a cbx.v1.AuditEntry");
  }
  return entry;
}

}  // namespace cbx::node::audit
