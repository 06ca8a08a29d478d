// The web console's pages for auditors (spec/web-console.md §4.2): this
// node's audit log — its latest checkpoint and who cosigned it — the peers'
// logs as this node witnesses them, every alert an auditor must see, and
// the month's signed transparency report with its charts.
//
// Each page runs through OfficeService::AuditedFor, as the Office port's
// auditor calls do: the auditor role only, refused with the log's own error
// when the log is damaged, and logged (Office.AuditCheckpoint,
// Office.GetReport) with the person who looked.
//
// Every page is in the caller's language (console_language.h), its words
// the catalog's `console.audit.*` messages; what the node reports (an
// alert, a refusal) keeps the node's own words (English).
//
// Threading: handlers run their work through the runner (the node: its
// lookup executor) and reply from there. Thread-safe.
#ifndef CBX_NODE_CONSOLE_AUDIT_PAGES_H_
#define CBX_NODE_CONSOLE_AUDIT_PAGES_H_

#include <map>
#include <string>
#include <utility>

#include "node/console/console_server.h"
#include "node/console_calls.h"
#include "node/console_language.h"
#include "node/node_context.h"
#include "node/office_service.h"

namespace cbx::node {

class AuditPages {
 public:
  // `ctx`, `office` and `language` must outlive the pages.
  AuditPages(NodeContext* ctx, OfficeService* office,
             const ConsoleLanguage* language, ConsoleRunner run);

  // GET /audit, GET /audit/report.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void Overview(const Request& r, Reply reply) const;
  void Report(const Request& r, Reply reply) const;

  // The overview's sections, inside AuditedFor.
  absl::StatusOr<std::string> OwnLog(i18n::Lang lang) const;
  absl::StatusOr<std::string> WitnessedLogs(std::string* alerts,
                                            i18n::Lang lang) const;

  // Runs `work` for the caller (through run_), or answers 503 (the node is
  // stopping).
  void AsCaller(
      const Request& r, const Reply& reply,
      std::function<console::Response(const OfficeCaller&)> work) const;
  // The page for a refused call: 403 in words for another role, else the
  // refusal after `before` (e.g. the form) with its HTTP status.
  console::Response Refused(const Request& r, const std::string& title,
                            const std::string& before,
                            const absl::Status& status) const;

  NodeContext* const ctx_;
  OfficeService* const office_;
  const ConsoleLanguage* const language_;
  const ConsoleRunner run_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_AUDIT_PAGES_H_
