#include "core/crypto/testing/softhsm_token.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace cbx::crypto::testing {
namespace {

bool OnPath(const char* tool) {
  const std::string probe =
      absl::StrCat("command -v ", tool, " >/dev/null 2>&1");
  return std::system(probe.c_str()) == 0;
}

// Runs `command` through the shell; UNAVAILABLE with its output if it fails.
absl::Status Run(const std::string& command) {
  std::string output;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return absl::UnavailableError("popen failed: " + command);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) output += buf;
  const int rc = ::pclose(p);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat(command, " failed (", rc, "): ", output));
  }
  return absl::OkStatus();
}

}  // namespace

bool SoftHsmToken::Installed() {
  return std::filesystem::exists(kSoftHsmModule) && OnPath("softhsm2-util") &&
         OnPath("pkcs11-tool");
}

const char* SoftHsmToken::SkipReason() {
  return "softhsm2 (and opensc's pkcs11-tool) not installed: run "
         "scripts/install-deps.sh";
}

absl::StatusOr<std::unique_ptr<SoftHsmToken>> SoftHsmToken::Create(
    const std::string& label, const std::string& pin) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cbx-softhsm-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError("mkdtemp failed");
  }
  std::unique_ptr<SoftHsmToken> t(new SoftHsmToken());
  t->dir_ = pattern;
  t->label_ = label;
  t->pin_ = pin;
  std::filesystem::create_directory(t->dir_ + "/tokens");
  const std::string conf = t->dir_ + "/softhsm2.conf";
  std::ofstream(conf) << "directories.tokendir = " << t->dir_
                      << "/tokens\nobjectstore.backend = file\n"
                         "log.level = ERROR\n";
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  t->pin_file_ = t->WritePinFile("token.pin", pin);
  absl::Status made =
      Run(absl::StrCat("softhsm2-util --init-token --free --label '", label,
                       "' --so-pin 12345678 --pin '", pin, "'"));
  if (!made.ok()) return made;
  return t;
}

SoftHsmToken::~SoftHsmToken() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::Status SoftHsmToken::GenerateKey(const std::string& object,
                                       const std::string& id_hex) {
  return Run(absl::StrCat("pkcs11-tool --module ", kSoftHsmModule,
                          " --token-label '", label_, "' --login --pin '", pin_,
                          "' --keypairgen --key-type EC:edwards25519",
                          " --label '", object, "' --id ", id_hex));
}

std::string SoftHsmToken::Uri(const std::string& object) const {
  return absl::StrCat("pkcs11:token=", label_, ";object=", object,
                      "?module-path=", kSoftHsmModule,
                      "&pin-source=file:", pin_file_);
}

std::string SoftHsmToken::WritePinFile(const std::string& name,
                                       const std::string& pin) const {
  const std::string path = dir_ + "/" + name;
  std::ofstream(path) << pin << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

}  // namespace cbx::crypto::testing
