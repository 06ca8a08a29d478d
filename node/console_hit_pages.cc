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

namespace msg = i18n::msg;

i18n::MessageId IdentifierTypeMessage(v1::IdentifierType type) {
  switch (type) {
    case v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME:
      return msg::kConsoleIdTypeTelegramUsername;
    case v1::IDENTIFIER_TYPE_TELEGRAM_CHAT:
      return msg::kConsoleIdTypeTelegramChat;
    case v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID:
      return msg::kConsoleIdTypeTelegramUserId;
    case v1::IDENTIFIER_TYPE_PHONE:
      return msg::kConsoleIdTypePhone;
    case v1::IDENTIFIER_TYPE_EMAIL:
      return msg::kConsoleIdTypeEmail;
    case v1::IDENTIFIER_TYPE_PLATFORM_HANDLE:
      return msg::kConsoleIdTypePlatformHandle;
    case v1::IDENTIFIER_TYPE_CONTENT_SHA256:
      return msg::kConsoleIdTypeContentSha256;
    default:
      return msg::kConsoleIdTypeUnknown;
  }
}

namespace {

using console::Escape;

// The texts of these pages, by their short names (console_language.h).
std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}

std::string Row(const std::string& label, const std::string& html) {
  return absl::StrCat("<tr><th scope=\"row\">", label, "</th><td>", html,
                      "</td></tr>\n");
}

std::string Day(int64_t ms, i18n::Lang lang) {
  return ms == 0 ? T(msg::kConsoleHitsUnknownBound, lang)
                 : client::FormatDate(ms);
}

std::string Window(int64_t from_ms, int64_t to_ms, i18n::Lang lang) {
  return HtmlFormat(msg::kConsoleHitsWindow, lang,
                    {Day(from_ms, lang), Day(to_ms, lang)});
}

std::string Offences(const v1::CaseReference& ref, i18n::Lang lang) {
  std::vector<std::string> labels;
  for (const v1::Offence& o : ref.offences()) {
    labels.push_back(Escape(client::OffenceLabel(o.code(), lang)));
  }
  return absl::StrJoin(labels, "<br>");
}

// Whether the two windows overlap, in words (a disjoint pair stands out).
std::string Verdict(const v1::HitMatch& m, i18n::Lang lang) {
  // Decided again from the windows shown, not only the stored verdict.
  switch (CompareWindows(m.querier_from_ms(), m.querier_to_ms(),
                         m.peer_from_ms(), m.peer_to_ms())) {
    case v1::WINDOWS_OVERLAP_DISJOINT:
      return absl::StrCat("<strong class=\"disjoint\">",
                          T(msg::kConsoleHitsDisjoint, lang), "</strong>");
    case v1::WINDOWS_OVERLAP_OVERLAP:
      return T(msg::kConsoleHitsOverlap, lang);
    default:
      return T(msg::kConsoleHitsOverlapUnknown, lang);
  }
}

// The table of what matched: one row per identifier, both windows, and
// whether they overlap.
std::string MatchTable(const std::vector<v1::HitMatch>& matches,
                       i18n::Lang lang) {
  std::string out =
      absl::StrCat("<table class=\"matches\"><caption>",
                   T(msg::kConsoleHitsMatched, lang), "</caption>\n<tr>");
  for (i18n::MessageId column :
       {msg::kConsoleLabelType, msg::kConsoleHitsAsTyped,
        msg::kConsoleHitsNormalized, msg::kConsoleHitsYourWindow,
        msg::kConsoleHitsTheirWindow, msg::kConsoleHitsWindows}) {
    absl::StrAppend(&out, "<th scope=\"col\">", T(column, lang), "</th>");
  }
  out += "</tr>\n";
  for (const v1::HitMatch& m : matches) {
    absl::StrAppend(&out, "<tr><td>", T(IdentifierTypeMessage(m.type()), lang),
                    "</td><td>",
                    m.value().empty() ? T(msg::kConsoleHitsWatchValue, lang)
                                      : Escape(m.value()),
                    "</td><td>", Escape(m.normalized()), "</td><td>",
                    Window(m.querier_from_ms(), m.querier_to_ms(), lang),
                    "</td><td>", Window(m.peer_from_ms(), m.peer_to_ms(), lang),
                    "</td><td>", Verdict(m, lang), "</td></tr>\n");
  }
  return out + "</table>\n";
}

// What a card shows of the peer's case reference.
std::string ReferenceRows(const std::string& member,
                          const v1::CaseReference& ref, i18n::Lang lang) {
  return absl::StrCat(
      Row(T(msg::kConsoleHitsPeer, lang), Escape(member)),
      Row(T(msg::kConsoleHitsPeerOffice, lang), Escape(ref.competent_office())),
      Row(T(msg::kConsoleHitsContact, lang), Escape(ref.contact_point())),
      Row(T(msg::kConsoleHitsCaseToken, lang),
          absl::BytesToHexString(ref.case_token())),
      Row(T(msg::kConsoleLabelOffences, lang), Offences(ref, lang)),
      Row(T(msg::kConsoleHitsCaseStatus, lang),
          T(ref.status() == v1::CASE_STATUS_CLOSED ? msg::kStatusClosed
                                                   : msg::kStatusOpen,
            lang)),
      Row(T(msg::kConsoleLabelOpened, lang), Escape(ref.opened_month())));
}

std::string Warnings(bool disjoint, int64_t withdrawn_at_ms, i18n::Lang lang) {
  std::string out;
  if (withdrawn_at_ms != 0) {
    absl::StrAppend(&out, "<p class=\"warning withdrawn\">",
                    HtmlFormat(msg::kConsoleHitsWithdrawn, lang,
                               {client::FormatTimestamp(withdrawn_at_ms)}),
                    "</p>\n");
  }
  if (disjoint) {
    absl::StrAppend(&out, "<p class=\"warning disjoint\" role=\"note\">",
                    T(msg::kConsoleHitsDisjointWarning, lang), "</p>\n");
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

// The hit's printable record, and the form that asks its peer for
// cooperation (node/console_cooperation_pages.h).
std::string HitLink(const v1::Hit& hit, i18n::Lang lang) {
  const std::string id = console::UrlEncode(HitId(hit));
  return absl::StrCat("<a href=\"/hit?id=", id, "\">",
                      T(msg::kConsoleHitsPrint, lang),
                      "</a> · <a href=\"/requests/new?hit=", id, "\">",
                      T(msg::kConsoleCoopSendLink, lang), "</a>");
}

// One card per peer case of client::GroupHits; `hits` are the group's
// hits, for the links to their records.
std::string GroupCard(const client::HitGroup& g,
                      const std::vector<const v1::Hit*>& hits,
                      i18n::Lang lang) {
  std::string out =
      absl::StrCat("<section class=\"hit\"><h2>", Escape(g.member), " — ",
                   Escape(g.reference.competent_office()), "</h2>\n",
                   Warnings(g.disjoint, g.withdrawn_at_ms, lang), "<table>\n",
                   ReferenceRows(g.member, g.reference, lang),
                   Row(T(msg::kConsoleHitsOurCases, lang),
                       Escape(absl::StrJoin(g.case_numbers, ", "))),
                   Row(T(msg::kConsoleHitsReceived, lang),
                       client::FormatTimestamp(g.latest_received_ms)));
  std::vector<std::string> found;
  for (const v1::Hit* h : hits) {
    const std::string by = h->watch_id().empty()
                               ? Escape(h->query_id())
                               : HtmlFormat(msg::kConsoleHitsByWatch, lang,
                                            {Escape(h->watch_id())});
    found.push_back(absl::StrCat(by, " (",
                                 client::FormatTimestamp(h->received_at_ms()),
                                 "): ", HitLink(*h, lang)));
  }
  absl::StrAppend(
      &out,
      Row(T(msg::kConsoleHitsFoundBy, lang), absl::StrJoin(found, "<br>")),
      "</table>\n", MatchTable(g.matches, lang), "</section>\n");
  return out;
}

}  // namespace

std::string HitId(const v1::Hit& hit) {
  return absl::StrCat(
      hit.watch_id().empty() ? hit.query_id() : "w" + hit.watch_id(), ".",
      hit.member(), ".", absl::BytesToHexString(hit.reference().case_token()));
}

std::string HitCard(const v1::Hit& hit, i18n::Lang lang) {
  std::vector<v1::HitMatch> matches(hit.matches().begin(), hit.matches().end());
  return absl::StrCat(
      "<section class=\"hit\"><h3>", Escape(hit.member()), " — ",
      Escape(hit.reference().competent_office()), "</h3>\n",
      Warnings(Disjoint(hit), hit.withdrawn_at_ms(), lang), "<table>\n",
      ReferenceRows(hit.member(), hit.reference(), lang), "</table>\n",
      MatchTable(matches, lang), "<p>", HitLink(hit, lang), "</p></section>\n");
}

HitPages::HitPages(std::string self, OfficeService* office,
                   const ConsoleLanguage* language, Runner run)
    : self_(std::move(self)),
      office_(office),
      language_(language),
      run_(std::move(run)) {}

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

console::Response HitPages::Refused(const Request& r, const std::string& title,
                                    const absl::Status& status) const {
  const i18n::Lang lang = language_->For(r);
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return language_->NotForRole(r, msg::kConsoleHitsNotForRole);
  }
  return language_->Page(
      r, title,
      absl::StrCat("<p class=\"error\">",
                   HtmlFormat(msg::kConsoleHitsReadFailed, lang,
                              {Escape(std::string(status.message()))}),
                   "</p>"),
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

// The inbox's table of `page`'s notifications.
std::string InboxTable(const v1::ListInboxResponse& page, i18n::Lang lang) {
  std::string out = "<table><tr>";
  for (i18n::MessageId column :
       {msg::kConsoleHitsReceived, msg::kConsoleHitsPeer,
        msg::kConsoleHitsPeerOffice, msg::kConsoleInboxYourCase,
        msg::kConsoleInboxTheirPurpose, msg::kConsoleInboxTheirOffence}) {
    absl::StrAppend(&out, "<th scope=\"col\">", T(column, lang), "</th>");
  }
  out += "</tr>\n";
  for (const v1::Notification& n : page.notifications()) {
    absl::StrAppend(&out, "<tr><td>", client::FormatTimestamp(n.at_ms()),
                    "</td><td>", Escape(n.from_member()), "</td><td>",
                    Escape(n.from_office()), "</td><td><a href=\"/case?number=",
                    Escape(console::UrlEncode(n.case_number())), "\">",
                    Escape(n.case_number()), "</a></td><td>",
                    Escape(n.purpose().case_number()), "<br>",
                    Escape(n.purpose().legal_basis()), "</td><td>",
                    Escape(client::OffenceLabel(n.purpose().offence(), lang)),
                    "</td></tr>\n");
  }
  return out + "</table>\n";
}

}  // namespace

absl::StatusOr<std::optional<v1::Hit>> OwnHit(const OfficeScope& scope,
                                              const std::string& office,
                                              const std::string& id) {
  absl::StatusOr<v1::ListHitsResponse> all = AllHits(scope, office);
  if (!all.ok()) return all.status();
  for (v1::Hit& hit : *all->mutable_hits()) {
    if (HitId(hit) == id) return std::move(hit);
  }
  return std::nullopt;
}

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
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    const std::string title(i18n::Text(msg::kConsoleHitsTitle, lang));
    absl::StatusOr<v1::ListHitsResponse> all = ReadHits(r.caller);
    if (!all.ok()) return Refused(r, title, all.status());
    const std::vector<client::HitGroup> groups = client::GroupHits(*all);
    if (groups.empty()) {
      return language_->Page(
          r, title,
          absl::StrCat("<p>", T(msg::kConsoleHitsNone, lang), "</p>"));
    }
    std::string body =
        absl::StrCat("<p>", T(msg::kConsoleHitsIntro, lang), "</p>\n");
    for (const client::HitGroup& g : groups) {
      std::vector<const v1::Hit*> hits;
      for (const v1::Hit& h : all->hits()) {
        if (h.member() == g.member &&
            h.reference().case_token() == g.case_token) {
          hits.push_back(&h);
        }
      }
      body += GroupCard(g, hits, lang);
    }
    return language_->Page(r, title, body);
  });
}

void HitPages::Record(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    const std::string title(i18n::Text(msg::kConsoleHitsRecordTitle, lang));
    const std::string id = console::First(r.query, "id");
    absl::StatusOr<v1::ListHitsResponse> all = ReadHits(r.caller);
    if (!all.ok()) return Refused(r, title, all.status());
    for (const v1::Hit& hit : all->hits()) {
      if (HitId(hit) != id) continue;
      std::vector<v1::HitMatch> matches(hit.matches().begin(),
                                        hit.matches().end());
      std::string body = absl::StrCat(
          "<p class=\"noprint\">", T(msg::kConsoleHitsPrintHint, lang),
          " <a href=\"/requests/new?hit=", console::UrlEncode(id), "\">",
          T(msg::kConsoleCoopSendLink, lang), "</a></p>\n", Warnings(Disjoint(hit), hit.withdrawn_at_ms(), lang),
          "<table>\n",
          hit.watch_id().empty()
              ? Row(T(msg::kConsoleHitsQueryId, lang), Escape(hit.query_id()))
              : Row(T(msg::kConsoleHitsWatchId, lang), Escape(hit.watch_id())),
          Row(T(msg::kConsoleHitsReceived, lang),
              client::FormatTimestamp(hit.received_at_ms())),
          Row(T(msg::kConsoleHitsNode, lang), Escape(self_)),
          Row(T(msg::kConsoleHitsPurpose, lang), Escape(hit.case_number())),
          ReferenceRows(hit.member(), hit.reference(), lang),
          Row(T(msg::kConsoleHitsEnvelope, lang),
              absl::BytesToHexString(hit.envelope_sha256())),
          "</table>\n", MatchTable(matches, lang));
      return language_->Page(r, title, body);
    }
    // Another office's hit is not found either: its existence is not this
    // office's business.
    return language_->Page(
        r, title,
        absl::StrCat("<p class=\"error\">", T(msg::kConsoleHitsNoSuchHit, lang),
                     "</p>"),
        404);
  });
}

void HitPages::Inbox(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    const std::string title(i18n::Text(msg::kConsoleNavInbox, lang));
    v1::ListInboxRequest req;
    req.set_page_size(50);
    req.set_page_token(console::First(r.query, "page"));
    v1::ListInboxResponse page;
    const absl::Status read =
        ProsecutorReadFor(*office_, r.caller, "Office.ListInbox", "list_inbox",
                          [&](const OfficeCaller& caller) -> absl::Status {
                            absl::StatusOr<v1::ListInboxResponse> got =
                                office_->scope().ListInbox(caller.Name(), req);
                            if (!got.ok()) return got.status();
                            page = *std::move(got);
                            return absl::OkStatus();
                          });
    if (!read.ok()) return Refused(r, title, read);
    std::string body =
        absl::StrCat("<p>", T(msg::kConsoleInboxIntro, lang), "</p>\n");
    if (page.notifications().empty()) {
      absl::StrAppend(&body, "<p>", T(msg::kConsoleInboxNone, lang), "</p>\n");
    } else {
      body += InboxTable(page, lang);
    }
    if (!page.next_page_token().empty()) {
      absl::StrAppend(&body, "<p><a href=\"/inbox?page=",
                      Escape(console::UrlEncode(page.next_page_token())), "\">",
                      T(msg::kConsoleInboxNext, lang), "</a></p>\n");
    }
    if (!req.page_token().empty()) {
      absl::StrAppend(&body, "<p><a href=\"/inbox\">",
                      T(msg::kConsoleInboxFirst, lang), "</a></p>\n");
    }
    return language_->Page(r, title, body);
  });
}

}  // namespace cbx::node
