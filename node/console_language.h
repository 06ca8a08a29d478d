// The web console's language, per person (spec/web-console.md §5): which
// language a caller's pages are in, and `POST /language`, where the page
// frame's chooser sends a choice.
//
// A choice is remembered in node.db's settings (Storage::PutSetting; no
// table of its own), keyed by the office and the staff identifier of a
// per-person certificate, or by the office and role when the certificate
// names no person, so that it holds across sessions, browsers and
// restarts, and one person's choice is not another's. A caller who has
// made none gets the best match of the browser's Accept-Language among the
// catalog's languages (i18n::BestLanguage), else English.
//
// Threading: thread-safe. Choices are cached in memory after their first
// read (this node is the only writer of its node.db); a page may look one
// up from the io_context's thread, and the first look-up per caller is a
// point read of node.db. Writes run through `run`, never on the
// io_context's thread.
#ifndef CBX_NODE_CONSOLE_LANGUAGE_H_
#define CBX_NODE_CONSOLE_LANGUAGE_H_

#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "core/i18n/catalog.h"
#include "node/console/console_server.h"
#include "node/storage/storage.h"

namespace cbx::node {

// The text of `id` in `lang` for a page's element content: &, < and >
// escaped, a translation's apostrophes and quotes kept as written (so
// never for an attribute value: console::Escape the i18n::Text there).
std::string HtmlText(i18n::MessageId id, i18n::Lang lang);
// HtmlText with {1}, {2}, ... replaced by `html` (already HTML).
std::string HtmlFormat(i18n::MessageId id, i18n::Lang lang,
                       std::initializer_list<std::string_view> html);

// The office role `role` ("prosecutor", "auditor", "operator") in `lang`
// (console.office_role.*), plain text; a role the catalog does not name is
// shown as it is.
std::string RoleText(const std::string& role, i18n::Lang lang);
// How the header and the home page name the caller, plain text: its
// office, its role in `lang` and its person ("MK/PPO-Skopje (обвинител,
// mk-0042)").
std::string CallerText(const console::Caller& caller, i18n::Lang lang);

class ConsoleLanguage {
 public:
  // As CasePages::Runner: runs `work` later, off the io_context's thread;
  // false if it cannot (the node is stopping).
  using Runner = std::function<bool(std::function<void()> work)>;

  // `self` is this member's code ("MK"), for the page frame; `storage`
  // must outlive this.
  ConsoleLanguage(std::string self, Storage* storage, Runner run);

  // POST /language.
  void AddRoutes(
      std::map<std::pair<std::string, std::string>, console::Handler>& routes);

  // The language of `r`'s pages: the caller's choice, else the best match
  // of r.accept_language, else English. A stored choice that the catalog
  // no longer has (a file removed) counts as none.
  i18n::Lang For(const console::Request& r) const;

  // The page frame of `r` in its language: the node, the caller, the form
  // token and `r` as the page the chooser returns to.
  console::PageFrame Frame(const console::Request& r,
                           const std::string& title) const;

  // `body` (already HTML) as a whole page for `r`, with `status`: the
  // frame in r's language and the menu of r's role (a prosecutor's: home,
  // cases, register, query, hits, inbox; an auditor's: home, audit,
  // report; any other role's: home). Every page of the console is framed
  // here.
  console::Response Page(const console::Request& r, const std::string& title,
                         const std::string& body, int status = 200) const;

  // The 403 page for a caller whose role the page is not for: `text` (one
  // placeholder, the caller's role in r's language) under the catalog's
  // "not for your role" title.
  console::Response NotForRole(const console::Request& r,
                               i18n::MessageId text) const;

  // Runs `work` through `run` and replies with its page; if `run` cannot
  // (the node is stopping), replies 503 saying so in r's language.
  void Later(const Runner& run, const console::Request& r,
             const console::Reply& reply,
             std::function<console::Response()> work) const;

  // The settings key of `caller`'s choice:
  // "console.language/<office>/person/<id>", or
  // "console.language/<office>/role/<role>" without a person.
  static std::string Key(const console::Caller& caller);

  // Whether `target` is a path of this console, safe to redirect to: it
  // starts with one '/', and holds no backslash, control character or
  // space (so not "//evil.example", "/\evil.example" or "https://...").
  static bool SameSitePath(const std::string& target);

 private:
  void Choose(const console::Request& r, console::Reply reply) const;
  // The stored choice of `key`, "" if none (cached).
  std::string Stored(const std::string& key) const;
  console::Response Refusal(const console::Request& r, int status,
                            const std::string& text) const;

  const std::string self_;
  Storage* const storage_;
  const Runner run_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node

#endif  // CBX_NODE_CONSOLE_LANGUAGE_H_
