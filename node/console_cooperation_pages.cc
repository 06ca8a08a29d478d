#include "node/console_cooperation_pages.h"

#include <algorithm>
#include <span>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cbx/v1/envelope.pb.h"
#include "cbx/v1/message.pb.h"
#include "client/time_format.h"
#include "core/crypto/sha256.h"
#include "core/i18n/catalog.h"
#include "node/console_calls.h"
#include "node/console_case_forms.h"
#include "node/console_hit_pages.h"

namespace cbx::node {
namespace {

namespace msg = i18n::msg;
using case_forms::Choice;
using console::Escape;
using console::First;
using console::Form;

// Requests a page of /requests lists.
constexpr uint32_t kPageSize = 50;
// The note's bound (spec/cooperation.md §1).
constexpr size_t kMaxNoteBytes = 1000;

constexpr Choice kTypes[] = {
    {v1::COOPERATION_TYPE_INFORMATION, msg::kConsoleCoopTypeInformation},
    {v1::COOPERATION_TYPE_PRESERVATION, msg::kConsoleCoopTypePreservation},
    {v1::COOPERATION_TYPE_JOINT_INVESTIGATION_TEAM, msg::kConsoleCoopTypeJit},
    {v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION,
     msg::kConsoleCoopTypeSpontaneous},
};
constexpr Choice kOutcomes[] = {
    {v1::RESPONSE_OUTCOME_DONE, msg::kConsoleCoopOutcomeDone},
    {v1::RESPONSE_OUTCOME_PARTLY, msg::kConsoleCoopOutcomePartly},
    {v1::RESPONSE_OUTCOME_REFUSED, msg::kConsoleCoopOutcomeRefused},
    {v1::RESPONSE_OUTCOME_FORWARDED_TO_MLA, msg::kConsoleCoopOutcomeMla},
};
constexpr Choice kReasons[] = {
    {v1::RESPONSE_REFUSAL_NO_LEGAL_BASIS, msg::kConsoleCoopReasonNoLegalBasis},
    {v1::RESPONSE_REFUSAL_NOT_COMPETENT, msg::kConsoleCoopReasonNotCompetent},
    {v1::RESPONSE_REFUSAL_DATA_NOT_HELD, msg::kConsoleCoopReasonDataNotHeld},
    {v1::RESPONSE_REFUSAL_OTHER, msg::kConsoleCoopReasonOther},
};
constexpr Choice kReceiptRefusals[] = {
    {v1::RECEIPT_REFUSAL_UNKNOWN_CASE_TOKEN,
     msg::kConsoleCoopReceiptUnknownCaseToken},
    {v1::RECEIPT_REFUSAL_CASE_WITHDRAWN, msg::kConsoleCoopReceiptCaseWithdrawn},
    {v1::RECEIPT_REFUSAL_TYPE_NOT_ACCEPTED,
     msg::kConsoleCoopReceiptTypeNotAccepted},
    {v1::RECEIPT_REFUSAL_MALFORMED, msg::kConsoleCoopReceiptMalformed},
    {v1::RECEIPT_REFUSAL_OVER_QUOTA, msg::kConsoleCoopReceiptOverQuota},
    {v1::RECEIPT_REFUSAL_UNKNOWN_REQUEST,
     msg::kConsoleCoopReceiptUnknownRequest},
    {v1::RECEIPT_REFUSAL_ALREADY_ANSWERED,
     msg::kConsoleCoopReceiptAlreadyAnswered},
};
constexpr Choice kDataCategories[] = {
    {v1::DATA_CATEGORY_SUBSCRIBER, msg::kConsoleCoopDataSubscriber},
    {v1::DATA_CATEGORY_TRAFFIC, msg::kConsoleCoopDataTraffic},
    {v1::DATA_CATEGORY_CONTENT, msg::kConsoleCoopDataContent},
    {v1::DATA_CATEGORY_LOCATION, msg::kConsoleCoopDataLocation},
};

std::string T(i18n::MessageId id, i18n::Lang lang) {
  return HtmlText(id, lang);
}
std::string PlainText(i18n::MessageId id, i18n::Lang lang) {
  return std::string(i18n::Text(id, lang));
}
std::string Label(std::span<const Choice> choices, int value, i18n::Lang lang) {
  return Escape(case_forms::LabelOf(choices, value, lang));
}

std::string Time(int64_t ms) { return client::FormatTimestamp(ms); }

bool Ticked(const Form& form, const std::string& name,
            const std::string& value) {
  auto it = form.find(name);
  return it != form.end() && std::find(it->second.begin(), it->second.end(),
                                       value) != it->second.end();
}

std::string FieldError(const FormFieldRefusal& refusal,
                       const std::string& here) {
  if (refusal.text.empty() || refusal.field != here) return "";
  return absl::StrCat("<p class=\"error\" id=\"", here, "_error\">",
                      Escape(refusal.text), "</p>\n");
}

std::string Row(const std::string& label, const std::string& html) {
  return absl::StrCat("<tr><th scope=\"row\">", label, "</th><td>", html,
                      "</td></tr>\n");
}

// Where a record stands, in the page's language (as `cbx request list`'s
// state column).
std::string State(const v1::CooperationRecord& r, i18n::Lang lang) {
  if (!r.delivery_error().empty()) {
    return T(msg::kConsoleCoopStateNotDelivered, lang);
  }
  if (r.has_response()) {
    return HtmlFormat(msg::kConsoleCoopStateAnswered, lang,
                      {Label(kOutcomes, r.response().outcome(), lang)});
  }
  if (!r.has_receipt()) return T(msg::kConsoleCoopStateSending, lang);
  if (r.receipt().status() != v1::RECEIPT_STATUS_ACCEPTED) {
    return HtmlFormat(msg::kConsoleCoopStateRefused, lang,
                      {Label(kReceiptRefusals, r.receipt().reason(), lang)});
  }
  return T(r.request().response_due_ms() == 0 ? msg::kConsoleCoopStateDelivered
                                              : msg::kConsoleCoopStateAccepted,
           lang);
}

std::string Due(const v1::CooperationRecord& r, i18n::Lang lang) {
  if (r.request().response_due_ms() == 0) {
    return T(msg::kConsoleCoopNoDue, lang);
  }
  return absl::StrCat(
      Time(r.request().response_due_ms()),
      r.overdue() ? absl::StrCat(" <strong class=\"disjoint\">",
                                 T(msg::kConsoleCoopOverdue, lang), "</strong>")
                  : "");
}

std::string Direction(const v1::CooperationRecord& r, i18n::Lang lang) {
  const std::string peer =
      Escape(r.peer_office().empty()
                 ? r.peer()
                 : absl::StrCat(r.peer(), " (", r.peer_office(), ")"));
  return HtmlFormat(r.direction() == v1::COOPERATION_DIRECTION_SENT
                        ? msg::kConsoleCoopSentTo
                        : msg::kConsoleCoopReceivedFrom,
                    lang, {peer});
}

std::string ListTable(const v1::ListCooperationRequestsResponse& list,
                      i18n::Lang lang) {
  std::string out = "<table><tr>";
  for (i18n::MessageId column :
       {msg::kConsoleCoopId, msg::kConsoleCoopDirection, msg::kConsoleCoopType,
        msg::kConsoleCoopOurCase, msg::kConsoleCoopRequested,
        msg::kConsoleCoopDue, msg::kConsoleCoopState}) {
    absl::StrAppend(&out, "<th scope=\"col\">", T(column, lang), "</th>");
  }
  out += "</tr>\n";
  for (const v1::CooperationRecord& r : list.requests()) {
    absl::StrAppend(
        &out, "<tr><td><a href=\"/request?id=", console::UrlEncode(r.id()),
        "\">", Escape(r.id().substr(0, 8)), "</a></td><td>", Direction(r, lang),
        "</td><td>", Label(kTypes, r.request().type(), lang), "</td><td>",
        Escape(r.case_number()), "</td><td>", Time(r.requested_at_ms()),
        "</td><td>", Due(r, lang), "</td><td>", State(r, lang), "</td></tr>\n");
  }
  return out + "</table>\n";
}

// The request's own fields, as `cbx request show` prints them.
std::string RequestRows(const v1::CooperationRecord& r, i18n::Lang lang) {
  const v1::CooperationRequest& q = r.request();
  std::string out = absl::StrCat(
      Row(T(msg::kConsoleCoopDirection, lang), Direction(r, lang)),
      Row(T(msg::kConsoleCoopType, lang), Label(kTypes, q.type(), lang)),
      Row(T(msg::kConsoleCoopOurCase, lang), Escape(r.case_number())),
      Row(T(msg::kConsoleHitsCaseToken, lang),
          absl::StrCat("<code>", absl::BytesToHexString(q.case_token()),
                       "</code>")),
      Row(T(msg::kConsoleQueryLegalBasis, lang), Escape(q.legal_basis())));
  if (q.has_preservation()) {
    const v1::PreservationDetails& p = q.preservation();
    std::vector<std::string> accounts, data;
    for (const v1::Identifier& id : p.account()) {
      accounts.push_back(absl::StrCat(T(IdentifierTypeMessage(id.type()), lang),
                                      ": ", Escape(id.value())));
    }
    for (int c : p.data_categories()) {
      data.push_back(Label(kDataCategories, c, lang));
    }
    absl::StrAppend(
        &out, Row(T(msg::kConsoleCoopPlatform, lang), Escape(p.platform())),
        Row(T(msg::kConsoleCoopAccounts, lang),
            absl::StrJoin(accounts, "<br>")),
        Row(T(msg::kConsoleCoopPeriod, lang),
            HtmlFormat(msg::kConsoleHitsWindow, lang,
                       {client::FormatDate(p.period_from_ms()),
                        client::FormatDate(p.period_to_ms())})),
        Row(T(msg::kConsoleCoopData, lang), absl::StrJoin(data, ", ")));
  }
  if (!q.note().empty()) {
    absl::StrAppend(&out,
                    Row(T(msg::kConsoleCoopNote, lang), Escape(q.note())));
  }
  absl::StrAppend(
      &out, Row(T(msg::kConsoleCoopRequested, lang), Time(r.requested_at_ms())),
      Row(T(msg::kConsoleCoopDue, lang), Due(r, lang)));
  return out;
}

// What came back: the receipt, the answer and its acknowledgement.
std::string ReplyRows(const v1::CooperationRecord& r, i18n::Lang lang) {
  std::string out = Row(T(msg::kConsoleCoopState, lang), State(r, lang));
  if (r.has_receipt()) {
    absl::StrAppend(
        &out, Row(T(msg::kConsoleCoopReceipt, lang),
                  absl::StrCat(Time(r.receipt().received_at_ms()),
                               r.receipt_late()
                                   ? " " + T(msg::kConsoleCoopReceiptLate, lang)
                                   : "")));
  }
  if (r.has_response()) {
    const v1::CooperationResponse& a = r.response();
    std::string outcome = Label(kOutcomes, a.outcome(), lang);
    if (a.outcome() == v1::RESPONSE_OUTCOME_REFUSED) {
      absl::StrAppend(&outcome, ": ", Label(kReasons, a.reason(), lang));
    }
    absl::StrAppend(
        &out, Row(T(msg::kConsoleCoopResponse, lang), outcome),
        Row(T(msg::kConsoleCoopAnsweredAt, lang), Time(r.responded_at_ms())));
    if (!a.mla_reference().empty()) {
      absl::StrAppend(&out, Row(T(msg::kConsoleCoopMlaReference, lang),
                                Escape(a.mla_reference())));
    }
    if (a.preserved_until_ms() != 0) {
      absl::StrAppend(&out, Row(T(msg::kConsoleCoopPreservedUntil, lang),
                                Time(a.preserved_until_ms())));
    }
    if (!a.note().empty()) {
      absl::StrAppend(
          &out, Row(T(msg::kConsoleCoopResponseNote, lang), Escape(a.note())));
    }
    if (r.has_response_receipt()) {
      absl::StrAppend(&out, Row(T(msg::kConsoleCoopAcknowledged, lang),
                                Time(r.response_receipt().received_at_ms())));
    }
  }
  if (!r.delivery_error().empty()) {
    absl::StrAppend(&out, "<tr><td colspan=\"2\" class=\"error\">",
                    HtmlFormat(msg::kConsoleCoopDeliveryError, lang,
                               {Escape(r.delivery_error())}),
                    "</td></tr>\n");
  }
  return out;
}

// The signed envelopes of `r` that crossed the border, one row each: which
// message it is, who signed it and when (from its header), the key that
// signed it, and the SHA-256 under which both members' audit logs record
// it (spec/audit-log.md: envelope_sha256), so that an auditor can find the
// entries. Empty if the record holds none.
std::string EnvelopeRows(const v1::CooperationRecord& r, i18n::Lang lang) {
  const std::pair<i18n::MessageId, const std::string*> envelopes[] = {
      {msg::kConsoleCoopEnvelopeRequest, &r.request_envelope()},
      {msg::kConsoleCoopEnvelopeReceipt, &r.receipt_envelope()},
      {msg::kConsoleCoopEnvelopeResponse, &r.response_envelope()},
      {msg::kConsoleCoopEnvelopeResponseReceipt,
       &r.response_receipt_envelope()}};
  std::string rows;
  for (const auto& [label, bytes] : envelopes) {
    if (bytes->empty()) continue;
    v1::Envelope envelope;
    v1::Message message;
    std::string signer, issued;
    // Stored as the node received or sent it: a record the node wrote.
    // One that does not parse is shown by its hash alone.
    if (envelope.ParseFromString(*bytes) &&
        message.ParseFromString(envelope.body())) {
      signer = message.header().sender();
      if (!message.header().office().empty()) {
        absl::StrAppend(&signer, " (", message.header().office(), ")");
      }
      issued = Time(message.header().issued_at_ms());
    }
    absl::StrAppend(
        &rows, "<tr><td>", T(label, lang), "</td><td>", Escape(signer),
        "</td><td>", Escape(issued), "</td><td><code>",
        absl::BytesToHexString(envelope.key_id()),
        "</code></td><td><code class=\"hash\">",
        absl::BytesToHexString(crypto::Sha256(*bytes)), "</code></td></tr>\n");
  }
  if (rows.empty()) return "";
  return absl::StrCat(
      "<h2>", T(msg::kConsoleCoopEnvelopes, lang), "</h2>\n<p class=\"hint\">",
      T(msg::kConsoleCoopEnvelopesHint, lang), "</p>\n<table>\n<tr><th>",
      T(msg::kConsoleCoopEnvelopeMessage, lang), "</th><th>",
      T(msg::kConsoleCoopEnvelopeSigner, lang), "</th><th>",
      T(msg::kConsoleCoopEnvelopeIssued, lang), "</th><th>",
      T(msg::kConsoleCoopEnvelopeKey, lang), "</th><th>",
      T(msg::kConsoleCoopEnvelopeSha256, lang), "</th></tr>\n", rows,
      "</table>\n");
}

// Whether the office may answer `r` now: received, answer expected, and
// not answered yet (or its answer not delivered: it may be sent again).
bool Answerable(const v1::CooperationRecord& r) {
  return r.direction() == v1::COOPERATION_DIRECTION_RECEIVED &&
         r.request().type() != v1::COOPERATION_TYPE_SPONTANEOUS_INFORMATION &&
         (!r.has_response() || !r.delivery_error().empty());
}

std::string NoteField(const Form& form, const FormFieldRefusal& refusal,
                      i18n::Lang lang) {
  return absl::StrCat("<label for=\"note\">", T(msg::kConsoleCoopNote, lang),
                      "</label>\n<p class=\"hint\" id=\"note_hint\">",
                      T(msg::kConsoleCoopNoteHint, lang), "</p>\n",
                      FieldError(refusal, "note"),
                      "<input id=\"note\" name=\"note\" maxlength=\"1000\" "
                      "aria-describedby=\"note_hint\" value=\"",
                      Escape(First(form, "note")), "\">\n");
}

std::string DateField(const std::string& name, i18n::MessageId label,
                      const Form& form, i18n::Lang lang) {
  return absl::StrCat("<label for=\"", name, "\">", T(label, lang),
                      "</label><input type=\"date\" id=\"", name, "\" name=\"",
                      name, "\" value=\"", Escape(First(form, name)), "\">\n");
}

std::string AnswerForm(const console::Request& r,
                       const v1::CooperationRecord& record, const Form& form,
                       const FormFieldRefusal& refusal, i18n::Lang lang) {
  // "Preserved until" answers a preservation request only.
  const std::string preserved =
      record.request().type() != v1::COOPERATION_TYPE_PRESERVATION
          ? ""
          : absl::StrCat(
                "<p class=\"hint\">", T(msg::kConsoleCoopPreservedHint, lang),
                "</p>\n", FieldError(refusal, "preserved_until"),
                DateField("preserved_until", msg::kConsoleCoopPreservedUntil,
                          form, lang));
  return absl::StrCat(
      "<h2>", T(msg::kConsoleCoopRespondTitle, lang), "</h2>\n",
      "<form method=\"post\" action=\"/requests/respond\">",
      case_forms::FormToken(r), "<input type=\"hidden\" name=\"id\" value=\"",
      Escape(record.id()), "\">\n<label for=\"outcome\">",
      T(msg::kConsoleCoopOutcome, lang), "</label>\n",
      FieldError(refusal, "outcome"),
      case_forms::Select("outcome", kOutcomes,
                         case_forms::IntField(form, "outcome"),
                         PlainText(msg::kConsoleCoopChoose, lang), lang),
      "\n<label for=\"reason\">", T(msg::kConsoleCoopReason, lang),
      "</label>\n", FieldError(refusal, "reason"),
      case_forms::Select("reason", kReasons,
                         case_forms::IntField(form, "reason"),
                         PlainText(msg::kConsoleCoopChoose, lang), lang),
      "\n<label for=\"mla_reference\">", T(msg::kConsoleCoopMlaReference, lang),
      "</label>\n<p class=\"hint\" id=\"mla_hint\">",
      T(msg::kConsoleCoopMlaHint, lang), "</p>\n",
      FieldError(refusal, "mla_reference"),
      "<input id=\"mla_reference\" name=\"mla_reference\" maxlength=\"64\" "
      "aria-describedby=\"mla_hint\" value=\"",
      Escape(First(form, "mla_reference")), "\">\n", preserved,
      NoteField(form, refusal, lang), "<p><button type=\"submit\">",
      T(msg::kConsoleCoopRespondSubmit, lang), "</button></p>\n</form>\n");
}

std::optional<FormFieldRefusal> NoteFromForm(const Form& form, i18n::Lang lang,
                                             std::string& note) {
  note = First(form, "note");
  if (note.size() > kMaxNoteBytes ||
      note.find_first_of("\r\n") != std::string::npos) {
    return FormFieldRefusal{"note", PlainText(msg::kConsoleCoopErrNote, lang)};
  }
  return std::nullopt;
}

// The answer a POST /requests/respond form describes, checked in the
// form's order as `cbx respond` checks its arguments; the first refusal.
std::optional<FormFieldRefusal> AnswerFromForm(
    const Form& form, i18n::Lang lang,
    v1::RespondToCooperationRequestRequest& req) {
  req.set_id(absl::AsciiStrToLower(First(form, "id")));
  const int outcome = case_forms::IntField(form, "outcome");
  if (outcome == 0 || !v1::ResponseOutcome_IsValid(outcome)) {
    return FormFieldRefusal{"outcome",
                            PlainText(msg::kConsoleCoopErrOutcome, lang)};
  }
  req.set_outcome(static_cast<v1::ResponseOutcome>(outcome));
  const int reason = case_forms::IntField(form, "reason");
  const bool refused = req.outcome() == v1::RESPONSE_OUTCOME_REFUSED;
  if (refused != (reason != 0) || !v1::ResponseRefusal_IsValid(reason)) {
    return FormFieldRefusal{"reason",
                            PlainText(msg::kConsoleCoopErrReason, lang)};
  }
  req.set_reason(static_cast<v1::ResponseRefusal>(reason));
  req.set_mla_reference(
      std::string(absl::StripAsciiWhitespace(First(form, "mla_reference"))));
  if ((req.outcome() == v1::RESPONSE_OUTCOME_FORWARDED_TO_MLA) !=
      !req.mla_reference().empty()) {
    return FormFieldRefusal{"mla_reference",
                            PlainText(msg::kConsoleCoopErrMla, lang)};
  }
  const std::string until = First(form, "preserved_until");
  const std::optional<int64_t> until_ms = case_forms::DateMs(until, true);
  if (!until_ms.has_value()) {
    return FormFieldRefusal{
        "preserved_until",
        i18n::Format(msg::kConsoleCoopErrDate, lang, {until})};
  }
  req.set_preserved_until_ms(*until_ms);
  std::string note;
  if (auto refusal = NoteFromForm(form, lang, note)) return refusal;
  req.set_note(note);
  return std::nullopt;
}

// "<type>:<value as typed>" of a hit's matched identifier: a preservation
// request's account box.
std::string AccountKey(const v1::HitMatch& m) {
  return absl::StrCat(static_cast<int>(m.type()), ":", m.value());
}

std::optional<FormFieldRefusal> PreservationFromForm(
    const Form& form, i18n::Lang lang, v1::PreservationDetails& p) {
  p.set_platform(absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(First(form, "platform"))));
  if (p.platform().empty()) {
    return FormFieldRefusal{"platform",
                            PlainText(msg::kConsoleCoopErrPlatform, lang)};
  }
  if (auto it = form.find("account"); it != form.end()) {
    for (const std::string& key : it->second) {
      const size_t colon = key.find(':');
      int type = 0;
      if (colon == std::string::npos ||
          !absl::SimpleAtoi(key.substr(0, colon), &type)) {
        continue;
      }
      v1::Identifier* id = p.add_account();
      id->set_type(static_cast<v1::IdentifierType>(type));
      id->set_value(key.substr(colon + 1));
    }
  }
  if (p.account().empty()) {
    return FormFieldRefusal{"account",
                            PlainText(msg::kConsoleCoopErrAccount, lang)};
  }
  const std::optional<int64_t> from =
      case_forms::DateMs(First(form, "period_from"), false);
  const std::optional<int64_t> to =
      case_forms::DateMs(First(form, "period_until"), true);
  if (!from.has_value() || !to.has_value() || *from == 0 || *to == 0 ||
      *to <= *from) {
    return FormFieldRefusal{"period",
                            PlainText(msg::kConsoleCoopErrPeriod, lang)};
  }
  p.set_period_from_ms(*from);
  p.set_period_to_ms(*to);
  for (const Choice& c : kDataCategories) {
    if (Ticked(form, "data", std::to_string(c.value))) {
      p.add_data_categories(static_cast<v1::DataCategory>(c.value));
    }
  }
  if (p.data_categories().empty()) {
    return FormFieldRefusal{"data", PlainText(msg::kConsoleCoopErrData, lang)};
  }
  return std::nullopt;
}

// The request a POST /requests form describes: the hit's case token and
// the case it was found for (hidden fields; the node checks that a hit of
// that case carries the token), the kind, the legal basis, what a
// preservation request needs, the note. The first refusal.
std::optional<FormFieldRefusal> SendFromForm(
    const Form& form, i18n::Lang lang, v1::SendCooperationRequestRequest& req) {
  // A token that is not hex is sent empty: the node refuses it, naming
  // the field, as it refuses the same from `cbx request send`.
  const std::string hex = First(form, "case_token");
  const bool is_hex =
      hex.size() % 2 == 0 && std::all_of(hex.begin(), hex.end(), [](char c) {
        return absl::ascii_isxdigit(static_cast<unsigned char>(c));
      });
  req.set_case_token(is_hex ? absl::HexStringToBytes(hex) : std::string());
  req.set_case_number(First(form, "case_number"));
  const int type = case_forms::IntField(form, "type");
  if (type == 0 || !v1::CooperationType_IsValid(type)) {
    return FormFieldRefusal{"type", PlainText(msg::kConsoleCoopErrType, lang)};
  }
  req.set_type(static_cast<v1::CooperationType>(type));
  req.set_legal_basis(
      std::string(absl::StripAsciiWhitespace(First(form, "legal_basis"))));
  if (req.legal_basis().empty()) {
    return FormFieldRefusal{"legal_basis",
                            PlainText(msg::kConsoleQueryNoLegalBasis, lang)};
  }
  if (req.type() == v1::COOPERATION_TYPE_PRESERVATION) {
    if (auto refusal =
            PreservationFromForm(form, lang, *req.mutable_preservation())) {
      return refusal;
    }
  }
  std::string note;
  if (auto refusal = NoteFromForm(form, lang, note)) return refusal;
  req.set_note(note);
  return std::nullopt;
}

// The preservation fieldset of the send form: the hit's matched
// identifiers as account boxes, the period and the kinds of data.
std::string PreservationFields(const v1::Hit& hit, const Form& form,
                               const FormFieldRefusal& refusal,
                               i18n::Lang lang) {
  const bool fresh = form.find("type") == form.end();
  std::string out = absl::StrCat(
      "<fieldset><legend>", T(msg::kConsoleCoopPreservationLegend, lang),
      "</legend>\n<label for=\"platform\">", T(msg::kConsoleCoopPlatform, lang),
      "</label>\n", FieldError(refusal, "platform"),
      "<input id=\"platform\" name=\"platform\" maxlength=\"32\" value=\"",
      Escape(fresh ? std::string("telegram") : First(form, "platform")),
      "\">\n<fieldset><legend>", T(msg::kConsoleCoopAccounts, lang),
      "</legend>\n", FieldError(refusal, "account"));
  for (const v1::HitMatch& m : hit.matches()) {
    const std::string key = AccountKey(m);
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"account\" value=\"",
                    Escape(key), "\"",
                    fresh || Ticked(form, "account", key) ? " checked" : "",
                    "> ", T(IdentifierTypeMessage(m.type()), lang), ": ",
                    Escape(m.value()), "</label>\n");
  }
  absl::StrAppend(
      &out, "</fieldset>\n<fieldset><legend>", T(msg::kConsoleCoopPeriod, lang),
      "</legend>\n", FieldError(refusal, "period"),
      DateField("period_from", msg::kConsoleQueryFrom, form, lang),
      DateField("period_until", msg::kConsoleQueryUntil, form, lang),
      "</fieldset>\n<fieldset><legend>", T(msg::kConsoleCoopData, lang),
      "</legend>\n", FieldError(refusal, "data"));
  for (const Choice& c : kDataCategories) {
    const std::string v = std::to_string(c.value);
    absl::StrAppend(&out,
                    "<label><input type=\"checkbox\" name=\"data\" value=\"", v,
                    "\"", Ticked(form, "data", v) ? " checked" : "", "> ",
                    T(c.label, lang), "</label>\n");
  }
  return out + "</fieldset>\n</fieldset>\n";
}

std::string SendFormHtml(const console::Request& r, const v1::Hit& hit,
                         const std::string& hit_id, const Form& form,
                         const FormFieldRefusal& refusal, i18n::Lang lang) {
  return absl::StrCat(
      "<p>",
      HtmlFormat(
          msg::kConsoleCoopSendIntro, lang,
          {Escape(hit.member()), Escape(hit.reference().competent_office()),
           Escape(hit.case_number())}),
      "</p>\n<form method=\"post\" action=\"/requests\">",
      case_forms::FormToken(r), "<input type=\"hidden\" name=\"hit\" value=\"",
      Escape(hit_id), "\"><input type=\"hidden\" name=\"case_token\" value=\"",
      absl::BytesToHexString(hit.reference().case_token()),
      "\"><input type=\"hidden\" name=\"case_number\" value=\"",
      Escape(hit.case_number()), "\">\n<label for=\"type\">",
      T(msg::kConsoleCoopType, lang), "</label>\n", FieldError(refusal, "type"),
      case_forms::Select("type", kTypes, case_forms::IntField(form, "type"),
                         PlainText(msg::kConsoleCoopChoose, lang), lang),
      "\n<label for=\"legal_basis\">", T(msg::kConsoleQueryLegalBasis, lang),
      "</label>\n<p class=\"hint\" id=\"legal_basis_hint\">",
      T(msg::kConsoleQueryLegalBasisHint, lang), "</p>\n",
      FieldError(refusal, "legal_basis"),
      "<input id=\"legal_basis\" name=\"legal_basis\" required "
      "maxlength=\"256\" aria-describedby=\"legal_basis_hint\" value=\"",
      Escape(First(form, "legal_basis")), "\">\n",
      PreservationFields(hit, form, refusal, lang),
      NoteField(form, refusal, lang), "<p><button type=\"submit\">",
      T(msg::kConsoleCoopSendSubmit, lang), "</button></p>\n</form>\n");
}

// The page's own refusal above the form (the node's is case_forms::
// Refusal's framing).
std::string Alert(const FormFieldRefusal& refusal,
                  const std::string& node_reason, i18n::Lang lang) {
  if (!node_reason.empty()) return case_forms::Refusal(node_reason, lang);
  if (refusal.text.empty()) return "";
  return absl::StrCat("<p class=\"error\" role=\"alert\">",
                      Escape(refusal.text), "</p>\n");
}

}  // namespace

CooperationPages::CooperationPages(OfficeService* office,
                                   const ConsoleLanguage* language, Runner run)
    : office_(office), language_(language), run_(std::move(run)) {}

void CooperationPages::AddRoutes(
    std::map<std::pair<std::string, std::string>, console::Handler>& routes) {
  auto bind = [this](void (CooperationPages::*page)(const Request&, Reply)
                         const) {
    return [this, page](const Request& r, Reply reply) {
      (this->*page)(r, std::move(reply));
    };
  };
  routes[{"GET", "/requests"}] = bind(&CooperationPages::List);
  routes[{"GET", "/request"}] = bind(&CooperationPages::Show);
  routes[{"GET", "/requests/new"}] = bind(&CooperationPages::NewForm);
  routes[{"POST", "/requests"}] = bind(&CooperationPages::Send);
  routes[{"POST", "/requests/respond"}] = bind(&CooperationPages::Respond);
}

console::Response CooperationPages::Refused(const Request& r,
                                            const std::string& title,
                                            const absl::Status& status) const {
  const i18n::Lang lang = language_->For(r);
  if (status.code() == absl::StatusCode::kPermissionDenied &&
      r.caller.role != "prosecutor") {
    return language_->NotForRole(r, msg::kConsoleHitsNotForRole);
  }
  return language_->Page(
      r, title, case_forms::Refusal(std::string(status.message()), lang),
      HttpStatusOf(status.code()));
}

void CooperationPages::List(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    const std::string title = PlainText(msg::kConsoleCoopTitle, lang);
    const bool overdue = First(r.query, "overdue") == "1";
    v1::ListCooperationRequestsRequest req;
    req.set_overdue(overdue);
    req.set_page_size(kPageSize);
    req.set_page_token(First(r.query, "page"));
    v1::ListCooperationRequestsResponse list;
    const absl::Status read =
        ProsecutorCallFor(*office_, r.caller, office_calls::kListCooperation,
                          office_->ListCooperationBody(req, &list));
    if (!read.ok()) return Refused(r, title, read);
    std::string body = absl::StrCat(
        "<p>", T(msg::kConsoleCoopIntro, lang), "</p>\n<p><a href=\"",
        overdue ? "/requests\">" : "/requests?overdue=1\">",
        T(overdue ? msg::kConsoleCoopAll : msg::kConsoleCoopOverdueOnly, lang),
        "</a></p>\n");
    if (list.requests().empty()) {
      absl::StrAppend(&body, "<p>", T(msg::kConsoleCoopNone, lang), "</p>\n");
    } else {
      body += ListTable(list, lang);
    }
    if (!list.next_page_token().empty()) {
      absl::StrAppend(
          &body, "<p><a href=\"/requests?", overdue ? "overdue=1&amp;" : "",
          "page=", Escape(console::UrlEncode(list.next_page_token())), "\">",
          T(msg::kConsoleCoopNext, lang), "</a></p>\n");
    }
    return language_->Page(r, title, body);
  });
}

console::Response CooperationPages::RecordPage(const Request& r,
                                               const std::string& id,
                                               const Form& form,
                                               const FormFieldRefusal& refusal,
                                               const std::string& node_reason,
                                               int status) const {
  const i18n::Lang lang = language_->For(r);
  const std::string title =
      i18n::Format(msg::kConsoleCoopRecordTitle, lang, {id.substr(0, 8)});
  v1::GetCooperationRequestRequest req;
  req.set_id(absl::AsciiStrToLower(id));
  v1::CooperationRecord record;
  const absl::Status read =
      ProsecutorCallFor(*office_, r.caller, office_calls::kGetCooperation,
                        office_->GetCooperationBody(req, &record));
  if (absl::IsNotFound(read) || absl::IsInvalidArgument(read)) {
    return language_->Page(
        r, title,
        absl::StrCat("<p class=\"error\">", T(msg::kConsoleCoopNoSuch, lang),
                     "</p>"),
        404);
  }
  if (!read.ok()) return Refused(r, title, read);
  std::string body = absl::StrCat(
      Alert(refusal, node_reason, lang), "<p><code>", Escape(record.id()),
      "</code></p>\n<table>\n", RequestRows(record, lang),
      ReplyRows(record, lang), "</table>\n", EnvelopeRows(record, lang));
  if (Answerable(record)) {
    body += AnswerForm(r, record, form, refusal, lang);
  }
  return language_->Page(r, title, body, status);
}

void CooperationPages::Show(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    return RecordPage(r, First(r.query, "id"), {}, {}, "", 200);
  });
}

console::Response CooperationPages::SendPage(const Request& r,
                                             const std::string& hit_id,
                                             const Form& form,
                                             const FormFieldRefusal& refusal,
                                             const std::string& node_reason,
                                             int status) const {
  const i18n::Lang lang = language_->For(r);
  const std::string title = PlainText(msg::kConsoleCoopSendTitle, lang);
  std::optional<v1::Hit> hit;
  const absl::Status read =
      ProsecutorReadFor(*office_, r.caller, "Office.ListHits", "list_hits",
                        [&](const OfficeCaller& caller) -> absl::Status {
                          absl::StatusOr<std::optional<v1::Hit>> found =
                              OwnHit(office_->scope(), caller.Name(), hit_id);
                          if (!found.ok()) return found.status();
                          hit = *std::move(found);
                          return absl::OkStatus();
                        });
  if (!read.ok()) return Refused(r, title, read);
  if (!hit.has_value()) {
    return language_->Page(
        r, title,
        absl::StrCat("<p class=\"error\">", T(msg::kConsoleHitsNoSuchHit, lang),
                     "</p>"),
        404);
  }
  return language_->Page(
      r, title,
      absl::StrCat(Alert(refusal, node_reason, lang),
                   SendFormHtml(r, *hit, hit_id, form, refusal, lang)),
      status);
}

void CooperationPages::NewForm(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    return SendPage(r, First(r.query, "hit"), {}, {}, "", 200);
  });
}

void CooperationPages::Send(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    FormFieldRefusal refusal;
    v1::SendCooperationRequestRequest req;
    v1::CooperationRecord sent;
    const absl::Status status = ProsecutorCallFor(
        *office_, r.caller, office_calls::kSendCooperation,
        [&](const OfficeCaller& caller, OfficeService::OfficeAudit& audit) {
          if (auto page = SendFromForm(r.form, lang, req)) {
            // The page's own refusal: nothing sent, nothing logged.
            refusal = *std::move(page);
            audit.logged = true;
            return absl::InvalidArgumentError(refusal.text);
          }
          return office_->SendCooperationBody(req, &sent)(caller, audit);
        });
    if (status.ok()) {
      return console::Response{
          303, "", "",
          absl::StrCat("/request?id=", console::UrlEncode(sent.id()))};
    }
    if (r.caller.role != "prosecutor") {
      return Refused(r, PlainText(msg::kConsoleCoopSendTitle, lang), status);
    }
    // A request the peer's node could not be reached for is kept with its
    // error and listed on /requests; the form says why, above it.
    return SendPage(r, First(r.form, "hit"), r.form, refusal,
                    refusal.text.empty() ? std::string(status.message()) : "",
                    refusal.text.empty() ? HttpStatusOf(status.code()) : 400);
  });
}

void CooperationPages::Respond(const Request& r, Reply reply) const {
  language_->Later(run_, r, reply, [this, r] {
    const i18n::Lang lang = language_->For(r);
    FormFieldRefusal refusal;
    v1::RespondToCooperationRequestRequest req;
    v1::CooperationRecord answered;
    const absl::Status status = ProsecutorCallFor(
        *office_, r.caller, office_calls::kRespond,
        [&](const OfficeCaller& caller, OfficeService::OfficeAudit& audit) {
          if (auto page = AnswerFromForm(r.form, lang, req)) {
            refusal = *std::move(page);
            audit.logged = true;
            return absl::InvalidArgumentError(refusal.text);
          }
          return office_->RespondBody(req, &answered)(caller, audit);
        });
    const std::string id = First(r.form, "id");
    if (status.ok()) {
      return console::Response{
          303, "", "", absl::StrCat("/request?id=", console::UrlEncode(id))};
    }
    if (r.caller.role != "prosecutor") {
      return Refused(r, PlainText(msg::kConsoleCoopRespondTitle, lang), status);
    }
    return RecordPage(r, id, r.form, refusal,
                      refusal.text.empty() ? std::string(status.message()) : "",
                      refusal.text.empty() ? HttpStatusOf(status.code()) : 400);
  });
}

}  // namespace cbx::node
