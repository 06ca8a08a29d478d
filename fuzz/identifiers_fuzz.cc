// Fuzz target: (type byte, value bytes) -> identifiers::Normalize and the
// OPRF input (core/identifiers, spec/identifiers.md).
//
// Input: the first byte is the identifier type (taken modulo 9, so the
// unspecified type 0 and the unknown 8 are reached too); the rest is the
// value as an office would enter it. Invariants (abort = finding):
//   - Normalize never crashes; on success the value is non-empty printable
//     ASCII without spaces (the header's promise);
//   - normalization is idempotent: Normalize(type, n) == n;
//   - the OPRF input is deterministic and is exactly
//     "cbx/v1/id" 0x00 TypeName 0x00 n (NormalizedOprfInput == OprfInput);
//   - a refusal is INVALID_ARGUMENT, and NormalizedOprfInput refuses too;
//   - an unspecified or unknown type is always refused;
//   - the type name round-trips through ParseType.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/identifiers/identifiers.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto type = static_cast<v1::IdentifierType>(data[0] % 9);
  const std::string_view value(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  const std::string_view name = identifiers::TypeName(type);
  if (!name.empty()) {
    auto parsed = identifiers::ParseType(name);
    Check(parsed.ok() && *parsed == type);
  } else {
    Check(identifiers::ParseType(name).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }

  auto normalized = identifiers::Normalize(type, value);
  auto input = identifiers::NormalizedOprfInput(type, value);
  if (!normalized.ok()) {
    Check(normalized.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!input.ok() && input.status() == normalized.status());
    return 0;
  }
  Check(!name.empty());
  const std::string& n = *normalized;
  Check(!n.empty());
  for (char c : n) Check(c >= 0x21 && c <= 0x7e);

  // Idempotent.
  auto again = identifiers::Normalize(type, n);
  Check(again.ok() && *again == n);

  // The OPRF input: deterministic, and the spec's exact layout.
  Check(input.ok());
  const Bytes expected =
      std::string("cbx/v1/id") + '\0' + std::string(name) + '\0' + n;
  Check(*input == expected);
  Check(identifiers::OprfInput(type, n) == expected);
  auto input_again = identifiers::NormalizedOprfInput(type, value);
  Check(input_again.ok() && *input_again == *input);
  auto from_normalized = identifiers::NormalizedOprfInput(type, n);
  Check(from_normalized.ok() && *from_normalized == *input);
  return 0;
}
