// The web console's pages for auditors (spec/web-console.md §4a): this
// node's audit log — its latest checkpoint and who cosigned it — the peers'
// logs as this node witnesses them, every alert an auditor must see, the
// month's signed transparency report with its charts, the download of this
// node's export and the check of uploaded exports (verified and reconciled
// as `cbx audit verify-export` and `cbx audit reconcile` do;
// console_audit_check.cc).
//
// Each page runs through OfficeService::AuditedFor, as the Office port's
// auditor calls do: the auditor role only, refused with the log's own error
// when the log is damaged, and logged (Office.AuditCheckpoint,
// Office.GetReport, Office.AuditExport, Console.CheckExports) with the
// person who looked.
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
#include <optional>
#include <set>
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
  // `ctx`, `office` and `language` must outlive the pages; `genesis` is
  // the node's pinned genesis directory, against which uploaded exports
  // are verified.
  AuditPages(NodeContext* ctx, OfficeService* office,
             const ConsoleLanguage* language, ConsoleRunner run,
             v1::SignedDirectory genesis);

  // GET /audit, GET /audit/report, GET /audit/export, GET and POST
  // /audit/check.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);
  // The routes of AddRoutes that take uploads (ConsoleServer's
  // Options::upload_paths).
  static std::set<std::string> UploadPaths() { return {"/audit/check"}; }

 private:
  using Reply = console::Reply;
  using Request = console::Request;

  void Overview(const Request& r, Reply reply) const;
  void Report(const Request& r, Reply reply) const;
  // console_audit_check.cc: the export download, the check form and its
  // result.
  void Download(const Request& r, Reply reply) const;
  void CheckForm(const Request& r, Reply reply) const;
  void Check(const Request& r, Reply reply) const;
  // POST /audit/check's work (inside AuditedFor): the result page's body
  // and HTTP status; the status the audit entry records (INVALID_ARGUMENT:
  // no export, one that does not parse or two of one member;
  // FAILED_PRECONDITION: one that does not verify).
  absl::Status CheckUploads(const Request& r, i18n::Lang lang,
                            std::string* body, int* http) const;
  // The export form of /audit, with `from` and `to` as typed.
  std::string ExportForm(const std::string& from, const std::string& to,
                         i18n::Lang lang) const;
  // The export of entries [from, to) (to empty: the latest checkpoint's
  // size) as `cbx audit export` writes it, inside AuditedFor; its file
  // name in `name`.
  absl::StatusOr<std::string> ExportFile(uint64_t from,
                                         std::optional<uint64_t> to,
                                         std::string* name) const;

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
  const v1::SignedDirectory genesis_;
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_AUDIT_PAGES_H_
