#include "client/audit/export.h"

#include <set>
#include <utility>

#include "absl/strings/string_view.h"
#include "core/directory/directory.h"
#include "core/logcheck/log_generation.h"
#include "nlohmann/json.hpp"

namespace cbx::client::audit {
namespace {

using Json = nlohmann::ordered_json;

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

std::string Num(uint64_t n) { return std::to_string(n); }

absl::Status WithPrefix(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), prefix + Str(status.message()));
}

// Checks that `obj` (at `where`) has exactly the keys `fields`.
absl::Status ExactFields(const Json& obj, const std::string& where,
                         const std::vector<std::string>& fields) {
  if (!obj.is_object()) {
    return absl::InvalidArgumentError(where + ": not a JSON object");
  }
  for (const std::string& f : fields) {
    if (!obj.contains(f)) {
      return absl::InvalidArgumentError(where + ": the field \"" + f +
                                        "\" is missing");
    }
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (const std::string& f : fields) known = known || f == it.key();
    if (!known) {
      return absl::InvalidArgumentError(where + ": unknown field \"" +
                                        it.key() + "\"");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GetString(const Json& v, const std::string& where) {
  if (!v.is_string()) {
    return absl::InvalidArgumentError(where + ": not a string");
  }
  return v.get<std::string>();
}

absl::StatusOr<Bytes> GetHex(const Json& v, const std::string& where) {
  auto s = GetString(v, where);
  if (!s.ok()) return s.status();
  auto bytes = HexDecode(*s);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(where +
                                      ": not hex (an even number of "
                                      "hex digits)");
  }
  return bytes;
}

std::string Where(const std::string& array, size_t i) {
  return array + "[" + Num(i) + "]";
}

// "directory_versions": hex of binary SignedDirectory messages.
absl::StatusOr<std::vector<v1::SignedDirectory>> ParseDirectoryVersions(
    const Json& versions) {
  if (!versions.is_array()) {
    return absl::InvalidArgumentError("directory_versions: not an array");
  }
  std::vector<v1::SignedDirectory> out;
  for (size_t i = 0; i < versions.size(); ++i) {
    const std::string where = Where("directory_versions", i);
    auto bytes = GetHex(versions[i], where);
    if (!bytes.ok()) return bytes.status();
    v1::SignedDirectory sd;
    if (!sd.ParseFromString(*bytes)) {
      return absl::InvalidArgumentError(where +
                                        ": not a binary SignedDirectory");
    }
    out.push_back(std::move(sd));
  }
  return out;
}

// One item of "entries", `where` ("entries[3]") naming it in messages.
absl::StatusOr<ExportedEntry> ParseExportedEntry(const Json& e,
                                                 const std::string& where) {
  if (absl::Status s =
          ExactFields(e, where, {"index", "leaf_hex", "inclusion_proof"});
      !s.ok()) {
    return s;
  }
  ExportedEntry x;
  if (!e["index"].is_number_unsigned()) {
    return absl::InvalidArgumentError(where +
                                      ".index: not a non-negative integer");
  }
  x.index = e["index"].get<uint64_t>();
  auto leaf = GetHex(e["leaf_hex"], where + ".leaf_hex");
  if (!leaf.ok()) return leaf.status();
  x.leaf = *std::move(leaf);
  const Json& proof = e["inclusion_proof"];
  if (!proof.is_array()) {
    return absl::InvalidArgumentError(where + ".inclusion_proof: not an array");
  }
  for (size_t j = 0; j < proof.size(); ++j) {
    auto h = GetHex(proof[j], Where(where + ".inclusion_proof", j));
    if (!h.ok()) return h.status();
    x.inclusion_proof.push_back(*std::move(h));
  }
  return x;
}

}  // namespace

std::string FormatExport(const AuditExport& e) {
  std::string out = "{\n";
  out += "  \"format\": " + Json(kExportFormat).dump() + ",\n";
  out += "  \"member\": " + Json(e.member).dump() + ",\n";
  out += "  \"checkpoint\": " + Json(e.checkpoint).dump() + ",\n";
  out += "  \"directory_versions\": [";
  for (size_t i = 0; i < e.directory_versions.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    out += Json(HexEncode(e.directory_versions[i].SerializeAsString())).dump();
  }
  out += e.directory_versions.empty() ? "],\n" : "\n  ],\n";
  out += "  \"entries\": [";
  for (size_t i = 0; i < e.entries.size(); ++i) {
    const ExportedEntry& x = e.entries[i];
    Json proof = Json::array();
    for (const Bytes& h : x.inclusion_proof) proof.push_back(HexEncode(h));
    Json entry = {{"index", x.index},
                  {"leaf_hex", HexEncode(x.leaf)},
                  {"inclusion_proof", proof}};
    out += i == 0 ? "\n    " : ",\n    ";
    out += entry.dump();
  }
  out += e.entries.empty() ? "]\n" : "\n  ]\n";
  out += "}\n";
  return out;
}

absl::StatusOr<AuditExport> ParseExport(std::string_view text) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(std::string("not JSON: ") + e.what());
  }
  if (doc.is_object() && doc.contains("format") && doc["format"].is_string() &&
      doc["format"].get<std::string>() != kExportFormat) {
    return absl::InvalidArgumentError(
        "format: \"" + doc["format"].get<std::string>() +
        "\" is not a format this cbx reads (" + kExportFormat + ")");
  }
  if (absl::Status s = ExactFields(
          doc, "the export",
          {"format", "member", "checkpoint", "directory_versions", "entries"});
      !s.ok()) {
    return s;
  }
  auto format = GetString(doc["format"], "format");
  if (!format.ok()) return format.status();
  AuditExport out;
  auto member = GetString(doc["member"], "member");
  if (!member.ok()) return member.status();
  if (!directory::IsMemberCode(*member)) {
    return absl::InvalidArgumentError("member: \"" + *member +
                                      "\" is not a member code (two capital "
                                      "letters)");
  }
  out.member = *member;
  auto checkpoint = GetString(doc["checkpoint"], "checkpoint");
  if (!checkpoint.ok()) return checkpoint.status();
  out.checkpoint = *checkpoint;

  auto versions = ParseDirectoryVersions(doc["directory_versions"]);
  if (!versions.ok()) return versions.status();
  out.directory_versions = *std::move(versions);

  const Json& entries = doc["entries"];
  if (!entries.is_array()) {
    return absl::InvalidArgumentError("entries: not an array");
  }
  out.entries.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    auto x = ParseExportedEntry(entries[i], Where("entries", i));
    if (!x.ok()) return x.status();
    out.entries.push_back(*std::move(x));
  }
  return out;
}

namespace {

// The predecessor the directory versions name for generation `generation`
// of `member`'s log: the record of the first version that announced it (a
// generation's record never changes, spec/directory.md §5.2 step 8).
absl::StatusOr<logcheck::Predecessor> AnnouncedPredecessor(
    const VerifiedDirectory& dir, const std::string& member,
    uint32_t generation) {
  std::vector<v1::Directory> versions;
  for (const v1::SignedDirectory& s : dir.versions) {
    v1::Directory d;
    if (d.ParseFromString(s.directory())) versions.push_back(std::move(d));
  }
  versions.push_back(dir.latest->proto());
  for (const v1::Directory& d : versions) {
    for (const v1::Member& m : d.members()) {
      if (m.code() == member && logcheck::GenerationOf(m) == generation) {
        return logcheck::PredecessorOf(m);
      }
    }
  }
  return absl::NotFoundError("no directory version given announces it");
}

}  // namespace

absl::Status CheckFirstEntry(const VerifiedDirectory& dir,
                             const std::string& member,
                             const std::string& origin,
                             const v1::AuditEntry& entry) {
  const uint32_t generation = GenerationOfOrigin(member, origin);
  if (generation < 2) {
    if (entry.has_log_predecessor()) {
      return absl::DataLossError("a log_predecessor entry in " + origin +
                                 ", the first generation of " + member +
                                 "'s log, which has none");
    }
    return absl::OkStatus();
  }
  if (entry.kind() != "log_predecessor" || !entry.has_log_predecessor()) {
    return absl::DataLossError(
        origin + " is generation " + Num(generation) + " of " + member +
        "'s log, but its entry 0 is \"" + entry.kind() +
        "\", not the log_predecessor entry a recovered log starts with");
  }
  auto announced = AnnouncedPredecessor(dir, member, generation);
  if (!announced.ok()) {
    return absl::FailedPreconditionError(
        "cannot check the log_predecessor entry of " + origin + ": " +
        std::string(announced.status().message()) +
        " (export with the directory versions up to the one that does)");
  }
  const v1::AuditLogPredecessor& p = entry.log_predecessor();
  if (p.generation() != generation ||
      p.predecessor_origin() != announced->origin ||
      p.predecessor_size() != announced->size ||
      p.predecessor_root_hash() != announced->root_hash) {
    return absl::DataLossError(
        "the log_predecessor entry names generation " + Num(p.generation()) +
        " after " + p.predecessor_origin() + " checkpoint " +
        Num(p.predecessor_size()) + ", but the directory announced " + origin +
        " after " + announced->origin + " checkpoint " + Num(announced->size) +
        (p.predecessor_size() == announced->size ? " with another root" : ""));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifiedExport> VerifyExport(const v1::SignedDirectory& genesis,
                                            AuditExport file,
                                            const ExportCheckOptions& options) {
  VerifiedExport out;
  auto dir = VerifyDirectoryChain(genesis, file.directory_versions);
  if (!dir.ok()) return WithPrefix(dir.status(), "directory: ");
  out.directory = *std::move(dir);

  auto checkpoint = VerifyCheckpoint(*out.directory.latest, file.member,
                                     file.checkpoint, options.now_ms);
  if (!checkpoint.ok()) {
    return WithPrefix(checkpoint.status(), "checkpoint: ");
  }
  if (options.require_witnessed) {
    if (absl::Status s = RequireWitnessed(*checkpoint); !s.ok()) {
      return WithPrefix(s, "checkpoint: ");
    }
  }
  out.checkpoint = *std::move(checkpoint);
  const note::Checkpoint& cp = out.checkpoint.checkpoint;

  out.entries.reserve(file.entries.size());
  for (size_t i = 0; i < file.entries.size(); ++i) {
    const ExportedEntry& x = file.entries[i];
    if (i > 0 && x.index != file.entries[i - 1].index + 1) {
      return absl::InvalidArgumentError(
          "entry " + Num(x.index) + ": follows entry " +
          Num(file.entries[i - 1].index) + " (entries[" + Num(i) +
          "]): an export's entries must be "
          "consecutive and ascending");
    }
    if (x.index >= cp.size) {
      return absl::InvalidArgumentError("entry " + Num(x.index) +
                                        ": beyond the checkpoint's size " +
                                        Num(cp.size));
    }
    auto entry =
        VerifyEntry(x.index, x.leaf, x.inclusion_proof, cp.size, cp.root_hash);
    if (!entry.ok()) return entry.status();
    out.entries.push_back(VerifiedEntry{x.index, *std::move(entry)});
  }
  if (!file.entries.empty()) {
    out.begin = file.entries.front().index;
    out.end = file.entries.back().index + 1;
  }
  if (out.begin == 0 && !out.entries.empty()) {
    absl::Status first = CheckFirstEntry(out.directory, file.member, cp.origin,
                                         out.entries.front().entry);
    if (!first.ok()) return WithPrefix(first, "entry 0: ");
  }
  out.file = std::move(file);
  return out;
}

}  // namespace cbx::client::audit
