#include "core/note/key_id.h"

#include <cstdint>

#include "absl/status/status.h"
#include "core/crypto/sha256.h"
#include "core/util/bytes.h"

namespace cbx::note {

uint32_t KeyId(std::string_view name, SignatureType type,
               std::string_view public_key) {
  const char type_byte = static_cast<char>(type);
  const Bytes digest = crypto::Sha256Concat(
      {name, "\n", std::string_view(&type_byte, 1), public_key});
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id = (id << 8) | static_cast<uint8_t>(digest[i]);
  return id;
}

absl::StatusOr<uint32_t> ParseKeyIdHex(std::string_view hex) {
  auto raw = HexDecode(hex);
  if (hex.size() != 8 || !raw.ok()) {
    return absl::InvalidArgumentError("key ID is not 8 hex digits");
  }
  uint32_t id = 0;
  for (char c : *raw) id = (id << 8) | static_cast<uint8_t>(c);
  return id;
}

}  // namespace cbx::note
