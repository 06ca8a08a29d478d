// Fuzz target: bytes -> a key file's contents (spec/keys.md §3), read by
// admin::DecodeKeyFile for each key kind (node, governance, OPRF), and the
// hex decoding under it (core/util HexDecode).
//
// The node reads its key files with node::ReadKeyFile, which takes a path;
// the text rule that the whole project shares is DecodeKeyFile (cbx-admin),
// so that is the parser driven here. Invariants (abort = finding):
//   - HexDecode accepts exactly the even-length strings of hex digits, and
//     HexEncode(HexDecode(h)) is h in lower case;
//   - DecodeKeyFile accepts only 64 hex digits with at most one final LF
//     (spec/keys.md §3: anything else is refused, never repaired), for every
//     kind alike up to the key's own validity (an OPRF scalar must be a
//     valid P-256 scalar);
//   - an accepted key is the secret the hex names; EncodeKeyFile writes it
//     back as the canonical lower-case file, which decodes to the same key;
//     a node key's key_id is NodeKeyId(public key);
//   - refusals are INVALID_ARGUMENT and never echo the (secret) content.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "admin/key_file.h"
#include "core/directory/directory.h"
#include "core/util/bytes.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The longest run of hex digits in `s` (the first of equal length).
std::string_view LongestHexRun(std::string_view s) {
  std::string_view best;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) {
      continue;
    }
    if (i - start > best.size()) best = s.substr(start, i - start);
    start = i + 1;
  }
  return best;
}

void CheckHex(std::string_view text) {
  auto decoded = HexDecode(text);
  const bool valid = text.size() % 2 == 0 && AllHex(text);
  Check(decoded.ok() == valid);
  if (!decoded.ok()) {
    Check(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(decoded->size() == text.size() / 2);
  Check(HexEncode(*decoded) ==
        absl::AsciiStrToLower(absl::string_view(text.data(), text.size())));
}

void CheckKeyFile(admin::KeyKind kind, std::string_view contents) {
  auto key = admin::DecodeKeyFile(kind, contents);
  std::string_view hex = contents;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  const bool well_formed = hex.size() == 64 && AllHex(hex);
  if (!key.ok()) {
    Check(key.status().code() == absl::StatusCode::kInvalidArgument);
    // A secret is never echoed back: no run of 16 or more hex digits of
    // the content is in the message.
    const std::string_view run = LongestHexRun(contents);
    if (run.size() >= 16) {
      Check(!absl::StrContains(key.status().message(),
                               absl::string_view(run.data(), run.size())));
    }
    // Well-formed files are refused only for an invalid OPRF scalar.
    if (well_formed) Check(kind == admin::KeyKind::kOprf);
    return;
  }
  Check(well_formed);
  Check(key->kind == kind);
  Check(key->secret == *HexDecode(hex));
  const std::string canonical = admin::EncodeKeyFile(*key);
  Check(canonical ==
        absl::AsciiStrToLower(absl::string_view(hex.data(), hex.size())) +
            "\n");
  auto again = admin::DecodeKeyFile(kind, canonical);
  Check(again.ok());
  Check(again->secret == key->secret && again->public_key == key->public_key &&
        again->key_id == key->key_id);
  if (kind == admin::KeyKind::kOprf) {
    Check(key->public_key.size() == 33);
    Check(!key->key_id.has_value());
  } else {
    Check(key->public_key.size() == 32);
    Check(key->key_id.has_value() == (kind == admin::KeyKind::kNode));
    if (key->key_id.has_value()) {
      Check(*key->key_id == directory::NodeKeyId(key->public_key));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckHex(text);
  for (admin::KeyKind kind :
       {admin::KeyKind::kNode, admin::KeyKind::kGovernance,
        admin::KeyKind::kOprf}) {
    CheckKeyFile(kind, text);
  }
  return 0;
}
