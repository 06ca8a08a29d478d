// The console's amend page (spec/web-console.md §4): Office.AmendCase for
// one of the caller's office's open cases, from a form that lists the
// case's identifiers (each with the days it was seen and a box to remove
// it) and offers rows to add (a type, or "detect from the value", as the
// query form does).
//
// AmendCase has no "change a window": a changed window is sent as that
// identifier removed and added again with the new days, in the same call
// (spec/office-api.md §4.2). The page checks what it can before anything
// is sent — dates, the detected type, each added value normalized for the
// office's own country — and shows a refusal next to its row, in the
// page's language; what only the case book knows (a case closed in
// between, another office's case) is its refusal, after the translated
// framing.
#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/i18n/catalog.h"
#include "core/identifiers/identifiers.h"
#include "node/console_calls.h"
#include "node/console_case_forms.h"
#include "node/console_pages.h"
#include "node/console_query_pages.h"

namespace cbx::node {
namespace {

namespace msg = i18n::msg;
using console::Escape;
using console::First;
using console::Form;

// How many rows to add the form offers.
constexpr int kAddRows = 4;

// A refusal of the page's own checks: the field it is shown next to
// ("cur_<k>", "add_<i>"; "" for the top of the form) and its text in the
// page's language (plain). The field travels with the text, so that no
// translation is read back.
struct FieldRefusal {
  std::string field;
  std::string text;
};

std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}

// A current identifier's key in the form: "<type>:<normalized value>".
std::string KeyOf(const v1::Identifier& id) {
  return absl::StrCat(static_cast<int>(id.type()), ":", id.value());
}

std::string FieldError(const FieldRefusal& refusal, const std::string& here) {
  if (refusal.text.empty() || refusal.field != here) return "";
  return absl::StrCat("<p class=\"error\" id=\"", here, "_error\">",
                      Escape(refusal.text), "</p>\n");
}

// The new window of the current row `k` (`id` as stored) into `req`, as
// the identifier removed and added again, if its days were changed.
std::optional<FieldRefusal> WindowFromForm(const Form& form, int k,
                                           const v1::Identifier& id,
                                           i18n::Lang lang,
                                           v1::AmendCaseRequest& req) {
  const std::string n = std::to_string(k);
  const std::string from_text = First(form, "cur_from_" + n);
  const std::string to_text = First(form, "cur_until_" + n);
  if (from_text == case_forms::DateText(id.observed_from_ms()) &&
      to_text == case_forms::DateText(id.observed_to_ms())) {
    return std::nullopt;
  }
  auto refuse = [&](std::string text) {
    return FieldRefusal{"cur_" + n, std::move(text)};
  };
  const std::optional<int64_t> from = case_forms::DateMs(from_text, false);
  if (!from.has_value()) {
    return refuse(i18n::Format(msg::kConsoleFormBadDateFrom, lang,
                               {id.value(), from_text}));
  }
  const std::optional<int64_t> to = case_forms::DateMs(to_text, true);
  if (!to.has_value()) {
    return refuse(i18n::Format(msg::kConsoleFormBadDateUntil, lang,
                               {id.value(), to_text}));
  }
  if (!identifiers::ValidateObservedWindow(*from, *to).ok()) {
    return refuse(
        i18n::Format(msg::kConsoleQueryWindowReversed, lang, {id.value()}));
  }
  v1::Identifier* removed = req.add_remove_identifiers();
  removed->set_type(id.type());
  removed->set_value(id.value());
  v1::Identifier* added = req.add_add_identifiers();
  *added = *removed;
  added->set_observed_from_ms(*from);
  added->set_observed_to_ms(*to);
  return std::nullopt;
}

// Row `i` to add into `req` (nothing for an empty row): its type chosen or
// detected, also as a Telegram group or channel if ticked and the value
// could be one, each normalized as the case book will (for `self`).
std::optional<FieldRefusal> AddedFromForm(const Form& form, int i,
                                          i18n::Lang lang,
                                          const std::string& self,
                                          v1::AmendCaseRequest& req) {
  const std::string n = std::to_string(i);
  auto type = static_cast<v1::IdentifierType>(
      case_forms::IntField(form, "add_type_" + n));
  const std::string value = case_forms::WithPhoneCountry(
      form, "add_cc_" + n, type, First(form, "add_value_" + n), self);
  if (absl::StripAsciiWhitespace(value).empty()) return std::nullopt;
  const std::string row = std::to_string(i + 1);
  auto refuse = [&](std::string text) {
    return FieldRefusal{"add_" + n, std::move(text)};
  };
  bool could_be_chat = type == v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME;
  if (type == v1::IDENTIFIER_TYPE_UNSPECIFIED) {
    absl::StatusOr<DetectedType> detected = DetectType(value);
    if (!detected.ok()) {
      return refuse(i18n::Format(msg::kConsoleQueryCannotDetect, lang, {row}));
    }
    type = detected->type;
    could_be_chat = detected->could_be_chat;
  }
  std::vector<v1::IdentifierType> types = {type};
  if (First(form, "add_chat_" + n) == "1" && could_be_chat &&
      type != v1::IDENTIFIER_TYPE_TELEGRAM_CHAT) {
    types.push_back(v1::IDENTIFIER_TYPE_TELEGRAM_CHAT);
  }
  for (v1::IdentifierType t : types) {
    absl::StatusOr<std::string> normalized =
        identifiers::Normalize(t, value, self);
    if (!normalized.ok()) {
      return refuse(
          i18n::Format(msg::kConsoleQueryBadValue, lang,
                       {row, std::string(normalized.status().message())}));
    }
  }
  const std::string from_text = First(form, "add_from_" + n);
  const std::string to_text = First(form, "add_until_" + n);
  const std::optional<int64_t> from = case_forms::DateMs(from_text, false);
  if (!from.has_value()) {
    return refuse(
        i18n::Format(msg::kConsoleFormBadDateFrom, lang, {row, from_text}));
  }
  const std::optional<int64_t> to = case_forms::DateMs(to_text, true);
  if (!to.has_value()) {
    return refuse(
        i18n::Format(msg::kConsoleFormBadDateUntil, lang, {row, to_text}));
  }
  if (!identifiers::ValidateObservedWindow(*from, *to).ok()) {
    return refuse(i18n::Format(msg::kConsoleQueryWindowReversed, lang, {row}));
  }
  for (v1::IdentifierType t : types) {
    v1::Identifier* id = req.add_add_identifiers();
    id->set_type(t);
    id->set_value(value);
    id->set_observed_from_ms(*from);
    id->set_observed_to_ms(*to);
  }
  return std::nullopt;
}

// The offence codes ticked in `form`, in the order of the form's boxes.
std::vector<int> OffencesSent(const Form& form) {
  std::vector<int> out;
  auto it = form.find("offence");
  if (it == form.end()) return out;
  for (const case_forms::Choice& o : case_forms::Offences()) {
    const std::string v = std::to_string(o.value);
    if (std::find(it->second.begin(), it->second.end(), v) !=
        it->second.end()) {
      out.push_back(o.value);
    }
  }
  return out;
}

// The case's details as the form changed them into `req` (contact point,
// perpetrator's role, offences; each only if it differs from `stored`).
// AmendCaseRequest takes an empty value as "unchanged", so what cannot be
// emptied is refused here, next to the details.
std::optional<FieldRefusal> DetailsFromForm(const Form& form,
                                            const v1::Case& stored,
                                            i18n::Lang lang,
                                            v1::AmendCaseRequest& req) {
  if (First(form, "details") != "1") return std::nullopt;  // an older form
  auto refuse = [&](i18n::MessageId id) {
    return FieldRefusal{"details", std::string(i18n::Text(id, lang))};
  };
  const std::string contact(
      absl::StripAsciiWhitespace(First(form, "contact_point")));
  if (contact.empty()) return refuse(msg::kConsoleAmendNoContact);
  if (contact != stored.contact_point()) req.set_contact_point(contact);
  const int role = case_forms::IntField(form, "role");
  if (role != stored.role()) {
    if (role == v1::PERPETRATOR_ROLE_UNSPECIFIED) {
      return refuse(msg::kConsoleAmendRoleUnknown);
    }
    req.set_role(static_cast<v1::PerpetratorRole>(role));
  }
  const std::vector<int> offences = OffencesSent(form);
  if (offences.empty()) return refuse(msg::kConsoleAmendNoOffence);
  std::vector<int> had;
  for (const v1::Offence& o : stored.offences()) had.push_back(o.code());
  std::sort(had.begin(), had.end());
  std::vector<int> sorted = offences;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != had) {
    for (int code : offences) {
      req.add_offences()->set_code(static_cast<v1::OffenceCode>(code));
    }
  }
  return std::nullopt;
}

// The AmendCaseRequest of the form for `stored` (the case as the office
// has it), or the page's first refusal, in the form's order.
absl::StatusOr<v1::AmendCaseRequest> RequestFromForm(const Form& form,
                                                     const v1::Case& stored,
                                                     i18n::Lang lang,
                                                     const std::string& self,
                                                     FieldRefusal& refusal) {
  v1::AmendCaseRequest req;
  req.set_case_number(stored.case_number());
  auto refused = [&](FieldRefusal r) {
    refusal = std::move(r);
    return absl::InvalidArgumentError(refusal.text);
  };
  // The rows the form listed, by their key: the case may have changed
  // since the form was made, so rows are matched by what they name.
  for (int k = 0; k < kMaxCaseIdentifiers; ++k) {
    const std::string n = std::to_string(k);
    auto it = form.find("cur_" + n);
    if (it == form.end()) break;
    const auto stored_id =
        std::find_if(stored.identifiers().begin(), stored.identifiers().end(),
                     [&](const v1::Identifier& id) {
                       return KeyOf(id) == it->second.front();
                     });
    // Gone since the form was made: nothing left to change.
    if (stored_id == stored.identifiers().end()) continue;
    if (First(form, "remove_" + n) == "1") {
      v1::Identifier* removed = req.add_remove_identifiers();
      removed->set_type(stored_id->type());
      removed->set_value(stored_id->value());
      continue;
    }
    if (auto r = WindowFromForm(form, k, *stored_id, lang, req)) {
      return refused(*std::move(r));
    }
  }
  for (int i = 0; i < case_forms::RowsShown(form, kAddRows); ++i) {
    if (auto r = AddedFromForm(form, i, lang, self, req)) {
      return refused(*std::move(r));
    }
  }
  if (auto r = DetailsFromForm(form, stored, lang, req)) {
    return refused(*std::move(r));
  }
  if (req.add_identifiers().empty() && req.remove_identifiers().empty() &&
      req.offences().empty() && req.contact_point().empty() &&
      req.role() == v1::PERPETRATOR_ROLE_UNSPECIFIED) {
    return refused(
        {"", std::string(i18n::Text(msg::kConsoleAmendNothing, lang))});
  }
  return req;
}

// The rows of the case's identifiers: each with its days (as the form
// sent them after a refusal, else as stored) and a box to remove it.
std::string CurrentRows(const v1::Case& c, const Form& form,
                        const FieldRefusal& refusal, i18n::Lang lang) {
  // What the browser sent for each key, so that a refused form keeps it.
  std::map<std::string, std::string> sent;
  for (int k = 0; k < kMaxCaseIdentifiers; ++k) {
    auto it = form.find("cur_" + std::to_string(k));
    if (it == form.end()) break;
    sent[it->second.front()] = std::to_string(k);
  }
  std::string out =
      absl::StrCat("<fieldset><legend>", T(msg::kConsoleAmendCurrent, lang),
                   "</legend>\n<p class=\"hint\">",
                   T(msg::kConsoleAmendWindowHint, lang), "</p>\n");
  for (int k = 0; k < c.identifiers_size(); ++k) {
    const v1::Identifier& id = c.identifiers(k);
    const std::string n = std::to_string(k);
    const auto was = sent.find(KeyOf(id));
    auto value = [&](const std::string& field, const std::string& stored) {
      return was == sent.end() ? stored : First(form, field + was->second);
    };
    const bool remove =
        was != sent.end() && First(form, "remove_" + was->second) == "1";
    absl::StrAppend(
        &out, "<fieldset class=\"row\"><legend>",
        Escape(case_forms::LabelOf(case_forms::IdentifierTypes(), id.type(),
                                   lang)),
        ": ", Escape(id.value()), "</legend>\n",
        FieldError(refusal, "cur_" + n), "<input type=\"hidden\" name=\"cur_",
        n, "\" value=\"", Escape(KeyOf(id)), "\">\n<label for=\"cur_from_", n,
        "\">", T(msg::kConsoleLabelSeenFrom, lang),
        "</label><input type=\"date\" id=\"cur_from_", n, "\" name=\"cur_from_",
        n, "\" value=\"",
        Escape(value("cur_from_", case_forms::DateText(id.observed_from_ms()))),
        "\">\n<label for=\"cur_until_", n, "\">",
        T(msg::kConsoleLabelSeenUntil, lang),
        "</label><input type=\"date\" id=\"cur_until_", n,
        "\" name=\"cur_until_", n, "\" value=\"",
        Escape(value("cur_until_", case_forms::DateText(id.observed_to_ms()))),
        "\">\n<label><input type=\"checkbox\" name=\"remove_", n,
        "\" value=\"1\"", remove ? " checked" : "", "> ",
        T(msg::kConsoleAmendRemove, lang), "</label>\n</fieldset>\n");
  }
  return out + "</fieldset>\n";
}

// The case's contact point, perpetrator's role and offences: as the form
// sent them after a refusal, else as stored. "Unknown" is offered as a
// role only while the case has none (AmendCase cannot set it back).
std::string DetailsRows(const v1::Case& c, const Form& form,
                        const FieldRefusal& refusal, i18n::Lang lang) {
  const bool sent = First(form, "details") == "1";
  const std::string contact =
      sent ? First(form, "contact_point") : c.contact_point();
  const int role = sent ? case_forms::IntField(form, "role") : c.role();
  std::vector<int> offences;
  if (sent) {
    offences = OffencesSent(form);
  } else {
    for (const v1::Offence& o : c.offences()) offences.push_back(o.code());
  }
  std::string out = absl::StrCat(
      "<fieldset><legend>", T(msg::kConsoleAmendDetails, lang),
      "</legend>\n<p class=\"hint\">", T(msg::kConsoleAmendDetailsHint, lang),
      "</p>\n", FieldError(refusal, "details"),
      "<input type=\"hidden\" name=\"details\" value=\"1\">\n"
      "<label for=\"contact_point\">",
      T(msg::kConsoleFormContactPoint, lang),
      "</label><input id=\"contact_point\" name=\"contact_point\" required "
      "maxlength=\"512\" value=\"",
      Escape(contact), "\">\n<label for=\"role\">",
      T(msg::kConsoleFormRole, lang), "</label>",
      case_forms::Select(
          "role", case_forms::PerpetratorRoles(), role,
          c.role() == v1::PERPETRATOR_ROLE_UNSPECIFIED
              ? std::string(i18n::Text(msg::kConsoleRoleUnknown, lang))
              : "",
          lang),
      "\n<fieldset><legend>", T(msg::kConsoleLabelOffences, lang),
      "</legend>\n");
  for (const case_forms::Choice& o : case_forms::Offences()) {
    const bool on =
        std::find(offences.begin(), offences.end(), o.value) != offences.end();
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"offence\" "
                    "value=\"",
                    o.value, "\"", on ? " checked" : "", "> ", T(o.label, lang),
                    "</label>\n");
  }
  return out + "</fieldset>\n</fieldset>\n";
}

// The rows to add, as the query form's (a type or "detect from the
// value", the value, the days, "also as a group or channel").
std::string AddRows(const Form& form, const FieldRefusal& refusal,
                    const std::string& self, i18n::Lang lang) {
  std::string out =
      absl::StrCat("<fieldset><legend>", T(msg::kConsoleAmendAdd, lang),
                   "</legend>\n<p class=\"hint\" id=\"chat_hint\">",
                   T(msg::kConsoleAmendChatHint, lang), "</p>\n");
  const int rows = case_forms::RowsShown(form, kAddRows);
  for (int i = 0; i < rows; ++i) {
    const std::string n = std::to_string(i);
    absl::StrAppend(
        &out, "<fieldset class=\"row\"><legend>",
        HtmlFormat(msg::kConsoleQueryIdRow, lang, {std::to_string(i + 1)}),
        "</legend>\n", FieldError(refusal, "add_" + n),
        "<label for=\"add_type_", n, "\">", T(msg::kConsoleLabelType, lang),
        "</label>",
        case_forms::Select(
            "add_type_" + n, case_forms::IdentifierTypes(),
            case_forms::IntField(form, "add_type_" + n),
            std::string(i18n::Text(msg::kConsoleQueryDetect, lang)), lang),
        "\n<label for=\"add_value_", n, "\">", T(msg::kConsoleQueryValue, lang),
        "</label><input id=\"add_value_", n, "\" name=\"add_value_", n,
        "\" maxlength=\"1024\" value=\"", Escape(First(form, "add_value_" + n)),
        "\">\n",
        case_forms::PhoneCountrySelect("add_cc_" + n,
                                       First(form, "add_cc_" + n), self, lang),
        "\n<label for=\"add_from_", n, "\">", T(msg::kConsoleQueryFrom, lang),
        "</label><input type=\"date\" id=\"add_from_", n, "\" name=\"add_from_",
        n, "\" value=\"", Escape(First(form, "add_from_" + n)),
        "\">\n<label for=\"add_until_", n, "\">",
        T(msg::kConsoleQueryUntil, lang),
        "</label><input type=\"date\" id=\"add_until_", n,
        "\" name=\"add_until_", n, "\" value=\"",
        Escape(First(form, "add_until_" + n)),
        "\">\n<label><input type=\"checkbox\" name=\"add_chat_", n,
        "\" value=\"1\" aria-describedby=\"chat_hint\"",
        First(form, "add_chat_" + n) == "1" ? " checked" : "", "> ",
        T(msg::kConsoleAmendAlsoChat, lang), "</label>\n</fieldset>\n");
  }
  return out + case_forms::MoreRows(rows, lang) + "</fieldset>\n";
}

// The whole form for `c`: `form` as sent (empty: as stored), the page's
// own refusal next to its field (and above the form), or the node's
// refusal `node_reason` above the form.
std::string AmendFormHtml(const console::Request& r, const v1::Case& c,
                          const Form& form, const FieldRefusal& refusal,
                          const std::string& node_reason,
                          const std::string& self, i18n::Lang lang) {
  std::string out =
      absl::StrCat("<p>", T(msg::kConsoleAmendIntro, lang), "</p>\n");
  if (!node_reason.empty()) {
    out += case_forms::Refusal(node_reason, lang);
  } else if (!refusal.text.empty()) {
    absl::StrAppend(&out, "<p class=\"error\" role=\"alert\">",
                    Escape(refusal.text), "</p>\n");
  }
  absl::StrAppend(
      &out, "<form method=\"post\" action=\"/cases/amend\">",
      case_forms::FormToken(r),
      "<input type=\"hidden\" name=\"case_number\" value=\"",
      Escape(c.case_number()), "\">\n", CurrentRows(c, form, refusal, lang),
      AddRows(form, refusal, self, lang), DetailsRows(c, form, refusal, lang),
      "<p><button type=\"submit\">", T(msg::kConsoleAmendSubmit, lang),
      "</button>",
      case_forms::MoreRowsButton(case_forms::RowsShown(form, kAddRows), lang),
      "</p>\n</form>");
  return out;
}

}  // namespace

console::Response CasePages::AmendPage(const Request& r,
                                       const std::string& number,
                                       const Form& form) const {
  const i18n::Lang lang = LanguageOf(r);
  const std::string title =
      i18n::Format(msg::kConsoleAmendTitle, lang, {number});
  absl::StatusOr<std::optional<v1::Case>> found = ReadOwnCase(r, number);
  if (!found.ok()) return ReadRefused(r, title, found.status());
  if (!found->has_value()) return NoSuchCase(r, number);
  if ((*found)->status() != v1::CASE_STATUS_OPEN) {
    return language_->Page(
        r, title,
        absl::StrCat("<p class=\"error\">", T(msg::kConsoleAmendClosed, lang),
                     "</p>"),
        400);
  }
  return language_->Page(r, title,
                         AmendFormHtml(r, **found, form, {}, "", self_, lang));
}

void CasePages::AmendForm(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    return AmendPage(r, First(r.query, "number"), {});
  });
}

void CasePages::Amend(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = LanguageOf(r);
    const std::string number = First(r.form, "case_number");
    // One more row to fill: nothing is sent. Another role goes on to the
    // change below, which refuses it and logs the refusal.
    if (case_forms::AddsRow(r.form) && r.caller.role == "prosecutor") {
      return AmendPage(r, number, r.form);
    }
    const std::string title =
        i18n::Format(msg::kConsoleAmendTitle, lang, {number});
    FieldRefusal refusal;
    // The case as the office has it: what the form's rows are compared
    // with, and the form shown again after a refusal.
    std::optional<v1::Case> own;
    absl::StatusOr<v1::Case> amended = ProsecutorChangeFor(
        *office_, r.caller, "Office.AmendCase", "amend_case",
        [&](const OfficeCaller& caller) -> absl::StatusOr<v1::Case> {
          v1::AmendCaseRequest req;
          req.set_case_number(number);
          absl::StatusOr<v1::Case> stored = cases_->Get(number);
          if (stored.ok() && stored->office() == caller.Name()) {
            own = *stored;
            absl::StatusOr<v1::AmendCaseRequest> built =
                RequestFromForm(r.form, *stored, lang, self_, refusal);
            // The page's own refusal: nothing sent, nothing logged.
            if (!built.ok()) return built.status();
            req = *std::move(built);
          }
          // Not the office's case (or none): the case book refuses it
          // (M4, M5) and logs the refusal, as for `cbx case amend`.
          return cases_->Amend(caller.Name(), req, caller.person);
        });
    if (!amended.ok() && r.caller.role != "prosecutor") {
      return ReadRefused(r, title, amended.status());
    }
    if (amended.ok()) {
      return console::Response{
          303, "", "",
          absl::StrCat("/case?number=", console::UrlEncode(number))};
    }
    const int status = HttpStatusOf(amended.status().code());
    if (!own.has_value() || own->status() != v1::CASE_STATUS_OPEN) {
      return language_->Page(
          r, title,
          case_forms::Refusal(std::string(amended.status().message()), lang),
          own.has_value() ? 400 : status);
    }
    const std::string node_reason =
        refusal.text.empty() ? std::string(amended.status().message()) : "";
    return language_->Page(
        r, title,
        AmendFormHtml(r, *own, r.form, refusal, node_reason, self_, lang),
        refusal.text.empty() ? status : 400);
  });
}

}  // namespace cbx::node
