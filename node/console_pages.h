// The web console's pages for a prosecutor's office (spec/web-console.md
// §4): its own cases — list, register, look at, amend, close (amending in
// node/console_case_amend.cc). Each page is a
// handler of node/console/console_server.h; the server has authenticated
// the caller and checked the form token before a handler runs.
//
// The pages call the same domain layer as the Office port, for the
// caller's office: the writes through the Office service's CaseBook (which
// logs them), the reads through OfficeService::ServeFor as Office.ListCases
// (console_calls.h), so a change or a look made in the console is checked,
// logged and published exactly as one made with `cbx`. An office sees and
// acts on its own cases only (spec/cooperation.md §6); the auditor and
// operator roles get a page saying that cases are for prosecutors' offices
// (a refused read is logged as the Office port logs it).
//
// Every page is in the caller's language (console_language.h): its
// titles, labels, buttons and help from the message catalog
// (core/i18n/catalog.h); a refusal of the domain layer keeps the node's
// own words (English), inside a translated frame.
//
// Threading: handlers run the domain calls through `run` (the node: its
// executor; tests: inline) and reply from there. Thread-safe.
#ifndef CBX_NODE_CONSOLE_PAGES_H_
#define CBX_NODE_CONSOLE_PAGES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "node/cases.h"
#include "node/console/console_server.h"
#include "node/console_language.h"
#include "node/office_service.h"

namespace cbx::node {

class CasePages {
 public:
  // Runs `work` later, off the io_context's thread; false if it cannot (the
  // node is stopping): the page then says so.
  using Runner = std::function<bool(std::function<void()> work)>;

  // `self` is this member's code ("MK"); `office` (the Office port's
  // service, whose case book the pages change cases with) and `language`
  // must outlive the pages.
  CasePages(std::string self, OfficeService* office, Runner run,
            const ConsoleLanguage* language);

  // GET /, GET /cases, GET /cases/new, GET /case, POST /cases,
  // POST /cases/close, GET /cases/amend, POST /cases/amend.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void Home(const Request& r, Reply reply) const;
  void List(const Request& r, Reply reply) const;
  void NewForm(const Request& r, Reply reply) const;
  void Show(const Request& r, Reply reply) const;
  void Add(const Request& r, Reply reply) const;
  void Close(const Request& r, Reply reply) const;
  // GET /cases/amend?number=N: the case's identifiers, each with its dates
  // and a remove box, and rows to add (console_case_amend.cc).
  void AmendForm(const Request& r, Reply reply) const;
  // POST /cases/amend: Office.AmendCase from that form; with "Add another
  // row" (case_forms::AddsRow), the form again with one more row to add.
  void Amend(const Request& r, Reply reply) const;
  // The amend form of case `number`, filled with `form` (empty: as
  // stored), or the page saying why there is none.
  console::Response AmendPage(const Request& r, const std::string& number,
                              const console::Form& form) const;
  // The case `number` if the caller's office may read it (nullopt: none
  // of its cases), read and logged as Office.ListCases; the read's
  // refusal otherwise.
  absl::StatusOr<std::optional<v1::Case>> ReadOwnCase(
      const Request& r, const std::string& number) const;
  // The 404 page for a case number the office has no case under.
  console::Response NoSuchCase(const Request& r,
                               const std::string& number) const;

  // The language of `r`'s pages.
  i18n::Lang LanguageOf(const Request& r) const;
  // False (having answered 403) unless the caller is a prosecutor.
  bool Prosecutor(const Request& r, const Reply& reply) const;
  // The page for a read the Office service refused (`status`): 403 in
  // words for a role, else the node's reason with its HTTP status.
  console::Response ReadRefused(const Request& r, const std::string& title,
                                const absl::Status& status) const;

  const std::string self_;
  OfficeService* const office_;
  CaseBook* const cases_;
  const Runner run_;
  const ConsoleLanguage* const language_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_PAGES_H_
