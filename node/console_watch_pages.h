// The web console's watch pages (spec/web-console.md §4.4): what `cbx watch
// add | list | renew | remove` do, for an office's browser. `GET /watches`
// lists the office's standing watches (case, identifier types, peers,
// those that need adding again, hits, end) with a renew link and a cancel
// button each; `GET /watches/new` is the add form — the query form's
// fields (an open case, legal basis, offence; identifier rows with a type
// or "detect from the value"; the peers; node/console_query_pages.h) and
// how many days, within the policy's watch_max_s; `POST /watches` adds the
// watch; `GET /watches/renew?id=` and `POST /watches/renew` give a watch a
// new purpose and a new end; `POST /watches/remove` cancels one.
//
// Each POST and the listing run the Office port's own body of the call
// through OfficeService::ServeFor (console_calls.h ProsecutorCallFor):
// Office.AddWatch, Office.RenewWatch, Office.RemoveWatch and
// Office.ListWatches, checked and logged by node/watches.h exactly as the
// same `cbx watch` command. A role other than prosecutor gets 403, logged
// as the port logs it. Before a POST reaches the node the page checks the
// form field by field as the query page does, and the days, and refuses
// the first failure next to its field in the page's language (400,
// nothing sent, nothing logged); the node's refusals follow the translated
// framing.
//
// Threading: handlers run their calls through `run` (the node: its console
// executor, since adding a watch asks every peer); thread-safe.
#ifndef CBX_NODE_CONSOLE_WATCH_PAGES_H_
#define CBX_NODE_CONSOLE_WATCH_PAGES_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "node/console/console_server.h"
#include "node/console_language.h"
#include "node/console_query_pages.h"
#include "node/office_service.h"

namespace cbx::node {

class WatchPages {
 public:
  using Runner = std::function<bool(std::function<void()> work)>;
  // The member codes of the active peers, for the check boxes.
  using Peers = std::function<std::vector<std::string>()>;

  // `self` is this member's code ("MK"), whose country national numbers
  // are read in; `office` and `language` must outlive the pages.
  WatchPages(std::string self, OfficeService* office,
             const ConsoleLanguage* language, Peers peers, Runner run);

  // GET /watches, GET /watches/new, POST /watches, GET /watches/renew,
  // POST /watches/renew, POST /watches/remove.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void List(const Request& r, Reply reply) const;
  void NewForm(const Request& r, Reply reply) const;
  void Add(const Request& r, Reply reply) const;
  void RenewForm(const Request& r, Reply reply) const;
  void Renew(const Request& r, Reply reply) const;
  void Remove(const Request& r, Reply reply) const;

  // The add form filled with `form`, `refusal` next to its field or
  // `node_reason` above the form.
  console::Response AddPage(const Request& r, const console::Form& form,
                            const FormFieldRefusal& refusal,
                            const std::string& node_reason, int status) const;
  // The renewal form of watch `id` (read as Office.ListWatches), as
  // AddPage.
  console::Response RenewPage(const Request& r, const std::string& id,
                              const console::Form& form,
                              const FormFieldRefusal& refusal,
                              const std::string& node_reason, int status) const;
  // The days field and its check: 1 to the policy's longest watch.
  std::string DaysField(const console::Form& form,
                        const FormFieldRefusal& refusal, i18n::Lang lang) const;
  std::optional<FormFieldRefusal> DaysFromForm(const console::Form& form,
                                               i18n::Lang lang,
                                               uint32_t& duration_s) const;
  // The case numbers of `office`'s open cases (none if they cannot be
  // read: the form then says there is no open case).
  std::vector<std::string> OpenCases(const std::string& office) const;
  console::Response Refused(const Request& r, const std::string& title,
                            const absl::Status& status) const;

  const std::string self_;
  OfficeService* const office_;
  const ConsoleLanguage* const language_;
  const Peers peers_;
  const Runner run_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_WATCH_PAGES_H_
