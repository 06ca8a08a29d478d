#include "node/console_query_pages.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/offence_labels.h"
#include "core/identifiers/identifiers.h"
#include "node/console_case_forms.h"
#include "node/console_hit_pages.h"

namespace cbx::node {
namespace {

namespace msg = i18n::msg;

// How many identifier rows the form offers.
constexpr int kRows = kQueryFormRows;

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

// A catalog text for element content.
std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}

std::string Plain(const absl::Status& status) {
  return std::string(status.message());
}

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

using FieldRefusal = FormFieldRefusal;

// One row of the form as asked: its value and the types it was asked as.
struct AskedRow {
  int row = 0;
  std::string value;
  std::vector<v1::IdentifierType> types;
  bool could_be_chat = false;
};

// "YYYY-MM-DD" as ms at the start of that UTC day (of the next, less 1 ms,
// if `end`); 0 for ""; nullopt if it is not such a date.
std::optional<int64_t> DateMs(const std::string& text, bool end) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) {
    return std::nullopt;
  }
  if (end) t += absl::Hours(24) - absl::Milliseconds(1);
  return absl::ToUnixMillis(t);
}

// Row `i` of the form into `q` and `asked` (nothing for an empty row).
// The value is normalized here as Office.Query will (for the office's own
// country, `self`), so that its refusal is shown next to its row.
std::optional<FieldRefusal> RowFromForm(const console::Form& form, int i,
                                        i18n::Lang lang,
                                        const std::string& self,
                                        v1::QueryRequest& q,
                                        std::vector<AskedRow>& asked) {
  const std::string n = std::to_string(i);
  v1::IdentifierType type =
      static_cast<v1::IdentifierType>(IntField(form, "q_type_" + n));
  const std::string value = case_forms::WithPhoneCountry(
      form, "q_cc_" + n, type, First(form, "q_value_" + n), self);
  if (absl::StripAsciiWhitespace(value).empty()) return std::nullopt;
  const std::string row = std::to_string(i + 1);
  auto refuse = [&](std::string text) {
    return FieldRefusal{"q_row_" + n, std::move(text)};
  };
  AskedRow a{i, value, {}, false};
  a.could_be_chat = type == v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
  if (type == v1::IDENTIFIER_TYPE_UNSPECIFIED) {
    absl::StatusOr<DetectedType> detected = DetectType(value);
    if (!detected.ok()) {
      return refuse(i18n::Format(msg::kConsoleQueryCannotDetect, lang, {row}));
    }
    type = detected->type;
    a.could_be_chat = detected->could_be_chat;
  }
  a.types = {type};
  if (First(form, "q_chat_" + n) == "1" && a.could_be_chat &&
      type != v1::IDENTIFIER_TYPE_TELEGRAM_CHAT) {
    a.types.push_back(v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
  }
  for (v1::IdentifierType t : a.types) {
    absl::StatusOr<std::string> normalized =
        identifiers::Normalize(t, value, self);
    if (!normalized.ok()) {
      return refuse(i18n::Format(msg::kConsoleQueryBadValue, lang,
                                 {row, Plain(normalized.status())}));
    }
  }
  const std::string from_text = First(form, "q_from_" + n);
  const std::string to_text = First(form, "q_to_" + n);
  const std::optional<int64_t> from = DateMs(from_text, false);
  if (!from.has_value()) {
    return refuse(
        i18n::Format(msg::kConsoleFormBadDateFrom, lang, {row, from_text}));
  }
  const std::optional<int64_t> to = DateMs(to_text, true);
  if (!to.has_value()) {
    return refuse(
        i18n::Format(msg::kConsoleFormBadDateUntil, lang, {row, to_text}));
  }
  if (!identifiers::ValidateObservedWindow(*from, *to).ok()) {
    return refuse(i18n::Format(msg::kConsoleQueryWindowReversed, lang, {row}));
  }
  for (v1::IdentifierType t : a.types) {
    v1::Identifier* id = q.add_identifiers();
    id->set_type(t);
    id->set_value(value);
    id->set_observed_from_ms(*from);
    id->set_observed_to_ms(*to);
  }
  asked.push_back(std::move(a));
  return std::nullopt;
}

// The purpose of the form into `q`: one of `open_cases`, a legal basis
// and an offence.
std::optional<FieldRefusal> PurposeFromForm(
    const console::Form& form, i18n::Lang lang,
    const std::vector<std::string>& open_cases, v1::QueryRequest& q) {
  v1::Purpose* p = q.mutable_purpose();
  p->set_case_number(First(form, "case_number"));
  p->set_legal_basis(First(form, "legal_basis"));
  p->set_offence(static_cast<v1::OffenceCode>(IntField(form, "offence")));
  if (p->case_number().empty()) {
    return FieldRefusal{
        "case_number",
        std::string(i18n::Text(msg::kConsoleQueryChooseCase, lang))};
  }
  if (std::find(open_cases.begin(), open_cases.end(), p->case_number()) ==
      open_cases.end()) {
    return FieldRefusal{
        "case_number",
        i18n::Format(msg::kConsoleQueryNotOpenCase, lang, {p->case_number()})};
  }
  if (absl::StripAsciiWhitespace(p->legal_basis()).empty()) {
    return FieldRefusal{
        "legal_basis",
        std::string(i18n::Text(msg::kConsoleQueryNoLegalBasis, lang))};
  }
  if (p->offence() == v1::OFFENCE_CODE_UNSPECIFIED ||
      !v1::OffenceCode_IsValid(p->offence())) {
    return FieldRefusal{
        "offence", std::string(i18n::Text(msg::kConsoleQueryNoOffence, lang))};
  }
  return std::nullopt;
}

// The peers ticked into `q` (none shown: every peer, QueryRequest's empty
// list); each must be one of `peers`.
std::optional<FieldRefusal> PeersFromForm(const console::Form& form,
                                          i18n::Lang lang,
                                          const std::vector<std::string>& peers,
                                          v1::QueryRequest& q) {
  if (First(form, "peers_shown") != "1") return std::nullopt;
  auto it = form.find("peer");
  if (it == form.end() || it->second.empty()) {
    // No box ticked must not become "every peer" (an empty list's
    // meaning in QueryRequest).
    return FieldRefusal{
        "peers", std::string(i18n::Text(msg::kConsoleQueryNoPeer, lang))};
  }
  for (const std::string& code : it->second) {
    if (std::find(peers.begin(), peers.end(), code) == peers.end()) {
      return FieldRefusal{
          "peers", i18n::Format(msg::kConsoleQueryUnknownPeer, lang, {code})};
    }
    q.add_peers(code);
  }
  return std::nullopt;
}

// The query a POST /query form describes, checked field by field in the
// form's order against what the form offered (the office's open cases,
// the peers); `asked` gets its rows. The first refusal, if any.
std::optional<FieldRefusal> QueryFromForm(
    const console::Form& form, i18n::Lang lang, const std::string& self,
    const std::vector<std::string>& open_cases,
    const std::vector<std::string>& peers, v1::QueryRequest& q,
    std::vector<AskedRow>& asked) {
  if (auto refusal = PurposeFromForm(form, lang, open_cases, q)) {
    return refusal;
  }
  for (int i = 0; i < case_forms::RowsShown(form, kRows); ++i) {
    if (auto refusal = RowFromForm(form, i, lang, self, q, asked)) {
      return refusal;
    }
  }
  if (asked.empty()) {
    return FieldRefusal{"q_row_0", std::string(i18n::Text(
                                       msg::kConsoleQueryNoIdentifier, lang))};
  }
  return PeersFromForm(form, lang, peers, q);
}

std::string FieldError(const FieldRefusal& refusal, const std::string& here) {
  if (refusal.text.empty() || refusal.field != here) return "";
  return absl::StrCat("<p class=\"error\" id=\"", here, "_error\">",
                      Escape(refusal.text), "</p>\n");
}

std::string AgeText(int64_t ms, i18n::Lang lang) {
  if (ms < 1000) return T(msg::kConsoleQueryLessThanASecond, lang);
  if (ms < 120'000) {
    return HtmlFormat(msg::kConsoleQuerySeconds, lang,
                      {std::to_string(ms / 1000)});
  }
  if (ms < 7'200'000) {
    return HtmlFormat(msg::kConsoleQueryMinutes, lang,
                      {std::to_string(ms / 60'000)});
  }
  return HtmlFormat(msg::kConsoleQueryHours, lang,
                    {std::to_string(ms / 3'600'000)});
}

// One peer's line on the streamed page.
std::string AnswerLine(const v1::PeerAnswer& a, i18n::Lang lang) {
  std::string outcome;
  switch (a.outcome()) {
    case v1::PEER_OUTCOME_HIT:
      outcome = absl::StrCat(
          "<strong>",
          HtmlFormat(a.references_size() == 1 ? msg::kConsoleQueryFoundCase
                                              : msg::kConsoleQueryFoundCases,
                     lang, {std::to_string(a.references_size())}),
          "</strong>");
      break;
    case v1::PEER_OUTCOME_MISS:
      outcome = T(msg::kConsoleQueryMiss, lang);
      break;
    case v1::PEER_OUTCOME_PHANTOM:
      outcome = absl::StrCat("<strong class=\"disjoint\">",
                             T(msg::kConsoleQueryPhantom, lang), "</strong>");
      break;
    default:
      outcome =
          HtmlFormat(msg::kConsoleQueryNoAnswer, lang, {Escape(a.error())});
  }
  const std::string age = a.index_version() == 0
                              ? T(msg::kConsoleQueryNoIndex, lang)
                              : HtmlFormat(msg::kConsoleQueryIndexAge, lang,
                                           {AgeText(a.index_age_ms(), lang)});
  return absl::StrCat("<li><strong>", Escape(a.member()),
                      "</strong>: ", outcome, "; ", age, "</li>\n");
}

std::string Members(const google::protobuf::RepeatedPtrField<std::string>& m,
                    i18n::Lang lang) {
  if (m.empty()) return T(msg::kConsoleQueryNone, lang);
  return Escape(absl::StrJoin(m, ", "));
}

std::string SummaryRow(i18n::MessageId label, const std::string& html,
                       i18n::Lang lang) {
  return absl::StrCat("<tr><th scope=\"row\">", T(label, lang), "</th><td>",
                      html, "</td></tr>\n");
}

std::string SummaryHtml(const v1::QuerySummary& s, i18n::Lang lang) {
  std::string out = absl::StrCat(
      "</ul>\n<h2>", T(msg::kConsoleQuerySummary, lang), "</h2>\n<table>\n",
      SummaryRow(msg::kConsoleHitsQueryId, Escape(s.query_id()), lang),
      SummaryRow(msg::kConsoleQueryElapsed, AgeText(s.elapsed_ms(), lang),
                 lang),
      SummaryRow(msg::kConsoleQueryHitPeers, Members(s.hit_members(), lang),
                 lang),
      SummaryRow(msg::kConsoleQueryMissPeers, Members(s.miss_members(), lang),
                 lang),
      SummaryRow(msg::kConsoleQueryFailedPeers,
                 Members(s.failed_members(), lang), lang),
      "</table>\n");
  if (!s.stale_index_members().empty()) {
    absl::StrAppend(&out, "<p class=\"warning\" role=\"note\">",
                    HtmlFormat(msg::kConsoleQueryStale, lang,
                               {AgeText(s.stale_index_after_ms(), lang),
                                Members(s.stale_index_members(), lang)}),
                    "</p>\n");
  }
  return out;
}

// `form` again with q_chat_<row> ticked, as hidden fields of a form that
// asks the same query with that row also as a group or channel.
std::string AskBothForm(const console::Request& r, int row, i18n::Lang lang) {
  const std::string chat = absl::StrCat("q_chat_", row);
  std::string out = absl::StrCat(
      "<form method=\"post\" action=\"/query\">"
      "<input type=\"hidden\" name=\"form_token\" value=\"",
      Escape(r.session.form_token), "\">");
  for (const auto& [name, values] : r.form) {
    if (name == "form_token" || name == chat) continue;
    for (const std::string& v : values) {
      absl::StrAppend(&out, "<input type=\"hidden\" name=\"", Escape(name),
                      "\" value=\"", Escape(v), "\">");
    }
  }
  absl::StrAppend(&out, "<input type=\"hidden\" name=\"", chat,
                  "\" value=\"1\"><button type=\"submit\">",
                  T(msg::kConsoleQueryAskBoth, lang), "</button></form>\n");
  return out;
}

// What each row was asked as; for a value asked as a username only that
// could also be a group or channel, says so and offers to ask both (the
// issue's "type confusion is silent": a miss must say what was asked).
std::string AskedHtml(const console::Request& r,
                      const std::vector<AskedRow>& asked, i18n::Lang lang) {
  std::string out =
      absl::StrCat("<h2>", T(msg::kConsoleQueryAskedTitle, lang), "</h2>\n");
  for (const AskedRow& a : asked) {
    std::vector<std::string> types;
    for (v1::IdentifierType t : a.types) {
      types.push_back(T(IdentifierTypeMessage(t), lang));
    }
    const std::string row = std::to_string(a.row + 1);
    absl::StrAppend(
        &out, "<p>",
        HtmlFormat(msg::kConsoleQueryAskedAs, lang,
                   {row, Escape(a.value), absl::StrJoin(types, ", ")}),
        "</p>\n");
    if (a.could_be_chat && a.types.size() == 1) {
      absl::StrAppend(&out, "<div class=\"warning\"><p>",
                      HtmlFormat(msg::kConsoleQueryUsernameOnly, lang,
                                 {row, Escape(a.value)}),
                      "</p>\n", AskBothForm(r, a.row, lang), "</div>\n");
    }
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

std::vector<std::string> QueryPages::OpenCases(
    const std::string& office) const {
  std::vector<std::string> cases;
  std::string token;
  do {
    absl::StatusOr<CaseList> page =
        scope_->ListCases(office, false, 1000, token);
    if (!page.ok()) break;  // the form then says there is no open case
    for (const v1::Case& c : page->cases) cases.push_back(c.case_number());
    token = page->next_page_token;
  } while (!token.empty());
  return cases;
}

std::optional<FormFieldRefusal> ReadQueryFields(
    const console::Form& form, i18n::Lang lang, const std::string& self,
    const std::vector<std::string>& open_cases,
    const std::vector<std::string>& peers, v1::QueryRequest& q) {
  std::vector<AskedRow> asked;
  return QueryFromForm(form, lang, self, open_cases, peers, q, asked);
}

std::optional<FormFieldRefusal> ReadPurposeFields(
    const console::Form& form, i18n::Lang lang,
    const std::vector<std::string>& open_cases, v1::Purpose& purpose) {
  v1::QueryRequest q;
  std::optional<FormFieldRefusal> refusal =
      PurposeFromForm(form, lang, open_cases, q);
  purpose = q.purpose();
  return refusal;
}

std::string PurposeFieldsHtml(const console::Form& form,
                              const FormFieldRefusal& refusal,
                              const std::vector<std::string>& cases,
                              i18n::Lang lang) {
  std::string out =
      absl::StrCat("<fieldset><legend>",
                   T(msg::kConsoleQueryPurposeLegend, lang), "</legend>\n");
  if (cases.empty()) {
    absl::StrAppend(&out, "<p class=\"error\">",
                    T(msg::kConsoleQueryNoOpenCase, lang), "</p>\n");
  }
  absl::StrAppend(&out, "<label for=\"case_number\">",
                  T(msg::kConsoleQueryCaseLabel, lang), "</label>\n",
                  FieldError(refusal, "case_number"),
                  "<select id=\"case_number\" name=\"case_number\" required>");
  for (const std::string& c : cases) {
    absl::StrAppend(&out, "<option value=\"", Escape(c), "\"",
                    First(form, "case_number") == c ? " selected" : "", ">",
                    Escape(c), "</option>");
  }
  absl::StrAppend(
      &out, "</select>\n<label for=\"legal_basis\">",
      T(msg::kConsoleQueryLegalBasis, lang),
      "</label>\n<p class=\"hint\" id=\"legal_basis_hint\">",
      T(msg::kConsoleQueryLegalBasisHint, lang), "</p>\n",
      FieldError(refusal, "legal_basis"),
      "<input id=\"legal_basis\" name=\"legal_basis\" required "
      "maxlength=\"256\" aria-describedby=\"legal_basis_hint\" value=\"",
      Escape(First(form, "legal_basis")), "\">\n<label for=\"offence\">",
      T(msg::kConsoleQueryOffence, lang), "</label>\n",
      FieldError(refusal, "offence"),
      "<select id=\"offence\" name=\"offence\" required><option value=\"\">",
      T(msg::kConsoleQueryChooseOffence, lang), "</option>");
  for (v1::OffenceCode code : client::AllOffenceCodes()) {
    absl::StrAppend(&out, "<option value=\"", static_cast<int>(code), "\"",
                    IntField(form, "offence") == code ? " selected" : "", ">",
                    Escape(client::OffenceLabel(code, lang)), "</option>");
  }
  absl::StrAppend(&out, "</select>\n</fieldset>\n");
  return out;
}

std::string IdentifierRowsHtml(const console::Form& form,
                               const FormFieldRefusal& refusal,
                               const std::string& self, i18n::Lang lang,
                               bool offer_bulk_check) {
  std::string out =
      absl::StrCat("<fieldset><legend>", T(msg::kConsoleQueryIdsLegend, lang),
                   "</legend>\n<p class=\"hint\" id=\"chat_hint\">",
                   T(msg::kConsoleQueryChatHint, lang), "</p>\n");
  const int rows = case_forms::RowsShown(form, kRows);
  for (int i = 0; i < rows; ++i) {
    const std::string n = std::to_string(i);
    const int chosen = IntField(form, "q_type_" + n);
    absl::StrAppend(
        &out, "<fieldset class=\"row\"><legend>",
        HtmlFormat(msg::kConsoleQueryIdRow, lang, {std::to_string(i + 1)}),
        "</legend>\n", FieldError(refusal, "q_row_" + n),
        "<label for=\"q_type_", n, "\">", T(msg::kConsoleLabelType, lang),
        "</label><select id=\"q_type_", n, "\" name=\"q_type_", n,
        "\"><option value=\"0\">", T(msg::kConsoleQueryDetect, lang),
        "</option>");
    for (v1::IdentifierType t : kTypes) {
      absl::StrAppend(&out, "<option value=\"", static_cast<int>(t), "\"",
                      chosen == t ? " selected" : "", ">",
                      T(IdentifierTypeMessage(t), lang), "</option>");
    }
    absl::StrAppend(
        &out, "</select>\n<label for=\"q_value_", n, "\">",
        T(msg::kConsoleQueryValue, lang), "</label><input id=\"q_value_", n,
        "\" name=\"q_value_", n, "\" maxlength=\"1024\" value=\"",
        Escape(First(form, "q_value_" + n)), "\">\n",
        case_forms::PhoneCountrySelect("q_cc_" + n, First(form, "q_cc_" + n),
                                       self, lang),
        "\n<label for=\"q_from_", n, "\">", T(msg::kConsoleQueryFrom, lang),
        "</label><input type=\"date\" id=\"q_from_", n, "\" name=\"q_from_", n,
        "\" value=\"", Escape(First(form, "q_from_" + n)),
        "\">\n<label for=\"q_to_", n, "\">", T(msg::kConsoleQueryUntil, lang),
        "</label><input type=\"date\" id=\"q_to_", n, "\" name=\"q_to_", n,
        "\" value=\"", Escape(First(form, "q_to_" + n)),
        "\">\n<label><input type=\"checkbox\" name=\"q_chat_", n,
        "\" value=\"1\" aria-describedby=\"chat_hint\"",
        First(form, "q_chat_" + n) == "1" ? " checked" : "", "> ",
        T(msg::kConsoleQueryChatLabel, lang), "</label>\n</fieldset>\n");
  }
  absl::StrAppend(&out, case_forms::MoreRows(rows, lang));
  // At the form's limit: where more go (a seized phone's contacts).
  if (offer_bulk_check && rows >= case_forms::kMostRows) {
    absl::StrAppend(&out, "<p class=\"hint\">",
                    HtmlFormat(msg::kConsoleQueryBulkHint, lang,
                               {"cbx query --ids-file FILE"}),
                    "</p>\n");
  }
  absl::StrAppend(&out, "</fieldset>\n");
  return out;
}

std::string PeerBoxesHtml(const console::Form& form,
                          const FormFieldRefusal& refusal,
                          const std::vector<std::string>& peers,
                          i18n::Lang lang) {
  std::string out = absl::StrCat(
      "<fieldset><legend>", T(msg::kConsoleQueryPeersLegend, lang),
      "</legend>\n", FieldError(refusal, "peers"),
      "<input type=\"hidden\" name=\"peers_shown\" value=\"1\">\n");
  const bool refill = First(form, "peers_shown") == "1";
  for (const std::string& peer : peers) {
    const bool on = !refill || Has(form, "peer", peer);
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"peer\" value=\"",
                    Escape(peer), "\"", on ? " checked" : "", "> ",
                    Escape(peer), "</label>\n");
  }
  return out + "</fieldset>\n";
}

console::Response QueryPages::FormPage(const Request& r,
                                       const console::Form& form,
                                       const std::string& field,
                                       const std::string& error,
                                       int status) const {
  const i18n::Lang lang = language_->For(r);
  std::string out;
  if (!error.empty()) {
    absl::StrAppend(
        &out, "<p class=\"error\" role=\"alert\">",
        HtmlFormat(msg::kConsoleQueryRefused, lang, {Escape(error)}), "</p>\n");
  }
  absl::StrAppend(
      &out,
      "<form method=\"post\" action=\"/query\">"
      "<input type=\"hidden\" name=\"form_token\" value=\"",
      Escape(r.session.form_token), "\">\n",
      PurposeFieldsHtml(form, {field, error}, OpenCases(r.caller.office), lang),
      IdentifierRowsHtml(form, {field, error}, self_, lang,
                         /*offer_bulk_check=*/true),
      PeerBoxesHtml(form, {field, error}, peers_(), lang));
  absl::StrAppend(
      &out, "<p><button type=\"submit\">", T(msg::kConsoleQuerySubmit, lang),
      "</button>",
      case_forms::MoreRowsButton(case_forms::RowsShown(form, kRows), lang),
      "</p>\n</form>");
  return language_->Page(
      r, std::string(i18n::Text(msg::kConsoleNavQuery, lang)), out, status);
}

console::Response QueryPages::NotForRole(const Request& r) const {
  return language_->NotForRole(r, msg::kConsoleQueryNotForRole);
}

console::Response QueryPages::Unavailable(const Request& r) const {
  const i18n::Lang lang = language_->For(r);
  return language_->Page(
      r, std::string(i18n::Text(msg::kConsoleUnavailableTitle, lang)),
      absl::StrCat("<p class=\"error\">", T(msg::kConsoleUnavailableText, lang),
                   "</p>"),
      503);
}

void QueryPages::Form(const Request& r, Reply reply) const {
  if (r.caller.role != "prosecutor") return reply(NotForRole(r));
  if (!run_([this, r, reply] { reply(FormPage(r, {}, "", "", 200)); })) {
    reply(Unavailable(r));
  }
}

void QueryPages::Ask(const Request& r, Reply reply) const {
  if (r.caller.role != "prosecutor") return reply(NotForRole(r));
  // One more row to fill: the form again, nothing asked.
  const bool more = case_forms::AddsRow(r.form);
  if (!run_([this, r, reply, more] {
        if (more) return reply(FormPage(r, r.form, "", "", 200));
        Stream(r, reply);
      })) {
    reply(Unavailable(r));
  }
}

void QueryPages::Stream(const Request& r, const Reply& reply) const {
  const i18n::Lang lang = language_->For(r);
  v1::QueryRequest q;
  std::vector<AskedRow> asked;
  if (std::optional<FieldRefusal> refusal =
          QueryFromForm(r.form, lang, self_, OpenCases(r.caller.office),
                        peers_(), q, asked)) {
    return reply(FormPage(r, r.form, refusal->field, refusal->text, 400));
  }
  // The page in two halves around the answers: the frame's head, then
  // (after the answers) its tail.
  constexpr std::string_view kMark = "<!--answers-->";
  const std::string page =
      language_
          ->Page(r,
                 std::string(i18n::Text(msg::kConsoleQueryAnswersTitle, lang)),
                 std::string(kMark))
          .body;
  const size_t mark = page.find(kMark);
  const std::string head = page.substr(0, mark);
  const std::string tail = page.substr(mark + kMark.size());
  // Opened at the first event: a refusal comes before any and is the form.
  std::shared_ptr<console::Stream> stream;
  v1::QuerySummary summary;
  bool summarized = false;
  absl::Status status = query_(q, r.caller, [&](const v1::QueryEvent& e) {
    if (stream == nullptr) {
      stream = r.stream(200);
      if (!stream->Write(absl::StrCat(head, "<ul class=\"answers\">\n"))) {
        return false;
      }
    }
    if (e.has_summary()) {
      summary = e.summary();
      summarized = true;
      return stream->Write(SummaryHtml(summary, lang));
    }
    return stream->Write(AnswerLine(e.answer(), lang));
  });
  if (stream == nullptr) {
    // Office.Query's own refusal, which the page's checks did not foresee
    // (a case closed meanwhile, a peer suspended): the node's words, above
    // the form.
    return reply(
        FormPage(r, r.form, "", status.ok() ? "" : Plain(status), 400));
  }
  std::string rest;
  if (!status.ok()) {
    // The summary closes the list of answers; without it, close it here.
    if (!summarized) rest += "</ul>\n";
    absl::StrAppend(
        &rest, "<p class=\"error\" role=\"alert\">",
        HtmlFormat(msg::kConsoleQueryStopped, lang, {Escape(Plain(status))}),
        "</p>\n");
  }
  absl::StrAppend(&rest, AskedHtml(r, asked, lang),
                  HitCards(r, q, summary, lang), "<p><a href=\"/query\">",
                  T(msg::kConsoleQueryAskAgain, lang), "</a></p>\n", tail);
  if (stream->Write(std::move(rest))) stream->End();
}

std::string QueryPages::HitCards(const Request& r, const v1::QueryRequest& q,
                                 const v1::QuerySummary& summary,
                                 i18n::Lang lang) const {
  std::string out =
      absl::StrCat("<h2>", T(msg::kConsoleQueryHitsTitle, lang), "</h2>\n");
  // The hits as stored, with their context (the value as typed, both
  // windows), read back through Office.ListHits' scope.
  v1::ListHitsRequest req;
  req.set_case_number(q.purpose().case_number());
  req.set_page_size(1000);
  int cards = 0;
  while (!summary.query_id().empty()) {
    absl::StatusOr<v1::ListHitsResponse> hits =
        scope_->ListHits(r.caller.office, req);
    if (!hits.ok()) {
      absl::StrAppend(&out, "<p class=\"error\">",
                      HtmlFormat(msg::kConsoleQueryHitsReadFailed, lang,
                                 {Escape(Plain(hits.status()))}),
                      "</p>\n");
      break;
    }
    for (const v1::Hit& h : hits->hits()) {
      if (h.query_id() != summary.query_id()) continue;
      out += HitCard(h, lang);
      ++cards;
    }
    if (hits->next_page_token().empty()) break;
    req.set_page_token(hits->next_page_token());
  }
  if (cards == 0) {
    absl::StrAppend(&out, "<p>", T(msg::kConsoleQueryNoHits, lang), "</p>\n");
  }
  return out;
}

}  // namespace cbx::node
