// Fuzz target: bytes -> node::ParseConfig, the node's JSON configuration
// (spec/node-config.md), parsed from text with a fixed base folder.
//
// Invariants on every config it accepts (abort = finding):
//   - member is two capital letters;
//   - every path (data_dir, TLS files, key files, genesis) is non-empty,
//     absolute, and lexically normal;
//   - peer_listen and office_listen are host:port with a port <= 65535 and
//     differ; admin_listen is empty or host:port;
//   - every interval is within [100 ms, 1 day]; checkpoint_every_entries >= 1;
//   - parsing is deterministic (the same text gives the same config).
// A refusal is INVALID_ARGUMENT whose message starts with the file's name.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "node/config.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckPath(const std::string& p) {
  Check(!p.empty());
  const std::filesystem::path path(p);
  Check(path.is_absolute());
  Check(path.lexically_normal().string() == p);
}

void CheckAddress(const std::string& a) {
  const size_t colon = a.rfind(':');
  Check(colon != std::string::npos && colon > 0 && colon + 1 < a.size());
  int port = 0;
  Check(absl::SimpleAtoi(a.substr(colon + 1), &port));
  Check(port >= 0 && port <= 65535);
}

void CheckMillis(int64_t ms) { Check(ms >= 100 && ms <= 86'400'000); }

bool Same(const node::Config& a, const node::Config& b) {
  return a.member == b.member && a.data_dir == b.data_dir &&
         a.peer_listen == b.peer_listen && a.office_listen == b.office_listen &&
         a.admin_listen == b.admin_listen &&
         a.tls_certificate == b.tls_certificate &&
         a.tls_private_key == b.tls_private_key && a.office_ca == b.office_ca &&
         a.node_signing_key == b.node_signing_key &&
         a.node_signing_key_next == b.node_signing_key_next &&
         a.oprf_key == b.oprf_key && a.genesis == b.genesis &&
         a.index_interval_ms == b.index_interval_ms &&
         a.directory_interval_ms == b.directory_interval_ms &&
         a.checkpoint_interval_ms == b.checkpoint_interval_ms &&
         a.checkpoint_every_entries == b.checkpoint_every_entries &&
         a.witness_interval_ms == b.witness_interval_ms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = node::ParseConfig(text, "/etc/cbx", "node.json");
  if (!config.ok()) {
    Check(config.status().code() == absl::StatusCode::kInvalidArgument);
    Check(absl::StartsWith(config.status().message(), "node.json: "));
    return 0;
  }
  const node::Config& c = *config;
  Check(c.member.size() == 2 && c.member[0] >= 'A' && c.member[0] <= 'Z' &&
        c.member[1] >= 'A' && c.member[1] <= 'Z');
  for (const std::string* p :
       {&c.data_dir, &c.tls_certificate, &c.tls_private_key, &c.office_ca,
        &c.node_signing_key, &c.oprf_key, &c.genesis}) {
    // A node signing key may be a PKCS#11 URI, kept as written.
    if (p == &c.node_signing_key && absl::StartsWith(*p, "pkcs11:")) continue;
    CheckPath(*p);
  }
  if (!c.node_signing_key_next.empty() &&
      !absl::StartsWith(c.node_signing_key_next, "pkcs11:")) {
    CheckPath(c.node_signing_key_next);
  }
  CheckAddress(c.peer_listen);
  CheckAddress(c.office_listen);
  Check(c.peer_listen != c.office_listen);
  if (!c.admin_listen.empty()) CheckAddress(c.admin_listen);
  CheckMillis(c.index_interval_ms);
  CheckMillis(c.directory_interval_ms);
  CheckMillis(c.checkpoint_interval_ms);
  CheckMillis(c.witness_interval_ms);
  Check(c.checkpoint_every_entries >= 1);

  auto again = node::ParseConfig(text, "/etc/cbx", "node.json");
  Check(again.ok() && Same(*again, c));
  return 0;
}
