#include "core/note/signature.h"

#include "absl/status/status.h"
#include "core/note/text_rules.h"

namespace cbx::note {
namespace {

constexpr std::string_view kPrefix = "\xE2\x80\x94 ";  // U+2014, space

}  // namespace

std::string FormatSignatureLine(const Signature& signature) {
  Bytes raw;
  AppendUint32BE(raw, signature.key_id);
  raw += signature.signature;
  std::string line(kPrefix);
  line += signature.name;
  line += ' ';
  line += Base64Encode(raw);
  line += '\n';
  return line;
}

absl::StatusOr<Signature> ParseSignatureLine(std::string_view line) {
  if (!line.starts_with(kPrefix)) {
    return absl::InvalidArgumentError(
        "signature line does not start with an em dash and a space");
  }
  line.remove_prefix(kPrefix.size());
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return absl::InvalidArgumentError("signature line has no signature");
  }
  const std::string_view name = line.substr(0, space);
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError("signature line has an invalid key name");
  }
  auto raw = Base64Decode(line.substr(space + 1));
  if (!raw.ok()) {
    return absl::InvalidArgumentError(
        "signature is not canonical padded base64");
  }
  if (raw->size() < 5) {
    return absl::InvalidArgumentError("signature is shorter than 5 bytes");
  }
  Signature out;
  out.name = std::string(name);
  for (int i = 0; i < 4; ++i) {
    out.key_id = (out.key_id << 8) | static_cast<uint8_t>((*raw)[i]);
  }
  out.signature = raw->substr(4);
  return out;
}

}  // namespace cbx::note
