#include "node/console/sessions.h"

#include <openssl/crypto.h>

#include <vector>

#include "core/crypto/random.h"
#include "core/util/bytes.h"

namespace cbx::node::console {

std::optional<Session> SessionStore::Find(const std::string& id,
                                          const std::string& fingerprint,
                                          int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now_ms)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  if (it->second.certificate_fingerprint != fingerprint) return std::nullopt;
  it->second.last_seen_ms = now_ms;
  return it->second;
}

Session SessionStore::Start(const std::string& fingerprint, int64_t now_ms) {
  Session s;
  s.id = HexEncode(crypto::RandomBytes(32));
  s.form_token = HexEncode(crypto::RandomBytes(32));
  s.certificate_fingerprint = fingerprint;
  s.started_ms = now_ms;
  s.last_seen_ms = now_ms;
  std::lock_guard<std::mutex> lock(mu_);
  MakeRoom(now_ms);
  sessions_[s.id] = s;
  return s;
}

void SessionStore::End(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(id);
}

bool SessionStore::FormTokenMatches(const Session& session,
                                    const std::string& token) {
  if (session.form_token.empty() || token.size() != session.form_token.size()) {
    return false;
  }
  return CRYPTO_memcmp(token.data(), session.form_token.data(), token.size()) ==
         0;
}

size_t SessionStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

bool SessionStore::Expired(const Session& s, int64_t now_ms) const {
  return now_ms - s.last_seen_ms >= options_.idle_ms ||
         now_ms - s.started_ms >= options_.max_ms;
}

void SessionStore::MakeRoom(int64_t now_ms) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = Expired(it->second, now_ms) ? sessions_.erase(it) : std::next(it);
  }
  while (!sessions_.empty() && sessions_.size() >= options_.max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_seen_ms < oldest->second.last_seen_ms) oldest = it;
    }
    sessions_.erase(oldest);
  }
}

}  // namespace cbx::node::console
