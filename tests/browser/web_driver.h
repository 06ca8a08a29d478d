// A real browser for the console's tests: Debian's headless Chromium driven
// through chromedriver's W3C WebDriver HTTP API on loopback, presenting one
// office certificate the way an office's browser does.
//
// Chromium on Linux takes client certificates from the NSS database under
// $HOME/.pki/nssdb, and picks one without a prompt (headless has no prompt)
// only for URLs listed in the AutoSelectCertificateForUrls policy, which it
// reads from /etc/chromium/policies/managed/. So each Browser gets its own
// HOME holding one certificate (made with libnss3-tools' certutil and
// pk12util), and ConsolePolicy writes the policy file for the console URLs
// under test and removes it when destroyed.
//
// Not thread-safe: one test thread drives a Browser.
#ifndef CBX_TESTS_BROWSER_WEB_DRIVER_H_
#define CBX_TESTS_BROWSER_WEB_DRIVER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cbx::testing {

// What a browser test needs installed (scripts/install-deps.sh installs it
// all); "" if everything is there, else what is missing.
std::string MissingBrowserTools();

// The policy file that lets Chromium present a certificate to `origins`
// ("https://localhost:7301") without asking. Removed by the destructor.
class ConsolePolicy {
 public:
  static absl::StatusOr<std::unique_ptr<ConsolePolicy>> Write(
      const std::vector<std::string>& origins);
  ~ConsolePolicy();

 private:
  explicit ConsolePolicy(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

class Browser {
 public:
  // A browser whose NSS database holds `cert_pem` with `key_pem` and trusts
  // `ca_pem` for servers, in a fresh folder under `work_dir`; chromedriver
  // and a WebDriver session started. The window is 1280 x 1000.
  static absl::StatusOr<std::unique_ptr<Browser>> Start(
      const std::string& work_dir, const std::string& name,
      const std::string& cert_pem_file, const std::string& key_pem_file,
      const std::string& ca_pem_file);
  ~Browser();  // ends the session, stops chromedriver

  absl::Status Go(const std::string& url);
  // Types `text` into the element `css` selects (after clearing it).
  absl::Status Type(const std::string& css, const std::string& text);
  absl::Status Click(const std::string& css);
  // Chooses the local file `path` in the file input `css` selects, as a
  // person does in the file dialog (WebDriver's Element Send Keys).
  absl::Status ChooseFile(const std::string& css, const std::string& path);
  absl::StatusOr<std::string> Source();
  absl::StatusOr<std::string> Url();
  // The attribute `name` of the first element `css` selects ("" if the
  // element has no such attribute).
  absl::StatusOr<std::string> Attribute(const std::string& css,
                                        const std::string& name);
  // How many elements `css` selects in the current page.
  absl::StatusOr<int> Count(const std::string& css);
  // What the browser fetched since the last call (Chromium's performance
  // log, which the driver empties as it is read): every URL it requested,
  // and the headers of every response, names in lower case.
  struct Fetched {
    std::vector<std::string> requested;
    std::vector<std::pair<std::string, std::map<std::string, std::string>>>
        responses;  // URL, headers
  };
  absl::StatusOr<Fetched> Network();
  // Forgets every cookie: the next page opens a new console session.
  absl::Status DeleteCookies();
  // A PNG of the viewport, written to `path`.
  absl::Status Screenshot(const std::string& path);

 private:
  Browser() = default;
  absl::StatusOr<nlohmann::json> Call(const std::string& method,
                                      const std::string& path,
                                      const nlohmann::json& body);
  absl::StatusOr<std::string> Find(const std::string& css);

  std::string home_;
  int port_ = 0;
  pid_t driver_ = 0;
  std::string session_;
};

}  // namespace cbx::testing

#endif  // CBX_TESTS_BROWSER_WEB_DRIVER_H_
