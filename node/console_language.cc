#include "node/console_language.h"

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cbx::node {

std::string HtmlText(i18n::MessageId id, i18n::Lang lang) {
  std::string out;
  for (char c : i18n::Text(id, lang)) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string HtmlFormat(i18n::MessageId id, i18n::Lang lang,
                       std::initializer_list<std::string_view> html) {
  return i18n::Substitute(HtmlText(id, lang), html);
}

std::string RoleText(const std::string& role, i18n::Lang lang) {
  namespace msg = i18n::msg;
  if (role == "prosecutor") {
    return std::string(i18n::Text(msg::kConsoleOfficeRoleProsecutor, lang));
  }
  if (role == "auditor") {
    return std::string(i18n::Text(msg::kConsoleOfficeRoleAuditor, lang));
  }
  if (role == "operator") {
    return std::string(i18n::Text(msg::kConsoleOfficeRoleOperator, lang));
  }
  return role;
}

std::string CallerText(const console::Caller& caller, i18n::Lang lang) {
  std::string out =
      absl::StrCat(caller.office, " (", RoleText(caller.role, lang));
  if (!caller.person.empty()) absl::StrAppend(&out, ", ", caller.person);
  return out + ")";
}

using console::Escape;
using console::First;

namespace {

constexpr size_t kMaxReturnTo = 2048;

// The path and query of a GET `r` ("/case?number=MK-1"); "/" for a POST,
// whose page cannot be fetched again.
std::string ReturnTo(const console::Request& r) {
  if (r.method != "GET") return "/";
  std::string out = r.path;
  char sep = '?';
  for (const auto& [name, values] : r.query) {
    for (const std::string& v : values) {
      absl::StrAppend(&out, std::string(1, sep), console::UrlEncode(name), "=",
                      console::UrlEncode(v));
      sep = '&';
    }
  }
  return out;
}

}  // namespace

ConsoleLanguage::ConsoleLanguage(std::string self, Storage* storage, Runner run)
    : self_(std::move(self)), storage_(storage), run_(std::move(run)) {}

void ConsoleLanguage::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  routes[{"POST", "/language"}] = [this](const console::Request& r,
                                         console::Reply reply) {
    Choose(r, std::move(reply));
  };
}

std::string ConsoleLanguage::Key(const console::Caller& caller) {
  return caller.person.empty()
             ? absl::StrCat("console.language/", caller.office, "/role/",
                            caller.role)
             : absl::StrCat("console.language/", caller.office, "/person/",
                            caller.person);
}

bool ConsoleLanguage::SameSitePath(const std::string& target) {
  if (target.empty() || target.size() > kMaxReturnTo || target[0] != '/') {
    return false;
  }
  if (target.size() > 1 && target[1] == '/') return false;
  for (char c : target) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\\' || u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string ConsoleLanguage::Stored(const std::string& key) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  absl::StatusOr<std::optional<Bytes>> got = storage_->GetSetting(key);
  // A read that fails is not cached: the next page asks node.db again, and
  // this one falls back to the browser's languages.
  if (!got.ok()) return "";
  const std::string code = got->value_or("");
  std::lock_guard<std::mutex> lock(mu_);
  cache_[key] = code;
  return code;
}

i18n::Lang ConsoleLanguage::For(const console::Request& r) const {
  const std::string code = Stored(Key(r.caller));
  if (!code.empty()) {
    if (std::optional<i18n::Lang> lang = i18n::FindLanguage(code)) {
      return *lang;
    }
  }
  return i18n::BestLanguage(r.accept_language);
}

console::PageFrame ConsoleLanguage::Frame(const console::Request& r,
                                          const std::string& title) const {
  console::PageFrame frame;
  frame.lang = For(r);
  frame.title = title;
  frame.node = self_;
  frame.caller = CallerText(r.caller, frame.lang);
  frame.form_token = r.session.form_token;
  frame.return_to = ReturnTo(r);
  return frame;
}

namespace {

// The menu of `role`'s pages.
std::string Menu(const std::string& role, i18n::Lang lang) {
  namespace msg = i18n::msg;
  std::vector<std::pair<const char*, i18n::MessageId>> links = {
      {"/", msg::kConsoleNavHome}};
  if (role == "prosecutor") {
    links.insert(links.end(), {{"/cases", msg::kConsoleNavCases},
                               {"/cases/new", msg::kConsoleNavNewCase},
                               {"/query", msg::kConsoleNavQuery},
                               {"/hits", msg::kConsoleNavHits},
                               {"/inbox", msg::kConsoleNavInbox},
                               {"/requests", msg::kConsoleNavRequests},
                               {"/watches", msg::kConsoleNavWatches}});
  } else if (role == "auditor") {
    links.insert(links.end(), {{"/audit", msg::kConsoleNavAudit},
                               {"/audit/report", msg::kConsoleNavReport},
                               {"/audit/check", msg::kConsoleAuditCheckTitle}});
  }
  std::string out =
      absl::StrCat("<nav aria-label=\"",
                   Escape(i18n::Text(msg::kConsoleNavLabel, lang)), "\">");
  for (size_t i = 0; i < links.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : " · ", "<a href=\"", links[i].first,
                    "\">", HtmlText(links[i].second, lang), "</a>");
  }
  return out + "</nav>\n";
}

}  // namespace

console::Response ConsoleLanguage::Page(const console::Request& r,
                                        const std::string& title,
                                        const std::string& body,
                                        int status) const {
  const console::PageFrame frame = Frame(r, title);
  return console::Response{
      status, "text/html; charset=utf-8",
      console::Page(frame, Menu(r.caller.role, frame.lang) + body), ""};
}

void ConsoleLanguage::Later(const Runner& run, const console::Request& r,
                            const console::Reply& reply,
                            std::function<console::Response()> work) const {
  if (run([reply, work = std::move(work)] { reply(work()); })) return;
  const i18n::Lang lang = For(r);
  reply(Page(
      r, std::string(i18n::Text(i18n::msg::kConsoleUnavailableTitle, lang)),
      absl::StrCat("<p class=\"error\">",
                   HtmlText(i18n::msg::kConsoleUnavailableText, lang), "</p>"),
      503));
}

console::Response ConsoleLanguage::NotForRole(const console::Request& r,
                                              i18n::MessageId text) const {
  const i18n::Lang lang = For(r);
  return Page(
      r, std::string(i18n::Text(i18n::msg::kConsoleNotForRoleTitle, lang)),
      absl::StrCat(
          "<p class=\"error\">",
          HtmlFormat(text, lang, {Escape(RoleText(r.caller.role, lang))}),
          "</p>"),
      403);
}

console::Response ConsoleLanguage::Refusal(const console::Request& r,
                                           int status,
                                           const std::string& text) const {
  const console::PageFrame frame = Frame(
      r, std::string(i18n::Text(i18n::msg::kConsoleLanguageTitle, For(r))));
  return console::Response{
      status, "text/html; charset=utf-8",
      console::Page(frame, absl::StrCat("<p class=\"error\" role=\"alert\">",
                                        Escape(text), "</p>")),
      ""};
}

void ConsoleLanguage::Choose(const console::Request& r,
                             console::Reply reply) const {
  const i18n::Lang now = For(r);
  const std::string code = First(r.form, "language");
  const std::optional<i18n::Lang> lang = i18n::FindLanguage(code);
  if (!lang.has_value()) {
    return reply(Refusal(
        r, 400, i18n::Format(i18n::msg::kConsoleLanguageUnknown, now, {code})));
  }
  const std::string sent = First(r.form, "return_to");
  const std::string back = sent.empty() ? std::string("/") : sent;
  if (!SameSitePath(back)) {
    return reply(Refusal(
        r, 400,
        std::string(i18n::Text(i18n::msg::kConsoleLanguageBadReturn, now))));
  }
  const std::string key = Key(r.caller);
  const bool queued = run_([this, r, reply, key, back, lang = *lang] {
    absl::Status put = storage_->PutSetting(key, std::string(lang.code()));
    if (!put.ok()) {
      return reply(Refusal(
          r, 500,
          i18n::Format(
              i18n::msg::kConsoleLanguageNotSaved, For(r),
              {std::string_view(put.message().data(), put.message().size())})));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      cache_[key] = std::string(lang.code());
    }
    reply(console::Response{303, "", "", back});
  });
  if (!queued) {
    reply(Refusal(
        r, 503,
        std::string(i18n::Text(i18n::msg::kConsoleUnavailableText, now))));
  }
}

}  // namespace cbx::node
