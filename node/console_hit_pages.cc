#include "node/console_hit_pages.h"

#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/hit_groups.h"
#include "client/offence_labels.h"
#include "client/time_format.h"
#include "node/console_calls.h"
#include "node/hit_context.h"

namespace cbx::node {
namespace {

// Every English text of these pages, in one place for the translations.
constexpr char kNavHome[] = "Home";
constexpr char kNavCases[] = "Cases";
constexpr char kNavQuery[] = "Ask the peers";
constexpr char kNavHits[] = "Hits";
constexpr char kNavInbox[] = "Inbox";
constexpr char kNavLabel[] = "Console";
constexpr char kHitsTitle[] = "Your office's hits";
constexpr char kHitsNone[] =
    "Your office has no hits yet: no peer has named a case for its "
    "queries.";
constexpr char kHitsIntro[] =
    "One card per case of a peer, however many of your queries found it; "
    "newest first.";
constexpr char kRecordTitle[] = "Record of a hit";
constexpr char kNoSuchHit[] = "Your office has no hit with this id.";
constexpr char kInboxTitle[] = "Inbox";
constexpr char kInboxIntro[] =
    "Peers that found one of your office's cases, newest first.";
constexpr char kInboxNone[] = "Nothing in your office's inbox.";
constexpr char kInboxNext[] = "Older notifications";
constexpr char kInboxFirst[] = "Newest notifications";
constexpr char kNotForRole[] =
    "These pages are for prosecutors' offices; your certificate's role "
    "is ";
constexpr char kNotForRoleTitle[] = "Not for your role";
constexpr char kStopping[] = "The node is stopping; try again in a moment.";
constexpr char kUnavailable[] = "Unavailable";
constexpr char kReadFailed[] = "The node could not read this: ";
constexpr char kPeer[] = "Peer";
constexpr char kPeerOffice[] = "Their office";
constexpr char kContact[] = "24/7 contact";
constexpr char kCaseToken[] = "Case token";
constexpr char kOffences[] = "Offences";
constexpr char kCaseStatus[] = "Their case";
constexpr char kOpen[] = "open";
constexpr char kClosed[] = "closed";
constexpr char kOpened[] = "Opened";
constexpr char kOurCases[] = "For your case";
constexpr char kQueries[] = "Found by";
constexpr char kWatch[] = "watch ";
constexpr char kReceived[] = "Received (UTC)";
constexpr char kQueryId[] = "Query id";
constexpr char kWatchId[] = "Watch id";
constexpr char kNode[] = "Recorded by the node of";
constexpr char kPurpose[] = "Asked under your case";
constexpr char kEnvelope[] = "SHA-256 of the peer's signed answer";
constexpr char kMatchedCaption[] = "What matched";
constexpr char kType[] = "Type";
constexpr char kAsTyped[] = "Value as your office typed it";
constexpr char kNormalized[] = "As the node compared it";
constexpr char kYourWindow[] = "Your office saw it";
constexpr char kTheirWindow[] = "The peer saw it";
constexpr char kWindows[] = "Windows";
constexpr char kOverlap[] = "overlap";
constexpr char kDisjoint[] =
    "DO NOT OVERLAP: perhaps another person (names and numbers are reused)";
constexpr char kUnknownOverlap[] = "not known";
constexpr char kDisjointWarning[] =
    "Warning: for at least one identifier the time your office saw it and "
    "the time the peer saw it do not overlap. It may be another person "
    "using the same name or number.";
constexpr char kWithdrawn[] = "Withdrawn: the peer closed this case on ";
constexpr char kWatchValue[] = "(a watch keeps no value)";
constexpr char kUnknownBound[] = "unknown";
constexpr char kTo[] = " to ";
constexpr char kPrint[] = "Printable record";
constexpr char kPrintHint[] =
    "Print this page for the case file (your browser's Print command); "
    "the navigation is not printed.";
constexpr char kAt[] = "Received (UTC)";
constexpr char kFromMember[] = "Peer";
constexpr char kFromOffice[] = "Their office";
constexpr char kYourCase[] = "Your case";
constexpr char kTheirPurpose[] = "Their case and legal basis";
constexpr char kTheirOffence[] = "Their offence";

constexpr char kTypeUsername[] = "Telegram username";
constexpr char kTypeChat[] = "Telegram group or channel";
constexpr char kTypeUserId[] = "Telegram user id";
constexpr char kTypePhone[] = "Phone number";
constexpr char kTypeEmail[] = "E-mail address";
constexpr char kTypePlatform[] = "Other platform";
constexpr char kTypeSha256[] = "SHA-256 of an image or video";
constexpr char kTypeUnknown[] = "Unknown type";

}  // namespace

const char* IdentifierTypeLabel(v1::IdentifierType type) {
  switch (type) {
    case v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME:
      return kTypeUsername;
    case v1::IDENTIFIER_TYPE_TELEGRAM_CHAT:
      return kTypeChat;
    case v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID:
      return kTypeUserId;
    case v1::IDENTIFIER_TYPE_PHONE:
      return kTypePhone;
    case v1::IDENTIFIER_TYPE_EMAIL:
      return kTypeEmail;
    case v1::IDENTIFIER_TYPE_PLATFORM_HANDLE:
      return kTypePlatform;
    case v1::IDENTIFIER_TYPE_CONTENT_SHA256:
      return kTypeSha256;
    default:
      return kTypeUnknown;
  }
}

namespace {

using console::Escape;

std::string Row(absl::string_view label, const std::string& html) {
  return absl::StrCat("<tr><th scope=\"row\">", label, "</th><td>", html,
                      "</td></tr>\n");
}

std::string Day(int64_t ms) {
  return ms == 0 ? std::string(kUnknownBound) : client::FormatDate(ms);
}

std::string Window(int64_t from_ms, int64_t to_ms) {
  return absl::StrCat(Day(from_ms), kTo, Day(to_ms));
}

std::string Offences(const v1::CaseReference& ref) {
  std::vector<std::string> labels;
  for (const v1::Offence& o : ref.offences()) {
    labels.push_back(Escape(client::OffenceLabel(o.code(), client::Lang::kEn)));
  }
  return absl::StrJoin(labels, "<br>");
}

// The table of what matched: one row per identifier, both windows, and
// whether they overlap.
std::string MatchTable(const std::vector<v1::HitMatch>& matches) {
  std::string out = absl::StrCat(
      "<table class=\"matches\"><caption>", kMatchedCaption,
      "</caption>\n<tr><th scope=\"col\">", kType, "</th><th scope=\"col\">",
      kAsTyped, "</th><th scope=\"col\">", kNormalized,
      "</th><th scope=\"col\">", kYourWindow, "</th><th scope=\"col\">",
      kTheirWindow, "</th><th scope=\"col\">", kWindows, "</th></tr>\n");
  for (const v1::HitMatch& m : matches) {
    // Decided again from the windows shown, not only the stored verdict.
    const v1::WindowsOverlap overlap =
        CompareWindows(m.querier_from_ms(), m.querier_to_ms(), m.peer_from_ms(),
                       m.peer_to_ms());
    const std::string verdict =
        overlap == v1::WINDOWS_OVERLAP_DISJOINT
            ? absl::StrCat("<strong class=\"disjoint\">", kDisjoint,
                           "</strong>")
        : overlap == v1::WINDOWS_OVERLAP_OVERLAP ? std::string(kOverlap)
                                                 : std::string(kUnknownOverlap);
    absl::StrAppend(
        &out, "<tr><td>", IdentifierTypeLabel(m.type()), "</td><td>",
        m.value().empty() ? std::string(kWatchValue) : Escape(m.value()),
        "</td><td>", Escape(m.normalized()), "</td><td>",
        Window(m.querier_from_ms(), m.querier_to_ms()), "</td><td>",
        Window(m.peer_from_ms(), m.peer_to_ms()), "</td><td>", verdict,
        "</td></tr>\n");
  }
  return out + "</table>\n";
}

// What a card shows of the peer's case reference.
std::string ReferenceRows(const std::string& member,
                          const v1::CaseReference& ref) {
  return absl::StrCat(Row(kPeer, Escape(member)),
                      Row(kPeerOffice, Escape(ref.competent_office())),
                      Row(kContact, Escape(ref.contact_point())),
                      Row(kCaseToken, absl::BytesToHexString(ref.case_token())),
                      Row(kOffences, Offences(ref)),
                      Row(kCaseStatus, ref.status() == v1::CASE_STATUS_CLOSED
                                           ? std::string(kClosed)
                                           : std::string(kOpen)),
                      Row(kOpened, Escape(ref.opened_month())));
}

std::string Warnings(bool disjoint, int64_t withdrawn_at_ms) {
  std::string out;
  if (withdrawn_at_ms != 0) {
    absl::StrAppend(&out, "<p class=\"warning withdrawn\">", kWithdrawn,
                    client::FormatTimestamp(withdrawn_at_ms), ".</p>\n");
  }
  if (disjoint) {
    absl::StrAppend(&out, "<p class=\"warning disjoint\" role=\"note\">",
                    kDisjointWarning, "</p>\n");
  }
  return out;
}

bool Disjoint(const v1::Hit& hit) {
  for (const v1::HitMatch& m : hit.matches()) {
    if (CompareWindows(m.querier_from_ms(), m.querier_to_ms(), m.peer_from_ms(),
                       m.peer_to_ms()) == v1::WINDOWS_OVERLAP_DISJOINT) {
      return true;
    }
  }
  return hit.windows_overlap() == v1::WINDOWS_OVERLAP_DISJOINT;
}

std::string HitLink(const v1::Hit& hit) {
  return absl::StrCat("<a href=\"/hit?id=", console::UrlEncode(HitId(hit)),
                      "\">", kPrint, "</a>");
}

// One card per peer case of client::GroupHits; `hits` are the group's
// hits, for the links to their records.
std::string GroupCard(const client::HitGroup& g,
                      const std::vector<const v1::Hit*>& hits) {
  std::string out = absl::StrCat(
      "<section class=\"hit\"><h2>", Escape(g.member), " — ",
      Escape(g.reference.competent_office()), "</h2>\n",
      Warnings(g.disjoint, g.withdrawn_at_ms), "<table>\n",
      ReferenceRows(g.member, g.reference),
      Row(kOurCases, Escape(absl::StrJoin(g.case_numbers, ", "))),
      Row(kReceived, client::FormatTimestamp(g.latest_received_ms)));
  std::vector<std::string> found;
  for (const v1::Hit* h : hits) {
    found.push_back(absl::StrCat(
        h->watch_id().empty() ? std::string() : std::string(kWatch),
        Escape(h->watch_id().empty() ? h->query_id() : h->watch_id()), " (",
        client::FormatTimestamp(h->received_at_ms()), "): ", HitLink(*h)));
  }
  absl::StrAppend(&out, Row(kQueries, absl::StrJoin(found, "<br>")),
                  "</table>\n", MatchTable(g.matches), "</section>\n");
  return out;
}

}  // namespace

std::string HitId(const v1::Hit& hit) {
  return absl::StrCat(
      hit.watch_id().empty() ? hit.query_id() : "w" + hit.watch_id(), ".",
      hit.member(), ".", absl::BytesToHexString(hit.reference().case_token()));
}

std::string HitCard(const v1::Hit& hit) {
  std::vector<v1::HitMatch> matches(hit.matches().begin(), hit.matches().end());
  return absl::StrCat("<section class=\"hit\"><h3>", Escape(hit.member()),
                      " — ", Escape(hit.reference().competent_office()),
                      "</h3>\n", Warnings(Disjoint(hit), hit.withdrawn_at_ms()),
                      "<table>\n", ReferenceRows(hit.member(), hit.reference()),
                      "</table>\n", MatchTable(matches), "<p>", HitLink(hit),
                      "</p></section>\n");
}

console::Response ConsolePage(const std::string& self,
                              const console::Request& r,
                              const std::string& title, const std::string& body,
                              int status) {
  console::PageFrame frame;
  frame.title = title;
  frame.node = self;
  frame.caller = r.caller.Display();
  const std::string nav = absl::StrCat(
      "<nav aria-label=\"", kNavLabel, "\"><a href=\"/\">", kNavHome,
      "</a> · <a href=\"/cases\">", kNavCases, "</a> · <a href=\"/query\">",
      kNavQuery, "</a> · <a href=\"/hits\">", kNavHits,
      "</a> · <a href=\"/inbox\">", kNavInbox, "</a></nav>\n");
  return console::Response{status, "text/html; charset=utf-8",
                           console::Page(frame, nav + body), ""};
}

HitPages::HitPages(std::string self, OfficeService* office, Runner run)
    : self_(std::move(self)), office_(office), run_(std::move(run)) {}

void HitPages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  auto bind = [this](void (HitPages::*page)(const Request&, Reply) const) {
    return [this, page](const Request& r, Reply reply) {
      (this->*page)(r, std::move(reply));
    };
  };
  routes[{"GET", "/hits"}] = bind(&HitPages::Hits);
  routes[{"GET", "/hit"}] = bind(&HitPages::Record);
  routes[{"GET", "/inbox"}] = bind(&HitPages::Inbox);
}

void HitPages::Later(const Request& r, const Reply& reply,
                     std::function<console::Response()> work) const {
  if (!run_([reply, work = std::move(work)] { reply(work()); })) {
    reply(ConsolePage(self_, r, std::string(kUnavailable),
                      absl::StrCat("<p class=\"error\">", kStopping, "</p>"),
                      503));
  }
}

console::Response HitPages::Refused(const Request& r, const std::string& title,
                                    const absl::Status& status) const {
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return ConsolePage(self_, r, std::string(kNotForRoleTitle),
                       absl::StrCat("<p class=\"error\">", kNotForRole,
                                    Escape(r.caller.role), ".</p>"),
                       403);
  }
  return ConsolePage(
      self_, r, title,
      absl::StrCat("<p class=\"error\">", kReadFailed,
                   Escape(std::string(status.message())), "</p>"),
      HttpStatusOf(status.code()));
}

namespace {

// Every hit of `office`, newest first (ListHits' pages, read to the end).
absl::StatusOr<v1::ListHitsResponse> AllHits(const OfficeScope& scope,
                                             const std::string& office) {
  v1::ListHitsResponse all;
  v1::ListHitsRequest req;
  req.set_page_size(1000);
  do {
    absl::StatusOr<v1::ListHitsResponse> page = scope.ListHits(office, req);
    if (!page.ok()) return page.status();
    for (v1::Hit& h : *page->mutable_hits()) *all.add_hits() = std::move(h);
    req.set_page_token(page->next_page_token());
  } while (!req.page_token().empty());
  return all;
}

}  // namespace

absl::StatusOr<v1::ListHitsResponse> HitPages::ReadHits(
    const console::Caller& who) const {
  v1::ListHitsResponse all;
  const absl::Status read =
      ProsecutorReadFor(*office_, who, "Office.ListHits", "list_hits",
                        [&](const OfficeCaller& caller) -> absl::Status {
                          absl::StatusOr<v1::ListHitsResponse> got =
                              AllHits(office_->scope(), caller.Name());
                          if (!got.ok()) return got.status();
                          all = *std::move(got);
                          return absl::OkStatus();
                        });
  if (!read.ok()) return read;
  return all;
}

void HitPages::Hits(const Request& r, Reply reply) const {
  Later(r, reply, [this, r] {
    absl::StatusOr<v1::ListHitsResponse> all = ReadHits(r.caller);
    if (!all.ok()) return Refused(r, std::string(kHitsTitle), all.status());
    const std::vector<client::HitGroup> groups = client::GroupHits(*all);
    if (groups.empty()) {
      return ConsolePage(self_, r, std::string(kHitsTitle),
                         absl::StrCat("<p>", kHitsNone, "</p>"));
    }
    std::string body = absl::StrCat("<p>", kHitsIntro, "</p>\n");
    for (const client::HitGroup& g : groups) {
      std::vector<const v1::Hit*> hits;
      for (const v1::Hit& h : all->hits()) {
        if (h.member() == g.member &&
            h.reference().case_token() == g.case_token) {
          hits.push_back(&h);
        }
      }
      body += GroupCard(g, hits);
    }
    return ConsolePage(self_, r, std::string(kHitsTitle), body);
  });
}

void HitPages::Record(const Request& r, Reply reply) const {
  Later(r, reply, [this, r] {
    const std::string id = console::First(r.query, "id");
    absl::StatusOr<v1::ListHitsResponse> all = ReadHits(r.caller);
    if (!all.ok()) return Refused(r, std::string(kRecordTitle), all.status());
    for (const v1::Hit& hit : all->hits()) {
      if (HitId(hit) != id) continue;
      std::vector<v1::HitMatch> matches(hit.matches().begin(),
                                        hit.matches().end());
      std::string body = absl::StrCat(
          "<p class=\"noprint\">", kPrintHint, "</p>\n",
          Warnings(Disjoint(hit), hit.withdrawn_at_ms()), "<table>\n",
          hit.watch_id().empty() ? Row(kQueryId, Escape(hit.query_id()))
                                 : Row(kWatchId, Escape(hit.watch_id())),
          Row(kReceived, client::FormatTimestamp(hit.received_at_ms())),
          Row(kNode, Escape(self_)), Row(kPurpose, Escape(hit.case_number())),
          ReferenceRows(hit.member(), hit.reference()),
          Row(kEnvelope, absl::BytesToHexString(hit.envelope_sha256())),
          "</table>\n", MatchTable(matches));
      return ConsolePage(self_, r, std::string(kRecordTitle), body);
    }
    // Another office's hit is not found either: its existence is not this
    // office's business.
    return ConsolePage(self_, r, std::string(kRecordTitle),
                       absl::StrCat("<p class=\"error\">", kNoSuchHit, "</p>"),
                       404);
  });
}

void HitPages::Inbox(const Request& r, Reply reply) const {
  Later(r, reply, [this, r] {
    v1::ListInboxRequest req;
    req.set_page_size(50);
    req.set_page_token(console::First(r.query, "page"));
    v1::ListInboxResponse page_read;
    const absl::Status read =
        ProsecutorReadFor(*office_, r.caller, "Office.ListInbox", "list_inbox",
                          [&](const OfficeCaller& caller) -> absl::Status {
                            absl::StatusOr<v1::ListInboxResponse> got =
                                office_->scope().ListInbox(caller.Name(), req);
                            if (!got.ok()) return got.status();
                            page_read = *std::move(got);
                            return absl::OkStatus();
                          });
    if (!read.ok()) return Refused(r, std::string(kInboxTitle), read);
    const v1::ListInboxResponse* page = &page_read;
    std::string body = absl::StrCat("<p>", kInboxIntro, "</p>\n");
    if (page->notifications().empty()) {
      absl::StrAppend(&body, "<p>", kInboxNone, "</p>\n");
    } else {
      absl::StrAppend(&body, "<table><tr><th scope=\"col\">", kAt,
                      "</th><th scope=\"col\">", kFromMember,
                      "</th><th scope=\"col\">", kFromOffice,
                      "</th><th scope=\"col\">", kYourCase,
                      "</th><th scope=\"col\">", kTheirPurpose,
                      "</th><th scope=\"col\">", kTheirOffence, "</th></tr>\n");
      for (const v1::Notification& n : page->notifications()) {
        absl::StrAppend(&body, "<tr><td>", client::FormatTimestamp(n.at_ms()),
                        "</td><td>", Escape(n.from_member()), "</td><td>",
                        Escape(n.from_office()),
                        "</td><td><a href=\"/case?number=",
                        Escape(console::UrlEncode(n.case_number())), "\">",
                        Escape(n.case_number()), "</a></td><td>",
                        Escape(n.purpose().case_number()), "<br>",
                        Escape(n.purpose().legal_basis()), "</td><td>",
                        Escape(client::OffenceLabel(n.purpose().offence(),
                                                    client::Lang::kEn)),
                        "</td></tr>\n");
      }
      body += "</table>\n";
    }
    if (!page->next_page_token().empty()) {
      absl::StrAppend(&body, "<p><a href=\"/inbox?page=",
                      Escape(console::UrlEncode(page->next_page_token())),
                      "\">", kInboxNext, "</a></p>\n");
    }
    if (!req.page_token().empty()) {
      absl::StrAppend(&body, "<p><a href=\"/inbox\">", kInboxFirst,
                      "</a></p>\n");
    }
    return ConsolePage(self_, r, std::string(kInboxTitle), body);
  });
}

}  // namespace cbx::node
