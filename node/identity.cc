#include "node/identity.h"

#include <map>
#include <mutex>
#include <regex>
#include <vector>

#include "absl/status/status.h"
#include "core/crypto/sha256.h"
#include "core/crypto/x509.h"
#include "grpc/grpc_security_constants.h"

namespace cbx::node {
namespace {

absl::StatusOr<std::string> PeerCertificate(
    const grpc::ServerContext& context) {
  auto auth = context.auth_context();
  if (auth == nullptr) {
    return absl::UnauthenticatedError("no client certificate was presented");
  }
  return CallerCertificatePem(*auth);
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
    const grpc::ServerContext& context, const directory::Directory& directory) {
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

absl::StatusOr<OfficeCaller> ParseOfficeUri(const std::string& uri) {
  static const std::regex kOffice(
      R"(^spiffe://cbx/office/([A-Z]{2})/([A-Za-z0-9._-]{1,64})/)"
      R"((prosecutor|auditor|operator)$)");
  std::smatch m;
  if (!std::regex_match(uri, m, kOffice)) {
    return absl::InvalidArgumentError("not an office URI: " + uri);
  }
  OfficeCaller caller;
  caller.country = m[1];
  caller.office = m[2];
  std::string role = m[3];
  caller.role = role == "prosecutor" ? OfficeRole::kProsecutor
                : role == "auditor"  ? OfficeRole::kAuditor
                                     : OfficeRole::kOperator;
  return caller;
}

absl::StatusOr<OfficeCaller> CallerOffice(const grpc::ServerContext& context,
                                          const std::string& self) {
  auto pem = PeerCertificate(context);
  if (!pem.ok()) return pem.status();
  auto uris = UrisOf(*pem);
  if (!uris.ok()) return uris.status();
  return OfficeFromUris(*uris, self);
}

absl::StatusOr<OfficeCaller> OfficeFromUris(
    const std::vector<std::string>& uris, const std::string& self) {
  for (const std::string& uri : uris) {
    auto caller = ParseOfficeUri(uri);
    if (!caller.ok()) continue;
    if (caller->country != self) {
      return absl::UnauthenticatedError("office certificate is for country " +
                                        caller->country + ", this node is " +
                                        self);
    }
    return caller;
  }
  return absl::UnauthenticatedError(
      "client certificate names no office (expected a URI SAN "
      "spiffe://cbx/office/<CC>/<office>/<prosecutor|auditor|operator>)");
}

}  // namespace cbx::node
