// The web console's cooperation pages (spec/web-console.md §4.3): what
// `cbx request send | list | show` and `cbx respond` do, for an office's
// browser. `GET /requests` lists the office's requests, sent and received,
// newest first, with their status and due times (`?overdue=1`: only the
// overdue ones; `?page=T`: the next page); `GET /request?id=` shows one in
// full, with the answer form for a request the office received and has
// not yet answered; `GET /requests/new?hit=` is the form that asks the
// peer of a hit (node/console_hit_pages.h) for cooperation, of the kinds
// the Office port offers; `POST /requests` sends it and `POST
// /requests/respond` answers a received one.
//
// Each page is the Office call it stands for, run through
// OfficeService::ServeFor with the Office port's own body of that call
// (console_calls.h ProsecutorCallFor), so it is checked, logged and sent
// exactly as the same `cbx` command: Office.ListCooperationRequests,
// Office.GetCooperationRequest, Office.SendCooperationRequest,
// Office.RespondToCooperationRequest (the send form reads its hit as
// Office.ListHits, as /hit does). A role other than prosecutor gets 403
// and the refusal is logged as the port logs it. Before a POST reaches the
// node, the page checks the form field by field (a kind chosen, a legal
// basis, what a preservation request needs, the note's length; an
// answer's outcome and what it needs) and refuses the first failure next
// to its field in the page's language (400, nothing sent, nothing logged);
// the node's own refusals follow the translated framing.
//
// Threading: handlers run their calls through `run` (the node: its console
// executor, since sending and answering wait for the peer); thread-safe.
#ifndef CBX_NODE_CONSOLE_COOPERATION_PAGES_H_
#define CBX_NODE_CONSOLE_COOPERATION_PAGES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "cbx/v1/office.pb.h"
#include "node/console/console_server.h"
#include "node/console_language.h"
#include "node/console_query_pages.h"
#include "node/office_service.h"

namespace cbx::node {

class CooperationPages {
 public:
  // Runs `work` later, off the io_context's thread; false if it cannot.
  using Runner = std::function<bool(std::function<void()> work)>;

  // `office` and `language` must outlive the pages.
  CooperationPages(OfficeService* office, const ConsoleLanguage* language,
                   Runner run);

  // GET /requests, GET /request, GET /requests/new, POST /requests,
  // POST /requests/respond.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void List(const Request& r, Reply reply) const;
  void Show(const Request& r, Reply reply) const;
  void NewForm(const Request& r, Reply reply) const;
  void Send(const Request& r, Reply reply) const;
  void Respond(const Request& r, Reply reply) const;

  // The record page of request `id` (read as Office.GetCooperationRequest),
  // with the answer form filled with `form` and `refusal` (the page's own,
  // next to its field) or `node_reason` (the node's, above the form).
  console::Response RecordPage(const Request& r, const std::string& id,
                               const console::Form& form,
                               const FormFieldRefusal& refusal,
                               const std::string& node_reason,
                               int status) const;
  // The send form for hit `hit_id` (read as Office.ListHits), as
  // RecordPage for its form and refusals.
  console::Response SendPage(const Request& r, const std::string& hit_id,
                             const console::Form& form,
                             const FormFieldRefusal& refusal,
                             const std::string& node_reason, int status) const;
  // The page for a call the Office service refused: 403 in words for a
  // role, else the node's reason with its HTTP status.
  console::Response Refused(const Request& r, const std::string& title,
                            const absl::Status& status) const;

  OfficeService* const office_;
  const ConsoleLanguage* const language_;
  const Runner run_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_COOPERATION_PAGES_H_
