#include "client/audit/output.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/names.h"
#include "client/strings.h"
#include "client/table.h"
#include "client/time_format.h"
#include "core/util/bytes.h"

namespace cbx::client::audit {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string Num(uint64_t n) { return std::to_string(n); }

// Wire text as shown: control characters replaced, "-" for empty.
std::string Show(std::string_view s) {
  return s.empty() ? "-" : SanitizeForTerminal(s);
}

std::string HexOrDash(std::string_view bytes) {
  return bytes.empty() ? "-" : HexEncode(bytes);
}

Json HexOrNull(std::string_view bytes) {
  if (bytes.empty()) return nullptr;
  return HexEncode(bytes);
}

Json TimeJson(int64_t ms) {
  if (ms == 0) return nullptr;
  return FormatTimestampPrecise(ms);
}

std::string Plural(uint64_t n, const std::string& one,
                   const std::string& many) {
  return Num(n) + " " + (n == 1 ? one : many);
}

std::string KeyName(const std::string& name, uint32_t key_id) {
  return SanitizeForTerminal(name) + "+" + KeyIdHex(key_id);
}

std::string Witnessed(const CheckpointReport& r) {
  return (r.witnessed ? "yes: " : "NO: ") + DescribeWitnesses(r);
}

Fields CheckpointFields(const CheckpointReport& r) {
  Fields f = {
      {"log", r.origin},
      {"size", Num(r.checkpoint.size)},
      {"root hash", HexEncode(r.checkpoint.root_hash)},
      {"directory", "version " + Num(r.directory_version)},
      {"signed by",
       KeyName(r.origin, r.log_key_id) + " (node key of " + r.member + ")"},
      {"witnessed", Witnessed(r)},
  };
  if (!r.log_chain.empty()) f.emplace_back("log chain", r.log_chain);
  return f;
}

// The cosignature table, ignored lines and warnings.
std::string CheckpointDetails(const CheckpointReport& r) {
  std::string out;
  if (r.cosignatures.empty()) {
    out += "\nno witness cosignatures\n";
  } else {
    Table t({"WITNESS", "KEY", "COSIGNED AT"});
    for (const Cosignature& c : r.cosignatures) {
      t.AddRow({c.witness, KeyName(c.name, c.key_id),
                FormatTimestamp(static_cast<int64_t>(c.timestamp) * 1000)});
    }
    out += "\n" + t.Render();
  }
  if (!r.ignored.empty()) {
    out += "\nignored signature lines (no key of the directory):\n";
    Fields f;
    for (const IgnoredSignature& ig : r.ignored) {
      f.emplace_back(KeyName(ig.name, ig.key_id), ig.reason);
    }
    out += RenderFields(f, 2);
  }
  for (const std::string& w : r.warnings) out += "warning: " + w + "\n";
  return out;
}

std::string TrustLine(const TrustUpdate& t, const CheckpointReport& r) {
  switch (t.kind) {
    case TrustUpdate::Kind::kFirstUse:
      return "first use: no checkpoint of " + r.origin +
             " was trusted yet; trusting this one from now on";
    case TrustUpdate::Kind::kFromEmpty:
      return "the trusted checkpoint was the empty tree: nothing to check";
    case TrustUpdate::Kind::kSame:
      return "same tree as the trusted checkpoint " +
             Num(t.trusted_size.value_or(0));
    case TrustUpdate::Kind::kExtended:
      return "consistent with the trusted checkpoint " +
             Num(t.trusted_size.value_or(0)) + " (proof of " +
             Plural(t.proof_hashes, "hash", "hashes") + " verified)";
  }
  return "";
}

std::string TrustKindName(TrustUpdate::Kind k) {
  switch (k) {
    case TrustUpdate::Kind::kFirstUse:
      return "first_use";
    case TrustUpdate::Kind::kFromEmpty:
      return "from_empty";
    case TrustUpdate::Kind::kSame:
      return "same";
    case TrustUpdate::Kind::kExtended:
      return "extended";
  }
  return "unknown";
}

std::string Outcome(const v1::AuditOutcome& o) {
  std::string out = StatusCodeName(o.status_code());
  out += ", " + Plural(o.elements(), "element", "elements");
  out += ", " + Plural(o.hits(), "hit", "hits");
  out += ", " + Plural(o.references(), "reference", "references");
  if (o.has_retention()) {  // a retention sweep's deletions
    const v1::RetentionCounts& r = o.retention();
    out +=
        absl::StrCat("; deleted: ", r.closed_cases(), " closed cases, ",
                     r.received_references(), " received references, ",
                     r.inbox_entries(), " inbox entries, ", r.replay_entries(),
                     " replay entries, ", r.index_changes(), " index changes");
  }
  return out;
}

std::string OrphanKindText(const Orphan& o, const ReconcileReport& r) {
  const std::string& self = r.sides[o.side].member;
  const std::string& other = r.sides[1 - o.side].member;
  if (o.kind == OrphanKind::kSentNotReceived) {
    return "sent by " + self + ", not received by " + other;
  }
  return "received by " + self + ", not sent by " + other;
}

std::string OrphanKindName(OrphanKind k) {
  return k == OrphanKind::kSentNotReceived ? "sent_not_received"
                                           : "received_not_sent";
}

std::string OrphanTable(const std::vector<Orphan>& orphans,
                        const ReconcileReport& r) {
  Table t({"ORPHAN", "INDEX", "TIME", "RPC", "KIND", "STATUS", "ENVELOPE"});
  for (const Orphan& o : orphans) {
    t.AddRow({OrphanKindText(o, r), Num(o.index),
              FormatTimestamp(o.entry.time_ms()), Show(o.entry.rpc()),
              Show(o.entry.kind()),
              StatusCodeName(o.entry.outcome().status_code()),
              HexEncode(o.entry.envelope_sha256()).substr(0, 16)});
  }
  return t.Render();
}

Json OrphansJson(const std::vector<Orphan>& orphans, const ReconcileReport& r) {
  Json out = Json::array();
  for (const Orphan& o : orphans) {
    Json j;
    j["member"] = r.sides[o.side].member;
    j["index"] = o.index;
    j["orphan"] = OrphanKindName(o.kind);
    j["time"] = TimeJson(o.entry.time_ms());
    j["peer"] = o.entry.peer();
    j["rpc"] = o.entry.rpc();
    j["kind"] = o.entry.kind();
    j["status"] = StatusCodeName(o.entry.outcome().status_code());
    j["envelope_sha256"] = HexEncode(o.entry.envelope_sha256());
    out.push_back(std::move(j));
  }
  return out;
}

std::string SideText(const ReconcileSide& s) {
  if (!s.has_entries) return s.member + ": no entries";
  return s.member + ": entries " + Num(s.begin) + ".." + Num(s.end - 1) + ", " +
         FormatTimestamp(s.first_ms) + " to " + FormatTimestamp(s.last_ms) +
         "; " + Num(s.sent) + " sent to and " + Num(s.received) +
         " received from the other, " + Num(s.other) + " other";
}

}  // namespace

std::string DirectionName(v1::AuditDirection direction) {
  switch (direction) {
    case v1::AUDIT_DIRECTION_SENT:
      return "sent";
    case v1::AUDIT_DIRECTION_RECEIVED:
      return "received";
    case v1::AUDIT_DIRECTION_LOCAL:
      return "local";
    case v1::AUDIT_DIRECTION_UNSPECIFIED:
      return "unspecified";
    default:
      return "direction #" + std::to_string(static_cast<int>(direction));
  }
}

std::string CheckpointText(const CheckpointReport& report) {
  return RenderFields(CheckpointFields(report)) + CheckpointDetails(report);
}

Json CheckpointJson(const CheckpointReport& r) {
  Json j;
  j["origin"] = r.origin;
  j["member"] = r.member;
  j["size"] = r.checkpoint.size;
  j["root_hash"] = HexEncode(r.checkpoint.root_hash);
  j["directory_version"] = r.directory_version;
  j["log_key"] = r.origin + "+" + KeyIdHex(r.log_key_id);
  j["witnessed"] = r.witnessed;
  j["witnesses"] = r.witnesses;
  j["witness_threshold"] = r.threshold;
  if (!r.log_chain.empty()) j["log_chain"] = r.log_chain;
  Json cosigs = Json::array();
  for (const Cosignature& c : r.cosignatures) {
    cosigs.push_back({{"witness", c.witness},
                      {"key", c.name + "+" + KeyIdHex(c.key_id)},
                      {"time", FormatTimestampPrecise(
                                   static_cast<int64_t>(c.timestamp) * 1000)},
                      {"timestamp", c.timestamp}});
  }
  j["cosignatures"] = cosigs;
  Json ignored = Json::array();
  for (const IgnoredSignature& ig : r.ignored) {
    ignored.push_back(
        {{"key", ig.name + "+" + KeyIdHex(ig.key_id)}, {"reason", ig.reason}});
  }
  j["ignored"] = ignored;
  Json warnings = Json::array();
  for (const std::string& w : r.warnings) warnings.push_back(w);
  j["warnings"] = warnings;
  j["checkpoint"] = r.note;
  return j;
}

std::string VerifyText(const CheckpointReport& report,
                       const TrustUpdate& trust) {
  Fields f = CheckpointFields(report);
  f.emplace_back("consistency", TrustLine(trust, report));
  if (!trust.predecessor.empty()) {
    f.emplace_back("predecessor", trust.predecessor);
  }
  f.emplace_back("trusted now", "checkpoint " + Num(report.checkpoint.size) +
                                    ", stored in " + trust.state_file);
  return RenderFields(f) + CheckpointDetails(report);
}

Json VerifyJson(const CheckpointReport& report, const TrustUpdate& trust) {
  Json j;
  j["verified"] = true;
  j["checkpoint"] = CheckpointJson(report);
  Json c;
  c["result"] = TrustKindName(trust.kind);
  c["trusted_size"] =
      trust.trusted_size ? Json(*trust.trusted_size) : Json(nullptr);
  c["proof_hashes"] = trust.proof_hashes;
  c["state_file"] = trust.state_file;
  if (!trust.predecessor.empty()) c["predecessor"] = trust.predecessor;
  j["consistency"] = c;
  return j;
}

std::string EntryText(const v1::AuditEntry& e) {
  Fields f = {
      {"sequence", Num(e.sequence())},
      {"time", Show(FormatTimestamp(e.time_ms()))},
      {"direction", DirectionName(e.direction())},
      {"peer", Show(e.peer())},
      {"rpc", Show(e.rpc())},
      {"kind", Show(e.kind())},
      {"envelope sha256", HexOrDash(e.envelope_sha256())},
      {"message id", HexOrDash(e.message_id())},
      {"in reply to", HexOrDash(e.in_reply_to())},
      {"outcome", Outcome(e.outcome())},
      {"office", Show(e.office())},
      {"user", Show(e.user())},
  };
  return RenderFields(f);
}

Json EntryJson(const v1::AuditEntry& e) {
  Json j;
  j["sequence"] = e.sequence();
  j["time"] = TimeJson(e.time_ms());
  j["time_ms"] = e.time_ms();
  j["direction"] = DirectionName(e.direction());
  j["peer"] = e.peer();
  j["rpc"] = e.rpc();
  j["kind"] = e.kind();
  j["envelope_sha256"] = HexOrNull(e.envelope_sha256());
  j["message_id"] = HexOrNull(e.message_id());
  j["in_reply_to"] = HexOrNull(e.in_reply_to());
  const v1::AuditOutcome& o = e.outcome();
  j["outcome"] = {{"status", StatusCodeName(o.status_code())},
                  {"status_code", o.status_code()},
                  {"elements", o.elements()},
                  {"hits", o.hits()},
                  {"references", o.references()}};
  if (o.has_retention()) {
    const v1::RetentionCounts& r = o.retention();
    j["outcome"]["retention"] = {
        {"closed_cases", r.closed_cases()},
        {"received_references", r.received_references()},
        {"inbox_entries", r.inbox_entries()},
        {"replay_entries", r.replay_entries()},
        {"index_changes", r.index_changes()}};
  }
  j["office"] = e.office();
  j["user"] = e.user();
  return j;
}

std::string ProofText(uint64_t index, const v1::AuditEntry& entry,
                      uint64_t size, const CheckpointReport& report) {
  std::string out = "entry " + Num(index) + " of " + report.origin + "\n";
  out += EntryText(entry);
  std::string included = "included in checkpoint " +
                         Num(report.checkpoint.size) +
                         " (witnessed: " + Witnessed(report) + ")";
  if (size != report.checkpoint.size) {
    included =
        "included in the tree of size " + Num(size) + ", which checkpoint " +
        Num(report.checkpoint.size) +
        " extends (consistency verified; witnessed: " + Witnessed(report) + ")";
  }
  out += "\n" + included + "\n";
  for (const std::string& w : report.warnings) out += "warning: " + w + "\n";
  return out;
}

Json ProofJson(uint64_t index, const v1::AuditEntry& entry,
               std::string_view leaf, uint64_t size,
               const CheckpointReport& report) {
  Json j;
  j["verified"] = true;
  j["included"] = true;
  j["index"] = index;
  j["tree_size"] = size;
  j["entry"] = EntryJson(entry);
  j["leaf_hex"] = HexEncode(leaf);
  j["checkpoint"] = CheckpointJson(report);
  return j;
}

std::string ExportText(const std::string& path, const VerifiedExport& e) {
  const CheckpointReport& r = e.checkpoint;
  Fields f = {
      {"export", SanitizeForTerminal(path)},
      {"member", r.member},
      {"entries", e.entries.empty()
                      ? std::string("none")
                      : Num(e.begin) + ".." + Num(e.end - 1) + " (" +
                            Plural(e.entries.size(), "entry", "entries") + ")"},
      {"checkpoint",
       Num(r.checkpoint.size) + ", root " + HexEncode(r.checkpoint.root_hash)},
      {"signed by",
       KeyName(r.origin, r.log_key_id) + " (node key of " + r.member + ")"},
      {"witnessed", Witnessed(r)},
      {"directory",
       "version " + Num(r.directory_version) +
           (e.directory.versions.empty()
                ? std::string(" (the pinned genesis; the export carries no "
                              "directory versions)")
                : " (a chain of " +
                      Plural(e.directory.versions.size(), "version",
                             "versions") +
                      " verified from the pinned genesis)")},
      {"verified",
       e.entries.empty()
           ? std::string("the checkpoint and the directory chain")
           : "every entry is in the checkpoint's tree and is the AuditEntry "
             "of its index"},
  };
  if (!r.log_chain.empty()) f.emplace_back("log chain", r.log_chain);
  std::string out = RenderFields(f);
  for (const std::string& w : r.warnings) out += "warning: " + w + "\n";
  return out;
}

Json ExportJson(const std::string& path, const VerifiedExport& e) {
  Json j;
  j["verified"] = true;
  j["file"] = path;
  j["member"] = e.checkpoint.member;
  j["begin"] = e.begin;
  j["end"] = e.end;
  j["entries"] = e.entries.size();
  j["directory_version"] = e.checkpoint.directory_version;
  j["checkpoint"] = CheckpointJson(e.checkpoint);
  return j;
}

namespace {

// A thread step as "sent <time> by MK, received <time> by RS, code 100".
std::string StepText(const ThreadStep& step, const std::string& from,
                     const std::string& to) {
  if (!step.logged()) return "not logged";
  std::string out;
  out += step.sent ? "sent " + FormatTimestamp(step.sent_ms) + " by " + from
                   : "not logged as sent by " + from;
  out += step.received
             ? ", received " + FormatTimestamp(step.received_ms) + " by " + to
             : ", not logged as received by " + to;
  if (step.code != 0) out += ", code " + Num(uint64_t{step.code});
  if (step.received && step.received_status != 0) {
    out += ", refused (status " +
           Num(static_cast<uint64_t>(step.received_status)) + ")";
  }
  return out;
}

Json StepJson(const ThreadStep& step) {
  Json j;
  j["sent_time"] = step.sent ? TimeJson(step.sent_ms) : Json(nullptr);
  j["received_time"] =
      step.received ? TimeJson(step.received_ms) : Json(nullptr);
  j["code"] = step.code;
  j["received_status"] = step.received_status;
  return j;
}

// The cooperation threads: who answered what, when.
std::string ThreadsText(const std::vector<CooperationThread>& threads) {
  if (threads.empty()) return "";
  std::string out = "\ncooperation (who answered what, when):\n";
  for (const CooperationThread& t : threads) {
    const bool withdrawal = t.opening.kind == "withdrawal";
    const std::string what = withdrawal ? "withdrawal" : "request";
    out += "  " + what + " " + t.id.substr(0, 8) + "... " + t.opener +
           " -> " + t.answerer +
           (withdrawal ? "" : ", type " + Num(uint64_t{t.type})) + "\n";
    out += "    " + what + ": " + StepText(t.opening, t.opener, t.answerer) +
           "\n";
    out += "    " + std::string(withdrawal ? "deletion receipt" : "receipt") +
           ": " + StepText(t.receipt, t.answerer, t.opener) + "\n";
    if (!withdrawal) {
      out += "    response: " + StepText(t.response, t.answerer, t.opener) +
             "\n";
      out += "    response receipt: " +
             StepText(t.response_receipt, t.opener, t.answerer) + "\n";
    }
    for (const std::string& p : t.problems) {
      out += "    GAP: " + SanitizeForTerminal(p) + "\n";
    }
  }
  return out;
}

Json ThreadsJson(const std::vector<CooperationThread>& threads) {
  Json out = Json::array();
  for (const CooperationThread& t : threads) {
    Json j;
    j["id"] = t.id;
    j["kind"] = t.opening.kind;
    j["from"] = t.opener;
    j["to"] = t.answerer;
    j["type"] = t.type;
    j["opening"] = StepJson(t.opening);
    j["receipt"] = StepJson(t.receipt);
    if (t.opening.kind != "withdrawal") {
      j["response"] = StepJson(t.response);
      j["response_receipt"] = StepJson(t.response_receipt);
    }
    j["problems"] = t.problems;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::string ReconcileText(const ReconcileReport& r) {
  Fields f = {
      {"first", SideText(r.sides[0])},
      {"second", SideText(r.sides[1])},
      {"margin", Num(static_cast<uint64_t>(r.margin_ms / 1000)) +
                     " s at each end of the other export's range"},
      {"matched", Plural(r.matched, "pair", "pairs") + " (" +
                      Num(r.matched_refused) +
                      " received and refused by the receiver)"},
      {"orphans", Num(r.orphans.size()) + " inside the other export's range, " +
                      Num(r.outside.size()) + " outside it"},
      {"undelivered",
       Num(r.undelivered.size()) + " sent, and logged as failed by the sender"},
  };
  std::string out = RenderFields(f);
  if (!r.orphans.empty()) {
    out += "\norphans:\n" + OrphanTable(r.orphans, r);
  }
  if (!r.outside.empty()) {
    out +=
        "\noutside the other export's range (their partner may lie outside "
        "it; not counted):\n" +
        OrphanTable(r.outside, r);
  }
  if (!r.undelivered.empty()) {
    out +=
        "\nundelivered (the sender logged the call as failed; not "
        "counted):\n" +
        OrphanTable(r.undelivered, r);
  }
  out += ThreadsText(r.cooperation);
  out +=
      r.orphans.empty()
          ? "\nreconciled: every envelope in range was logged by both sides\n"
          : "\nNOT reconciled: " +
                Plural(r.orphans.size(), "orphan", "orphans") + "\n";
  return out;
}

Json ReconcileJson(const ReconcileReport& r) {
  Json j;
  j["verified"] = true;
  j["reconciled"] = r.orphans.empty();
  Json sides = Json::array();
  for (const ReconcileSide& s : r.sides) {
    Json x;
    x["member"] = s.member;
    x["begin"] = s.begin;
    x["end"] = s.end;
    x["first_time"] = s.has_entries ? TimeJson(s.first_ms) : Json(nullptr);
    x["last_time"] = s.has_entries ? TimeJson(s.last_ms) : Json(nullptr);
    x["sent"] = s.sent;
    x["received"] = s.received;
    x["other"] = s.other;
    sides.push_back(std::move(x));
  }
  j["exports"] = sides;
  j["margin_s"] = r.margin_ms / 1000;
  j["matched"] = r.matched;
  j["matched_refused"] = r.matched_refused;
  j["orphans"] = OrphansJson(r.orphans, r);
  j["outside"] = OrphansJson(r.outside, r);
  j["undelivered"] = OrphansJson(r.undelivered, r);
  j["cooperation"] = ThreadsJson(r.cooperation);
  return j;
}

}  // namespace cbx::client::audit
