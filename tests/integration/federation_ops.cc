#include "tests/integration/federation_ops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "cbx/v1/office.grpc.pb.h"
#include "core/logcheck/log_keys.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/util/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

// openssl config for the certificates and CRLs made here, as an operator
// would (certs/README.md).
constexpr char kOpensslConfig[] = R"([ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $ENV::CBX_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = cadb
[ cadb ]
database = $ENV::CBX_CA_DB/index.txt
crlnumber = $ENV::CBX_CA_DB/crlnumber
default_md = sha256
default_crl_days = 7
)";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

absl::Status Run(const std::string& command, std::string* out = nullptr) {
  std::string output;
  if (RunCommand(command, &output) != 0) {
    return absl::InternalError(command + "\n" + output);
  }
  if (out != nullptr) *out = std::move(output);
  return absl::OkStatus();
}

grpc::ChannelArguments FreshChannelArgs() {
  grpc::ChannelArguments args;
  // A connection of its own: a test compares what each new one presents.
  args.SetInt("cbx.test.unique", std::rand());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return args;
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& listen,
                                         const std::string& cert_file,
                                         const std::string& key_file,
                                         const std::string& roots_pem) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = roots_pem;
  if (!cert_file.empty()) {
    options.pem_cert_chain = Slurp(cert_file);
    options.pem_private_key = Slurp(key_file);
  }
  return grpc::CreateCustomChannel(
      "localhost:" + listen.substr(listen.rfind(':') + 1),
      grpc::SslCredentials(options), FreshChannelArgs());
}

}  // namespace

bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

v1::Identifier Telegram(const std::string& value) {
  v1::Identifier id;
  id.set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
  id.set_value(value);
  return id;
}

absl::Status AddTelegramCase(Federation& fed, const std::string& cc,
                             const std::string& number,
                             const std::string& telegram) {
  return AddTelegramCaseAs(*fed.Office(cc), cc, number, telegram);
}

absl::Status AddTelegramCaseAs(v1::Office::Stub& office, const std::string& cc,
                               const std::string& number,
                               const std::string& telegram) {
  v1::AddCaseRequest req;
  v1::Case* c = req.mutable_case_();
  c->set_case_number(number);
  *c->add_identifiers() = Telegram(telegram);
  c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
  c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
  c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   Scaled(std::chrono::seconds(20)));
  v1::Case added;
  grpc::Status s = office.AddCase(&ctx, req, &added);
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      cc + " AddCase: " + s.error_message());
}

std::string NodeConfigField(const Federation& fed, const std::string& cc,
                            const std::string& key) {
  nlohmann::json config =
      nlohmann::json::parse(Slurp(fed.NodeDir(cc) + "/node.json"));
  return config.value(key, "");
}

std::string AdminMetrics(const Federation& fed, const std::string& cc) {
  const std::string listen = NodeConfigField(fed, cc, "admin_listen");
  int port = 0;
  if (!absl::SimpleAtoi(listen.substr(listen.rfind(':') + 1), &port)) {
    return "";
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string raw;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
        "close\r\n\r\n";
    (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) raw.append(buf, n);
  }
  close(fd);
  return raw;
}

double MetricValue(const std::string& exposition, const std::string& name) {
  const std::string key = "\n" + name + " ";
  const size_t at = exposition.find(key);
  if (at == std::string::npos) return -1;
  const size_t begin = at + key.size();
  const size_t end = exposition.find('\n', begin);
  double value = -1;
  if (!absl::SimpleAtod(exposition.substr(begin, end - begin), &value)) {
    return -1;
  }
  return value;
}

std::shared_ptr<grpc::Channel> OfficeChannelWith(const Federation& fed,
                                                 const std::string& cc,
                                                 const std::string& cert_file,
                                                 const std::string& key_file,
                                                 const std::string& roots_pem) {
  return ChannelTo(NodeConfigField(fed, cc, "office_listen"), cert_file,
                   key_file, roots_pem);
}

std::shared_ptr<grpc::Channel> PeerChannelWith(const Federation& fed,
                                               const std::string& target,
                                               const std::string& cert_file,
                                               const std::string& key_file,
                                               const std::string& roots_pem) {
  return ChannelTo(NodeConfigField(fed, target, "peer_listen"), cert_file,
                   key_file, roots_pem);
}

OperatorPki::OperatorPki(const Federation& fed)
    : fed_(fed), config_(fed.dir() + "/operator-openssl.cnf") {
  std::ofstream(config_) << kOpensslConfig;
}

absl::StatusOr<std::string> OperatorPki::Openssl(const std::string& env,
                                                 const std::string& args) {
  std::string out;
  RETURN_IF_ERROR(Run(absl::StrCat("OPENSSL_CONF=", Quote(config_), " ", env,
                                   " openssl ", args),
                      &out));
  return out;
}

absl::Status OperatorPki::MakeCa(const std::string& ca_dir,
                                 const std::string& subject) {
  std::filesystem::create_directories(ca_dir);
  return Openssl(
             "CBX_SAN= CBX_CA_DB=",
             absl::StrCat("req -x509 -config ", Quote(config_),
                          " -extensions ca_ext -newkey ec -pkeyopt ",
                          "ec_paramgen_curve:P-256 -noenc -keyout ",
                          Quote(ca_dir + "/ca.key"), " -subj ", Quote(subject),
                          " -days 30 -sha256 -out ", Quote(ca_dir + "/ca.crt")))
      .status();
}

absl::StatusOr<std::string> OperatorPki::IssueNodeCertificate(
    const std::string& cc, const std::string& ca_dir, const std::string& out) {
  absl::StatusOr<std::string> made = Openssl(
      absl::StrCat("CBX_SAN=",
                   Quote("URI:spiffe://cbx/member/" + cc +
                         ",DNS:localhost,IP:127.0.0.1"),
                   " CBX_CA_DB="),
      absl::StrCat("req -x509 -config ", Quote(config_),
                   " -extensions leaf -newkey ec -pkeyopt ",
                   "ec_paramgen_curve:P-256 -noenc -keyout ",
                   Quote(out + ".key"), " -CA ", Quote(ca_dir + "/ca.crt"),
                   " -CAkey ", Quote(ca_dir + "/ca.key"), " -subj ",
                   Quote("/CN=cbx-node " + cc + " renewed"),
                   " -days 30 -sha256 -out ", Quote(out + ".crt")));
  if (!made.ok()) return made.status();
  std::filesystem::permissions(
      out + ".key",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return Serial(out + ".crt");
}

absl::Status OperatorPki::Revoke(const std::string& ca_dir,
                                 const std::vector<std::string>& cert_files,
                                 const std::string& crl_out) {
  // One `openssl ca` database per CA, kept between calls so that a later
  // CRL lists the earlier revocations too.
  const std::string db = absl::StrCat(
      fed_.dir(), "/ca-db-",
      absl::StrReplaceAll(ca_dir.substr(fed_.dir().size()), {{"/", "_"}}));
  if (!std::filesystem::exists(db)) {
    std::filesystem::create_directories(db);
    std::ofstream(db + "/index.txt").close();
    std::ofstream(db + "/crlnumber") << "01\n";
  }
  const std::string env = "CBX_SAN= CBX_CA_DB=" + Quote(db);
  const std::string ca = absl::StrCat(
      "ca -config ", Quote(config_), " -keyfile ", Quote(ca_dir + "/ca.key"),
      " -cert ", Quote(ca_dir + "/ca.crt"), " ");
  for (const std::string& cert : cert_files) {
    absl::StatusOr<std::string> revoked =
        Openssl(env, ca + "-revoke " + Quote(cert));
    if (!revoked.ok()) return revoked.status();
  }
  // Written beside and renamed: the node never reads half a CRL.
  const std::string staged = db + "/staged.crl";
  absl::StatusOr<std::string> crl =
      Openssl(env, ca + "-gencrl -out " + Quote(staged));
  if (!crl.ok()) return crl.status();
  std::error_code ec;
  std::filesystem::copy_file(staged, crl_out + ".tmp",
                             std::filesystem::copy_options::overwrite_existing,
                             ec);
  if (!ec) std::filesystem::rename(crl_out + ".tmp", crl_out, ec);
  if (ec)
    return absl::InternalError("placing " + crl_out + ": " + ec.message());
  return absl::OkStatus();
}

std::string OperatorPki::Serial(const std::string& cert_file) {
  std::string out;
  if (!Run("openssl x509 -noout -serial -in " + Quote(cert_file), &out).ok()) {
    return "";
  }
  return absl::AsciiStrToUpper(
      absl::StripAsciiWhitespace(absl::StripPrefix(out, "serial=")));
}

std::string OperatorPki::Fingerprint(const std::string& cert_file) {
  std::string out;
  if (!Run("openssl x509 -noout -fingerprint -sha256 -in " + Quote(cert_file),
           &out)
           .ok()) {
    return "";
  }
  size_t eq = out.find('=');
  std::string hex(absl::StripAsciiWhitespace(out.substr(eq + 1)));
  return absl::AsciiStrToLower(absl::StrReplaceAll(hex, {{":", ""}}));
}

DirectoryUpdates::DirectoryUpdates(const Federation& fed,
                                   std::vector<std::string> signers)
    : fed_(fed), signers_(std::move(signers)) {}

absl::StatusOr<std::string> DirectoryUpdates::Next(
    const nlohmann::json& changes) {
  const uint64_t version = current_version() + 1;
  const std::string dir = fed_.dir();
  const std::string current =
      versions_.empty() ? dir + "/genesis.pb" : versions_.back();
  const std::string stem = absl::StrCat(dir, "/v", version);
  std::ofstream(stem + "-changes.json")
      << nlohmann::json{{"changes", changes}}.dump(2);
  const std::string admin = Quote(AdminBinary()) + " directory ";
  RETURN_IF_ERROR(Run(admin + "propose --current " + Quote(current) +
                      " --changes " + Quote(stem + "-changes.json") +
                      " --out " + Quote(stem + "-proposal.pb")));
  std::string combine = admin + "combine --in " + Quote(stem + "-proposal.pb") +
                        " --previous " + Quote(current) + " --out " +
                        Quote(stem + ".pb");
  for (const std::string& cc : signers_) {
    const std::string sig = stem + "-" + cc + ".sig";
    RETURN_IF_ERROR(Run(
        admin + "cosign --in " + Quote(stem + "-proposal.pb") + " --previous " +
        Quote(current) + " --member " + cc + " --key " +
        Quote(fed_.NodeDir(cc) + "/governance.key") + " --out " + Quote(sig)));
    combine += " --signature " + Quote(sig);
  }
  RETURN_IF_ERROR(Run(combine));
  versions_.push_back(stem + ".pb");
  return versions_.back();
}

absl::Status DirectoryUpdates::Install(const std::string& cc,
                                       const std::string& file) const {
  return Run(Quote(NodeBinary()) + " --allow-root --config " +
             Quote(fed_.NodeDir(cc) + "/node.json") + " --install-directory " +
             Quote(file));
}

absl::StatusOr<CheckpointView> ViewCheckpoint(const std::string& note,
                                              const std::string& member) {
  absl::StatusOr<note::Note> parsed = note::ParseNote(note);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<note::Checkpoint> checkpoint =
      note::ParseCheckpoint(parsed->text);
  if (!checkpoint.ok()) return checkpoint.status();
  CheckpointView view;
  view.note = note;
  view.size = checkpoint->size;
  const std::string origin = logcheck::LogOrigin(member);
  for (const note::Signature& sig : parsed->signatures) {
    if (sig.name == origin) {
      view.log_key_ids.insert(sig.key_id);
    } else if (absl::StartsWith(sig.name, "cbx/") &&
               absl::EndsWith(sig.name, "/witness")) {
      view.witnesses.insert(sig.name.substr(4, sig.name.size() - 12));
    }
  }
  return view;
}

}  // namespace cbx::testing
