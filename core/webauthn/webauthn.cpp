#include "core/webauthn/webauthn.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>

#include "core/webauthn/attestation.h"
#include "core/webauthn/authenticator_data.h"
#include "core/webauthn/cbor.h"
#include "core/webauthn/client_data.h"
#include "core/webauthn/cose.h"
#include "core/webauthn/crypto.h"

namespace strato::webauthn {
namespace {

using internal::Bytes;
using internal::SameBytes;
using internal::Sha256;

Status Bad(std::string m) {
  return WebAuthnError(ErrorKind::kMalformed, std::move(m));
}

// Far above any real response (a 5-certificate x5c is about 10 KiB); bounds parsing work.
constexpr size_t kMaxCredentialJsonBytes = 512 * 1024;

Status TooLarge(size_t size) {
  return Bad("the credential JSON is " + std::to_string(size) + " bytes; the limit is " +
             std::to_string(kMaxCredentialJsonBytes));
}

// Finds a member that must be a base64url string and decodes it.
Status DecodeMember(const rapidjson::Value& object, const char* name, const char* path,
                    bool required, Bytes* out, bool* present = nullptr) {
  if (present != nullptr) *present = false;
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) {
    if (required) return Bad(std::string("the credential has no ") + path);
    return Status::Ok();
  }
  if (!it->value.IsString()) return Bad(std::string(path) + " is not a string");
  auto bytes =
      Base64UrlDecode(std::string_view(it->value.GetString(), it->value.GetStringLength()));
  if (!bytes.ok()) return Malformed(bytes.status(), path);
  *out = std::move(bytes).value();
  if (present != nullptr) *present = true;
  return Status::Ok();
}

// Common outer shape of a PublicKeyCredential JSON: returns the "response" object.
Result<const rapidjson::Value*> CredentialEnvelope(const rapidjson::Document& doc, Bytes* raw_id) {
  if (doc.HasParseError()) {
    return Bad("the credential is not valid JSON: " +
               std::string(rapidjson::GetParseError_En(doc.GetParseError())) + " at offset " +
               std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Bad("the credential is not a JSON object");
  if (auto t = doc.FindMember("type"); t != doc.MemberEnd()) {
    if (!t->value.IsString() || std::string_view(t->value.GetString()) != "public-key") {
      return Bad("the credential type is not \"public-key\"");
    }
  }
  STRATO_RETURN_IF_ERROR(DecodeMember(doc, "rawId", "rawId", true, raw_id));
  Bytes id;
  bool has_id = false;
  STRATO_RETURN_IF_ERROR(DecodeMember(doc, "id", "id", false, &id, &has_id));
  if (has_id && id != *raw_id) return Bad("the credential id and rawId differ");
  auto r = doc.FindMember("response");
  if (r == doc.MemberEnd() || !r->value.IsObject()) {
    return Bad("the credential has no response object");
  }
  return &r->value;
}

Status CheckRpIdHash(const RelyingParty& rp, const AuthenticatorData& ad) {
  if (!SameBytes(ad.rp_id_hash, Sha256(rp.id))) {
    return WebAuthnError(ErrorKind::kRpIdMismatch,
                         "authenticatorData.rpIdHash is not SHA-256 of the RP ID " + rp.id);
  }
  return Status::Ok();
}

Status CheckFlags(const AuthenticatorData& ad, bool require_up, bool require_uv) {
  if (require_up && !ad.user_present()) {
    return WebAuthnError(ErrorKind::kFlags,
                         "authenticatorData flags lack UP: the user was not present");
  }
  if (require_uv && !ad.user_verified()) {
    return WebAuthnError(ErrorKind::kFlags,
                         "authenticatorData flags lack UV: user verification is required");
  }
  if (ad.backup_state() && !ad.backup_eligible()) {
    return WebAuthnError(ErrorKind::kFlags,
                         "authenticatorData flags set BS (backed up) without BE (eligible)");
  }
  return Status::Ok();
}

std::string IdForMessage(const Bytes& id) {
  std::string s = Base64UrlEncode(id);
  if (s.size() > 64) s = s.substr(0, 64) + "...";
  return s;
}

}  // namespace

std::string_view AttestationTypeName(AttestationType type) {
  switch (type) {
    case AttestationType::kNone:
      return "none";
    case AttestationType::kSelf:
      return "self";
    case AttestationType::kBasic:
      return "basic";
    case AttestationType::kAttCA:
      return "attca";
    case AttestationType::kAnonCA:
      return "anonca";
  }
  return "unknown";
}

Result<RegistrationResponse> ParseRegistrationResponseJson(std::string_view json) {
  if (json.size() > kMaxCredentialJsonBytes) return TooLarge(json.size());
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                    json.size());
  RegistrationResponse out;
  auto response = CredentialEnvelope(doc, &out.raw_id);
  if (!response.ok()) return response.status();
  const rapidjson::Value& r = *response.value();
  Bytes cdj;
  STRATO_RETURN_IF_ERROR(DecodeMember(r, "clientDataJSON", "response.clientDataJSON", true, &cdj));
  out.client_data_json.assign(cdj.begin(), cdj.end());
  STRATO_RETURN_IF_ERROR(DecodeMember(r, "attestationObject", "response.attestationObject", true,
                                      &out.attestation_object));
  if (auto t = r.FindMember("transports"); t != r.MemberEnd()) {
    if (!t->value.IsArray()) return Bad("response.transports is not an array");
    for (const auto& v : t->value.GetArray()) {
      if (!v.IsString()) return Bad("response.transports holds a non-string");
      out.transports.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  return out;
}

Result<AssertionResponse> ParseAssertionResponseJson(std::string_view json) {
  if (json.size() > kMaxCredentialJsonBytes) return TooLarge(json.size());
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                    json.size());
  AssertionResponse out;
  auto response = CredentialEnvelope(doc, &out.raw_id);
  if (!response.ok()) return response.status();
  const rapidjson::Value& r = *response.value();
  Bytes cdj;
  STRATO_RETURN_IF_ERROR(DecodeMember(r, "clientDataJSON", "response.clientDataJSON", true, &cdj));
  out.client_data_json.assign(cdj.begin(), cdj.end());
  STRATO_RETURN_IF_ERROR(DecodeMember(r, "authenticatorData", "response.authenticatorData", true,
                                      &out.authenticator_data));
  STRATO_RETURN_IF_ERROR(DecodeMember(r, "signature", "response.signature", true, &out.signature));
  Bytes handle;
  bool has_handle = false;
  STRATO_RETURN_IF_ERROR(
      DecodeMember(r, "userHandle", "response.userHandle", false, &handle, &has_handle));
  if (has_handle && !handle.empty()) out.user_handle = std::move(handle);
  return out;
}

Result<RegisteredCredential> VerifyRegistration(const RelyingParty& rp,
                                                const RegistrationOptions& options,
                                                const RegistrationResponse& response) {
  auto client_data = CheckClientData(response.client_data_json, kTypeCreate, options.challenge, rp);
  if (!client_data.ok()) return client_data.status();
  auto client_data_hash = Sha256(response.client_data_json);

  CborLimits limits;
  limits.max_depth = 8;
  auto object = DecodeCbor(response.attestation_object, limits);
  if (!object.ok()) return Malformed(object.status(), "attestationObject");
  if (object->type != CborType::kMap) return Bad("attestationObject is not a CBOR map");
  for (const CborValue& key : object->items) {
    if (key.type != CborType::kText ||
        (key.text != "fmt" && key.text != "attStmt" && key.text != "authData")) {
      return Bad("attestationObject has a key other than fmt, attStmt and authData");
    }
  }
  const CborValue* fmt = object->Find("fmt");
  const CborValue* statement = object->Find("attStmt");
  const CborValue* auth_data_bytes = object->Find("authData");
  if (fmt == nullptr || fmt->type != CborType::kText) {
    return Bad("attestationObject has no text fmt");
  }
  if (statement == nullptr || statement->type != CborType::kMap) {
    return Bad("attestationObject has no attStmt map");
  }
  if (auth_data_bytes == nullptr || auth_data_bytes->type != CborType::kBytes) {
    return Bad("attestationObject has no authData byte string");
  }
  auto auth_data = ParseAuthenticatorData(auth_data_bytes->bytes);
  if (!auth_data.ok()) return auth_data.status();
  const AuthenticatorData& ad = auth_data.value();
  STRATO_RETURN_IF_ERROR(CheckRpIdHash(rp, ad));
  STRATO_RETURN_IF_ERROR(
      CheckFlags(ad, options.require_user_presence, options.require_user_verification));
  if (!ad.attested) {
    return Bad("authenticatorData of a registration has no attested credential data (AT flag)");
  }
  const AttestedCredentialData& cred = *ad.attested;
  if (!options.allowed_algorithms.empty() &&
      std::find(options.allowed_algorithms.begin(), options.allowed_algorithms.end(),
                cred.public_key.alg) == options.allowed_algorithms.end()) {
    return WebAuthnError(ErrorKind::kUnsupportedAlgorithm,
                         "the credential uses COSE algorithm " +
                             std::to_string(cred.public_key.alg) +
                             ", which this relying party did not offer");
  }
  if (response.raw_id != cred.credential_id) {
    return WebAuthnError(ErrorKind::kCredentialIdMismatch,
                         "rawId " + IdForMessage(response.raw_id) +
                             " is not the credential id attested in authenticatorData (" +
                             IdForMessage(cred.credential_id) + ")");
  }

  internal::AttestationInput input{fmt->text, *statement, auth_data_bytes->bytes, ad,
                                   client_data_hash};
  auto outcome = internal::VerifyAttestationStatement(input);
  if (!outcome.ok()) return outcome.status();

  bool trusted = false;
  if (!outcome->chain.empty() && !options.trust_anchors.empty()) {
    STRATO_RETURN_IF_ERROR(
        internal::VerifyChain(outcome->chain, options.trust_anchors, options.verification_time));
    trusted = true;
  }
  if (options.require_trusted_attestation && !trusted) {
    return WebAuthnError(ErrorKind::kUntrustedChain,
                         std::string(fmt->text) + " attestation of type " +
                             std::string(AttestationTypeName(outcome->type)) +
                             " cannot be traced to a configured trust anchor");
  }

  RegisteredCredential out;
  out.credential_id = cred.credential_id;
  out.public_key_cose = cred.public_key_cose;
  out.algorithm = cred.public_key.alg;
  out.sign_count = ad.sign_count;
  out.user_verified = ad.user_verified();
  out.backup_eligible = ad.backup_eligible();
  out.backup_state = ad.backup_state();
  out.aaguid = cred.aaguid;
  out.attestation_format = fmt->text;
  out.attestation_type = outcome->type;
  out.attestation_trusted = trusted;
  out.transports = response.transports;
  return out;
}

Result<AssertionResult> VerifyAssertion(const RelyingParty& rp, const AssertionOptions& options,
                                        const StoredCredential& credential,
                                        const AssertionResponse& response) {
  if (!credential.credential_id.empty() && response.raw_id != credential.credential_id) {
    return WebAuthnError(ErrorKind::kCredentialIdMismatch,
                         "rawId " + IdForMessage(response.raw_id) +
                             " is not the stored credential " +
                             IdForMessage(credential.credential_id));
  }
  if (options.expected_user_handle) {
    if (!response.user_handle) {
      return WebAuthnError(ErrorKind::kUserHandleMismatch,
                           "the response has no userHandle but this sign-in needs one");
    }
    if (!SameBytes(*response.user_handle, *options.expected_user_handle)) {
      return WebAuthnError(ErrorKind::kUserHandleMismatch,
                           "userHandle is not the handle of the account that owns credential " +
                               IdForMessage(credential.credential_id));
    }
  }
  auto client_data = CheckClientData(response.client_data_json, kTypeGet, options.challenge, rp);
  if (!client_data.ok()) return client_data.status();
  auto auth_data = ParseAuthenticatorData(response.authenticator_data);
  if (!auth_data.ok()) return auth_data.status();
  const AuthenticatorData& ad = auth_data.value();
  STRATO_RETURN_IF_ERROR(CheckRpIdHash(rp, ad));
  STRATO_RETURN_IF_ERROR(
      CheckFlags(ad, options.require_user_presence, options.require_user_verification));

  auto key = ParseCoseKey(credential.public_key_cose);
  if (!key.ok()) return key.status().WithContext("stored credential public key");
  auto client_data_hash = Sha256(response.client_data_json);
  Bytes signed_data(response.authenticator_data.begin(), response.authenticator_data.end());
  signed_data.insert(signed_data.end(), client_data_hash.begin(), client_data_hash.end());
  STRATO_RETURN_IF_ERROR(
      VerifyCoseSignature(key.value(), signed_data, response.signature, "assertion signature"));

  if (ad.sign_count != 0 && credential.sign_count != 0 && ad.sign_count <= credential.sign_count) {
    return WebAuthnError(ErrorKind::kCounterRegression,
                         "signCount " + std::to_string(ad.sign_count) +
                             " is not above the stored " + std::to_string(credential.sign_count) +
                             " for credential " + IdForMessage(credential.credential_id) +
                             "; the authenticator may have been cloned");
  }
  AssertionResult out;
  out.credential_id = response.raw_id;
  out.new_sign_count = ad.sign_count;
  out.user_verified = ad.user_verified();
  out.backup_eligible = ad.backup_eligible();
  out.backup_state = ad.backup_state();
  out.user_handle = response.user_handle;
  return out;
}

Result<std::vector<std::vector<uint8_t>>> LoadPemCertificates(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return WebAuthnError(ErrorKind::kInternal, "OpenSSL could not allocate a BIO");
  std::vector<std::vector<uint8_t>> out;
  while (true) {
    X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (raw == nullptr) break;
    internal::X509Ptr cert(raw);
    int len = i2d_X509(cert.get(), nullptr);
    if (len <= 0) break;
    std::vector<uint8_t> der(static_cast<size_t>(len));
    unsigned char* p = der.data();
    i2d_X509(cert.get(), &p);
    out.push_back(std::move(der));
  }
  unsigned long err = ERR_peek_last_error();
  ERR_clear_error();
  bool clean_end = ERR_GET_REASON(err) == PEM_R_NO_START_LINE || err == 0;
  if (out.empty()) return Bad("the PEM text holds no certificate");
  if (!clean_end) return Bad("the PEM text holds a certificate OpenSSL cannot read");
  return out;
}

}  // namespace strato::webauthn
