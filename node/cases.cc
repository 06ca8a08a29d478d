#include "node/cases.h"

#include <algorithm>
#include <ctime>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/crypto/random.h"
#include "core/identifiers/identifiers.h"
#include "core/util/status_macros.h"
#include "node/grpc_status.h"
#include "node/log.h"
#include "node/log_before_effect.h"
#include "node/page_token.h"

namespace cbx::node {
namespace {

bool IsDigit(char ch) { return ch >= '0' && ch <= '9'; }
bool IsAlnum(char ch) {
  return IsDigit(ch) || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

// What a refusal quotes of a rejected value: the value itself if it is
// short, printable ASCII; otherwise only its length, so that a message never
// carries megabytes or control bytes back.
std::string Quoted(const std::string& value) {
  bool plain = value.size() <= 64;
  for (size_t i = 0; plain && i < value.size(); ++i) {
    plain = value[i] >= 0x20 && value[i] < 0x7F;
  }
  if (plain) return "'" + value + "'";
  return absl::StrCat(value.size(), " bytes");
}

// 1-64 characters: a letter or digit, then letters, digits and / . _ -.
absl::Status ValidateCaseNumber(const std::string& number) {
  bool ok = !number.empty() && number.size() <= 64 && IsAlnum(number[0]);
  for (size_t i = 1; ok && i < number.size(); ++i) {
    const char ch = number[i];
    ok = IsAlnum(ch) || ch == '/' || ch == '.' || ch == '_' || ch == '-';
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        "case_number: use 1-64 letters, digits and / . _ - (got " +
        Quoted(number) + ")");
  }
  return absl::OkStatus();
}

// The length (1-4) of the well-formed UTF-8 character at the start of `s`
// (no overlong form, no surrogate, nothing above U+10FFFF); 0 if none.
size_t Utf8CharAt(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = b(0);
  if (lead < 0x80) return 1;
  size_t n;
  uint32_t cp, min;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, min = 0x80, cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, min = 0x800, cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, min = 0x10000, cp = lead & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; ++i) {
    if (i >= s.size() || (b(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Free text (spec/office-api.md §3): one line of UTF-8, not blank, at most
// kMaxFreeTextBytes bytes, no control character (C0, DEL, C1) and no line
// or paragraph separator.
absl::Status ValidateFreeText(const std::string& text,
                              const std::string& field) {
  if (text.size() > kMaxFreeTextBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxFreeTextBytes, " bytes (got ",
                     text.size(), ")"));
  }
  bool blank = true;
  for (size_t i = 0; i < text.size();) {
    const std::string_view rest = std::string_view(text).substr(i);
    const size_t n = Utf8CharAt(rest);
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool control = n == 0 || (n == 1 && (c < 0x20 || c == 0x7F)) ||
                         (n == 2 && c == 0xC2 &&
                          static_cast<unsigned char>(text[i + 1]) < 0xA0) ||
                         (n == 3 && rest.substr(0, 2) == "\xE2\x80" &&
                          (rest[2] == '\xA8' || rest[2] == '\xA9'));
    if (control) {
      return absl::InvalidArgumentError(absl::StrCat(
          field,
          ": one line of UTF-8 text, without control characters (at byte ", i,
          ")"));
    }
    if (!(n == 1 && c == ' ')) blank = false;
    i += n;
  }
  if (blank) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": give the office's 24/7 contact point"));
  }
  return absl::OkStatus();
}

// "YYYY-MM" with a month 01-12.
bool IsMonth(const std::string& month) {
  if (month.size() != 7 || month[4] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6}) {
    if (!IsDigit(month[i])) return false;
  }
  const int mm = (month[5] - '0') * 10 + (month[6] - '0');
  return mm >= 1 && mm <= 12;
}

absl::Status ValidateOffences(
    const google::protobuf::RepeatedPtrField<v1::Offence>& offences,
    const std::string& field) {
  if (offences.size() > kMaxCaseOffences) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", kMaxCaseOffences, " per case"));
  }
  for (int i = 0; i < offences.size(); ++i) {
    if (offences[i].code() == v1::OFFENCE_CODE_UNSPECIFIED ||
        !v1::OffenceCode_IsValid(offences[i].code())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "].code: give a known offence code"));
    }
  }
  return absl::OkStatus();
}

std::string MonthOf(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[8];
  std::strftime(buf, sizeof(buf), "%Y-%m", &tm);
  return buf;
}

bool SameIdentifier(const StoredIdentifier& a, v1::IdentifierType type,
                    const std::string& value) {
  return a.type == type && a.normalized_value == value;
}

// Adds `id` unless the set has one of its type and value already.
void AddOnce(std::vector<StoredIdentifier>& set, StoredIdentifier id) {
  for (const StoredIdentifier& have : set) {
    if (SameIdentifier(have, id.type, id.normalized_value)) return;
  }
  set.push_back(std::move(id));
}

void RefreshRecordIdentifiers(StoredCase& c) {
  c.record.clear_identifiers();
  for (const StoredIdentifier& id : c.identifiers) {
    v1::Identifier* out = c.record.add_identifiers();
    out->set_type(id.type);
    out->set_value(id.normalized_value);
    out->set_observed_from_ms(id.observed_from_ms);
    out->set_observed_to_ms(id.observed_to_ms);
  }
}

}  // namespace

CaseBook::CaseBook(std::string self, Storage* storage,
                   const crypto::OprfServerKey* oprf_key, AuditTrail* trail,
                   const Clock* clock, const OprfKeys* oprf_keys)
    : self_(std::move(self)),
      storage_(storage),
      oprf_key_(oprf_key),
      trail_(trail),
      clock_(clock),
      oprf_keys_(oprf_keys) {}

absl::Status CaseBook::WithKey(
    const std::function<absl::Status(const Key&)>& f) const {
  if (oprf_keys_ == nullptr) return f(*oprf_key_);
  return oprf_keys_->WithCurrent(
      [&](const Key& key, uint32_t) { return f(key); });
}

absl::StatusOr<StoredIdentifier> CaseBook::Prepare(
    const Key& key, const v1::Identifier& id, const std::string& field) const {
  auto normalized = identifiers::Normalize(id.type(), id.value(), self_);
  if (!normalized.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", normalized.status().message()));
  }
  if (id.observed_from_ms() < 0 || id.observed_to_ms() < 0 ||
      (id.observed_to_ms() != 0 &&
       id.observed_to_ms() < id.observed_from_ms())) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the observed window ends before it starts"));
  }
  StoredIdentifier out;
  out.type = id.type();
  out.normalized_value = *normalized;
  out.observed_from_ms = id.observed_from_ms();
  out.observed_to_ms = id.observed_to_ms();
  ASSIGN_OR_RETURN(
      out.y, key.Evaluate(identifiers::OprfInput(id.type(), *normalized)));
  out.tag = identifiers::TagOf(out.y);
  return out;
}

absl::StatusOr<StoredCase> CaseBook::NewCase(const Key& key,
                                             const std::string& office,
                                             const v1::Case& in) const {
  RETURN_IF_ERROR(ValidateCaseNumber(in.case_number()));
  if (in.identifiers().empty()) {
    return absl::InvalidArgumentError(
        "identifiers: a case needs at least one perpetrator identifier");
  }
  if (in.identifiers_size() > kMaxCaseIdentifiers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "identifiers: at most ", kMaxCaseIdentifiers, " per case"));
  }
  if (in.offences().empty()) {
    return absl::InvalidArgumentError("offences: give at least one offence");
  }
  RETURN_IF_ERROR(ValidateOffences(in.offences(), "offences"));
  if (in.contact_point().empty()) {
    return absl::InvalidArgumentError(
        "contact_point: give the office's 24/7 contact point");
  }
  RETURN_IF_ERROR(ValidateFreeText(in.contact_point(), "contact_point"));
  if (!v1::PerpetratorRole_IsValid(in.role())) {
    return absl::InvalidArgumentError("role: unknown role");
  }
  if (!in.opened_month().empty() && !IsMonth(in.opened_month())) {
    return absl::InvalidArgumentError("opened_month: use YYYY-MM (got " +
                                      Quoted(in.opened_month()) + ")");
  }
  StoredCase c;
  for (int i = 0; i < in.identifiers_size(); ++i) {
    ASSIGN_OR_RETURN(
        StoredIdentifier id,
        Prepare(key, in.identifiers(i), absl::StrCat("identifiers[", i, "]")));
    AddOnce(c.identifiers, std::move(id));
  }
  const int64_t now = clock_->NowMs();
  c.record.set_case_number(in.case_number());
  c.record.set_case_token(crypto::RandomBytes(16));
  c.record.set_office(office);
  *c.record.mutable_offences() = in.offences();
  c.record.set_role(in.role());
  c.record.set_contact_point(in.contact_point());
  c.record.set_status(v1::CASE_STATUS_OPEN);
  c.record.set_opened_month(in.opened_month().empty() ? MonthOf(now)
                                                      : in.opened_month());
  c.record.set_created_at_ms(now);
  c.record.set_updated_at_ms(now);
  RefreshRecordIdentifiers(c);
  return c;
}

absl::StatusOr<v1::Case> CaseBook::Add(const std::string& office,
                                       const v1::Case& in,
                                       const std::string& person) {
  absl::StatusOr<v1::Case> out;
  (void)WithKey([&](const Key& key) {
    out = AddWith(key, office, in, person);
    return absl::OkStatus();
  });
  return out;
}

absl::StatusOr<v1::Case> CaseBook::AddWith(const Key& key,
                                           const std::string& office,
                                           const v1::Case& in,
                                           const std::string& person) {
  Call call{"Office.AddCase", "add_case", office, {}, person};
  absl::StatusOr<StoredCase> c = NewCase(key, office, in);
  if (!c.ok()) return Logged(call, c.status());
  call.counts.elements = static_cast<uint32_t>(c->identifiers.size());
  RETURN_IF_ERROR(Commit(call, [&](StorageTransaction& txn) -> absl::Status {
    absl::Status added = txn.AddCase(*c);
    if (added.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError("case_number: case " + in.case_number() +
                                      " already exists");
    }
    return added;
  }));
  LogEvent(self_, "info", "case-added",
           {{"case", in.case_number()},
            {"office", office},
            {"identifiers", std::to_string(c->identifiers.size())}});
  return std::move(c->record);
}

absl::Status CaseBook::Rewrite(
    StorageTransaction& txn, const std::string& office,
    const std::string& number,
    const std::function<absl::Status(StoredCase&)>& edit, v1::Case* out) const {
  absl::StatusOr<StoredCase> c = txn.GetCase(number);
  if (c.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError("case_number: no case " + number);
  }
  RETURN_IF_ERROR(c.status());
  if (c->record.office() != office) {
    return absl::PermissionDeniedError("case " + number + " belongs to " +
                                       c->record.office());
  }
  if (c->record.status() == v1::CASE_STATUS_CLOSED) {
    return absl::FailedPreconditionError("case " + number + " is closed");
  }
  RETURN_IF_ERROR(edit(*c));
  RefreshRecordIdentifiers(*c);
  c->record.set_updated_at_ms(clock_->NowMs());
  RETURN_IF_ERROR(txn.UpdateCase(*c));
  *out = c->record;
  return absl::OkStatus();
}

absl::Status CaseBook::CheckAmend(
    const Key& key, const v1::AmendCaseRequest& request,
    std::vector<StoredIdentifier>& additions,
    std::vector<std::pair<v1::IdentifierType, std::string>>& removals) const {
  RETURN_IF_ERROR(ValidateCaseNumber(request.case_number()));
  RETURN_IF_ERROR(ValidateOffences(request.offences(), "offences"));
  if (!request.contact_point().empty()) {
    RETURN_IF_ERROR(ValidateFreeText(request.contact_point(), "contact_point"));
  }
  for (const auto& [list, n] :
       {std::pair{"add_identifiers", request.add_identifiers_size()},
        std::pair{"remove_identifiers", request.remove_identifiers_size()}}) {
    if (n > kMaxCaseIdentifiers) {
      return absl::InvalidArgumentError(
          absl::StrCat(list, ": at most ", kMaxCaseIdentifiers, " per call"));
    }
  }
  for (int i = 0; i < request.add_identifiers_size(); ++i) {
    ASSIGN_OR_RETURN(StoredIdentifier id,
                     Prepare(key, request.add_identifiers(i),
                             absl::StrCat("add_identifiers[", i, "]")));
    additions.push_back(std::move(id));
  }
  for (int i = 0; i < request.remove_identifiers_size(); ++i) {
    const v1::Identifier& id = request.remove_identifiers(i);
    auto normalized = identifiers::Normalize(id.type(), id.value(), self_);
    if (!normalized.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "remove_identifiers[", i, "]: ", normalized.status().message()));
    }
    removals.emplace_back(id.type(), *normalized);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Case> CaseBook::Amend(const std::string& office,
                                         const v1::AmendCaseRequest& request,
                                         const std::string& person) {
  absl::StatusOr<v1::Case> out;
  (void)WithKey([&](const Key& key) {
    out = AmendWith(key, office, request, person);
    return absl::OkStatus();
  });
  return out;
}

absl::StatusOr<v1::Case> CaseBook::AmendWith(
    const Key& key, const std::string& office,
    const v1::AmendCaseRequest& request, const std::string& person) {
  Call call{"Office.AmendCase", "amend_case", office, {}, person};
  // Everything that needs no stored state is checked, and the additions
  // evaluated, before the transaction: it holds the storage's write lock.
  std::vector<StoredIdentifier> additions;
  std::vector<std::pair<v1::IdentifierType, std::string>> removals;
  absl::Status checked = CheckAmend(key, request, additions, removals);
  if (!checked.ok()) return Logged(call, checked);

  auto edit = [&](StoredCase& c) -> absl::Status {
    for (const auto& [type, value] : removals) {
      auto it = std::find_if(c.identifiers.begin(), c.identifiers.end(),
                             [&](const StoredIdentifier& s) {
                               return SameIdentifier(s, type, value);
                             });
      if (it == c.identifiers.end()) {
        return absl::NotFoundError(
            absl::StrCat("remove_identifiers: the case has no ",
                         std::string(identifiers::TypeName(type)), " ", value));
      }
      c.identifiers.erase(it);
    }
    for (const StoredIdentifier& add : additions) AddOnce(c.identifiers, add);
    if (c.identifiers.empty()) {
      return absl::FailedPreconditionError(
          "a case keeps at least one identifier; close it instead");
    }
    if (c.identifiers.size() > static_cast<size_t>(kMaxCaseIdentifiers)) {
      return absl::InvalidArgumentError(
          absl::StrCat("add_identifiers: a case holds at most ",
                       kMaxCaseIdentifiers, " identifiers"));
    }
    if (!request.offences().empty()) {
      *c.record.mutable_offences() = request.offences();
    }
    if (request.role() != v1::PERPETRATOR_ROLE_UNSPECIFIED) {
      c.record.set_role(request.role());
    }
    if (!request.contact_point().empty()) {
      c.record.set_contact_point(request.contact_point());
    }
    return absl::OkStatus();
  };
  v1::Case updated;
  RETURN_IF_ERROR(Commit(call, [&](StorageTransaction& txn) {
    return Rewrite(txn, office, request.case_number(), edit, &updated);
  }));
  LogEvent(self_, "info", "case-amended",
           {{"case", request.case_number()}, {"office", office}});
  return updated;
}

absl::StatusOr<v1::Case> CaseBook::Close(const std::string& office,
                                         const std::string& case_number,
                                         const std::string& person) {
  Call call{"Office.CloseCase", "close_case", office, {}, person};
  if (absl::Status valid = ValidateCaseNumber(case_number); !valid.ok()) {
    return Logged(call, valid);
  }
  v1::Case updated;
  RETURN_IF_ERROR(Commit(call, [&](StorageTransaction& txn) -> absl::Status {
    RETURN_IF_ERROR(Rewrite(
        txn, office, case_number,
        [](StoredCase& c) {
          c.record.set_status(v1::CASE_STATUS_CLOSED);
          return absl::OkStatus();
        },
        &updated));
    return close_hook_ != nullptr ? close_hook_(txn, updated)
                                  : absl::OkStatus();
  }));
  LogEvent(self_, "info", "case-closed",
           {{"case", case_number}, {"office", office}});
  return updated;
}

absl::StatusOr<CaseList> CaseBook::List(bool include_closed, uint32_t page_size,
                                        const std::string& page_token) {
  const std::string filter = include_closed ? "closed" : "open";
  ASSIGN_OR_RETURN(PageRequest page,
                   ReadPage("ListCases", filter, page_size, page_token));
  ASSIGN_OR_RETURN(Page<StoredCase> stored,
                   storage_->ListCases(include_closed, page));
  CaseList out;
  out.cases.reserve(stored.items.size());
  for (StoredCase& c : stored.items) out.cases.push_back(std::move(c.record));
  out.next_page_token = PageToken("ListCases", filter, stored.next);
  return out;
}

absl::StatusOr<v1::Case> CaseBook::Get(const std::string& case_number) {
  ASSIGN_OR_RETURN(StoredCase c, storage_->GetCase(case_number));
  return std::move(c.record);
}

absl::Status CaseBook::Commit(const Call& call, const Change& change) {
  auto append = [&](std::string_view kind, absl::StatusCode code,
                    const AuditCounts& counts) {
    return trail_->Call(v1::AUDIT_DIRECTION_LOCAL, "", call.rpc, kind,
                        call.office, code, counts, "", call.person);
  };
  return ApplyLogged(
      self_, *storage_,
      {.change = change,
       .append =
           [&] {
             return append(call.kind, absl::StatusCode::kOk, call.counts);
           },
       .append_refusal =
           [&](const absl::Status& refusal) {
             return append(call.kind, refusal.code(), {});
           },
       .append_void =
           [&](const absl::Status& failure) {
             return append("not_applied", failure.code(), call.counts);
           }});
}

absl::Status CaseBook::Logged(const Call& call, const absl::Status& status) {
  absl::Status logged =
      trail_->Call(v1::AUDIT_DIRECTION_LOCAL, "", call.rpc, call.kind,
                   call.office, status.code(), {}, "", call.person);
  return logged.ok() ? status : AuditFailure(logged);
}

}  // namespace cbx::node
