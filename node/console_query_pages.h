// The web console's query page (spec/web-console.md §4): `GET /query` is
// the form — identifier rows (a type, or "detect from the value"; the
// value; seen from / until; "also ask as a chat" for a value that could be
// a Telegram username or a group), the purpose (one of the office's own
// open cases, the legal basis, the offence) and the peers as check boxes —
// and `POST /query` asks the peers and streams the answer page: a line per
// peer as each answers (the outcome in words and the age of that peer's
// index copy), then the summary (with the stale-index warning) and a hit
// card per hit (node/console_hit_pages.h).
//
// The query runs through Office.Query's own domain call (QueryRun: the
// node binds LookupQuerier::Run for the caller's office and person, and
// logs the call as the Office port does), so it is checked, sent, logged
// and stored exactly as `cbx query`. Before that the page checks the form
// field by field against what it offered (one of the office's open cases,
// a legal basis, an offence, each value normalized as Office.Query will,
// the dates, the peers): a refusal is a 400 page with the form, what was
// typed kept and the message, in the caller's language, next to the field
// it belongs to (carried with the message, never read back from its
// text). A refusal of Office.Query itself (spec/office-api.md §4.5,
// Q1-Q16) that the page did not foresee is shown above the form in the
// node's words. The answer page says, per row, which identifier types were
// asked, and offers to ask a value asked as a Telegram username only as a
// group or channel too.
//
// Threading: handlers run the query through `run`, whose thread may block
// for the whole query (the node: its console executor, never the lookup
// executor whose threads the query's peers use). Thread-safe.
#ifndef CBX_NODE_CONSOLE_QUERY_PAGES_H_
#define CBX_NODE_CONSOLE_QUERY_PAGES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "cbx/v1/office.pb.h"
#include "node/console/console_server.h"
#include "node/console_language.h"
#include "node/office_scope.h"

namespace cbx::node {

// What "detect from the value" makes of `value`: the type, and whether it
// could also be a Telegram group or channel (a t.me link or an @name is
// either). INVALID_ARGUMENT if the type cannot be told.
struct DetectedType {
  v1::IdentifierType type = v1::IDENTIFIER_TYPE_UNSPECIFIED;
  bool could_be_chat = false;
};
absl::StatusOr<DetectedType> DetectType(const std::string& value);

// A refusal of a form by the page itself, before anything is asked: the
// field it is shown next to ("q_row_<i>", "case_number", "legal_basis",
// "offence", "peers", or a page's own; "" for the top of the form only)
// and its text in the caller's language (plain text, escaped when
// written). The field travels with the text, so that no translation is
// ever parsed back.
struct FormFieldRefusal {
  std::string field;
  std::string text;
};

// The query form's fields — the purpose (one of `open_cases`, a legal
// basis, an offence), the identifier rows (a type or "detect", the value
// normalized for the office's own country `self`, the days) and the peers
// ticked (each one of `peers`) — read from `form` into `q` and checked in
// the form's order, as POST /query checks them; the first refusal. Shared
// with the watch form (node/console_watch_pages.h), which asks the same.
std::optional<FormFieldRefusal> ReadQueryFields(
    const console::Form& form, i18n::Lang lang, const std::string& self,
    const std::vector<std::string>& open_cases,
    const std::vector<std::string>& peers, v1::QueryRequest& q);
// The purpose alone, as ReadQueryFields reads it (a watch's renewal).
std::optional<FormFieldRefusal> ReadPurposeFields(
    const console::Form& form, i18n::Lang lang,
    const std::vector<std::string>& open_cases, v1::Purpose& purpose);

// The query form's fieldsets as HTML, filled with `form` and `refusal`
// shown next to its field: the purpose (`open_cases` to choose from), the
// identifier rows, and the peers (`peers`, all ticked for a new form).
std::string PurposeFieldsHtml(const console::Form& form,
                              const FormFieldRefusal& refusal,
                              const std::vector<std::string>& open_cases,
                              i18n::Lang lang);
// How many identifier rows the query and watch forms start with; "Add
// another row" adds more (case_forms::RowsShown).
inline constexpr int kQueryFormRows = 4;
// (`self`: the office's own member, the phone-country default.) With
// `offer_bulk_check` (the query form), the form at its most rows also says
// where more go: a bulk check from a file (`cbx query --ids-file`).
std::string IdentifierRowsHtml(const console::Form& form,
                               const FormFieldRefusal& refusal,
                               const std::string& self, i18n::Lang lang,
                               bool offer_bulk_check = false);
std::string PeerBoxesHtml(const console::Form& form,
                          const FormFieldRefusal& refusal,
                          const std::vector<std::string>& peers,
                          i18n::Lang lang);

class QueryPages {
 public:
  using Runner = std::function<bool(std::function<void()> work)>;
  // Office.Query's domain call for `caller`; emits each event, returns
  // the query's status (a refusal before any event).
  using QueryRun = std::function<absl::Status(
      const v1::QueryRequest& request, const console::Caller& caller,
      const std::function<bool(const v1::QueryEvent&)>& emit)>;
  // The member codes of the active peers, for the check boxes.
  using Peers = std::function<std::vector<std::string>()>;

  // `scope` and `language` must outlive the pages.
  QueryPages(std::string self, const OfficeScope* scope,
             const ConsoleLanguage* language, Peers peers, QueryRun query,
             Runner run);

  // GET /query, POST /query.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void Form(const Request& r, Reply reply) const;
  void Ask(const Request& r, Reply reply) const;

  // The form filled with `form`, with `error` (plain text) above it and
  // next to `field` ("q_row_<i>", "case_number", "legal_basis",
  // "offence", "peers"; "" for above only); `status` 200 for a new form.
  console::Response FormPage(const Request& r, const console::Form& form,
                             const std::string& field, const std::string& error,
                             int status) const;
  // The case numbers of `office`'s open cases (none if they cannot be
  // read: the form then says there is no open case).
  std::vector<std::string> OpenCases(const std::string& office) const;
  console::Response NotForRole(const Request& r) const;
  console::Response Unavailable(const Request& r) const;
  // Checks the form of `r` field by field, asks the peers and streams the
  // page; on a refusal before any answer, replies with the form instead.
  void Stream(const Request& r, const Reply& reply) const;
  // The hit cards of `summary`'s query, read back as stored.
  std::string HitCards(const Request& r, const v1::QueryRequest& q,
                       const v1::QuerySummary& summary, i18n::Lang lang) const;

  const std::string self_;
  const OfficeScope* const scope_;
  const ConsoleLanguage* const language_;
  const Peers peers_;
  const QueryRun query_;
  const Runner run_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_QUERY_PAGES_H_
