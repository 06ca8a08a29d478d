#include "client/text_output.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <utility>
#include <vector>

#include "client/arguments.h"
#include "client/hit_groups.h"
#include "client/identifier_arg.h"
#include "client/messages.h"
#include "client/names.h"
#include "client/strings.h"
#include "client/table.h"
#include "client/time_format.h"
#include "core/identifiers/identifiers.h"
#include "core/util/bytes.h"

namespace cbx::client {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Text this CLI composed itself (lines already sanitized), "-" for empty.
std::string OrDash(std::string s) { return s.empty() ? "-" : s; }

// Text from the node (and through it from peers) as shown: control
// characters replaced, "-" for empty.
std::string Show(std::string_view s) {
  return s.empty() ? "-" : SanitizeForTerminal(s);
}

std::string Timestamp(int64_t ms) { return Show(FormatTimestamp(ms)); }

// `value` as `type` normalizes it (core/identifiers), or as given: tells
// the same name given as a link and as a name apart from another.
std::string Normalized(v1::IdentifierType type, std::string_view value) {
  absl::StatusOr<std::string> n = identifiers::Normalize(type, value);
  return n.ok() ? *n : std::string(value);
}

// A table's headers in `lang`, in capitals (client/messages.h).
std::vector<std::string> Headers(std::initializer_list<Msg> ids, Lang lang) {
  std::vector<std::string> out;
  for (Msg id : ids) out.push_back(Upper(Text(id, lang)));
  return out;
}

// A case status, a role and a peer's outcome in `lang`; a value this CLI
// does not know keeps its names.cc form.
std::string StatusText(v1::CaseStatus status, Lang lang) {
  switch (status) {
    case v1::CASE_STATUS_OPEN:
      return Text(Msg::kStatusOpen, lang);
    case v1::CASE_STATUS_CLOSED:
      return Text(Msg::kStatusClosed, lang);
    default:
      return CaseStatusName(status);
  }
}

std::string RoleText(v1::PerpetratorRole role, Lang lang) {
  switch (role) {
    case v1::PERPETRATOR_ROLE_CREATOR:
      return Text(Msg::kRoleCreator, lang);
    case v1::PERPETRATOR_ROLE_ADMINISTRATOR:
      return Text(Msg::kRoleAdministrator, lang);
    case v1::PERPETRATOR_ROLE_POSTER:
      return Text(Msg::kRolePoster, lang);
    case v1::PERPETRATOR_ROLE_RESHARER:
      return Text(Msg::kRoleResharer, lang);
    case v1::PERPETRATOR_ROLE_REQUESTER:
      return Text(Msg::kRoleRequester, lang);
    default:
      return Show(RoleName(role));
  }
}

std::string OutcomeText(v1::PeerOutcome outcome, Lang lang) {
  switch (outcome) {
    case v1::PEER_OUTCOME_HIT:
      return Text(Msg::kOutcomeHit, lang);
    case v1::PEER_OUTCOME_MISS:
      return Text(Msg::kOutcomeMiss, lang);
    case v1::PEER_OUTCOME_ERROR:
      return Text(Msg::kOutcomeError, lang);
    case v1::PEER_OUTCOME_PHANTOM:
      return Text(Msg::kOutcomePhantom, lang);
    default:
      return PeerOutcomeName(outcome);
  }
}

// `s` padded with spaces to `width` code points.
std::string PadRight(std::string s, size_t width) {
  size_t points = 0;
  for (unsigned char c : s) points += (c & 0xC0) != 0x80;
  if (points < width) s.append(width - points, ' ');
  return s;
}

std::string Offences(
    const google::protobuf::RepeatedPtrField<v1::Offence>& offences,
    Lang lang) {
  std::vector<std::string> lines;
  for (const v1::Offence& o : offences)
    lines.push_back(DescribeOffence(o, lang));
  return OrDash(Join(lines, "\n"));
}

// "phone:+38970123456 (2025-01-01..2025-06-30)", one per line.
std::string Identifiers(
    const google::protobuf::RepeatedPtrField<v1::Identifier>& ids) {
  std::vector<std::string> lines;
  for (const v1::Identifier& id : ids) {
    std::string line =
        IdentifierTypeName(id.type()) + ":" + SanitizeForTerminal(id.value());
    std::string window =
        FormatWindow(id.observed_from_ms(), id.observed_to_ms());
    if (!window.empty()) line += " (" + window + ")";
    lines.push_back(std::move(line));
  }
  return OrDash(Join(lines, "\n"));
}

// "your --id 1": where the office gave the identifier at `input_index`.
std::string IdArgument(int input_index) {
  return "your --id " + std::to_string(input_index + 1);
}

// "telegram_username, observed 2025-01-01..2025-06-30, your --id 1"; `input`
// names the identifier the office gave (IdArgument when null).
std::string Matched(
    const google::protobuf::RepeatedPtrField<v1::MatchedIdentifier>& matched,
    const InputName* input = nullptr) {
  std::vector<std::string> lines;
  for (const v1::MatchedIdentifier& m : matched) {
    std::string line = IdentifierTypeName(m.type());
    std::string window = FormatWindow(m.observed_from_ms(), m.observed_to_ms());
    line += ", observed " + (window.empty() ? "when unknown" : window);
    line += ", " + (input != nullptr && *input
                        ? (*input)(static_cast<int>(m.input_index()))
                        : IdArgument(static_cast<int>(m.input_index())));
    lines.push_back(std::move(line));
  }
  return OrDash(Join(lines, "\n"));
}

// "4 s", "12 min", "5 h", "3 d": how old a peer's index copy was.
std::string Age(int64_t ms) {
  const int64_t s = std::max<int64_t>(0, ms) / 1000;
  if (s < 120) return std::to_string(s) + " s";
  if (s < 120 * 60) return std::to_string(s / 60) + " min";
  if (s < 48 * 3600) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

std::string WindowOrUnknown(int64_t from_ms, int64_t to_ms, Lang lang) {
  std::string w = FormatWindow(from_ms, to_ms);
  return w.empty() ? Text(Msg::kUnknownWindow, lang) : w;
}

// One matched identifier in context, two lines: "! telegram_username:
// @Smokva_Admin" ('!' when the windows are disjoint) and "  yours
// 2025-01-01..2025-06-30, theirs 2021-01-01..". A watch's hit keeps no
// value: the type and "a watch keeps no value", and the peer's window.
std::string MatchText(const v1::HitMatch& m, Lang lang) {
  const bool disjoint = m.windows_overlap() == v1::WINDOWS_OVERLAP_DISJOINT;
  std::string line =
      std::string(disjoint ? "! " : "") + IdentifierTypeName(m.type());
  if (m.value().empty()) {
    return line + " (" + Text(Msg::kNoValueKept, lang) + ")\n  " +
           Text(Msg::kTheirs, lang) + " " +
           WindowOrUnknown(m.peer_from_ms(), m.peer_to_ms(), lang);
  }
  line += ":" + SanitizeForTerminal(m.value());
  // The normal form too when it differs from what was typed.
  if (!m.normalized().empty() && m.normalized() != m.value()) {
    line += " (" + SanitizeForTerminal(m.normalized()) + ")";
  }
  return line + "\n  " + Text(Msg::kYours, lang) + " " +
         WindowOrUnknown(m.querier_from_ms(), m.querier_to_ms(), lang) + ", " +
         Text(Msg::kTheirs, lang) + " " +
         WindowOrUnknown(m.peer_from_ms(), m.peer_to_ms(), lang);
}

// A hit's matched identifiers: in context when the node stored it (Hit
// fields 10-11), else as the reference gives them.
std::string HitMatched(const v1::Hit& h, Lang lang) {
  if (h.matches().empty()) return Matched(h.reference().matched());
  std::vector<std::string> lines;
  for (const v1::HitMatch& m : h.matches()) lines.push_back(MatchText(m, lang));
  return Join(lines, "\n");
}

std::string ReferenceText(const v1::CaseReference& ref, Lang lang,
                          const InputName* input) {
  Fields fields = {
      {Text(Msg::kCaseToken, lang), Show(HexEncode(ref.case_token()))},
      {Text(Msg::kOffences, lang), Offences(ref.offences(), lang)},
      {Text(Msg::kRole, lang), RoleText(ref.role(), lang)},
      {Text(Msg::kMatched, lang), Matched(ref.matched(), input)},
      {Text(Msg::kOffice, lang), Show(ref.competent_office())},
      {Text(Msg::kContact, lang), Show(ref.contact_point())},
      {Text(Msg::kStatus, lang), StatusText(ref.status(), lang)},
      {Text(Msg::kOpened, lang), Show(ref.opened_month())},
  };
  return RenderFields(fields, 4);
}

std::string MemberList(
    const google::protobuf::RepeatedPtrField<std::string>& members) {
  std::vector<std::string> v;
  for (const std::string& m : members) v.push_back(SanitizeForTerminal(m));
  return Join(v, ", ");
}

}  // namespace

std::string CaseText(const v1::Case& c, Lang lang) {
  Fields fields = {
      {Text(Msg::kCase, lang), Show(c.case_number())},
      {Text(Msg::kToken, lang), Show(HexEncode(c.case_token()))},
      {Text(Msg::kOffice, lang), Show(c.office())},
      {Text(Msg::kStatus, lang), StatusText(c.status(), lang)},
      {Text(Msg::kOpened, lang), Show(c.opened_month())},
      {Text(Msg::kRole, lang), RoleText(c.role(), lang)},
      {Text(Msg::kOffences, lang), Offences(c.offences(), lang)},
      {Text(Msg::kIdentifiers, lang), Identifiers(c.identifiers())},
      {Text(Msg::kContact, lang), Show(c.contact_point())},
      {Text(Msg::kCreated, lang), Timestamp(c.created_at_ms())},
      {Text(Msg::kUpdated, lang), Timestamp(c.updated_at_ms())},
  };
  return RenderFields(fields);
}

std::string CaseListText(const v1::ListCasesResponse& response, Lang lang,
                         size_t width) {
  if (response.cases().empty()) return Text(Msg::kNoCases, lang) + "\n";
  Table table(Headers({Msg::kCase, Msg::kStatus, Msg::kOpened, Msg::kRole,
                       Msg::kOffences, Msg::kIdentifiers, Msg::kUpdated},
                      lang));
  for (const v1::Case& c : response.cases()) {
    table.AddRow({Show(c.case_number()), StatusText(c.status(), lang),
                  Show(c.opened_month()), RoleText(c.role(), lang),
                  Offences(c.offences(), lang), Identifiers(c.identifiers()),
                  Timestamp(c.updated_at_ms())});
  }
  return table.Render(width);
}

std::string PeerAnswerText(const v1::PeerAnswer& answer, Lang lang,
                           const InputName* input) {
  char latency[32];
  std::snprintf(latency, sizeof latency, "%6lld ms",
                static_cast<long long>(answer.latency_ms()));
  std::string out = PadRight(Show(answer.member()), 3) + " " +
                    PadRight(OutcomeText(answer.outcome(), lang), 5) + " " +
                    latency;
  switch (answer.outcome()) {
    case v1::PEER_OUTCOME_HIT:
      out += "  " +
             Plural(answer.references_size(), "case reference",
                    "case references") +
             "\n";
      for (int i = 0; i < answer.references_size(); ++i) {
        if (i > 0) out += "\n";
        out += ReferenceText(answer.references(i), lang, input);
      }
      break;
    case v1::PEER_OUTCOME_ERROR: {
      out += "  " + StatusCodeName(answer.status_code());
      if (!answer.error().empty()) {
        out += ": " + SanitizeForTerminal(answer.error());
      }
      out += "\n";
      break;
    }
    case v1::PEER_OUTCOME_PHANTOM: {
      // One line: the peer's index claimed a hit its signed answer does
      // not stand behind (spec/lookup.md §2.1); then any references it did
      // stand behind.
      out += "  ";
      if (answer.status_code() != 0) {
        out += StatusCodeName(answer.status_code()) + ": ";
      }
      out += answer.error().empty()
                 ? std::string(
                       "phantom hit: the peer's index held the "
                       "identifier but its answer named no case")
                 : SanitizeForTerminal(answer.error());
      out += "\n";
      for (int i = 0; i < answer.references_size(); ++i) {
        out += "\n" + ReferenceText(answer.references(i), lang, input);
      }
      break;
    }
    case v1::PEER_OUTCOME_MISS:
      // As of when: a case registered after the copy is not in it.
      if (answer.index_synced_at_ms() != 0) {
        out += "  " + Text(Msg::kIndexAge, lang, Age(answer.index_age_ms()));
      }
      out += "\n";
      break;
    default:
      out += "\n";
      break;
  }
  return out;
}

std::string QuerySummaryText(const v1::QuerySummary& s) {
  std::vector<std::string> parts;
  auto part = [&](const google::protobuf::RepeatedPtrField<std::string>& m,
                  std::string_view one, std::string_view many) {
    std::string p = Plural(m.size(), one, many);
    if (!m.empty()) p += " (" + MemberList(m) + ")";
    parts.push_back(std::move(p));
  };
  part(s.hit_members(), "hit", "hits");
  part(s.miss_members(), "miss", "misses");
  part(s.failed_members(), "error", "errors");
  return "done in " + std::to_string(s.elapsed_ms()) +
         " ms: " + Join(parts, ", ") + "; query " + Show(s.query_id()) + "\n";
}

std::string StaleIndexText(const v1::QuerySummary& summary, Lang lang) {
  if (summary.stale_index_members().empty()) return "";
  return Text(Msg::kStaleIndexWarning, lang,
              MemberList(summary.stale_index_members()) + " (older than " +
                  Age(summary.stale_index_after_ms()) + ")") +
         "\n";
}

std::string TypesAskedText(const v1::QueryRequest& request,
                           const v1::QuerySummary& summary) {
  if (summary.miss_members().empty()) return "";
  std::vector<std::string> types;
  std::set<std::pair<int, std::string>> asked;
  for (const v1::Identifier& id : request.identifiers()) {
    const std::string name = IdentifierTypeName(id.type());
    if (std::find(types.begin(), types.end(), name) == types.end()) {
      types.push_back(name);
    }
    asked.insert({id.type(), Normalized(id.type(), id.value())});
  }
  std::string out = "types asked: " + Join(types, ", ") + "\n";
  for (const v1::Identifier& id : request.identifiers()) {
    const v1::IdentifierType twin = TwinType(id.type());
    if (twin == v1::IDENTIFIER_TYPE_UNSPECIFIED ||
        asked.count({twin, Normalized(twin, id.value())}) > 0) {
      continue;
    }
    out += "note: " + IdentifierTypeName(id.type()) + ":" +
           SanitizeForTerminal(id.value()) + " was asked as a " +
           IdentifierTypeName(id.type()) + " only; a Telegram name can be a " +
           "username or a chat (group or channel): --both-types asks as "
           "both\n";
  }
  return out;
}

std::string HitsText(const v1::ListHitsResponse& response, Lang lang,
                     size_t width) {
  if (response.hits().empty()) return Text(Msg::kNoHits, lang) + "\n";
  // The query column last, so that the columns before keep their places.
  Table table(
      Headers({Msg::kReceived, Msg::kCase, Msg::kMember, Msg::kOffice,
               Msg::kOffences, Msg::kRole, Msg::kMatched, Msg::kStatus,
               Msg::kOpened, Msg::kContact, Msg::kCaseToken, Msg::kQuery},
              lang));
  bool disjoint = false;
  for (const v1::Hit& h : response.hits()) {
    const v1::CaseReference& ref = h.reference();
    disjoint |= h.windows_overlap() == v1::WINDOWS_OVERLAP_DISJOINT;
    // A withdrawn reference (spec/cooperation.md §2.4) says so, and when.
    const std::string status = h.withdrawn_at_ms() != 0
                                   ? Text(Msg::kWithdrawn, lang) + " " +
                                         FormatDate(h.withdrawn_at_ms())
                                   : StatusText(ref.status(), lang);
    table.AddRow({Timestamp(h.received_at_ms()), Show(h.case_number()),
                  Show(h.member()), Show(ref.competent_office()),
                  Offences(ref.offences(), lang), RoleText(ref.role(), lang),
                  HitMatched(h, lang), status, Show(ref.opened_month()),
                  Show(ref.contact_point()), Show(HexEncode(ref.case_token())),
                  h.watch_id().empty() ? Show(h.query_id())
                                       : "watch " + Show(h.watch_id())});
  }
  // In 100 columns: when, our case, who, what, which identifier, contact.
  table.SetNarrowColumns({0, 1, 2, 3, 4, 6, 9});
  std::string out = table.Render(width);
  if (disjoint) out += "! " + Text(Msg::kDisjointNote, lang) + "\n";
  return out;
}

std::string GroupedHitsText(const v1::ListHitsResponse& response, Lang lang,
                            size_t width) {
  if (response.hits().empty()) return Text(Msg::kNoHits, lang) + "\n";
  Table table(
      Headers({Msg::kReceived, Msg::kCase, Msg::kMember, Msg::kOffice,
               Msg::kMatched, Msg::kQueries, Msg::kContact, Msg::kOffences,
               Msg::kRole, Msg::kStatus, Msg::kOpened, Msg::kCaseToken},
              lang));
  bool disjoint = false;
  for (const HitGroup& g : GroupHits(response)) {
    const v1::CaseReference& ref = g.reference;
    disjoint |= g.disjoint;
    std::vector<std::string> numbers, matched, queries;
    for (const std::string& n : g.case_numbers) numbers.push_back(Show(n));
    for (const v1::HitMatch& m : g.matches) {
      matched.push_back(MatchText(m, lang));
    }
    if (!g.legacy_matched.empty()) {
      google::protobuf::RepeatedPtrField<v1::MatchedIdentifier> legacy(
          g.legacy_matched.begin(), g.legacy_matched.end());
      matched.push_back(Matched(legacy));
    }
    for (const std::string& q : g.query_ids) queries.push_back(Show(q));
    for (const std::string& w : g.watch_ids)
      queries.push_back("watch " + Show(w));
    table.AddRow(
        {Timestamp(g.latest_received_ms), Join(numbers, "\n"), Show(g.member),
         Show(ref.competent_office()), OrDash(Join(matched, "\n")),
         OrDash(Join(queries, "\n")), Show(ref.contact_point()),
         Offences(ref.offences(), lang), RoleText(ref.role(), lang),
         g.withdrawn_at_ms != 0
             ? Text(Msg::kWithdrawn, lang) + " " + FormatDate(g.withdrawn_at_ms)
             : StatusText(ref.status(), lang),
         Show(ref.opened_month()), Show(HexEncode(ref.case_token()))});
  }
  // In 100 columns: our case, who, which identifiers, which queries, and
  // whom to call; the rest with --wide.
  table.SetNarrowColumns({1, 2, 3, 4, 5, 6});
  std::string out = table.Render(width);
  if (disjoint) out += "! " + Text(Msg::kDisjointNote, lang) + "\n";
  return out;
}

std::string InboxText(const v1::ListInboxResponse& response, Lang lang,
                      size_t width) {
  if (response.notifications().empty()) {
    return Text(Msg::kNoNotifications, lang) + "\n";
  }
  Table table(Headers({Msg::kAt, Msg::kOurCase, Msg::kFrom, Msg::kOffice,
                       Msg::kTheirCase, Msg::kOffence, Msg::kLegalBasis},
                      lang));
  for (const v1::Notification& n : response.notifications()) {
    const v1::Purpose& p = n.purpose();
    table.AddRow({Timestamp(n.at_ms()), Show(n.case_number()),
                  Show(n.from_member()), Show(n.from_office()),
                  Show(p.case_number()),
                  p.offence() == v1::OFFENCE_CODE_UNSPECIFIED
                      ? "-"
                      : OffenceLabel(p.offence(), lang),
                  Show(p.legal_basis())});
  }
  return table.Render(width);
}

namespace {

// One row of the certificates table: the fingerprint's first 8 bytes (the
// whole one is in --json), enough to compare with what openssl prints.
std::vector<std::string> CertificateRow(std::string who,
                                        const v1::CertificateInUse& c) {
  std::string fingerprint = c.sha256_fingerprint().substr(0, 23);
  if (c.sha256_fingerprint().size() > fingerprint.size()) fingerprint += "...";
  return {std::move(who), Show(c.serial()), Timestamp(c.not_after_ms()),
          Show(fingerprint), Timestamp(c.last_seen_ms())};
}

// The certificates in use (keys.md §5.1): this node's, then each peer's as
// it called this node and as its Peer port answered this node.
std::string CertificatesText(const v1::ListPeersResponse& response,
                             size_t width) {
  Table table({"CERTIFICATE", "SERIAL", "NOT AFTER", "SHA-256", "LAST SEEN"});
  if (response.has_own_certificate()) {
    table.AddRow(CertificateRow("this node", response.own_certificate()));
  }
  for (const v1::PeerStatus& p : response.peers()) {
    if (p.has_client_certificate()) {
      table.AddRow(CertificateRow(Show(p.member()) + " calling this node",
                                  p.client_certificate()));
    }
    if (p.has_server_certificate()) {
      table.AddRow(CertificateRow(Show(p.member()) + " answering this node",
                                  p.server_certificate()));
    }
  }
  return table.Render(width);
}

bool AnyCertificate(const v1::ListPeersResponse& response) {
  if (response.has_own_certificate()) return true;
  for (const v1::PeerStatus& p : response.peers()) {
    if (p.has_client_certificate() || p.has_server_certificate()) return true;
  }
  return false;
}

}  // namespace

std::string PeersText(const v1::ListPeersResponse& response, size_t width) {
  std::string out = "directory version " +
                    std::to_string(response.directory_version()) +
                    ", this node " + Show(response.self()) + "\n";
  // This node's own storage failing (spec/storage-faults.md).
  if (!response.node_alert().empty()) {
    out += "node alert: " + Show(response.node_alert()) + "\n";
  }
  // Two validly signed directory versions with one number (directory.md §8).
  if (!response.directory_alert().empty()) {
    out += "ALERT " + Show(response.directory_alert()) + "\n";
  }
  if (response.peers().empty()) return out + "no peers\n";
  // The index columns, then this node as a witness of the peer's log.
  Table table({"MEMBER", "NAME", "ENDPOINT", "STATUS", "OPRF EPOCH",
               "INDEX VERSION", "INDEX COUNT", "LAST SYNC", "LAST ERROR",
               "COSIGNED", "COSIGNED AT", "WITNESS ALERT"});
  for (const v1::PeerStatus& p : response.peers()) {
    table.AddRow(
        {Show(p.member()), Show(p.display_name()), Show(p.endpoint()),
         MemberStatusName(p.status()), std::to_string(p.oprf_epoch()),
         std::to_string(p.index_version()), std::to_string(p.index_count()),
         Timestamp(p.last_sync_ms()), Show(p.last_error()),
         p.cosigned_size() == 0 ? "-" : std::to_string(p.cosigned_size()),
         Timestamp(p.cosigned_at_ms()), Show(p.witness_alert())});
  }
  // In 100 columns: who, status, index, sync and the alerts.
  table.SetNarrowColumns({0, 1, 3, 6, 7, 8, 11});
  out += table.Render(width);
  if (AnyCertificate(response)) {
    out += "certificates in use\n" + CertificatesText(response, width);
  }
  // As a querier: only peers with something to say, one line each.
  for (const v1::PeerStatus& p : response.peers()) {
    if (p.phantom_hits() == 0 && p.hit_rate_alert().empty()) continue;
    out += Show(p.member()) + ": " +
           Plural(static_cast<size_t>(p.phantom_hits()), "phantom hit",
                  "phantom hits");
    if (!p.hit_rate_alert().empty()) {
      out += "; hit-rate alert " + Show(p.hit_rate_alert());
    }
    out += "\n";
  }
  // A refused index (spec/index-sync.md, "Caps") on a line of its own: the
  // reason is too long for a column, and rare.
  for (const v1::PeerStatus& p : response.peers()) {
    if (p.index_alert().empty()) continue;
    out +=
        "index alert " + Show(p.member()) + ": " + Show(p.index_alert()) + "\n";
  }
  return out;
}

}  // namespace cbx::client
