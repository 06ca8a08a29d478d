#include "conformance/kit.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/util/key_file.h"
#include "core/util/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace cbx::conformance {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Key files of the kit are published: no mode check (a node copies them and
// makes them 0600 itself).
absl::StatusOr<Bytes> ReadSecret(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto secret = ParseKeyFile(text);
  if (!secret.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", secret.status().message()));
  }
  return secret;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kit>> Kit::Load(const std::string& dir,
                                               KitTarget target) {
  std::unique_ptr<Kit> kit(new Kit());
  kit->dir_ = dir;
  kit->target_ = std::move(target);
  ASSIGN_OR_RETURN(std::string genesis, ReadFile(dir + "/genesis.pb"));
  if (!kit->genesis_.ParseFromString(genesis)) {
    return absl::InvalidArgumentError(dir + "/genesis.pb does not parse");
  }
  ASSIGN_OR_RETURN(kit->directory_,
                   directory::Directory::FromGenesis(kit->genesis_));
  for (const v1::Member& m : kit->directory_->proto().members()) {
    for (const std::string& pem : m.ca_certificates_pem()) {
      kit->roots_pem_ += pem;
    }
    ASSIGN_OR_RETURN(Bytes seed,
                     ReadSecret(dir + "/" + m.code() + "/node-signing.key"));
    ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey key,
                     crypto::Ed25519PrivateKey::FromSeed(seed));
    kit->node_keys_.emplace(m.code(), std::move(key));
    // A retired key the kit publishes for check 2's key window (E9).
    const std::string expired =
        dir + "/" + m.code() + "/node-signing-expired.key";
    if (std::ifstream(expired).good()) {
      ASSIGN_OR_RETURN(Bytes old, ReadSecret(expired));
      ASSIGN_OR_RETURN(crypto::Ed25519PrivateKey old_key,
                       crypto::Ed25519PrivateKey::FromSeed(old));
      kit->node_keys_.emplace(m.code() + ":expired", std::move(old_key));
    }
  }
  if (kit->directory_->FindMember(kit->target_.member) == nullptr) {
    return absl::InvalidArgumentError("the kit federation has no member " +
                                      kit->target_.member);
  }
  ASSIGN_OR_RETURN(Bytes oprf,
                   ReadSecret(dir + "/" + kit->target_.member + "/oprf.key"));
  ASSIGN_OR_RETURN(crypto::OprfServerKey oprf_key,
                   crypto::OprfServerKey::FromPrivateBytes(oprf));
  kit->oprf_key_ = std::make_unique<crypto::OprfServerKey>(std::move(oprf_key));
  return kit;
}

const crypto::Ed25519PrivateKey* Kit::NodeKey(const std::string& cc) const {
  auto it = node_keys_.find(cc);
  return it == node_keys_.end() ? nullptr : &it->second;
}

std::string Kit::MemberOfTls(const std::string& tls) {
  if (absl::StartsWith(tls, "bad:")) return "QA";
  if (absl::StartsWith(tls, "office:")) return "";
  return tls;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Kit::Channel(
    const std::string& tls, bool office) const {
  const std::string address =
      office ? target_.office_address : target_.peer_address;
  if (address.empty()) {
    return absl::FailedPreconditionError(
        "no --office address given for the Office cases");
  }
  std::string key = absl::StrCat(office ? "office|" : "peer|", tls);
  auto cached = channels_.find(key);
  if (cached != channels_.end()) return cached->second;

  std::string base;
  if (absl::StartsWith(tls, "office:")) {
    base = absl::StrCat(dir_, "/", target_.member, "/offices/Kit-Office-",
                        tls.substr(7));
  } else if (absl::StartsWith(tls, "bad:")) {
    base = absl::StrCat(dir_, "/bad/", tls.substr(4));
  } else if (directory_->FindMember(tls) != nullptr) {
    base = absl::StrCat(dir_, "/", tls, "/node");
  } else {
    return absl::InvalidArgumentError("unknown TLS identity \"" + tls + "\"");
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = roots_pem_;
  ASSIGN_OR_RETURN(options.pem_cert_chain, ReadFile(base + ".crt"));
  ASSIGN_OR_RETURN(options.pem_private_key, ReadFile(base + ".key"));
  grpc::ChannelArguments args;
  // One connection per identity: the node maps each connection's
  // certificate once.
  args.SetString("cbx.conformance.identity", key);
  // The kit's node certificate names localhost and 127.0.0.1.
  args.SetSslTargetNameOverride("localhost");
  auto channel =
      grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
  channels_[key] = channel;
  return channel;
}

}  // namespace cbx::conformance
