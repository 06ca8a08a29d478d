// The CLI's own words in the languages of the federation: one string table
// keyed by message id, so that every front end (this CLI now, a web console
// later) shows an office the same words. Independent of CLI11 and gRPC:
// plain C++ over client/offence_labels.h's Lang.
//
// Serbian comes in Cyrillic (sr) and Latin (sr-Latn) script; the table holds
// the Cyrillic text and the Latin one is its transliteration (the standard
// one-to-one mapping of Serbian's two alphabets), so the two never drift.
// Offence labels have their own table (offence_labels.h, the same scheme).
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

namespace cbx::client {

// Every message the table holds. Ids are stable: a translator adds a column
// entry, a front end looks a message up by id.
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
  // Hits in context and the age of a peer's index (issue 14). English in
  // every column until translated (client/README.md).
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
// other character unchanged.
std::string SerbianLatin(std::string_view text);

}  // namespace cbx::client

#endif  // CBX_CLIENT_MESSAGES_H_
