#include "core/note/note.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/note/text_rules.h"
#include "core/util/status_macros.h"

namespace cbx::note {
namespace {

using KeyRef = std::pair<std::string, uint32_t>;

absl::Status CheckSize(size_t size) {
  if (size > kMaxNoteSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "note is ", size, " bytes, more than the limit of ", kMaxNoteSize));
  }
  return absl::OkStatus();
}

absl::Status CheckSignatureCount(size_t count) {
  if (count > kMaxSignatures) {
    return absl::InvalidArgumentError(
        absl::StrCat("note has more than ", kMaxSignatures, " signatures"));
  }
  return absl::OkStatus();
}

absl::Status RepeatedKey(const Signature& s) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "note carries two signatures from key %s+%08x", s.name, s.key_id));
}

}  // namespace

absl::Status CheckNoteText(std::string_view text) {
  RETURN_IF_ERROR(CheckSize(text.size()));
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("note text must end with a newline");
  }
  return CheckNoteCharacters(text, "note text");
}

absl::StatusOr<Note> ParseNote(std::string_view msg) {
  RETURN_IF_ERROR(CheckSize(msg.size()));
  RETURN_IF_ERROR(CheckNoteCharacters(msg, "note"));
  const size_t split = msg.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "note has no blank line before its signatures");
  }
  Note note;
  note.text = std::string(msg.substr(0, split + 1));
  std::string_view sigs = msg.substr(split + 2);
  if (sigs.empty()) {
    return absl::InvalidArgumentError("note has no signatures");
  }
  if (sigs.back() != '\n') {
    return absl::InvalidArgumentError("note does not end with a newline");
  }
  std::set<KeyRef> seen;
  while (!sigs.empty()) {
    const size_t eol = sigs.find('\n');  // found: sigs ends with '\n'
    ASSIGN_OR_RETURN(Signature sig, ParseSignatureLine(sigs.substr(0, eol)));
    sigs.remove_prefix(eol + 1);
    RETURN_IF_ERROR(CheckSignatureCount(note.signatures.size() + 1));
    if (!seen.emplace(sig.name, sig.key_id).second) return RepeatedKey(sig);
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

absl::StatusOr<std::string> FormatNote(const Note& note) {
  RETURN_IF_ERROR(CheckNoteText(note.text));
  if (note.signatures.empty()) {
    return absl::InvalidArgumentError("note has no signatures");
  }
  RETURN_IF_ERROR(CheckSignatureCount(note.signatures.size()));
  std::string out = note.text;
  out += '\n';
  std::set<KeyRef> seen;
  for (const Signature& sig : note.signatures) {
    if (!IsValidKeyName(sig.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid key name \"", sig.name, "\""));
    }
    if (sig.signature.empty()) {
      return absl::InvalidArgumentError("empty signature");
    }
    if (!seen.emplace(sig.name, sig.key_id).second) return RepeatedKey(sig);
    out += FormatSignatureLine(sig);
  }
  RETURN_IF_ERROR(CheckSize(out.size()));
  return out;
}

absl::StatusOr<OpenedNote> OpenNote(std::string_view msg,
                                    std::span<const Verifier> known) {
  for (size_t i = 0; i < known.size(); ++i) {
    for (size_t j = i + 1; j < known.size(); ++j) {
      if (known[i].name() == known[j].name() &&
          known[i].key_id() == known[j].key_id()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("two known keys are named %s+%08x", known[i].name(),
                            known[i].key_id()));
      }
    }
  }
  ASSIGN_OR_RETURN(Note note, ParseNote(msg));
  OpenedNote opened;
  for (Signature& sig : note.signatures) {
    const Verifier* verifier = nullptr;
    for (const Verifier& v : known) {
      if (v.name() == sig.name && v.key_id() == sig.key_id) verifier = &v;
    }
    if (verifier == nullptr) {
      opened.unverified.push_back(std::move(sig));
      continue;
    }
    ASSIGN_OR_RETURN(VerifiedSignature verified,
                     verifier->Verify(note.text, sig));
    opened.verified.push_back(std::move(verified));
  }
  if (opened.verified.empty()) {
    return absl::UnauthenticatedError("note is not signed by any known key");
  }
  opened.text = std::move(note.text);
  return opened;
}

}  // namespace cbx::note
