#include "node/identity.h"

#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/crypto/sha256.h"
#include "core/crypto/x509.h"
#include "grpc/grpc_security_constants.h"
#include "node/tls_front.h"

namespace cbx::node {
namespace {

absl::StatusOr<std::string> PeerCertificate(
    const grpc::ServerContextBase& context) {
  return CallerCertificatePem(context);
}

absl::StatusOr<std::vector<std::string>> UrisOf(const std::string& pem) {
  auto uris = crypto::CertificateUriSans(pem);
  if (!uris.ok()) {
    return absl::UnauthenticatedError("client certificate does not parse");
  }
  return uris;
}

}  // namespace

absl::StatusOr<std::string> CallerCertificatePem(
    const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no client certificate was presented");
  }
  auto pems = auth.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) {
    return absl::UnauthenticatedError("no client certificate was presented");
  }
  return std::string(pems.front().data(), pems.front().size());
}

absl::StatusOr<std::string> CallerCertificatePem(
    const grpc::ServerContextBase& context) {
  auto auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    return CallerCertificatePem(*auth);
  }
  // A connection a port's TLS front handed to gRPC in plain HTTP/2.
  if (std::shared_ptr<const FrontCaller> front = FrontCallerOf(context.peer());
      front != nullptr) {
    return front->certificate_pem;
  }
  return absl::UnauthenticatedError("no client certificate was presented");
}

std::string_view RoleName(OfficeRole role) {
  switch (role) {
    case OfficeRole::kProsecutor:
      return "prosecutor";
    case OfficeRole::kAuditor:
      return "auditor";
    case OfficeRole::kOperator:
      return "operator";
  }
  return "unknown";
}

namespace {

// Verifying a certificate chain costs about as much as a whole blind
// evaluation, and a peer presents the same certificate on every call: the
// verdict is remembered per (directory version, certificate). Only
// successes are cached; the cache is cleared when it grows past a bound.
struct IdentityCache {
  std::mutex mu;
  std::map<std::pair<uint64_t, Bytes>, std::string> members;
};

IdentityCache& Cache() {
  static IdentityCache* cache = new IdentityCache();
  return *cache;
}

}  // namespace

absl::StatusOr<std::string> CallerMember(
    const grpc::ServerContextBase& context,
    const directory::Directory& directory) {
  auto pem = PeerCertificate(context);
  if (!pem.ok()) return pem.status();
  const auto key = std::make_pair(directory.version(), crypto::Sha256(*pem));
  {
    IdentityCache& cache = Cache();
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.members.find(key);
    if (it != cache.members.end()) return it->second;
  }
  auto member = VerifyCallerMember(*pem, directory);
  if (member.ok()) {
    IdentityCache& cache = Cache();
    std::lock_guard<std::mutex> lock(cache.mu);
    if (cache.members.size() > 4096) cache.members.clear();
    cache.members[key] = *member;
  }
  return member;
}

absl::StatusOr<std::string> VerifyCallerMember(
    const std::string& pem_text, const directory::Directory& directory) {
  const std::string* pem = &pem_text;
  auto uris = UrisOf(*pem);
  if (!uris.ok()) return uris.status();
  if (uris->size() == 1 && uris->front().rfind(kOfficeUriPrefix, 0) == 0) {
    return absl::UnauthenticatedError(
        "an office certificate may not call the Peer service (" +
        uris->front() + ")");
  }
  // spec/keys.md §2.1: exactly one URI SAN. A second one, even the same
  // member URI again or an https URI, makes the identity ambiguous.
  if (uris->size() != 1) {
    return absl::UnauthenticatedError(
        "client certificate must carry exactly one URI SAN "
        "spiffe://cbx/member/<CC> (spec/keys.md §2.1), not " +
        std::to_string(uris->size()));
  }
  const v1::Member* member = directory.FindMemberByUri(uris->front());
  if (member == nullptr) {
    return absl::UnauthenticatedError(
        "client certificate names no member of the directory (expected a URI "
        "SAN spiffe://cbx/member/<CC>)");
  }
  std::vector<std::string> cas(member->ca_certificates_pem().begin(),
                               member->ca_certificates_pem().end());
  absl::Status issued = crypto::VerifyCertificateIssuedBy(*pem, cas);
  if (!issued.ok()) {
    return absl::UnauthenticatedError("client certificate for member " +
                                      member->code() +
                                      " was not issued by that member's CA: " +
                                      std::string(issued.message()));
  }
  return member->code();
}

namespace {

// 1-64 characters of [A-Za-z0-9._-]: an office's name, a staff identifier.
bool IsNameToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char ch : s) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
                    ch == '-';
    if (!ok) return false;
  }
  return true;
}

constexpr char kOfficeForm[] =
    "spiffe://cbx/office/<CC>/<office>/<prosecutor|auditor|operator>"
    "[/person/<id>]";

}  // namespace

absl::StatusOr<OfficeCaller> ParseOfficeUri(const std::string& uri) {
  if (uri.rfind(kOfficeUriPrefix, 0) != 0) {
    return absl::InvalidArgumentError("not an office URI: " + uri);
  }
  const absl::string_view rest =
      absl::string_view(uri).substr(sizeof(kOfficeUriPrefix) - 1);
  const std::vector<std::string> parts =
      absl::StrSplit(rest, absl::ByChar('/'));
  if (parts.size() != 3 && parts.size() != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("office URI ", uri, " is not of the form ", kOfficeForm));
  }
  OfficeCaller caller;
  caller.country = parts[0];
  caller.office = parts[1];
  const bool country_ok = caller.country.size() == 2 &&
                          absl::ascii_isupper(caller.country[0]) &&
                          absl::ascii_isupper(caller.country[1]);
  if (!country_ok || !IsNameToken(caller.office)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "office URI ", uri, " is not of the form ", kOfficeForm,
        " (CC two capital letters, office 1-64 of [A-Za-z0-9._-])"));
  }
  if (parts[2] == "prosecutor") {
    caller.role = OfficeRole::kProsecutor;
  } else if (parts[2] == "auditor") {
    caller.role = OfficeRole::kAuditor;
  } else if (parts[2] == "operator") {
    caller.role = OfficeRole::kOperator;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("office URI ", uri, " names no role (", kOfficeForm, ")"));
  }
  if (parts.size() == 5) {
    // spec/cooperation.md §5: an opaque staff identifier, never a name.
    if (parts[3] != "person" || !IsNameToken(parts[4])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "office URI ", uri,
          " has a malformed person part: expected /person/<id>, the staff "
          "identifier 1-64 characters of [A-Za-z0-9._-]"));
    }
    caller.person = parts[4];
  }
  return caller;
}

absl::StatusOr<OfficeCaller> CallerOffice(
    const grpc::ServerContextBase& context, const std::string& self) {
  auto pem = PeerCertificate(context);
  if (!pem.ok()) return pem.status();
  auto uris = UrisOf(*pem);
  if (!uris.ok()) return uris.status();
  return OfficeFromUris(*uris, self);
}

absl::StatusOr<OfficeCaller> OfficeFromUris(
    const std::vector<std::string>& uris, const std::string& self) {
  std::optional<OfficeCaller> found;
  for (const std::string& uri : uris) {
    if (uri.rfind(kOfficeUriPrefix, 0) != 0) continue;
    auto caller = ParseOfficeUri(uri);
    // A5: a URI that claims to be an office's but is malformed is refused,
    // not skipped, so that a typo in a staff identifier is seen at once.
    if (!caller.ok()) {
      return absl::UnauthenticatedError(caller.status().message());
    }
    // A6: two office URIs would leave open who acted.
    if (found.has_value()) {
      return absl::UnauthenticatedError(
          "client certificate names more than one office URI SAN; exactly "
          "one is allowed");
    }
    found = *std::move(caller);
  }
  if (!found.has_value()) {
    return absl::UnauthenticatedError(
        "client certificate names no office (expected a URI SAN "
        "spiffe://cbx/office/<CC>/<office>/<prosecutor|auditor|operator>)");
  }
  if (found->country != self) {
    return absl::UnauthenticatedError("office certificate is for country " +
                                      found->country + ", this node is " +
                                      self);
  }
  return *std::move(found);
}

absl::Status CheckPersonRequired(const OfficeCaller& caller,
                                 uint64_t required_from_ms, int64_t now_ms) {
  if (!caller.person.empty() || required_from_ms == 0 ||
      now_ms < static_cast<int64_t>(required_from_ms)) {
    return absl::OkStatus();
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "the federation's policy requires per-person office certificates "
      "(spiffe://cbx/office/<CC>/<office>/<role>/person/<id>) since ",
      absl::FormatTime(
          "%Y-%m-%d %H:%M:%SZ",
          absl::FromUnixMillis(static_cast<int64_t>(required_from_ms)),
          absl::UTCTimeZone()),
      "; this certificate names no person"));
}

}  // namespace cbx::node
