#include "node/console_query_pages.h"

#include <algorithm>
#include <memory>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/offence_labels.h"
#include "node/console_hit_pages.h"

namespace cbx::node {
namespace {

// Every English text of this page, in one place for the translations.
constexpr char kTitle[] = "Ask the peers";
constexpr char kAnswersTitle[] = "Answers of the peers";
constexpr char kPurposeLegend[] = "Why you ask";
constexpr char kCaseLabel[] = "Your open case";
constexpr char kNoOpenCase[] =
    "Your office has no open case. A query is asked under one of your "
    "open cases: register the case first.";
constexpr char kLegalBasisLabel[] = "Legal basis";
constexpr char kLegalBasisHint[] = "For example: MLA-Convention-1959 Art.1";
constexpr char kOffenceLabel[] = "Offence";
constexpr char kChooseOffence[] = "Choose the offence";
constexpr char kIdsLegend[] = "Who you ask about";
constexpr char kIdRow[] = "Identifier ";
constexpr char kTypeLabel[] = "Type";
constexpr char kDetect[] = "Detect from the value";
constexpr char kValueLabel[] = "Value, as you have it";
constexpr char kFromLabel[] = "Seen from (YYYY-MM-DD, UTC)";
constexpr char kToLabel[] = "Seen until (YYYY-MM-DD, UTC)";
constexpr char kChatLabel[] = "Also ask as a Telegram group or channel";
constexpr char kChatHint[] =
    "A Telegram link (t.me/...) or an @name can be a person's username or "
    "a group or channel. Tick the box to ask both.";
constexpr char kPeersLegend[] = "Peers to ask";
constexpr char kSubmit[] = "Ask the peers";
constexpr char kAskAgain[] = "Ask again";
constexpr char kRefused[] = "The query was not sent: ";
constexpr char kNoPeerChosen[] = "peers: choose at least one peer to ask";
constexpr char kCannotDetect[] =
    ": the type cannot be told from the value; choose its type";
constexpr char kNotADate[] = " is not a date (YYYY-MM-DD)";
constexpr char kSeenFrom[] = ", seen from: ";
constexpr char kSeenUntil[] = ", seen until: ";
constexpr char kHit[] = "found a case";
constexpr char kHits[] = "found cases";
constexpr char kMiss[] = "no case";
constexpr char kError[] = "no answer";
constexpr char kPhantom[] =
    "WARNING: its index held the identifier but its signed answer names no "
    "case (a phantom hit; reported to your operator)";
constexpr char kIndexAge[] = "its index copy was ";
constexpr char kIndexOld[] = " old";
constexpr char kNoIndex[] = "no copy of its index was used";
constexpr char kLessThanASecond[] = "less than a second";
constexpr char kSeconds[] = " s";
constexpr char kMinutes[] = " min";
constexpr char kHours[] = " h";
constexpr char kSummaryTitle[] = "Summary";
constexpr char kQueryId[] = "Query id";
constexpr char kElapsed[] = "Time taken";
constexpr char kHitPeers[] = "Found cases";
constexpr char kMissPeers[] = "No case";
constexpr char kFailedPeers[] = "No answer";
constexpr char kNone[] = "none";
constexpr char kStale[] =
    "These peers answered \"no case\" from a copy of their index older "
    "than ";
constexpr char kStaleEnd[] =
    ": a case they registered since may not be in it. Ask again later.";
constexpr char kHitsTitle[] = "Hits";
constexpr char kNoHits[] = "No peer named a case.";
constexpr char kAskedAsUsername[] =
    " was asked as a Telegram username only; it could also be a group or "
    "channel. Ask again with \"Also ask as a Telegram group or channel\" "
    "ticked to ask both.";
constexpr char kHitsReadFailed[] = "The hits could not be read back: ";
constexpr char kAbortedAfterAnswers[] = "The query stopped before it ended: ";
constexpr char kNotForRoleTitle[] = "Not for your role";
constexpr char kNotForRole[] =
    "Queries are for prosecutors' offices; your certificate's role is ";
constexpr char kUnavailable[] = "Unavailable";
constexpr char kStopping[] = "The node is stopping; try again in a moment.";

// How many identifier rows the form offers.
constexpr int kRows = 4;

constexpr v1::IdentifierType kTypes[] = {
    v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
    v1::IDENTIFIER_TYPE_TELEGRAM_CHAT,
    v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID,
    v1::IDENTIFIER_TYPE_PHONE,
    v1::IDENTIFIER_TYPE_EMAIL,
    v1::IDENTIFIER_TYPE_PLATFORM_HANDLE,
    v1::IDENTIFIER_TYPE_CONTENT_SHA256,
};

using console::Escape;
using console::First;

int IntField(const console::Form& form, const std::string& name) {
  int v = 0;
  return absl::SimpleAtoi(First(form, name), &v) ? v : 0;
}

bool Has(const console::Form& form, const std::string& name,
         const std::string& value) {
  auto it = form.find(name);
  return it != form.end() && std::find(it->second.begin(), it->second.end(),
                                       value) != it->second.end();
}

// "YYYY-MM-DD" as ms at the start of that UTC day (of the next, less 1 ms,
// if `end`); 0 for "".
absl::StatusOr<int64_t> DateMs(const std::string& text, bool end,
                               const std::string& field) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, "'", text, "'", kNotADate));
  }
  if (end) t += absl::Hours(24) - absl::Milliseconds(1);
  return absl::ToUnixMillis(t);
}

// The query a POST /query form describes; `rows` gets, per identifier of
// the request, the form row it came from; `username_only` the rows asked
// as a username that could also be a chat. INVALID_ARGUMENT naming the
// row or field.
absl::StatusOr<v1::QueryRequest> QueryFromForm(
    const console::Form& form, std::vector<int>& rows,
    std::vector<int>& username_only) {
  v1::QueryRequest q;
  for (int i = 0; i < kRows; ++i) {
    const std::string n = std::to_string(i);
    const std::string value = First(form, "q_value_" + n);
    if (absl::StripAsciiWhitespace(value).empty()) continue;
    const std::string row = absl::StrCat(kIdRow, i + 1);
    v1::IdentifierType type =
        static_cast<v1::IdentifierType>(IntField(form, "q_type_" + n));
    bool could_be_chat = type == v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
    if (type == v1::IDENTIFIER_TYPE_UNSPECIFIED) {
      absl::StatusOr<DetectedType> detected = DetectType(value);
      if (!detected.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(row, kCannotDetect));
      }
      type = detected->type;
      could_be_chat = detected->could_be_chat;
    }
    absl::StatusOr<int64_t> from =
        DateMs(First(form, "q_from_" + n), false, absl::StrCat(row, kSeenFrom));
    if (!from.ok()) return from.status();
    absl::StatusOr<int64_t> to =
        DateMs(First(form, "q_to_" + n), true, absl::StrCat(row, kSeenUntil));
    if (!to.ok()) return to.status();
    const bool also_chat = First(form, "q_chat_" + n) == "1";
    std::vector<v1::IdentifierType> types = {type};
    if (also_chat && could_be_chat &&
        type != v1::IDENTIFIER_TYPE_TELEGRAM_CHAT) {
      types.push_back(v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
    }
    for (v1::IdentifierType t : types) {
      v1::Identifier* id = q.add_identifiers();
      id->set_type(t);
      id->set_value(value);
      id->set_observed_from_ms(*from);
      id->set_observed_to_ms(*to);
      rows.push_back(i);
    }
    if (could_be_chat && !also_chat) username_only.push_back(i);
  }
  v1::Purpose* p = q.mutable_purpose();
  p->set_case_number(First(form, "case_number"));
  p->set_legal_basis(First(form, "legal_basis"));
  p->set_offence(static_cast<v1::OffenceCode>(IntField(form, "offence")));
  if (First(form, "peers_shown") == "1") {
    auto it = form.find("peer");
    if (it == form.end() || it->second.empty()) {
      // No box ticked must not become "every peer" (an empty list's
      // meaning in QueryRequest).
      return absl::InvalidArgumentError(std::string(kNoPeerChosen));
    }
    for (const std::string& code : it->second) q.add_peers(code);
  }
  return q;
}

// Which field a refusal's message names: "q_row_<i>", "case_number",
// "legal_basis", "offence", "peers", or "" (none of them).
std::string FieldOf(const std::string& message, const std::vector<int>& rows) {
  if (absl::StartsWith(message, kIdRow)) {
    const size_t end =
        message.find_first_not_of("0123456789", (sizeof(kIdRow) - 1));
    int row = 0;
    if (absl::SimpleAtoi(
            message.substr((sizeof(kIdRow) - 1), end - (sizeof(kIdRow) - 1)),
            &row)) {
      return absl::StrCat("q_row_", row - 1);
    }
  }
  if (absl::StartsWith(message, "identifiers[")) {
    int index = 0;
    const size_t close = message.find(']');
    if (close != std::string::npos &&
        absl::SimpleAtoi(message.substr(12, close - 12), &index) &&
        index >= 0 && index < static_cast<int>(rows.size())) {
      return absl::StrCat("q_row_", rows[index]);
    }
  }
  for (const char* field : {"case_number", "legal_basis", "offence"}) {
    if (absl::StartsWith(message, absl::StrCat("purpose.", field))) {
      return field;
    }
  }
  if (absl::StartsWith(message, "peers")) return "peers";
  return "";
}

std::string FieldError(const std::string& field, const std::string& error,
                       const std::string& here) {
  if (error.empty() || field != here) return "";
  return absl::StrCat("<p class=\"error\" id=\"", here, "_error\">",
                      Escape(error), "</p>\n");
}

std::string AgeText(int64_t ms) {
  if (ms < 1000) return std::string(kLessThanASecond);
  if (ms < 120'000) return absl::StrCat(ms / 1000, kSeconds);
  if (ms < 7'200'000) return absl::StrCat(ms / 60'000, kMinutes);
  return absl::StrCat(ms / 3'600'000, kHours);
}

// One peer's line on the streamed page.
std::string AnswerLine(const v1::PeerAnswer& a) {
  std::string outcome;
  switch (a.outcome()) {
    case v1::PEER_OUTCOME_HIT:
      outcome =
          absl::StrCat("<strong>", a.references_size() == 1 ? kHit : kHits,
                       " (", a.references_size(), ")</strong>");
      break;
    case v1::PEER_OUTCOME_MISS:
      outcome = std::string(kMiss);
      break;
    case v1::PEER_OUTCOME_PHANTOM:
      outcome =
          absl::StrCat("<strong class=\"disjoint\">", kPhantom, "</strong>");
      break;
    default:
      outcome = absl::StrCat(kError, ": ", Escape(a.error()));
  }
  const std::string age =
      a.index_version() == 0
          ? std::string(kNoIndex)
          : absl::StrCat(kIndexAge, AgeText(a.index_age_ms()), kIndexOld);
  return absl::StrCat("<li><strong>", Escape(a.member()),
                      "</strong>: ", outcome, "; ", age, "</li>\n");
}

std::string Members(const google::protobuf::RepeatedPtrField<std::string>& m) {
  if (m.empty()) return std::string(kNone);
  return Escape(absl::StrJoin(m, ", "));
}

std::string SummaryHtml(const v1::QuerySummary& s) {
  std::string out = absl::StrCat(
      "</ul>\n<h2>", kSummaryTitle, "</h2>\n<table>\n<tr><th scope=\"row\">",
      kQueryId, "</th><td>", Escape(s.query_id()),
      "</td></tr>\n<tr><th scope=\"row\">", kElapsed, "</th><td>",
      AgeText(s.elapsed_ms()), "</td></tr>\n<tr><th scope=\"row\">", kHitPeers,
      "</th><td>", Members(s.hit_members()),
      "</td></tr>\n<tr><th scope=\"row\">", kMissPeers, "</th><td>",
      Members(s.miss_members()), "</td></tr>\n<tr><th scope=\"row\">",
      kFailedPeers, "</th><td>", Members(s.failed_members()),
      "</td></tr>\n</table>\n");
  if (!s.stale_index_members().empty()) {
    absl::StrAppend(&out, "<p class=\"warning\" role=\"note\">", kStale,
                    AgeText(s.stale_index_after_ms()), " (",
                    Members(s.stale_index_members()), ")", kStaleEnd, "</p>\n");
  }
  return out;
}

}  // namespace

absl::StatusOr<DetectedType> DetectType(const std::string& raw) {
  const std::string v(absl::StripAsciiWhitespace(raw));
  const std::string lower = absl::AsciiStrToLower(v);
  std::string_view rest = lower;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (rest.starts_with(scheme)) rest.remove_prefix(scheme.size());
  }
  for (std::string_view host : {"t.me/", "telegram.me/", "telegram.dog/"}) {
    if (rest.starts_with(host)) {
      rest.remove_prefix(host.size());
      // An invite link names a group or channel only.
      if (rest.starts_with("+") || rest.starts_with("joinchat/")) {
        return DetectedType{v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, false};
      }
      return DetectedType{v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, true};
    }
  }
  const size_t at = v.find('@');
  if (at == 0 && v.find('@', 1) == std::string::npos && v.size() > 1) {
    return DetectedType{v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, true};
  }
  if (at != std::string::npos && at > 0 &&
      v.find('.', at) != std::string::npos) {
    return DetectedType{v1::IDENTIFIER_TYPE_EMAIL, false};
  }
  if (v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) {
        return absl::ascii_isxdigit(static_cast<unsigned char>(c));
      })) {
    return DetectedType{v1::IDENTIFIER_TYPE_CONTENT_SHA256, false};
  }
  // A number in international form (+ or 00 and the country code); a
  // national number needs its country, which only the office knows.
  const bool international =
      absl::StartsWith(v, "+") || absl::StartsWith(v, "00");
  const bool phone_chars = std::all_of(v.begin(), v.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '+' ||
           c == ' ' || c == '-' || c == '(' || c == ')' || c == '/' || c == '.';
  });
  if (international && phone_chars) {
    return DetectedType{v1::IDENTIFIER_TYPE_PHONE, false};
  }
  return absl::InvalidArgumentError("the type cannot be told from the value");
}

QueryPages::QueryPages(std::string self, const OfficeScope* scope,
                       const ConsoleLanguage* language, Peers peers,
                       QueryRun query, Runner run)
    : self_(std::move(self)),
      scope_(scope),
      language_(language),
      peers_(std::move(peers)),
      query_(std::move(query)),
      run_(std::move(run)) {}

void QueryPages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  routes[{"GET", "/query"}] = [this](const Request& r, Reply reply) {
    Form(r, std::move(reply));
  };
  routes[{"POST", "/query"}] = [this](const Request& r, Reply reply) {
    Ask(r, std::move(reply));
  };
}

console::Response QueryPages::FormPage(const Request& r,
                                       const console::Form& form,
                                       const std::string& error,
                                       int status) const {
  const i18n::Lang lang = language_->For(r);
  std::vector<std::string> cases;
  std::string token;
  do {
    absl::StatusOr<CaseList> page =
        scope_->ListCases(r.caller.office, false, 1000, token);
    if (!page.ok()) break;  // the form then says there is no open case
    for (const v1::Case& c : page->cases) cases.push_back(c.case_number());
    token = page->next_page_token;
  } while (!token.empty());
  // Which row each identifier of the request came from, for a refusal
  // that names identifiers[i].
  std::vector<int> rows;
  std::vector<int> username_only;
  (void)QueryFromForm(form, rows, username_only);
  const std::string field = FieldOf(error, rows);
  std::string out;
  if (!error.empty()) {
    absl::StrAppend(&out, "<p class=\"error\" role=\"alert\">", kRefused,
                    Escape(error), "</p>\n");
  }
  absl::StrAppend(&out,
                  "<form method=\"post\" action=\"/query\">"
                  "<input type=\"hidden\" name=\"form_token\" value=\"",
                  Escape(r.session.form_token), "\">\n<fieldset><legend>",
                  kPurposeLegend, "</legend>\n");
  if (cases.empty()) {
    absl::StrAppend(&out, "<p class=\"error\">", kNoOpenCase, "</p>\n");
  }
  absl::StrAppend(&out, "<label for=\"case_number\">", kCaseLabel, "</label>\n",
                  FieldError(field, error, "case_number"),
                  "<select id=\"case_number\" name=\"case_number\" required>");
  for (const std::string& c : cases) {
    absl::StrAppend(&out, "<option value=\"", Escape(c), "\"",
                    First(form, "case_number") == c ? " selected" : "", ">",
                    Escape(c), "</option>");
  }
  absl::StrAppend(
      &out, "</select>\n<label for=\"legal_basis\">", kLegalBasisLabel,
      "</label>\n<p class=\"hint\" id=\"legal_basis_hint\">", kLegalBasisHint,
      "</p>\n", FieldError(field, error, "legal_basis"),
      "<input id=\"legal_basis\" name=\"legal_basis\" required "
      "maxlength=\"256\" aria-describedby=\"legal_basis_hint\" value=\"",
      Escape(First(form, "legal_basis")), "\">\n<label for=\"offence\">",
      kOffenceLabel, "</label>\n", FieldError(field, error, "offence"),
      "<select id=\"offence\" name=\"offence\" required><option value=\"\">",
      kChooseOffence, "</option>");
  for (v1::OffenceCode code : client::AllOffenceCodes()) {
    absl::StrAppend(&out, "<option value=\"", static_cast<int>(code), "\"",
                    IntField(form, "offence") == code ? " selected" : "", ">",
                    Escape(client::OffenceLabel(code, lang)), "</option>");
  }
  absl::StrAppend(&out, "</select>\n</fieldset>\n<fieldset><legend>",
                  kIdsLegend, "</legend>\n<p class=\"hint\" id=\"chat_hint\">",
                  kChatHint, "</p>\n");
  for (int i = 0; i < kRows; ++i) {
    const std::string n = std::to_string(i);
    const int chosen = IntField(form, "q_type_" + n);
    absl::StrAppend(&out, "<fieldset class=\"row\"><legend>", kIdRow, i + 1,
                    "</legend>\n", FieldError(field, error, "q_row_" + n),
                    "<label for=\"q_type_", n, "\">", kTypeLabel,
                    "</label><select id=\"q_type_", n, "\" name=\"q_type_", n,
                    "\"><option value=\"0\">", kDetect, "</option>");
    for (v1::IdentifierType t : kTypes) {
      absl::StrAppend(&out, "<option value=\"", static_cast<int>(t), "\"",
                      chosen == t ? " selected" : "", ">",
                      HtmlText(IdentifierTypeMessage(t), lang), "</option>");
    }
    absl::StrAppend(
        &out, "</select>\n<label for=\"q_value_", n, "\">", kValueLabel,
        "</label><input id=\"q_value_", n, "\" name=\"q_value_", n,
        "\" maxlength=\"1024\" value=\"", Escape(First(form, "q_value_" + n)),
        "\">\n<label for=\"q_from_", n, "\">", kFromLabel,
        "</label><input type=\"date\" id=\"q_from_", n, "\" name=\"q_from_", n,
        "\" value=\"", Escape(First(form, "q_from_" + n)),
        "\">\n<label for=\"q_to_", n, "\">", kToLabel,
        "</label><input type=\"date\" id=\"q_to_", n, "\" name=\"q_to_", n,
        "\" value=\"", Escape(First(form, "q_to_" + n)),
        "\">\n<label><input type=\"checkbox\" name=\"q_chat_", n,
        "\" value=\"1\" aria-describedby=\"chat_hint\"",
        First(form, "q_chat_" + n) == "1" ? " checked" : "", "> ", kChatLabel,
        "</label>\n</fieldset>\n");
  }
  absl::StrAppend(&out, "</fieldset>\n<fieldset><legend>", kPeersLegend,
                  "</legend>\n", FieldError(field, error, "peers"),
                  "<input type=\"hidden\" name=\"peers_shown\" value=\"1\">\n");
  const bool refill = First(form, "peers_shown") == "1";
  for (const std::string& peer : peers_()) {
    const bool on = !refill || Has(form, "peer", peer);
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"peer\" value=\"",
                    Escape(peer), "\"", on ? " checked" : "", "> ",
                    Escape(peer), "</label>\n");
  }
  absl::StrAppend(&out, "</fieldset>\n<p><button type=\"submit\">", kSubmit,
                  "</button></p>\n</form>");
  return ConsolePage(*language_, r, std::string(kTitle), out, status);
}

void QueryPages::Form(const Request& r, Reply reply) const {
  if (r.caller.role != "prosecutor") {
    reply(ConsolePage(*language_, r, std::string(kNotForRoleTitle),
                      absl::StrCat("<p class=\"error\">", kNotForRole,
                                   Escape(r.caller.role), ".</p>"),
                      403));
    return;
  }
  if (!run_([this, r, reply] { reply(FormPage(r, {}, "", 200)); })) {
    reply(ConsolePage(*language_, r, std::string(kUnavailable),
                      absl::StrCat("<p class=\"error\">", kStopping, "</p>"),
                      503));
  }
}

void QueryPages::Ask(const Request& r, Reply reply) const {
  if (r.caller.role != "prosecutor") {
    reply(ConsolePage(*language_, r, std::string(kNotForRoleTitle),
                      absl::StrCat("<p class=\"error\">", kNotForRole,
                                   Escape(r.caller.role), ".</p>"),
                      403));
    return;
  }
  if (!run_([this, r, reply] { Stream(r, reply); })) {
    reply(ConsolePage(*language_, r, std::string(kUnavailable),
                      absl::StrCat("<p class=\"error\">", kStopping, "</p>"),
                      503));
  }
}

void QueryPages::Stream(const Request& r, const Reply& reply) const {
  std::vector<int> rows;
  std::vector<int> username_only;
  absl::StatusOr<v1::QueryRequest> q =
      QueryFromForm(r.form, rows, username_only);
  if (!q.ok()) {
    return reply(FormPage(r, r.form, std::string(q.status().message()), 400));
  }
  // The page in two halves around the answers: the frame's head, then
  // (after the answers) its tail.
  constexpr std::string_view kMark = "<!--answers-->";
  const std::string page =
      ConsolePage(*language_, r, std::string(kAnswersTitle), std::string(kMark))
          .body;
  const size_t mark = page.find(kMark);
  const std::string head = page.substr(0, mark);
  const std::string tail = page.substr(mark + kMark.size());
  // Opened at the first event: a refusal comes before any and is the form.
  std::shared_ptr<console::Stream> stream;
  v1::QuerySummary summary;
  bool summarized = false;
  absl::Status status = query_(*q, r.caller, [&](const v1::QueryEvent& e) {
    if (stream == nullptr) {
      stream = r.stream(200);
      if (!stream->Write(absl::StrCat(head, "<ul class=\"answers\">\n"))) {
        return false;
      }
    }
    if (e.has_summary()) {
      summary = e.summary();
      summarized = true;
      return stream->Write(SummaryHtml(summary));
    }
    return stream->Write(AnswerLine(e.answer()));
  });
  if (stream == nullptr) {
    const std::string error = status.ok() ? "" : std::string(status.message());
    return reply(FormPage(r, r.form, error, 400));
  }
  std::string rest;
  if (!status.ok()) {
    // The summary closes the list of answers; without it, close it here.
    if (!summarized) rest += "</ul>\n";
    absl::StrAppend(&rest, "<p class=\"error\" role=\"alert\">",
                    kAbortedAfterAnswers, Escape(std::string(status.message())),
                    "</p>\n");
  }
  for (int row : username_only) {
    absl::StrAppend(&rest, "<p class=\"warning\">", kIdRow, row + 1, " (",
                    Escape(First(r.form, absl::StrCat("q_value_", row))), ")",
                    kAskedAsUsername, "</p>\n");
  }
  absl::StrAppend(&rest, "<h2>", kHitsTitle, "</h2>\n");
  // The hits as stored, with their context (the value as typed, both
  // windows), read back through Office.ListHits' scope.
  v1::ListHitsRequest req;
  req.set_case_number(q->purpose().case_number());
  req.set_page_size(1000);
  int cards = 0;
  while (!summary.query_id().empty()) {
    absl::StatusOr<v1::ListHitsResponse> hits =
        scope_->ListHits(r.caller.office, req);
    if (!hits.ok()) {
      absl::StrAppend(&rest, "<p class=\"error\">", kHitsReadFailed,
                      Escape(std::string(hits.status().message())), "</p>\n");
      break;
    }
    for (const v1::Hit& h : hits->hits()) {
      if (h.query_id() != summary.query_id()) continue;
      rest += HitCard(h, language_->For(r));
      ++cards;
    }
    if (hits->next_page_token().empty()) break;
    req.set_page_token(hits->next_page_token());
  }
  if (cards == 0) absl::StrAppend(&rest, "<p>", kNoHits, "</p>\n");
  absl::StrAppend(&rest, "<p><a href=\"/query\">", kAskAgain, "</a></p>\n",
                  tail);
  if (stream->Write(std::move(rest))) stream->End();
}

}  // namespace cbx::node
