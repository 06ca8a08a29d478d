#include "client/messages.h"

#include <cstddef>
#include <cstdint>

#include "core/i18n/catalog.h"

namespace cbx::client {
namespace {

struct Entry {
  Msg id;
  i18n::MessageId message;
};

// Keep in declaration order of Msg (checked by messages_test).
constexpr Entry kTable[] = {
    {Msg::kCase, i18n::msg::kCase},
    {Msg::kStatus, i18n::msg::kStatus},
    {Msg::kOpened, i18n::msg::kOpened},
    {Msg::kRole, i18n::msg::kRole},
    {Msg::kOffences, i18n::msg::kOffences},
    {Msg::kIdentifiers, i18n::msg::kIdentifiers},
    {Msg::kUpdated, i18n::msg::kUpdated},
    {Msg::kReceived, i18n::msg::kReceived},
    {Msg::kMember, i18n::msg::kMember},
    {Msg::kOffice, i18n::msg::kOffice},
    {Msg::kMatched, i18n::msg::kMatched},
    {Msg::kContact, i18n::msg::kContact},
    {Msg::kCaseToken, i18n::msg::kCaseToken},
    {Msg::kAt, i18n::msg::kAt},
    {Msg::kOurCase, i18n::msg::kOurCase},
    {Msg::kFrom, i18n::msg::kFrom},
    {Msg::kTheirCase, i18n::msg::kTheirCase},
    {Msg::kOffence, i18n::msg::kOffence},
    {Msg::kLegalBasis, i18n::msg::kLegalBasis},
    {Msg::kToken, i18n::msg::kToken},
    {Msg::kCreated, i18n::msg::kCreated},
    {Msg::kStatusOpen, i18n::msg::kStatusOpen},
    {Msg::kStatusClosed, i18n::msg::kStatusClosed},
    {Msg::kRoleCreator, i18n::msg::kRoleCreator},
    {Msg::kRoleAdministrator, i18n::msg::kRoleAdministrator},
    {Msg::kRolePoster, i18n::msg::kRolePoster},
    {Msg::kRoleResharer, i18n::msg::kRoleResharer},
    {Msg::kRoleRequester, i18n::msg::kRoleRequester},
    {Msg::kOutcomeHit, i18n::msg::kOutcomeHit},
    {Msg::kOutcomeMiss, i18n::msg::kOutcomeMiss},
    {Msg::kOutcomeError, i18n::msg::kOutcomeError},
    {Msg::kOutcomePhantom, i18n::msg::kOutcomePhantom},
    {Msg::kNoCases, i18n::msg::kNoCases},
    {Msg::kNoHits, i18n::msg::kNoHits},
    {Msg::kWithdrawn, i18n::msg::kWithdrawn},
    {Msg::kNoNotifications, i18n::msg::kNoNotifications},
    {Msg::kWhatToDo, i18n::msg::kWhatToDo},
    {Msg::kNothingWasSent, i18n::msg::kNothingWasSent},
    {Msg::kErrNodeRefused, i18n::msg::kErrNodeRefused},
    {Msg::kErrCannotNow, i18n::msg::kErrCannotNow},
    {Msg::kErrNotAllowed, i18n::msg::kErrNotAllowed},
    {Msg::kErrNoAnswerIn, i18n::msg::kErrNoAnswerIn},
    {Msg::kErrNotReached, i18n::msg::kErrNotReached},
    {Msg::kErrRefusedConn, i18n::msg::kErrRefusedConnection},
    {Msg::kQuery, i18n::msg::kQuery},
    {Msg::kQueries, i18n::msg::kQueries},
    {Msg::kIndexAge, i18n::msg::kIndexAge},
    {Msg::kStaleIndexWarning, i18n::msg::kWarnStaleIndex},
    {Msg::kDisjointNote, i18n::msg::kNoteDisjointWindows},
    {Msg::kNoValueKept, i18n::msg::kNoValueKept},
    {Msg::kYours, i18n::msg::kYours},
    {Msg::kTheirs, i18n::msg::kTheirs},
    {Msg::kUnknownWindow, i18n::msg::kWindowUnknown},
};

constexpr size_t kMessageCount = sizeof(kTable) / sizeof(kTable[0]);

}  // namespace

const std::vector<Msg>& AllMessages() {
  static const std::vector<Msg> all = [] {
    std::vector<Msg> v;
    for (const Entry& e : kTable) v.push_back(e.id);
    return v;
  }();
  return all;
}

std::string_view MessageName(Msg id) {
  const size_t i = static_cast<size_t>(id);
  return i < kMessageCount ? i18n::MessageName(kTable[i].message)
                           : std::string_view("?");
}

std::string Text(Msg id, Lang lang, std::string_view arg) {
  const size_t i = static_cast<size_t>(id);
  if (i >= kMessageCount) return "?";
  return i18n::Format(kTable[i].message, lang, {arg});
}

std::string Upper(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : text[i];
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0 && i + 1 < text.size()) {
      uint32_t cp = ((c & 0x1F) << 6) |
                    (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) ||  // Latin-1
          (cp >= 0x430 && cp <= 0x44F)) {             // Cyrillic а-я
        cp -= 0x20;
      } else if (cp >= 0x450 && cp <= 0x45F) {  // ѐ-џ (ђ, ј, љ, њ, ћ, џ)
        cp -= 0x50;
      } else if (cp >= 0x100 && cp <= 0x17E && cp != 0x138 && cp != 0x131 &&
                 cp != 0x149) {
        // Latin Extended-A: capital and small in pairs; the small one is
        // the odd code point but in 0x139-0x148 and 0x179-0x17E.
        const bool small_is_even = (cp >= 0x139 && cp <= 0x148) ||
                                   (cp >= 0x179 && cp <= 0x17E);
        if ((cp % 2 == 0) == small_is_even) cp -= 1;
      }
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
      i += 2;
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace cbx::client
