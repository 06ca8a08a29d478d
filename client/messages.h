// The CLI's own words in the languages of the federation, by message id:
// the texts are the message catalog's (core/i18n/catalog.h, one file per
// language in i18n/), which the web console reads too, so that every front
// end shows an office the same words. Independent of CLI11 and gRPC.
//
// Serbian comes in Cyrillic (sr) and Latin (sr-Latn) script; the catalog
// derives the Latin text from the Cyrillic one (SerbianLatin), so the two
// never drift. Offence labels: offence_labels.h, from the same catalog.
//
// Who reviewed the translations is in client/README.md.
//
// Threading: immutable tables; thread-safe.
#ifndef CBX_CLIENT_MESSAGES_H_
#define CBX_CLIENT_MESSAGES_H_

#include <string>
#include <string_view>
#include <vector>

#include "client/offence_labels.h"
#include "core/i18n/serbian_latin.h"

namespace cbx::client {

// The CLI's messages. Each is a message of the catalog (its name in the
// files: MessageName); a translator edits the language files, never this.
enum class Msg {
  // Table headers and field labels.
  kCase,
  kStatus,
  kOpened,
  kRole,
  kOffences,
  kIdentifiers,
  kUpdated,
  kReceived,
  kMember,
  kOffice,
  kMatched,
  kContact,
  kCaseToken,
  kAt,
  kOurCase,
  kFrom,
  kTheirCase,
  kOffence,
  kLegalBasis,
  kToken,
  kCreated,
  // Case statuses.
  kStatusOpen,
  kStatusClosed,
  // Perpetrator roles.
  kRoleCreator,
  kRoleAdministrator,
  kRolePoster,
  kRoleResharer,
  kRoleRequester,
  // A peer's answer to a query.
  kOutcomeHit,
  kOutcomeMiss,
  kOutcomeError,
  kOutcomePhantom,
  // Empty listings.
  kNoCases,
  kNoHits,
  // A hit whose reference the origin withdrew (spec/cooperation.md §2.4).
  kWithdrawn,
  kNoNotifications,
  // The common errors' fixed words.
  kWhatToDo,
  kNothingWasSent,
  kErrNodeRefused,
  kErrCannotNow,
  kErrNotAllowed,
  kErrNoAnswerIn,   // {1}: milliseconds
  kErrNotReached,   // {1}: HOST:PORT
  kErrRefusedConn,  // {1}: HOST:PORT
  // Hits in context and the age of a peer's index (issue 14).
  kQuery,
  kQueries,
  kIndexAge,           // {1}: "4 min"
  kStaleIndexWarning,  // {1}: "HR, AL (older than 6 s)"
  kDisjointNote,
  kNoValueKept,
  kYours,
  kTheirs,
  kUnknownWindow,
};

// Every message id, in declaration order.
const std::vector<Msg>& AllMessages();
// The id's stable name ("case", "err.node_refused"), for a front end's
// lookups and for tests.
std::string_view MessageName(Msg id);

// The message in `lang`, with "{1}" replaced by `arg` when given.
std::string Text(Msg id, Lang lang, std::string_view arg = {});

// `text` in capitals: ASCII, Latin-1, Latin Extended-A (č, ć, đ, š, ž, ë,
// ç) and Cyrillic letters; everything else unchanged. For table headers.
std::string Upper(std::string_view text);

// Serbian Cyrillic `text` in Latin script (Ђ→Đ, Љ→Lj, Џ→Dž, ...); every
// other character unchanged (core/i18n/serbian_latin.h).
using i18n::SerbianLatin;

}  // namespace cbx::client

#endif  // CBX_CLIENT_MESSAGES_H_
