#include "core/crypto/pkcs11_signer.h"

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#include <cstdio>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"

namespace cbx::crypto {
namespace {

// Abseil here has its own string_view; std::string_view goes through this.
absl::string_view AV(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// The PKCS#11 name of a return value, for messages.
std::string RvName(CK_RV rv) {
  switch (rv) {
    case CKR_OK:
      return "CKR_OK";
    case CKR_GENERAL_ERROR:
      return "CKR_GENERAL_ERROR";
    case CKR_ARGUMENTS_BAD:
      return "CKR_ARGUMENTS_BAD";
    case CKR_DEVICE_ERROR:
      return "CKR_DEVICE_ERROR";
    case CKR_DEVICE_REMOVED:
      return "CKR_DEVICE_REMOVED";
    case CKR_KEY_HANDLE_INVALID:
      return "CKR_KEY_HANDLE_INVALID";
    case CKR_KEY_TYPE_INCONSISTENT:
      return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_MECHANISM_INVALID:
      return "CKR_MECHANISM_INVALID";
    case CKR_PIN_INCORRECT:
      return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED:
      return "CKR_PIN_LOCKED";
    case CKR_SESSION_HANDLE_INVALID:
      return "CKR_SESSION_HANDLE_INVALID";
    case CKR_TOKEN_NOT_PRESENT:
      return "CKR_TOKEN_NOT_PRESENT";
    case CKR_USER_NOT_LOGGED_IN:
      return "CKR_USER_NOT_LOGGED_IN";
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      return "CKR_CRYPTOKI_NOT_INITIALIZED";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx",
                    static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

absl::Status Failed(std::string_view what, CK_RV rv) {
  return absl::UnavailableError(
      absl::StrCat(AV(what), " failed (", RvName(rv), ")"));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s,
                                          std::string_view attr) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PKCS#11 URI: ", AV(attr), ": a '%' not followed by two hex digits"));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// "name=value" pairs separated by `sep` into `into`.
absl::Status ParseAttributes(std::string_view part, char sep,
                             std::map<std::string, std::string>& into) {
  if (part.empty()) return absl::OkStatus();
  size_t start = 0;
  while (start <= part.size()) {
    size_t end = part.find(sep, start);
    if (end == std::string_view::npos) end = part.size();
    const std::string_view item = part.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PKCS#11 URI: '", AV(item), "' is not an attribute=value pair"));
    }
    const std::string name(item.substr(0, eq));
    ASSIGN_OR_RETURN(std::string value,
                     PercentDecode(item.substr(eq + 1), name));
    if (!into.emplace(name, std::move(value)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("PKCS#11 URI: ", name, " is given twice"));
    }
  }
  return absl::OkStatus();
}

// A blank-padded token info field, without its padding.
std::string Trimmed(const unsigned char* field, size_t size) {
  std::string s(reinterpret_cast<const char*>(field), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// The PIN in `source` ("file:/path" or "/path"): the file's first line.
absl::StatusOr<std::string> ReadPin(const std::string& source) {
  std::string path = source;
  if (path.rfind("file:", 0) == 0) path = path.substr(5);
  if (path.rfind("//", 0) == 0) path = path.substr(2);  // file:///x
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        "PKCS#11 URI: pin-source: cannot read the PIN file ", path));
  }
  std::string pin;
  std::getline(in, pin);
  if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  if (pin.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PKCS#11 URI: pin-source: the PIN file ", path, " is empty"));
  }
  return pin;
}

// The 32-byte key in a CKA_EC_POINT value: a DER OCTET STRING (04 20 ...)
// as PKCS#11 3.0 specifies, or the raw bytes some tokens return.
absl::StatusOr<std::string> EcPointKey(const std::string& v) {
  if (v.size() == kEd25519PublicKeySize) return v;
  if (v.size() == kEd25519PublicKeySize + 2 && v[0] == 0x04 &&
      static_cast<unsigned char>(v[1]) == kEd25519PublicKeySize) {
    return v.substr(2);
  }
  return absl::FailedPreconditionError(
      "the public key's CKA_EC_POINT is not a 32-byte Ed25519 key");
}

// CKA_EC_PARAMS of Ed25519: the printable string "edwards25519" or the OID
// 1.3.101.112 (id-Ed25519), both DER.
bool IsEd25519Params(const std::string& v) {
  static const std::string kName = std::string("\x13\x0c", 2) + "edwards25519";
  static const std::string kOid("\x06\x03\x2b\x65\x70", 5);
  return v == kName || v == kOid;
}

}  // namespace

bool IsPkcs11Uri(std::string_view s) { return s.rfind("pkcs11:", 0) == 0; }

absl::StatusOr<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri) {
  if (!IsPkcs11Uri(uri)) {
    return absl::InvalidArgumentError("PKCS#11 URI: must start with pkcs11:");
  }
  uri.remove_prefix(7);
  const size_t q = uri.find('?');
  const std::string_view path = uri.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);
  Pkcs11Uri out;
  RETURN_IF_ERROR(ParseAttributes(path, ';', out.path));
  RETURN_IF_ERROR(ParseAttributes(query, '&', out.query));
  static const char* kPath[] = {"token",
                                "manufacturer",
                                "serial",
                                "model",
                                "object",
                                "id",
                                "type",
                                "library-description",
                                "library-manufacturer",
                                "library-version",
                                "slot-id",
                                "slot-description",
                                "slot-manufacturer"};
  for (const auto& [name, value] : out.path) {
    bool known = false;
    for (const char* k : kPath) known = known || name == k;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("PKCS#11 URI: unknown attribute ", name));
    }
  }
  if (out.query.count("pin-value") > 0) {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: pin-value is refused: never write a PIN in a config "
        "or a command line; put it in a file of mode 0600 and give "
        "pin-source=file:/path");
  }
  return out;
}

// One loaded and initialized module, shared by the signers that use it.
struct Pkcs11Signer::Module {
  std::string path;
  void* handle = nullptr;
  CK_FUNCTION_LIST_PTR f = nullptr;
  bool finalize = false;  // this object initialized the module

  ~Module() {
    if (finalize) f->C_Finalize(nullptr);
    // The library stays mapped (no dlclose): some modules, softhsm2 among
    // them, register exit handlers that must find their code at exit.
  }

  // The module at `path`, initialized; the same object while signers from
  // it exist (C_Initialize may be called once per process).
  static absl::StatusOr<std::shared_ptr<Module>> Get(const std::string& path) {
    static std::mutex mu;
    static std::map<std::string, std::weak_ptr<Module>>* loaded =
        new std::map<std::string, std::weak_ptr<Module>>();
    std::lock_guard<std::mutex> lock(mu);
    if (auto m = (*loaded)[path].lock()) return m;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      return absl::NotFoundError(
          absl::StrCat("PKCS#11 URI: module-path: cannot load the module ",
                       path, ": ", why != nullptr ? why : "dlopen failed"));
    }
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(
        ::dlsym(handle, "C_GetFunctionList"));
    if (get_list == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("PKCS#11 URI: module-path: ", path,
                       " is not a PKCS#11 module (no C_GetFunctionList)"));
    }
    auto m = std::make_shared<Module>();
    m->path = path;
    m->handle = handle;
    CK_FUNCTION_LIST_PTR f = nullptr;
    if (CK_RV rv = get_list(&f); rv != CKR_OK || f == nullptr) {
      return Failed(absl::StrCat("C_GetFunctionList of ", path), rv);
    }
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = f->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      return Failed(absl::StrCat("C_Initialize of ", path), rv);
    }
    // Finalize only what this object initialized.
    m->finalize = rv == CKR_OK;
    m->f = f;
    (*loaded)[path] = m;
    return m;
  }
};

namespace {

// The slot whose token matches the URI's token attributes.
absl::StatusOr<CK_SLOT_ID> FindSlot(CK_FUNCTION_LIST_PTR f,
                                    const Pkcs11Uri& uri) {
  CK_ULONG count = 0;
  if (CK_RV rv = f->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK) {
    return Failed("C_GetSlotList", rv);
  }
  std::vector<CK_SLOT_ID> slots(count);
  if (CK_RV rv = f->C_GetSlotList(CK_TRUE, slots.data(), &count);
      rv != CKR_OK) {
    return Failed("C_GetSlotList", rv);
  }
  slots.resize(count);
  std::vector<CK_SLOT_ID> matching;
  std::vector<std::string> seen;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info;
    if (f->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    const std::map<std::string, std::string> fields = {
        {"token", Trimmed(info.label, sizeof info.label)},
        {"manufacturer",
         Trimmed(info.manufacturerID, sizeof info.manufacturerID)},
        {"serial", Trimmed(info.serialNumber, sizeof info.serialNumber)},
        {"model", Trimmed(info.model, sizeof info.model)}};
    if (!(info.flags & CKF_TOKEN_INITIALIZED)) continue;
    seen.push_back(fields.at("token"));
    bool match = true;
    for (const auto& [name, value] : fields) {
      auto it = uri.path.find(name);
      if (it != uri.path.end() && it->second != value) match = false;
    }
    if (match) matching.push_back(slot);
  }
  auto token = uri.path.find("token");
  const std::string wanted =
      token == uri.path.end() ? "any token" : "token=" + token->second;
  if (matching.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "PKCS#11 URI: no token matches ", wanted, " (tokens present: ",
        seen.empty() ? "none" : absl::StrJoin(seen, ", "), ")"));
  }
  if (matching.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("PKCS#11 URI: ", matching.size(), " tokens match ", wanted,
                     "; name one with token=, serial=, ..."));
  }
  return matching[0];
}

// The handles of the objects of `cls` matching the URI's object and id.
absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> FindKeys(
    CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
    const Pkcs11Uri& uri) {
  CK_KEY_TYPE type = CKK_EC_EDWARDS;
  std::vector<CK_ATTRIBUTE> tmpl = {{CKA_CLASS, &cls, sizeof cls},
                                    {CKA_KEY_TYPE, &type, sizeof type}};
  std::string label, id;
  if (auto it = uri.path.find("object"); it != uri.path.end()) {
    label = it->second;
    tmpl.push_back({CKA_LABEL, label.data(), label.size()});
  }
  if (auto it = uri.path.find("id"); it != uri.path.end()) {
    id = it->second;
    tmpl.push_back({CKA_ID, id.data(), id.size()});
  }
  if (CK_RV rv = f->C_FindObjectsInit(session, tmpl.data(), tmpl.size());
      rv != CKR_OK) {
    return Failed("C_FindObjectsInit", rv);
  }
  std::vector<CK_OBJECT_HANDLE> found(8);
  CK_ULONG n = 0;
  CK_RV rv = f->C_FindObjects(session, found.data(), found.size(), &n);
  f->C_FindObjectsFinal(session);
  if (rv != CKR_OK) return Failed("C_FindObjects", rv);
  found.resize(n);
  return found;
}

absl::StatusOr<std::string> Attribute(CK_FUNCTION_LIST_PTR f,
                                      CK_SESSION_HANDLE session,
                                      CK_OBJECT_HANDLE object,
                                      CK_ATTRIBUTE_TYPE type,
                                      std::string_view name) {
  CK_ATTRIBUTE a = {type, nullptr, 0};
  if (CK_RV rv = f->C_GetAttributeValue(session, object, &a, 1); rv != CKR_OK) {
    return Failed(absl::StrCat("reading ", AV(name)), rv);
  }
  std::string v(a.ulValueLen, '\0');
  a.pValue = v.data();
  if (CK_RV rv = f->C_GetAttributeValue(session, object, &a, 1); rv != CKR_OK) {
    return Failed(absl::StrCat("reading ", AV(name)), rv);
  }
  v.resize(a.ulValueLen);
  return v;
}

absl::StatusOr<Bytes> SignIn(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE session,
                             CK_OBJECT_HANDLE key, std::string_view message) {
  CK_MECHANISM mech = {CKM_EDDSA, nullptr, 0};
  if (CK_RV rv = f->C_SignInit(session, &mech, key); rv != CKR_OK) {
    return Failed("C_SignInit(CKM_EDDSA)", rv);
  }
  Bytes sig(kEd25519SignatureSize, '\0');
  CK_ULONG len = sig.size();
  CK_RV rv = f->C_Sign(
      session, reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(message.data())),
      message.size(), reinterpret_cast<CK_BYTE_PTR>(sig.data()), &len);
  if (rv != CKR_OK) return Failed("C_Sign", rv);
  if (len != kEd25519SignatureSize) {
    return absl::FailedPreconditionError(absl::StrCat("C_Sign returned ", len,
                                                      " bytes, not an Ed25519 "
                                                      "signature (64)"));
  }
  return sig;
}

}  // namespace

Pkcs11Signer::Pkcs11Signer(std::shared_ptr<Module> module,
                           unsigned long session, unsigned long key,
                           Ed25519PublicKey public_key, std::string location)
    : module_(std::move(module)),
      session_(session),
      key_(key),
      public_key_(std::move(public_key)),
      location_(std::move(location)) {}

Pkcs11Signer::~Pkcs11Signer() {
  std::lock_guard<std::mutex> lock(mu_);
  module_->f->C_CloseSession(session_);
}

// Over 80 lines: the PKCS#11 session sequence (load, initialize, find
// the token, open, log in, find the key, read its public point), each
// call with its own error naming the URI. Left whole for this session.
absl::StatusOr<std::unique_ptr<Pkcs11Signer>> Pkcs11Signer::Open(
    std::string_view uri_text) {
  ASSIGN_OR_RETURN(Pkcs11Uri uri, ParsePkcs11Uri(uri_text));
  if (auto it = uri.path.find("type");
      it != uri.path.end() && it->second != "private") {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: type must be private (the key that signs)");
  }
  auto module_path = uri.query.find("module-path");
  if (module_path == uri.query.end() || module_path->second.empty()) {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: module-path is missing (e.g. "
        "?module-path=/usr/lib/softhsm/libsofthsm2.so)");
  }
  auto pin_source = uri.query.find("pin-source");
  if (pin_source == uri.query.end() || pin_source->second.empty()) {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: pin-source is missing (&pin-source=file:/path/to/pin, "
        "a file of mode 0600 holding the user PIN)");
  }
  if (uri.path.count("object") == 0 && uri.path.count("id") == 0) {
    return absl::InvalidArgumentError(
        "PKCS#11 URI: name the key with object=<label> or id=<CKA_ID>");
  }
  ASSIGN_OR_RETURN(std::string pin, ReadPin(pin_source->second));
  ASSIGN_OR_RETURN(std::shared_ptr<Module> module,
                   Module::Get(module_path->second));
  CK_FUNCTION_LIST_PTR f = module->f;
  ASSIGN_OR_RETURN(CK_SLOT_ID slot, FindSlot(f, uri));
  CK_SESSION_HANDLE session = 0;
  if (CK_RV rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr,
                                  &session);
      rv != CKR_OK) {
    return Failed("C_OpenSession", rv);
  }
  // From here on the session is closed on every error path.
  auto fail = [&](absl::Status s) {
    f->C_CloseSession(session);
    return s;
  };
  CK_RV rv =
      f->C_Login(session, CKU_USER,
                 reinterpret_cast<CK_UTF8CHAR_PTR>(pin.data()), pin.size());
  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED ||
      rv == CKR_PIN_LEN_RANGE) {
    return fail(absl::PermissionDeniedError(
        absl::StrCat("PKCS#11 URI: the token refused the PIN from pin-source ",
                     pin_source->second, " (", RvName(rv), ")")));
  }
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    return fail(Failed("C_Login", rv));
  }
  const std::string named =
      uri.path.count("object") ? "object=" + uri.path["object"] : "the id=";
  absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> priv =
      FindKeys(f, session, CKO_PRIVATE_KEY, uri);
  if (!priv.ok()) return fail(priv.status());
  if (priv->size() != 1) {
    return fail(absl::NotFoundError(absl::StrCat(
        "PKCS#11 URI: ", priv->empty() ? "no" : std::to_string(priv->size()),
        " Ed25519 private key(s) (CKK_EC_EDWARDS) with ", named,
        " in the token", priv->empty() ? "" : "; name one with id=")));
  }
  absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> pub =
      FindKeys(f, session, CKO_PUBLIC_KEY, uri);
  if (!pub.ok()) return fail(pub.status());
  if (pub->size() != 1) {
    return fail(absl::NotFoundError(absl::StrCat(
        "PKCS#11 URI: ", pub->empty() ? "no" : std::to_string(pub->size()),
        " Ed25519 public key(s) with ", named,
        " in the token: the public key is needed beside the private one")));
  }
  absl::StatusOr<std::string> params =
      Attribute(f, session, (*pub)[0], CKA_EC_PARAMS, "CKA_EC_PARAMS");
  if (!params.ok()) return fail(params.status());
  if (!IsEd25519Params(*params)) {
    return fail(absl::FailedPreconditionError(
        "PKCS#11 URI: the key is not an Ed25519 key (its CKA_EC_PARAMS name "
        "another curve)"));
  }
  absl::StatusOr<std::string> point =
      Attribute(f, session, (*pub)[0], CKA_EC_POINT, "CKA_EC_POINT");
  if (!point.ok()) return fail(point.status());
  absl::StatusOr<std::string> raw = EcPointKey(*point);
  if (!raw.ok()) return fail(raw.status());
  absl::StatusOr<Ed25519PublicKey> public_key =
      Ed25519PublicKey::FromBytes(*raw);
  if (!public_key.ok()) return fail(public_key.status());
  // One signature proves the two halves belong together.
  static constexpr std::string_view kProbe = "cbx/v1/pkcs11-key-check";
  absl::StatusOr<Bytes> probe = SignIn(f, session, (*priv)[0], kProbe);
  if (!probe.ok()) return fail(probe.status());
  if (!public_key->Verify(kProbe, *probe)) {
    return fail(absl::FailedPreconditionError(
        "PKCS#11 URI: the private and public keys found do not match (a "
        "signature by the private key does not verify with the public "
        "key)"));
  }
  return std::unique_ptr<Pkcs11Signer>(
      new Pkcs11Signer(std::move(module), session, (*priv)[0],
                       *std::move(public_key), std::string(uri_text)));
}

absl::StatusOr<Bytes> Pkcs11Signer::Sign(std::string_view message) const {
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<Bytes> sig = SignIn(module_->f, session_, key_, message);
  if (!sig.ok()) {
    return absl::Status(sig.status().code(),
                        absl::StrCat(location_, ": ", sig.status().message()));
  }
  return sig;
}

}  // namespace cbx::crypto
