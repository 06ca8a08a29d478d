// "Did you mean ...?" for a mistyped subcommand or flag: the closest of the
// known words by edit distance. Independent of CLI11 (cli.cc walks the
// command tree and asks here).
//
// Threading: stateless functions; thread-safe.
#ifndef CBX_CLIENT_SUGGEST_H_
#define CBX_CLIENT_SUGGEST_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cbx::client {

// The optimal string alignment distance of `a` and `b` (insertions,
// deletions, substitutions and transpositions of neighbours each count 1),
// on bytes; case-insensitive for ASCII letters.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `typed`, or "" when none is close: a candidate
// `typed` is a prefix of (at least two characters, and the only such one),
// else the one at the smallest edit distance if that is at most 2 and less
// than half of `typed`'s length (rounded up). Ties go to the earlier
// candidate.
std::string ClosestWord(std::string_view typed,
                        const std::vector<std::string>& candidates);

// "a, b or c" (one: "a"; none: "").
std::string JoinedChoices(const std::vector<std::string>& words);

}  // namespace cbx::client

#endif  // CBX_CLIENT_SUGGEST_H_
