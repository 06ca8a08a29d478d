// Readable renderings of directories and verification reports for
// `cbx-admin directory show|verify` and `cbx-admin key`, as text for a person
// or as JSON for scripts. The JSON shapes are documented in admin/README.md
// and tested; change them only compatibly.
//
// Stateless functions; thread-safe.
#ifndef CBX_ADMIN_DIRECTORY_VIEW_H_
#define CBX_ADMIN_DIRECTORY_VIEW_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "admin/directory_ops.h"
#include "admin/key_file.h"
#include "cbx/v1/directory.pb.h"
#include "nlohmann/json.hpp"

namespace cbx::admin {

// SHA-256 of the DER inside a PEM certificate, in hex, as `openssl x509
// -fingerprint -sha256` shows it without colons.
std::string PemFingerprint(std::string_view pem);

// "2025-06-01T12:00:00.000Z" (UTC).
std::string FormatTimeMs(int64_t ms);

// The summary of `signed_dir`: federation, version, policy, every member
// (endpoint, status, CA certificate SHA-256 fingerprints, node key ids and
// windows, OPRF key and epoch, governance key) and the signatures. The
// signatures are checked against `signing_version` when given, against the
// directory itself for a genesis, and reported "unchecked" otherwise.
// INVALID_ARGUMENT if the directory bytes do not parse.
absl::StatusOr<nlohmann::json> DirectoryJson(
    const v1::SignedDirectory& signed_dir,
    const v1::Directory* signing_version);

// The same summary as text for a terminal (with "file_sha256" and
// "changes", a list of DescribeDiff lines, if the caller added those keys).
std::string DirectoryText(const nlohmann::json& summary);

// {"ok": bool, "error": "..." (only if not ok), "versions": [...]}.
nlohmann::json ChainJson(const ChainReport& report);
std::string ChainText(const ChainReport& report);

// {"kind", "file", "public_key", "key_id" (node keys only)}; as text, the
// public key in hex alone on a line, so that scripts can capture it.
nlohmann::json KeyJson(const KeyMaterial& key, const std::string& file);
std::string KeyText(const KeyMaterial& key);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_DIRECTORY_VIEW_H_
