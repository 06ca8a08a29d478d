// The web console's sessions (spec/web-console.md §3): what ties a
// browser's requests together between two pages, and the token every form
// must carry back (CSRF protection).
//
// A session is created on a browser's first request and named by a random
// 256-bit id, sent as a cookie that scripts cannot read (HttpOnly) and that
// browsers send only to this origin over TLS and never on another site's
// request (Secure, SameSite=Strict). It is bound to the client certificate
// that opened it: the same cookie presented with another certificate names
// no session. It ends after `idle_ms` without a request, or `max_ms` after
// it began, whichever comes first; each session has its own random form
// token, compared in constant time.
//
// Who the caller is never comes from the session: every request is
// authenticated by its own TLS client certificate. The session only carries
// the form token (and, later, what a page needs between two requests).
//
// Threading: thread-safe (one mutex).
#ifndef CBX_NODE_CONSOLE_SESSIONS_H_
#define CBX_NODE_CONSOLE_SESSIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"

namespace cbx::node::console {

struct Session {
  std::string id;          // 64 hex digits; the cookie's value
  std::string form_token;  // 64 hex digits; every form's hidden field
  std::string certificate_fingerprint;
  int64_t started_ms = 0;
  int64_t last_seen_ms = 0;
};

class SessionStore {
 public:
  struct Options {
    int64_t idle_ms = 15 * 60 * 1000;     // 15 minutes without a request
    int64_t max_ms = 8 * 60 * 60 * 1000;  // a working day
    size_t max_sessions = 10'000;         // the oldest go first beyond
  };

  explicit SessionStore(Options options) : options_(options) {}
  SessionStore() : SessionStore(Options()) {}

  // The live session `id` opened with the certificate whose SHA-256
  // fingerprint is `fingerprint`, seen now (`now_ms`); nullopt if there is
  // none, it expired (then it is forgotten) or another certificate opened
  // it.
  std::optional<Session> Find(const std::string& id,
                              const std::string& fingerprint, int64_t now_ms);

  // A new session for `fingerprint`, with fresh random id and form token.
  Session Start(const std::string& fingerprint, int64_t now_ms);

  // Ends session `id` (sign-out); no-op if there is none.
  void End(const std::string& id);

  // Whether `token` is session `session`'s form token (constant time).
  static bool FormTokenMatches(const Session& session,
                               const std::string& token);

  // Live sessions (expired ones are dropped as they are found).
  size_t size() const;

  const Options& options() const { return options_; }

 private:
  bool Expired(const Session& s, int64_t now_ms) const;
  // Drops expired sessions, then the oldest beyond max_sessions - 1.
  void MakeRoom(int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cbx::node::console

#endif  // CBX_NODE_CONSOLE_SESSIONS_H_
