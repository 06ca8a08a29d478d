#include "node/console_case_forms.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cbx/v1/cases.pb.h"
#include "cbx/v1/identifiers.pb.h"
#include "core/identifiers/identifiers.h"
#include "node/console_language.h"

namespace cbx::node::case_forms {
namespace {

using console::Escape;

constexpr Choice kIdentifierTypes[] = {
    {v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME,
     i18n::msg::kConsoleIdTypeTelegramUsername},
    {v1::IDENTIFIER_TYPE_TELEGRAM_CHAT, i18n::msg::kConsoleIdTypeTelegramChat},
    {v1::IDENTIFIER_TYPE_TELEGRAM_USER_ID,
     i18n::msg::kConsoleIdTypeTelegramUserId},
    {v1::IDENTIFIER_TYPE_PHONE, i18n::msg::kConsoleIdTypePhone},
    {v1::IDENTIFIER_TYPE_EMAIL, i18n::msg::kConsoleIdTypeEmail},
    {v1::IDENTIFIER_TYPE_PLATFORM_HANDLE,
     i18n::msg::kConsoleIdTypePlatformHandle},
    {v1::IDENTIFIER_TYPE_CONTENT_SHA256,
     i18n::msg::kConsoleIdTypeContentSha256},
};

constexpr Choice kOffences[] = {
    {v1::OFFENCE_CODE_NCII_SHARING, i18n::msg::kOffenceNciiSharing},
    {v1::OFFENCE_CODE_NCII_THREAT, i18n::msg::kOffenceNciiThreat},
    {v1::OFFENCE_CODE_CYBER_STALKING, i18n::msg::kOffenceCyberStalking},
    {v1::OFFENCE_CODE_CYBER_HARASSMENT, i18n::msg::kOffenceCyberHarassment},
    {v1::OFFENCE_CODE_CYBER_INCITEMENT, i18n::msg::kOffenceCyberIncitement},
    {v1::OFFENCE_CODE_CSAM, i18n::msg::kOffenceCsam},
    {v1::OFFENCE_CODE_GROUP_ADMINISTRATION,
     i18n::msg::kOffenceGroupAdministration},
};

constexpr Choice kRoles[] = {
    {v1::PERPETRATOR_ROLE_CREATOR, i18n::msg::kConsoleRoleCreator},
    {v1::PERPETRATOR_ROLE_ADMINISTRATOR, i18n::msg::kConsoleRoleAdministrator},
    {v1::PERPETRATOR_ROLE_POSTER, i18n::msg::kConsoleRolePoster},
    {v1::PERPETRATOR_ROLE_RESHARER, i18n::msg::kConsoleRoleResharer},
    {v1::PERPETRATOR_ROLE_REQUESTER, i18n::msg::kConsoleRoleRequester},
};

}  // namespace

std::span<const Choice> IdentifierTypes() { return kIdentifierTypes; }
std::span<const Choice> Offences() { return kOffences; }
std::span<const Choice> PerpetratorRoles() { return kRoles; }

std::string LabelOf(std::span<const Choice> choices, int value,
                    i18n::Lang lang) {
  for (const Choice& c : choices) {
    if (c.value == value) return std::string(i18n::Text(c.label, lang));
  }
  return absl::StrCat("code ", value);
}

std::string Select(const std::string& name, std::span<const Choice> choices,
                   int selected, const std::string& none, i18n::Lang lang,
                   const std::string& aria) {
  std::string out = absl::StrCat(
      "<select name=\"", name, "\" id=\"", name, "\"",
      aria.empty() ? "" : absl::StrCat(" aria-label=\"", Escape(aria), "\""),
      ">");
  if (!none.empty()) {
    absl::StrAppend(&out, "<option value=\"0\">", Escape(none), "</option>");
  }
  for (const Choice& c : choices) {
    absl::StrAppend(&out, "<option value=\"", c.value, "\"",
                    c.value == selected ? " selected" : "", ">",
                    HtmlText(c.label, lang), "</option>");
  }
  return out + "</select>";
}

std::string FormToken(const console::Request& r) {
  return absl::StrCat("<input type=\"hidden\" name=\"form_token\" value=\"",
                      Escape(r.session.form_token), "\">");
}

int IntField(const console::Form& form, const std::string& name) {
  int v = 0;
  return absl::SimpleAtoi(console::First(form, name), &v) ? v : 0;
}

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

std::string DateText(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

int RowsShown(const console::Form& form, int initial) {
  int rows = IntField(form, "rows");
  if (rows < initial) rows = initial;
  if (AddsRow(form)) ++rows;
  return rows > kMostRows ? kMostRows : rows;
}

bool AddsRow(const console::Form& form) {
  return console::First(form, "add_row") == "1";
}

std::string MoreRows(int rows, i18n::Lang lang) {
  std::string out = absl::StrCat(
      "<input type=\"hidden\" name=\"rows\" value=\"", rows, "\">\n");
  if (rows >= kMostRows) {
    absl::StrAppend(&out, "<p class=\"hint\">",
                    HtmlFormat(i18n::msg::kConsoleFormMostRows, lang,
                               {std::to_string(kMostRows)}),
                    "</p>\n");
  }
  return out;
}

std::string MoreRowsButton(int rows, i18n::Lang lang) {
  if (rows >= kMostRows) return "";
  return absl::StrCat(
      " <button type=\"submit\" name=\"add_row\" value=\"1\" "
      "class=\"secondary\" formnovalidate>",
      HtmlText(i18n::msg::kConsoleFormAddRow, lang), "</button>");
}

std::string PhoneCountrySelect(const std::string& name,
                               const std::string& chosen,
                               const std::string& self, i18n::Lang lang,
                               const std::string& aria) {
  const std::string selected = chosen.empty() ? self : chosen;
  std::string out =
      aria.empty()
          ? absl::StrCat("<label for=\"", name, "\">",
                         HtmlText(i18n::msg::kConsoleFormPhoneCountry, lang),
                         "</label><select id=\"", name, "\" name=\"", name,
                         "\">")
          : absl::StrCat("<select id=\"", name, "\" name=\"", name,
                         "\" aria-label=\"", Escape(aria), "\">");
  for (const identifiers::PhoneCountry& c : identifiers::PhoneCountries()) {
    absl::StrAppend(&out, "<option value=\"", c.member, "\"",
                    c.member == selected ? " selected" : "", ">", c.member,
                    " +", c.calling_code, "</option>");
  }
  return out + "</select>";
}

std::string WithPhoneCountry(const console::Form& form, const std::string& name,
                             int type, const std::string& value,
                             const std::string& self) {
  if (type != v1::IDENTIFIER_TYPE_PHONE &&
      type != v1::IDENTIFIER_TYPE_UNSPECIFIED) {
    return value;
  }
  const std::string chosen = console::First(form, name);
  return identifiers::InternationalPhone(value, chosen.empty() ? self : chosen);
}

std::string Refusal(const std::string& reason, i18n::Lang lang) {
  return absl::StrCat("<p class=\"error\" role=\"alert\">",
                      HtmlText(i18n::msg::kConsoleRefused, lang), " ",
                      Escape(reason), "</p>\n");
}

}  // namespace cbx::node::case_forms
