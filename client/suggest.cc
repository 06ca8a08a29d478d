#include "client/suggest.h"

#include <algorithm>

namespace cbx::client {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

bool StartsWith(std::string_view word, std::string_view prefix) {
  if (prefix.size() > word.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(word[i]) != Lower(prefix[i])) return false;
  }
  return true;
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  // d[i][j]: distance of a[0, i) and b[0, j); rows kept whole for the
  // transposition step.
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) &&
          Lower(a[i - 2]) == Lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string ClosestWord(std::string_view typed,
                        const std::vector<std::string>& candidates) {
  // Leading dashes do not count towards "at least two characters".
  const size_t dashes = typed.find_first_not_of('-');
  if (dashes != std::string_view::npos && typed.size() - dashes >= 2) {
    std::vector<const std::string*> prefixed;
    for (const std::string& c : candidates) {
      if (StartsWith(c, typed) && c.size() > typed.size()) {
        prefixed.push_back(&c);
      }
    }
    if (prefixed.size() == 1) return *prefixed.front();
  }
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(typed, c);
    if (best == nullptr || d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  const size_t letters = typed.size() - std::min(typed.size(), dashes);
  if (best == nullptr || best_distance == 0 || best_distance > 2 ||
      best_distance * 2 > letters + 1) {
    return "";
  }
  return *best;
}

std::string JoinedChoices(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

}  // namespace cbx::client
