#include "tests/browser/web_driver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace cbx::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;

// The W3C WebDriver key of an element reference.
constexpr char kElementKey[] = "element-6066-11e4-a52e-4f735466cecf";
constexpr char kPolicyDir[] = "/etc/chromium/policies/managed";

std::string ChromiumBinary() {
  // Debian's /usr/bin/chromium is a shell wrapper; the driver runs the
  // browser itself.
  for (const char* path : {"/usr/lib/chromium/chromium", "/usr/bin/chromium"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Runs `command` through the shell; its output on failure.
absl::Status Shell(const std::string& command) {
  const std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("popen failed");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(command, " failed: ", out));
  }
  return absl::OkStatus();
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

// Removes the policy files of test processes that are gone (killed by a
// timeout, say). Chromium merges every file in the folder and takes one
// file's AutoSelectCertificateForUrls when two set it, so a stale file can
// hide this test's origins and leave the browser waiting for a certificate
// choice that headless never makes.
void RemoveStalePolicies() {
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(kPolicyDir, ec)) {
    const std::string name = entry.path().filename().string();
    constexpr std::string_view kPrefix = "cbx-console-test-";
    if (name.rfind(kPrefix, 0) != 0) continue;
    const pid_t pid = static_cast<pid_t>(
        std::strtol(name.c_str() + kPrefix.size(), nullptr, 10));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

}  // namespace

std::string MissingBrowserTools() {
  std::string missing;
  if (ChromiumBinary().empty()) missing += " chromium";
  for (const char* tool :
       {"/usr/bin/chromedriver", "/usr/bin/certutil", "/usr/bin/pk12util"}) {
    if (access(tool, X_OK) != 0) absl::StrAppend(&missing, " ", tool);
  }
  return missing;
}

absl::StatusOr<std::unique_ptr<ConsolePolicy>> ConsolePolicy::Write(
    const std::vector<std::string>& origins) {
  std::error_code ec;
  std::filesystem::create_directories(kPolicyDir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", kPolicyDir, ": ", ec.message()));
  }
  RemoveStalePolicies();
  Json list = Json::array();
  for (const std::string& origin : origins) {
    list.push_back(
        Json{{"pattern", origin}, {"filter", Json::object()}}.dump());
  }
  const std::string path =
      absl::StrCat(kPolicyDir, "/cbx-console-test-", getpid(), ".json");
  std::ofstream out(path);
  out << Json{{"AutoSelectCertificateForUrls", list}}.dump() << "\n";
  if (!out.good()) {
    return absl::FailedPreconditionError("cannot write " + path);
  }
  return std::unique_ptr<ConsolePolicy>(new ConsolePolicy(path));
}

ConsolePolicy::~ConsolePolicy() { std::remove(path_.c_str()); }

absl::StatusOr<std::unique_ptr<Browser>> Browser::Start(
    const std::string& work_dir, const std::string& name,
    const std::string& cert_pem_file, const std::string& key_pem_file,
    const std::string& ca_pem_file) {
  std::unique_ptr<Browser> b(new Browser());
  b->home_ = work_dir + "/browser-" + name;
  const std::string db = "sql:" + b->home_ + "/.pki/nssdb";
  std::filesystem::create_directories(b->home_ + "/.pki/nssdb");
  const std::string p12 = b->home_ + "/office.p12";
  if (absl::Status s = Shell(absl::StrCat(
          "openssl pkcs12 -export -in ", Quote(cert_pem_file), " -inkey ",
          Quote(key_pem_file), " -out ", Quote(p12), " -passout pass:"));
      !s.ok()) {
    return s;
  }
  for (const std::string& command :
       {absl::StrCat("certutil -N -d ", db, " --empty-password"),
        absl::StrCat("pk12util -i ", Quote(p12), " -d ", db, " -W ''"),
        absl::StrCat("certutil -A -d ", db, " -n cbx-node-ca -t C,, -i ",
                     Quote(ca_pem_file))}) {
    if (absl::Status s = Shell(command); !s.ok()) return s;
  }
  b->port_ = FreePort();
  const std::string log = b->home_ + "/chromedriver.log";
  b->driver_ = fork();
  if (b->driver_ == 0) {
    setenv("HOME", b->home_.c_str(), 1);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    const std::string port = absl::StrCat("--port=", b->port_);
    execl("/usr/bin/chromedriver", "chromedriver", port.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // The driver answers /status once it listens.
  absl::Status ready = absl::UnavailableError("chromedriver did not start");
  for (int i = 0; i < 200 && !ready.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ready = b->Call("GET", "/status", nullptr).status();
  }
  if (!ready.ok()) return ready;
  const Json capabilities = {
      {"capabilities",
       {{"alwaysMatch",
         {{"browserName", "chrome"},
          // The performance log carries the network events Network() reads.
          {"goog:loggingPrefs", {{"performance", "ALL"}}},
          {"goog:chromeOptions",
           {{"binary", ChromiumBinary()},
            {"args",
             {"--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,1000",
              "--user-data-dir=" + b->home_ + "/profile"}}}}}}}}};
  absl::StatusOr<Json> session = b->Call("POST", "/session", capabilities);
  if (!session.ok()) return session.status();
  b->session_ = (*session)["sessionId"].get<std::string>();
  // The session opens on Chromium's new-tab page, which loads its own
  // chrome:// resources; leave it so that Network() reports only what the
  // test's pages fetch.
  if (absl::Status s = b->Go("about:blank"); !s.ok()) return s;
  if (absl::Status s = b->Network().status(); !s.ok()) return s;
  return b;
}

Browser::~Browser() {
  if (!session_.empty()) (void)Call("DELETE", "/session/" + session_, nullptr);
  if (driver_ > 0) {
    kill(driver_, SIGTERM);
    waitpid(driver_, nullptr, 0);
  }
}

absl::StatusOr<Json> Browser::Call(const std::string& method,
                                   const std::string& path, const Json& body) {
  asio::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<uint16_t>(port_)),
                 ec);
  if (ec) return absl::UnavailableError("chromedriver: " + ec.message());
  http::request<http::string_body> req(http::string_to_verb(method), path, 11);
  req.set(http::field::host, absl::StrCat("127.0.0.1:", port_));
  req.set(http::field::content_type, "application/json");
  if (!body.is_null()) req.body() = body.dump();
  req.prepare_payload();
  http::write(socket, req, ec);
  if (ec) return absl::UnavailableError("chromedriver: " + ec.message());
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res, ec);
  if (ec) return absl::UnavailableError("chromedriver: " + ec.message());
  Json answer = Json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.contains("value")) {
    return absl::InternalError("chromedriver answered: " + res.body());
  }
  if (res.result_int() != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(method, " ", path, ": ", answer["value"].dump()));
  }
  return answer["value"];
}

absl::StatusOr<std::string> Browser::Find(const std::string& css) {
  absl::StatusOr<Json> found =
      Call("POST", "/session/" + session_ + "/element",
           {{"using", "css selector"}, {"value", css}});
  if (!found.ok()) return found.status();
  return (*found)[kElementKey].get<std::string>();
}

absl::Status Browser::Go(const std::string& url) {
  return Call("POST", "/session/" + session_ + "/url", {{"url", url}}).status();
}

absl::Status Browser::Type(const std::string& css, const std::string& text) {
  absl::StatusOr<std::string> element = Find(css);
  if (!element.ok()) return element.status();
  const std::string base = "/session/" + session_ + "/element/" + *element;
  if (absl::Status s = Call("POST", base + "/clear", Json::object()).status();
      !s.ok()) {
    return s;
  }
  return Call("POST", base + "/value", {{"text", text}}).status();
}

absl::Status Browser::ChooseFile(const std::string& css,
                                 const std::string& path) {
  absl::StatusOr<std::string> element = Find(css);
  if (!element.ok()) return element.status();
  return Call("POST",
              "/session/" + session_ + "/element/" + *element + "/value",
              {{"text", path}})
      .status();
}

absl::Status Browser::Click(const std::string& css) {
  absl::StatusOr<std::string> element = Find(css);
  if (!element.ok()) return element.status();
  return Call("POST",
              "/session/" + session_ + "/element/" + *element + "/click",
              Json::object())
      .status();
}

absl::StatusOr<std::string> Browser::Source() {
  absl::StatusOr<Json> v =
      Call("GET", "/session/" + session_ + "/source", nullptr);
  if (!v.ok()) return v.status();
  return v->get<std::string>();
}

absl::StatusOr<std::string> Browser::Url() {
  absl::StatusOr<Json> v =
      Call("GET", "/session/" + session_ + "/url", nullptr);
  if (!v.ok()) return v.status();
  return v->get<std::string>();
}

absl::StatusOr<std::string> Browser::Attribute(const std::string& css,
                                               const std::string& name) {
  absl::StatusOr<std::string> element = Find(css);
  if (!element.ok()) return element.status();
  absl::StatusOr<Json> v = Call(
      "GET",
      "/session/" + session_ + "/element/" + *element + "/attribute/" + name,
      nullptr);
  if (!v.ok()) return v.status();
  return v->is_string() ? v->get<std::string>() : std::string();
}

absl::StatusOr<int> Browser::Count(const std::string& css) {
  absl::StatusOr<Json> found =
      Call("POST", "/session/" + session_ + "/elements",
           {{"using", "css selector"}, {"value", css}});
  if (!found.ok()) return found.status();
  return static_cast<int>(found->size());
}

absl::StatusOr<Browser::Fetched> Browser::Network() {
  // chromedriver's own endpoint for the logs named in goog:loggingPrefs.
  absl::StatusOr<Json> log = Call("POST", "/session/" + session_ + "/se/log",
                                  {{"type", "performance"}});
  if (!log.ok()) return log.status();
  Fetched out;
  for (const Json& entry : *log) {
    const Json event = Json::parse(entry.value("message", std::string()),
                                   nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.contains("message")) continue;
    const Json& m = event["message"];
    const std::string method = m.value("method", std::string());
    if (method == "Network.requestWillBeSent") {
      out.requested.push_back(m["params"]["request"].value("url", ""));
    } else if (method == "Network.responseReceived") {
      const Json& response = m["params"]["response"];
      std::map<std::string, std::string> headers;
      for (const auto& [name, value] : response["headers"].items()) {
        headers[absl::AsciiStrToLower(name)] =
            value.is_string() ? value.get<std::string>() : value.dump();
      }
      out.responses.emplace_back(response.value("url", ""), std::move(headers));
    }
  }
  return out;
}

absl::Status Browser::DeleteCookies() {
  return Call("DELETE", "/session/" + session_ + "/cookie", nullptr).status();
}

absl::Status Browser::Screenshot(const std::string& path) {
  absl::StatusOr<Json> v =
      Call("GET", "/session/" + session_ + "/screenshot", nullptr);
  if (!v.ok()) return v.status();
  std::string png;
  if (!absl::Base64Unescape(v->get<std::string>(), &png)) {
    return absl::InternalError("screenshot is not base64");
  }
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << png;
  return out.good() ? absl::OkStatus()
                    : absl::InternalError("cannot write " + path);
}

}  // namespace cbx::testing
