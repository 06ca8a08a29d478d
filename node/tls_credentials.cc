#include "node/tls_credentials.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/crypto/sha256.h"
#include "core/crypto/x509.h"
#include "core/util/status_macros.h"
#include "node/identity.h"
#include "node/log.h"

namespace cbx::node {
namespace {

// A CRL or CA file larger than this is not one.
constexpr size_t kMaxTlsFileBytes = 4 << 20;

std::string Utc(int64_t unix_s) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_s),
                          absl::UTCTimeZone());
}

absl::Status InField(const std::string& field, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

}  // namespace

absl::StatusOr<crypto::CertificateSummary> CheckNodeIdentity(
    const std::string& cert_pem, const std::string& key_pem,
    const std::string& self, const std::vector<std::string>& own_cas,
    const RevocationSet& revoked) {
  RETURN_IF_ERROR(crypto::CheckKeyMatchesCertificate(key_pem, cert_pem));
  ASSIGN_OR_RETURN(crypto::CertificateSummary summary,
                   crypto::SummarizeCertificate(cert_pem));
  const std::string want = std::string(kMemberUriPrefix) + self;
  bool names_self = false;
  std::vector<std::string> others;  // other members or offices it names
  for (const std::string& uri : summary.uris) {
    if (uri == want) {
      names_self = true;
    } else if (uri.rfind(kMemberUriPrefix, 0) == 0 ||
               uri.rfind(kOfficeUriPrefix, 0) == 0) {
      others.push_back(uri);
    }
  }
  if (!names_self) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the certificate is not ", self, "'s node certificate (no URI SAN ",
        want, others.empty() ? "" : "; it names ", absl::StrJoin(others, ", "),
        ")"));
  }
  if (!others.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the certificate also names ", absl::StrJoin(others, ", "),
                     "; a node certificate names only ", want));
  }
  if (absl::Status issued =
          crypto::VerifyCertificateIssuedBy(cert_pem, own_cas);
      !issued.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the certificate does not chain to a CA of ", self,
        " in the current directory, or is not valid now: ", issued.message()));
  }
  if (absl::Status ok = revoked.Check(summary); !ok.ok()) {
    return absl::FailedPreconditionError(ok.message());
  }
  return summary;
}

TlsCredentials::TlsCredentials(const Config& config,
                               const directory::DirectoryState* directory,
                               const Clock* clock, Env* env, bool write_files)
    : config_(config),
      clock_(clock),
      env_(env),
      dir_(config.data_dir + "/tls"),
      write_files_(write_files),
      directory_(directory),
      identity_(std::make_shared<TlsIdentity>()),
      revocations_(std::make_shared<RevocationSet>()) {}

TlsCredentials::~TlsCredentials() = default;

absl::StatusOr<std::unique_ptr<TlsCredentials>> TlsCredentials::Create(
    const Config& config, const directory::DirectoryState* directory,
    const Clock* clock, Env* env) {
  std::unique_ptr<TlsCredentials> tls(
      new TlsCredentials(config, directory, clock, env, /*write_files=*/true));
  RETURN_IF_ERROR(tls->Load());
  return tls;
}

absl::Status TlsCredentials::Check(const Config& config,
                                   const directory::DirectoryState* directory,
                                   const Clock* clock, Env* env) {
  TlsCredentials tls(config, directory, clock, env, /*write_files=*/false);
  return tls.Load();
}

absl::Status TlsCredentials::Load() {
  if (write_files_) {
    RETURN_IF_ERROR(InField("data_dir", env_->CreateDirs(dir_, 0700)));
  }
  std::lock_guard<std::mutex> lock(reload_mu_);
  std::shared_ptr<const directory::Directory> current = directory_->Current();
  fingerprint_ = SourceFingerprint();
  RETURN_IF_ERROR(WritePeerRoots(*current));
  RETURN_IF_ERROR(InField("tls.office_ca", ReloadOfficeCa("start")));
  ReloadCrls(*current);
  return ReloadIdentity("start", /*settle=*/false);
}

std::shared_ptr<const TlsIdentity> TlsCredentials::identity() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return identity_;
}

std::shared_ptr<const RevocationSet> TlsCredentials::revocations() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return revocations_;
}

std::shared_ptr<const std::string> TlsCredentials::peer_roots() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return peer_roots_ != nullptr ? peer_roots_
                                : std::make_shared<const std::string>();
}

std::shared_ptr<const std::string> TlsCredentials::office_roots() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return office_roots_ != nullptr ? office_roots_
                                  : std::make_shared<const std::string>();
}

std::vector<std::string> TlsCredentials::OwnCas(
    const directory::Directory& dir) const {
  const v1::Member* me = dir.FindMember(config_.member);
  if (me == nullptr) return {};
  return {me->ca_certificates_pem().begin(), me->ca_certificates_pem().end()};
}

std::vector<std::string> TlsCredentials::MemberCas(
    const directory::Directory& dir) {
  std::vector<std::string> cas;
  for (const v1::Member& m : dir.proto().members()) {
    for (const std::string& pem : m.ca_certificates_pem()) cas.push_back(pem);
  }
  return cas;
}

std::vector<std::string> TlsCredentials::TrustedCas(
    const directory::Directory& dir) const {
  std::vector<std::string> cas = MemberCas(dir);
  if (!office_ca_pem_.empty()) cas.push_back(office_ca_pem_);
  return cas;
}

std::map<std::string, std::string> TlsCredentials::ReadCrlFiles() const {
  std::map<std::string, std::string> files;
  if (config_.crl_dir.empty()) return files;
  std::error_code ec;
  for (const auto& item :
       std::filesystem::directory_iterator(config_.crl_dir, ec)) {
    const std::string name = item.path().filename().string();
    if (name.empty() || name[0] == '.' || !item.is_regular_file(ec)) continue;
    auto text = env_->ReadFile(item.path().string(), kMaxTlsFileBytes);
    // Unreadable: given as empty text, so it is refused (and logged) like
    // a file that does not parse, and the CRL in use stays.
    files[name] = text.ok() ? *text : std::string();
  }
  return files;
}

std::string TlsCredentials::SourceFingerprint() const {
  std::string all;
  for (const std::string* path :
       {&config_.tls_certificate, &config_.tls_private_key,
        &config_.office_ca}) {
    auto text = env_->ReadFile(*path, kMaxTlsFileBytes);
    absl::StrAppend(
        &all, *path, "\n",
        text.ok() ? HexEncode(crypto::Sha256(*text)) : text.status().ToString(),
        "\n");
  }
  for (const auto& [name, text] : ReadCrlFiles()) {
    absl::StrAppend(&all, name, "\n", HexEncode(crypto::Sha256(text)), "\n");
  }
  return all;
}

absl::Status TlsCredentials::WritePeerRoots(const directory::Directory& dir) {
  std::vector<std::string> cas = MemberCas(dir);
  std::string roots = absl::StrJoin(cas, "\n");
  if (roots == peer_roots_pem_) return absl::OkStatus();
  if (write_files_) {
    RETURN_IF_ERROR(
        InField("data_dir", env_->WriteFileAtomic(dir_ + "/peer-roots.pem",
                                                  roots, {.mode = 0600})));
  }
  const bool first = peer_roots_pem_.empty();
  peer_roots_pem_ = roots;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    peer_roots_ = std::make_shared<const std::string>(std::move(roots));
  }
  if (!first) {
    LogEvent(config_.member, "info", "tls-roots-updated",
             {{"port", "peer"},
              {"directory_version", std::to_string(dir.version())},
              {"cas", std::to_string(cas.size())}});
  }
  return absl::OkStatus();
}

absl::Status TlsCredentials::ReloadOfficeCa(const std::string& cause) {
  auto text = env_->ReadFile(config_.office_ca, kMaxTlsFileBytes);
  absl::Status s = text.status();
  if (s.ok() && *text == office_ca_pem_) return absl::OkStatus();
  if (s.ok()) s = crypto::SummarizeCertificate(*text).status();
  if (s.ok() && write_files_) {
    s = env_->WriteFileAtomic(dir_ + "/office-roots.pem", *text,
                              {.mode = 0600});
  }
  if (!s.ok()) {
    LogEvent(config_.member, "error", "tls-reload-refused",
             {{"what", "office_ca"},
              {"cause", cause},
              {"reason", std::string(s.message())}});
    return s;
  }
  office_ca_pem_ = *std::move(text);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    office_roots_ = std::make_shared<const std::string>(office_ca_pem_);
  }
  if (cause != "start") {
    LogEvent(config_.member, "info", "tls-reloaded",
             {{"what", "office_ca"}, {"cause", cause}});
  }
  return absl::OkStatus();
}

void TlsCredentials::ReloadCrls(const directory::Directory& dir) {
  std::vector<RevocationEvent> events;
  auto next = std::make_shared<RevocationSet>(LoadRevocations(
      ReadCrlFiles(), TrustedCas(dir), DirectoryCrls(dir.proto().members()),
      *revocations(), clock_->NowMs() / 1000, &events));
  for (const RevocationEvent& e : events) {
    if (e.event == "ALERT-crl-expired") {
      // Once per CRL (issuer, thisUpdate); Poll raises the ones that expire
      // later.
      if (!expiry_alerted_.insert(e.issuer + "\n" + e.detail).second) continue;
    }
    LogEvent(config_.member, e.level, e.event,
             {{"file", e.file}, {"issuer", e.issuer}, {"detail", e.detail}});
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  revocations_ = std::move(next);
}

absl::Status TlsCredentials::ReloadIdentity(const std::string& cause,
                                            bool settle) {
  auto cert = env_->ReadFile(config_.tls_certificate, kMaxTlsFileBytes);
  auto key = env_->ReadFile(config_.tls_private_key, kMaxTlsFileBytes);
  absl::Status s = !cert.ok()  ? InField("tls.certificate", cert.status())
                   : !key.ok() ? InField("tls.private_key", key.status())
                               : absl::OkStatus();
  std::shared_ptr<const TlsIdentity> current = identity();
  if (s.ok() && *cert == current->certificate_pem &&
      *key == current->private_key_pem) {
    mismatch_since_ms_ = 0;
    return absl::OkStatus();
  }
  absl::StatusOr<crypto::CertificateSummary> summary =
      absl::InternalError("not read");
  if (s.ok()) {
    summary = CheckNodeIdentity(*cert, *key, config_.member,
                                OwnCas(*directory_->Current()), *revocations());
    if (!summary.ok()) {
      s = InField("tls.certificate", summary.status());
    }
  }
  if (!s.ok() && settle &&
      summary.status().code() == absl::StatusCode::kInvalidArgument) {
    // Perhaps one of the two files is replaced and the other not yet.
    const int64_t now = clock_->NowMs();
    if (mismatch_since_ms_ == 0) mismatch_since_ms_ = now;
    if (now - mismatch_since_ms_ < kMismatchSettleMs) return s;
  }
  mismatch_since_ms_ = 0;
  if (s.ok() && write_files_) {
    // Key first: the file is read by gRPC as the key and as the chain.
    s = InField(
        "data_dir",
        env_->WriteFileAtomic(dir_ + "/identity.pem",
                              absl::StrCat(*key, "\n", *cert), {.mode = 0600}));
  }
  if (!s.ok()) {
    LogEvent(config_.member, "error", "tls-reload-refused",
             {{"what", "identity"},
              {"cause", cause},
              {"reason", std::string(s.message())},
              {"serial_in_use", current->summary.serial_hex}});
    return s;
  }
  auto next = std::make_shared<TlsIdentity>();
  next->certificate_pem = *std::move(cert);
  next->private_key_pem = *std::move(key);
  next->summary = *std::move(summary);
  next->generation = current->generation + 1;
  next->loaded_at_ms = clock_->NowMs();
  LogEvent(config_.member, "info",
           cause == "start" ? "tls-identity" : "tls-reloaded",
           {{"what", "identity"},
            {"cause", cause},
            {"serial", next->summary.serial_hex},
            {"not_after", Utc(next->summary.not_after_s)}});
  std::lock_guard<std::mutex> lock(state_mu_);
  identity_ = std::move(next);
  return absl::OkStatus();
}

void TlsCredentials::ReloadLocked(const std::string& cause, bool settle) {
  fingerprint_ = SourceFingerprint();
  std::shared_ptr<const directory::Directory> current = directory_->Current();
  (void)ReloadOfficeCa(cause);
  // CRLs before the identity: a renewed certificate may not be a revoked
  // one.
  ReloadCrls(*current);
  (void)ReloadIdentity(cause, settle);
}

void TlsCredentials::Reload(const std::string& cause) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  ReloadLocked(cause, /*settle=*/false);
}

void TlsCredentials::Poll() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  if (SourceFingerprint() != fingerprint_ || mismatch_since_ms_ != 0) {
    ReloadLocked("file-changed", /*settle=*/true);
  }
  const int64_t now_s = clock_->NowMs() / 1000;
  for (const auto& [issuer, entry] : revocations()->entries()) {
    const crypto::RevocationList& list = entry.list;
    if (list.next_update_s == 0 || list.next_update_s >= now_s) continue;
    std::string detail = absl::StrCat(
        "nextUpdate ", Utc(list.next_update_s),
        " has passed; its revocations stay in force, newer ones are unknown "
        "until a fresh CRL is installed");
    if (!expiry_alerted_.insert(list.issuer + "\n" + detail).second) continue;
    LogEvent(
        config_.member, "warn", "ALERT-crl-expired",
        {{"file", entry.file}, {"issuer", list.issuer}, {"detail", detail}});
  }
}

void TlsCredentials::OnDirectoryAdopted(const directory::Directory& after) {
  std::lock_guard<std::mutex> lock(reload_mu_);
  if (absl::Status s = WritePeerRoots(after); !s.ok()) {
    LogEvent(config_.member, "error", "tls-reload-refused",
             {{"what", "peer_roots"},
              {"directory_version", std::to_string(after.version())},
              {"reason", std::string(s.message())}});
  }
  ReloadCrls(after);
}

absl::Status TlsCredentials::CheckCaller(
    const grpc::ServerContextBase& context) const {
  absl::StatusOr<std::string> pem = CallerCertificatePem(context);
  return pem.ok() ? CheckCertificate(*pem) : absl::OkStatus();
}

absl::Status TlsCredentials::CheckCertificate(const std::string& pem) const {
  std::shared_ptr<const RevocationSet> revoked = revocations();
  if (revoked->empty()) return absl::OkStatus();
  const std::string digest = crypto::Sha256(pem);
  crypto::CertificateSummary summary;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = summaries_.find(digest);
    if (it != summaries_.end()) summary = it->second;
  }
  if (summary.issuer_der.empty()) {
    auto parsed = crypto::SummarizeCertificate(pem);
    if (!parsed.ok()) return absl::OkStatus();  // the services refuse it
    summary = *std::move(parsed);
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (summaries_.size() > 4096) summaries_.clear();
    summaries_[digest] = summary;
  }
  return revoked->Check(summary);
}

}  // namespace cbx::node
