// What the console's case pages share (node/console_pages.cc, the case
// list, registration and close; node/console_case_amend.cc, amending): the
// choices their forms offer (identifier types, offences, perpetrator
// roles) with their catalog labels, the <select> that offers them, dates
// as an <input type=date> sends them, and the framing of the node's own
// refusal. Kept apart so that each page file holds one page's logic.
//
// Threading: pure functions over constant tables.
#ifndef CBX_NODE_CONSOLE_CASE_FORMS_H_
#define CBX_NODE_CONSOLE_CASE_FORMS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/i18n/catalog.h"
#include "node/console/console_server.h"

namespace cbx::node::case_forms {

// One option of a form: its wire value and its label in the catalog.
struct Choice {
  int value;
  i18n::MessageId label;
};

// Every identifier type an office may register (console.id_type.*).
std::span<const Choice> IdentifierTypes();
// The offences, with spec/offence-codes.md's labels as `cbx` shows them.
std::span<const Choice> Offences();
// The perpetrator's roles (console.role.*).
std::span<const Choice> PerpetratorRoles();

// The label of `value` among `choices` in `lang`; "code N" for a value
// the table does not have (a newer node's enum).
std::string LabelOf(std::span<const Choice> choices, int value,
                    i18n::Lang lang);

// A <select> named and identified `name` of `choices`, `selected` chosen;
// a first option of value 0 labelled `none` (plain text) unless it is
// empty; its accessible name `aria` (plain text) where no <label> names it.
std::string Select(const std::string& name, std::span<const Choice> choices,
                   int selected, const std::string& none, i18n::Lang lang,
                   const std::string& aria = "");

// The hidden `form_token` field of `r`'s session (spec/web-console.md §3).
std::string FormToken(const console::Request& r);

// The integer in `form`'s field `name`; 0 if absent or not a number.
int IntField(const console::Form& form, const std::string& name);

// "YYYY-MM-DD" (an <input type=date>) as ms since the epoch at the start of
// that UTC day, or of the next day less 1 ms if `end` (the end date is
// inclusive); 0 for ""; nullopt if `text` is not such a date.
std::optional<int64_t> DateMs(const std::string& text, bool end);
// `ms` as the UTC day "YYYY-MM-DD"; "" for 0 (not known).
std::string DateText(int64_t ms);

// The most identifier rows a console form shows: "Add another row" stops
// there (a case takes more through amending it, or `cbx`).
inline constexpr int kMostRows = 30;

// How many identifier rows a form shows: its hidden `rows` field (as the
// page the person sent had it), else `initial`; one more if the person
// pressed "Add another row" (AddsRow); never below `initial` nor above
// kMostRows.
int RowsShown(const console::Form& form, int initial);
// Whether the form was sent with "Add another row": the page comes back
// with one more row, filled as sent, and nothing is sent or logged.
bool AddsRow(const console::Form& form);
// The hidden `rows` field of a form showing `rows` rows, and at kMostRows
// the hint that there are no more.
std::string MoreRows(int rows, i18n::Lang lang);
// The "Add another row" button, to follow the form's own submit button
// (the first submit button is the one Enter presses); "" at kMostRows.
std::string MoreRowsButton(int rows, i18n::Lang lang);

// The country of an identifier row's phone number written without "+"
// (field `name`): a <select> of identifiers::PhoneCountries ("MK +389"),
// `chosen` selected (the form as sent), else the office's own `self`;
// its label in the catalog, tied to it by id.
// `aria` set: no <label>, the <select>'s accessible name instead (a table
// cell under its column's header).
std::string PhoneCountrySelect(const std::string& name,
                               const std::string& chosen,
                               const std::string& self, i18n::Lang lang,
                               const std::string& aria = "");
// The row's value as sent, a national phone number turned international
// for the row's country (field `name`, else `self`) when the row's type
// is phone or "detect" (identifiers::InternationalPhone); else unchanged.
std::string WithPhoneCountry(const console::Form& form, const std::string& name,
                             int type, const std::string& value,
                             const std::string& self);

// The node's refusal (its own words, English) after the translated "The
// node did not accept this:", as a paragraph announced to screen readers.
std::string Refusal(const std::string& reason, i18n::Lang lang);

}  // namespace cbx::node::case_forms

#endif  // CBX_NODE_CONSOLE_CASE_FORMS_H_
