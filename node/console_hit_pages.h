// The web console's pages of what peers answered an office (spec/web-
// console.md §4), in the caller's language (console_language.h): its hits
// grouped per peer case (`GET /hits`, as `cbx hits` groups them:
// client/hit_groups.h), a printable record of one hit for the case file (`GET
// /hit?id=...`), and its inbox (`GET /inbox`: the peers that resolved its
// cases, newest first, paged). The hit card is shared with the query page
// (node/console_query_pages.h).
//
// The pages read through OfficeService::ServeFor as Office.ListHits and
// Office.ListInbox (console_calls.h): checked and logged as those calls
// made with `cbx`. An office sees its own hits and notifications only
// (OfficeScope), and another office's hit is 404, as /case is for another
// office's case. The auditor and operator roles get 403 (and the refusal
// is logged as on the Office port).
//
// Threading: handlers run their reads through `run` (the node: its
// executor; tests: inline) and reply from there. Thread-safe.
#ifndef CBX_NODE_CONSOLE_HIT_PAGES_H_
#define CBX_NODE_CONSOLE_HIT_PAGES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "cbx/v1/office.pb.h"
#include "core/i18n/catalog.h"
#include "node/console/console_server.h"
#include "node/console_language.h"
#include "node/office_service.h"

namespace cbx::node {

// The id of `hit` in the console's addresses (/hit?id=...): the query id
// (or "w" and the watch id), the peer and the case token in hex, joined by
// '.'. Names one hit of one office's query.
std::string HitId(const v1::Hit& hit);

// The hit `id` (HitId) of `office`, read through `scope` (Office.ListHits'
// scope: the office's own hits); nullopt if the office has none by that
// id. The caller logs the read as the call it belongs to.
absl::StatusOr<std::optional<v1::Hit>> OwnHit(const OfficeScope& scope,
                                              const std::string& office,
                                              const std::string& id);

// The catalog's name of `type` on the console's pages ("Telegram
// username"): one message per type, shared by the case form, the query
// form and the hit cards.
i18n::MessageId IdentifierTypeMessage(v1::IdentifierType type);

// A hit card (HTML, every peer-supplied text escaped): the peer, its
// office and 24/7 contact, the case token, offences, status, each matched
// identifier as the office typed it with both observed windows and a
// warning where they do not overlap, and a mark if the case was withdrawn;
// a link to the hit's printable record; its labels in `lang`.
std::string HitCard(const v1::Hit& hit, i18n::Lang lang);

class HitPages {
 public:
  // Runs `work` later, off the io_context's thread; false if it cannot.
  using Runner = std::function<bool(std::function<void()> work)>;

  // `self` is this member's code ("MK"); `office` and `language` must
  // outlive the pages.
  HitPages(std::string self, OfficeService* office,
           const ConsoleLanguage* language, Runner run);

  // GET /hits, GET /hit, GET /inbox.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void Hits(const Request& r, Reply reply) const;
  void Record(const Request& r, Reply reply) const;
  void Inbox(const Request& r, Reply reply) const;

  // Every hit of `who`'s office, newest first, read as one Office.ListHits
  // call (checked and logged); the refusal's status otherwise.
  absl::StatusOr<v1::ListHitsResponse> ReadHits(
      const console::Caller& who) const;
  // The page for a read the Office service refused: 403 in words for a
  // role, else the node's reason with its HTTP status.
  console::Response Refused(const Request& r, const std::string& title,
                            const absl::Status& status) const;

  const std::string self_;
  OfficeService* const office_;
  const ConsoleLanguage* const language_;
  const Runner run_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_HIT_PAGES_H_
