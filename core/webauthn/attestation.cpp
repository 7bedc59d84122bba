#include "core/webauthn/attestation.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <string>

#include "core/webauthn/cose_evp.h"

namespace strato::webauthn::internal {
namespace {

constexpr const char* kOidFidoAaguid = "1.3.6.1.4.1.45724.1.1.4";
constexpr const char* kOidAndroidKey = "1.3.6.1.4.1.11129.2.1.17";
constexpr const char* kOidAppleNonce = "1.2.840.113635.100.8.2";
constexpr const char* kOidTcgAikCertificate = "2.23.133.8.3";

Status Invalid(std::string_view fmt, std::string m) {
  return WebAuthnError(ErrorKind::kAttestationInvalid,
                       std::string(fmt) + " attestation: " + std::move(m));
}
Status Bad(std::string_view fmt, std::string m) {
  return WebAuthnError(ErrorKind::kMalformed,
                       std::string(fmt) + " attestation statement " + std::move(m));
}

// Text from a certificate or statement, bounded and printable for an error message.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 64) out += "...";
  return out;
}

Bytes Concat(ByteSpan a, ByteSpan b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Only the keys the format defines may appear; a stray key means the statement is not what
// the authenticator's format says it is.
Status OnlyKeys(const AttestationInput& in, std::initializer_list<std::string_view> keys) {
  for (const CborValue& k : in.statement.items) {
    if (k.type != CborType::kText ||
        std::find(keys.begin(), keys.end(), std::string_view(k.text)) == keys.end()) {
      std::string shown = k.type == CborType::kText ? " \"" + Printable(k.text) + "\"" : "";
      return Bad(in.fmt, "has an unexpected key" + shown);
    }
  }
  return Status::Ok();
}

Result<int64_t> AlgField(const AttestationInput& in) {
  const CborValue* alg = in.statement.Find("alg");
  if (alg == nullptr || !alg->AsInt()) return Bad(in.fmt, "has no integer alg");
  return *alg->AsInt();
}

Result<const Bytes*> BytesField(const AttestationInput& in, const char* name) {
  const CborValue* v = in.statement.Find(name);
  if (v == nullptr || v->type != CborType::kBytes) {
    return Bad(in.fmt, std::string("has no byte string ") + name);
  }
  return &v->bytes;
}

Result<std::vector<X509Ptr>> X5c(const AttestationInput& in) {
  const CborValue* v = in.statement.Find("x5c");
  if (v == nullptr || v->type != CborType::kArray || v->items.empty()) {
    return Bad(in.fmt, "has no x5c certificate array");
  }
  if (v->items.size() > 8) return Bad(in.fmt, "x5c holds more than 8 certificates");
  std::vector<X509Ptr> chain;
  for (size_t i = 0; i < v->items.size(); ++i) {
    if (v->items[i].type != CborType::kBytes) {
      return Bad(in.fmt, "x5c[" + std::to_string(i) + "] is not a byte string");
    }
    auto cert = ParseCertificate(v->items[i].bytes,
                                 std::string(in.fmt) + " x5c[" + std::to_string(i) + "]");
    if (!cert.ok()) return cert.status();
    chain.push_back(std::move(cert).value());
  }
  return chain;
}

// The attestation certificate's key must be the credential key (android-key, apple).
Status SameKeyAsCredential(const AttestationInput& in, X509* cert) {
  auto cred = CoseKeyToEvp(in.auth_data.attested->public_key);
  if (!cred.ok()) return cred.status();
  EVP_PKEY* cert_key = X509_get0_pubkey(cert);
  bool same = cert_key != nullptr && EVP_PKEY_eq(cert_key, cred->get()) == 1;
  ERR_clear_error();
  if (!same) {
    return Invalid(in.fmt, "the credential certificate's public key is not the credential key");
  }
  return Status::Ok();
}

// id-fido-gen-ce-aaguid, when present, must be non-critical and equal the AAGUID.
Status CheckAaguidExtension(const AttestationInput& in, X509* cert) {
  auto ext = FindExtension(cert, kOidFidoAaguid);
  if (!ext) return Status::Ok();
  if (ext->critical) return Invalid(in.fmt, "the AAGUID certificate extension is critical");
  DerReader r(ext->value);
  DerItem item;
  if (!r.Next(&item) || item.tag_class != 0 || item.tag != 4 || !r.empty()) {
    return Invalid(in.fmt, "the AAGUID certificate extension is not an OCTET STRING");
  }
  if (!SameBytes(item.content, in.auth_data.attested->aaguid)) {
    return Invalid(in.fmt,
                   "the certificate's AAGUID extension differs from the AAGUID in "
                   "authenticatorData");
  }
  return Status::Ok();
}

bool IsCa(X509* cert) {
  uint32_t flags = X509_get_extension_flags(cert);
  return (flags & EXFLAG_CA) != 0;
}

std::string SubjectEntry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

// ---------------------------------------------------------------- none (§8.7)

Result<AttestationOutcome> VerifyNone(const AttestationInput& in) {
  if (!in.statement.items.empty()) return Bad(in.fmt, "must be an empty map");
  return AttestationOutcome{AttestationType::kNone, {}};
}

// ---------------------------------------------------------------- packed (§8.2)

Result<AttestationOutcome> VerifyPacked(const AttestationInput& in) {
  STRATO_RETURN_IF_ERROR(OnlyKeys(in, {"alg", "sig", "x5c"}));
  auto alg = AlgField(in);
  if (!alg.ok()) return alg.status();
  auto sig = BytesField(in, "sig");
  if (!sig.ok()) return sig.status();
  Bytes signed_data = Concat(in.auth_data_bytes, in.client_data_hash);
  if (in.statement.Find("x5c") == nullptr) {
    const CoseKey& key = in.auth_data.attested->public_key;
    if (alg.value() != key.alg) {
      return Invalid(in.fmt, "self attestation alg " + std::to_string(alg.value()) +
                                 " differs from the credential key's alg " +
                                 std::to_string(key.alg));
    }
    Status s = VerifyCoseSignature(key, signed_data, *sig.value(), "self attestation sig");
    if (!s.ok()) {
      return WebAuthnError(ErrorKind::kAttestationInvalid, "packed attestation: " + s.message());
    }
    return AttestationOutcome{AttestationType::kSelf, {}};
  }
  auto chain = X5c(in);
  if (!chain.ok()) return chain.status();
  X509* leaf = chain.value()[0].get();
  STRATO_RETURN_IF_ERROR(VerifyWithEvp(X509_get0_pubkey(leaf), alg.value(), signed_data,
                                       *sig.value(), ErrorKind::kAttestationInvalid,
                                       "packed attestation sig"));
  // §8.2.1 certificate requirements.
  if (X509_get_version(leaf) != 2) return Invalid(in.fmt, "the certificate is not version 3");
  std::string c = SubjectEntry(leaf, NID_countryName);
  std::string o = SubjectEntry(leaf, NID_organizationName);
  std::string ou = SubjectEntry(leaf, NID_organizationalUnitName);
  std::string cn = SubjectEntry(leaf, NID_commonName);
  if (c.size() != 2 || o.empty() || cn.empty()) {
    return Invalid(in.fmt, "the certificate subject lacks C (two letters), O or CN");
  }
  if (ou != "Authenticator Attestation") {
    return Invalid(in.fmt, "the certificate subject OU is \"" + Printable(ou) +
                               "\"; expected \"Authenticator Attestation\"");
  }
  STRATO_RETURN_IF_ERROR(CheckAaguidExtension(in, leaf));
  if (IsCa(leaf)) return Invalid(in.fmt, "the attestation certificate is a CA certificate");
  return AttestationOutcome{AttestationType::kBasic, std::move(chain).value()};
}

// ---------------------------------------------------------------- fido-u2f (§8.6)

Result<AttestationOutcome> VerifyFidoU2f(const AttestationInput& in) {
  STRATO_RETURN_IF_ERROR(OnlyKeys(in, {"sig", "x5c"}));
  auto sig = BytesField(in, "sig");
  if (!sig.ok()) return sig.status();
  auto chain = X5c(in);
  if (!chain.ok()) return chain.status();
  if (chain->size() != 1) return Invalid(in.fmt, "x5c must hold exactly one certificate");
  const CoseKey& key = in.auth_data.attested->public_key;
  if (key.kty != kCoseKtyEc2 || key.crv != kCoseCrvP256) {
    return Invalid(in.fmt, "the credential key is not an EC P-256 key");
  }
  Bytes data;
  data.push_back(0x00);
  data.insert(data.end(), in.auth_data.rp_id_hash.begin(), in.auth_data.rp_id_hash.end());
  data.insert(data.end(), in.client_data_hash.begin(), in.client_data_hash.end());
  const Bytes& id = in.auth_data.attested->credential_id;
  data.insert(data.end(), id.begin(), id.end());
  data.push_back(0x04);
  data.insert(data.end(), key.x.begin(), key.x.end());
  data.insert(data.end(), key.y.begin(), key.y.end());
  STRATO_RETURN_IF_ERROR(VerifyWithEvp(X509_get0_pubkey(chain.value()[0].get()), kCoseES256, data,
                                       *sig.value(), ErrorKind::kAttestationInvalid,
                                       "fido-u2f attestation sig"));
  return AttestationOutcome{AttestationType::kBasic, std::move(chain).value()};
}

// ---------------------------------------------------------------- apple (§8.8)

Result<AttestationOutcome> VerifyApple(const AttestationInput& in) {
  STRATO_RETURN_IF_ERROR(OnlyKeys(in, {"x5c", "alg"}));
  auto chain = X5c(in);
  if (!chain.ok()) return chain.status();
  X509* leaf = chain.value()[0].get();
  auto nonce = Sha256(Concat(in.auth_data_bytes, in.client_data_hash));
  auto ext = FindExtension(leaf, kOidAppleNonce);
  if (!ext) return Invalid(in.fmt, "the credential certificate has no nonce extension");
  // SEQUENCE { [1] EXPLICIT OCTET STRING nonce }
  DerReader outer(ext->value);
  DerItem seq, tagged, octets;
  if (!outer.Next(&seq) || seq.tag != 16 || !seq.constructed) {
    return Invalid(in.fmt, "the nonce extension is not a SEQUENCE");
  }
  DerReader inner(seq.content);
  if (!inner.Next(&tagged) || tagged.tag_class != 2 || tagged.tag != 1) {
    return Invalid(in.fmt, "the nonce extension lacks its [1] element");
  }
  DerReader inner2(tagged.content);
  if (!inner2.Next(&octets) || octets.tag != 4) {
    return Invalid(in.fmt, "the nonce extension's [1] element is not an OCTET STRING");
  }
  if (!SameBytes(octets.content, nonce)) {
    return Invalid(in.fmt,
                   "the certificate nonce is not SHA-256(authenticatorData || "
                   "SHA-256(clientDataJSON))");
  }
  STRATO_RETURN_IF_ERROR(SameKeyAsCredential(in, leaf));
  return AttestationOutcome{AttestationType::kAnonCA, std::move(chain).value()};
}

// ---------------------------------------------------------------- android-key (§8.4)

struct AuthorizationList {
  bool all_applications = false;
  std::optional<int64_t> origin;
  std::vector<int64_t> purposes;
};

bool DerInteger(ByteSpan content, int64_t* out) {
  if (content.empty() || content.size() > 8) return false;
  int64_t v = (content[0] & 0x80) ? -1 : 0;
  for (uint8_t b : content) v = static_cast<int64_t>((static_cast<uint64_t>(v) << 8) | b);
  *out = v;
  return true;
}

bool ParseAuthorizationList(ByteSpan content, AuthorizationList* out) {
  DerReader r(content);
  DerItem field;
  while (!r.empty()) {
    if (!r.Next(&field)) return false;
    if (field.tag_class != 2) continue;
    if (field.tag == 600) {
      out->all_applications = true;
    } else if (field.tag == 702) {
      DerReader v(field.content);
      DerItem i;
      int64_t value = 0;
      if (!v.Next(&i) || i.tag != 2 || !DerInteger(i.content, &value)) return false;
      out->origin = value;
    } else if (field.tag == 1) {
      DerReader v(field.content);
      DerItem set;
      if (!v.Next(&set) || set.tag != 17) return false;
      DerReader members(set.content);
      DerItem i;
      while (!members.empty()) {
        int64_t value = 0;
        if (!members.Next(&i) || i.tag != 2 || !DerInteger(i.content, &value)) return false;
        out->purposes.push_back(value);
      }
    }
  }
  return true;
}

Result<AttestationOutcome> VerifyAndroidKey(const AttestationInput& in) {
  STRATO_RETURN_IF_ERROR(OnlyKeys(in, {"alg", "sig", "x5c"}));
  auto alg = AlgField(in);
  if (!alg.ok()) return alg.status();
  auto sig = BytesField(in, "sig");
  if (!sig.ok()) return sig.status();
  auto chain = X5c(in);
  if (!chain.ok()) return chain.status();
  X509* leaf = chain.value()[0].get();
  STRATO_RETURN_IF_ERROR(VerifyWithEvp(
      X509_get0_pubkey(leaf), alg.value(), Concat(in.auth_data_bytes, in.client_data_hash),
      *sig.value(), ErrorKind::kAttestationInvalid, "android-key attestation sig"));
  STRATO_RETURN_IF_ERROR(SameKeyAsCredential(in, leaf));
  auto ext = FindExtension(leaf, kOidAndroidKey);
  if (!ext) return Invalid(in.fmt, "the certificate has no key attestation extension");
  // KeyDescription ::= SEQUENCE { attestationVersion, attestationSecurityLevel,
  //   keymasterVersion, keymasterSecurityLevel, attestationChallenge OCTET STRING,
  //   uniqueId OCTET STRING, softwareEnforced AuthorizationList, teeEnforced AuthorizationList }
  DerReader outer(ext->value);
  DerItem seq;
  if (!outer.Next(&seq) || seq.tag != 16) {
    return Invalid(in.fmt, "the key description is not a SEQUENCE");
  }
  DerReader r(seq.content);
  DerItem fields[8];
  for (int i = 0; i < 8; ++i) {
    if (!r.Next(&fields[i])) return Invalid(in.fmt, "the key description is truncated");
  }
  if (fields[4].tag != 4) return Invalid(in.fmt, "attestationChallenge is not an OCTET STRING");
  if (!SameBytes(fields[4].content, in.client_data_hash)) {
    return Invalid(in.fmt, "attestationChallenge is not SHA-256(clientDataJSON)");
  }
  AuthorizationList software, tee;
  if (fields[6].tag != 16 || fields[7].tag != 16 ||
      !ParseAuthorizationList(fields[6].content, &software) ||
      !ParseAuthorizationList(fields[7].content, &tee)) {
    return Invalid(in.fmt, "the authorization lists cannot be read");
  }
  if (software.all_applications || tee.all_applications) {
    return Invalid(in.fmt, "the key is bound to all applications (allApplications is present)");
  }
  // The union of both lists: this RP accepts keys from software keystores as well as TEEs.
  std::optional<int64_t> origin = tee.origin ? tee.origin : software.origin;
  if (origin != 0) {
    return Invalid(in.fmt,
                   "the authorization lists do not say the key was generated in the "
                   "keystore (origin KM_ORIGIN_GENERATED)");
  }
  auto has_sign = [](const AuthorizationList& l) {
    return std::find(l.purposes.begin(), l.purposes.end(), 2) != l.purposes.end();
  };
  if (!has_sign(tee) && !has_sign(software)) {
    return Invalid(in.fmt, "the authorization lists do not give the key purpose KM_PURPOSE_SIGN");
  }
  return AttestationOutcome{AttestationType::kBasic, std::move(chain).value()};
}

// ---------------------------------------------------------------- tpm (§8.3)

class TpmReader {
 public:
  explicit TpmReader(ByteSpan in) : in_(in) {}
  bool U8(uint8_t* v) {
    if (in_.size() - pos_ < 1) return false;
    *v = in_[pos_++];
    return true;
  }
  bool U16(uint16_t* v) {
    if (in_.size() - pos_ < 2) return false;
    *v = static_cast<uint16_t>((in_[pos_] << 8) | in_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    uint16_t hi, lo;
    if (!U16(&hi) || !U16(&lo)) return false;
    *v = (uint32_t{hi} << 16) | lo;
    return true;
  }
  bool Skip(size_t n) {
    if (in_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  bool Sized(ByteSpan* out) {  // TPM2B: u16 size then bytes
    uint16_t n;
    if (!U16(&n) || in_.size() - pos_ < n) return false;
    *out = in_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  ByteSpan in_;
  size_t pos_ = 0;
};

constexpr uint16_t kTpmAlgRsa = 0x0001;
constexpr uint16_t kTpmAlgEcc = 0x0023;
constexpr uint16_t kTpmAlgNull = 0x0010;

const char* TpmHashName(uint16_t alg) {
  switch (alg) {
    case 0x0004:
      return "SHA1";
    case 0x000B:
      return "SHA256";
    case 0x000C:
      return "SHA384";
    case 0x000D:
      return "SHA512";
    default:
      return nullptr;
  }
}

Status CheckTpmPubArea(const AttestationInput& in, ByteSpan pub_area, uint16_t* name_alg) {
  TpmReader r(pub_area);
  uint16_t type, symmetric, scheme;
  uint32_t attributes;
  ByteSpan policy;
  if (!r.U16(&type) || !r.U16(name_alg) || !r.U32(&attributes) || !r.Sized(&policy)) {
    return Bad(in.fmt, "pubArea is truncated");
  }
  const CoseKey& key = in.auth_data.attested->public_key;
  if (type == kTpmAlgRsa) {
    uint16_t bits;
    uint32_t exponent;
    ByteSpan modulus;
    if (!r.U16(&symmetric) || !r.U16(&scheme)) return Bad(in.fmt, "pubArea is truncated");
    if (symmetric != kTpmAlgNull) return Invalid(in.fmt, "pubArea names a symmetric algorithm");
    if (scheme != kTpmAlgNull && !r.Skip(2)) return Bad(in.fmt, "pubArea is truncated");
    if (!r.U16(&bits) || !r.U32(&exponent) || !r.Sized(&modulus) || !r.done()) {
      return Bad(in.fmt, "pubArea RSA parameters are malformed");
    }
    if (key.kty != kCoseKtyRsa) return Invalid(in.fmt, "pubArea is RSA but the credential is not");
    uint64_t e = exponent == 0 ? 65537 : exponent;
    uint64_t cose_e = 0;
    for (uint8_t b : key.e) cose_e = (cose_e << 8) | b;
    if (!SameBytes(modulus, key.n) || e != cose_e) {
      return Invalid(in.fmt, "pubArea's RSA key is not the credential key");
    }
    return Status::Ok();
  }
  if (type == kTpmAlgEcc) {
    uint16_t curve, kdf;
    ByteSpan x, y;
    if (!r.U16(&symmetric) || !r.U16(&scheme)) return Bad(in.fmt, "pubArea is truncated");
    if (symmetric != kTpmAlgNull) return Invalid(in.fmt, "pubArea names a symmetric algorithm");
    if (scheme != kTpmAlgNull && !r.Skip(2)) return Bad(in.fmt, "pubArea is truncated");
    if (!r.U16(&curve) || !r.U16(&kdf)) return Bad(in.fmt, "pubArea is truncated");
    if (kdf != kTpmAlgNull && !r.Skip(2)) return Bad(in.fmt, "pubArea is truncated");
    if (!r.Sized(&x) || !r.Sized(&y) || !r.done()) {
      return Bad(in.fmt, "pubArea ECC point is malformed");
    }
    int64_t crv = curve == 0x0003   ? kCoseCrvP256
                  : curve == 0x0004 ? kCoseCrvP384
                  : curve == 0x0005 ? kCoseCrvP521
                                    : -1;
    if (key.kty != kCoseKtyEc2 || key.crv != crv || !SameBytes(x, key.x) || !SameBytes(y, key.y)) {
      return Invalid(in.fmt, "pubArea's ECC key is not the credential key");
    }
    return Status::Ok();
  }
  return Invalid(in.fmt, "pubArea key type " + std::to_string(type) + " is not RSA or ECC");
}

Result<AttestationOutcome> VerifyTpm(const AttestationInput& in) {
  STRATO_RETURN_IF_ERROR(
      OnlyKeys(in, {"ver", "alg", "x5c", "ecdaaKeyId", "sig", "certInfo", "pubArea"}));
  const CborValue* ver = in.statement.Find("ver");
  if (ver == nullptr || ver->type != CborType::kText || ver->text != "2.0") {
    return Invalid(in.fmt, "ver is not \"2.0\"");
  }
  if (in.statement.Find("ecdaaKeyId") != nullptr) {
    return WebAuthnError(ErrorKind::kUnsupportedFormat,
                         "tpm attestation with ECDAA is not supported");
  }
  auto alg = AlgField(in);
  if (!alg.ok()) return alg.status();
  auto sig = BytesField(in, "sig");
  if (!sig.ok()) return sig.status();
  auto cert_info = BytesField(in, "certInfo");
  if (!cert_info.ok()) return cert_info.status();
  auto pub_area = BytesField(in, "pubArea");
  if (!pub_area.ok()) return pub_area.status();
  auto chain = X5c(in);
  if (!chain.ok()) return chain.status();

  uint16_t name_alg = 0;
  STRATO_RETURN_IF_ERROR(CheckTpmPubArea(in, *pub_area.value(), &name_alg));

  // certInfo is a TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY.
  TpmReader r(*cert_info.value());
  uint32_t magic;
  uint16_t type;
  ByteSpan signer, extra, name, qualified_name;
  if (!r.U32(&magic) || !r.U16(&type) || !r.Sized(&signer) || !r.Sized(&extra) || !r.Skip(17 + 8) ||
      !r.Sized(&name) || !r.Sized(&qualified_name) || !r.done()) {
    return Bad(in.fmt, "certInfo is malformed");
  }
  if (magic != 0xff544347) return Invalid(in.fmt, "certInfo magic is not TPM_GENERATED_VALUE");
  if (type != 0x8017) return Invalid(in.fmt, "certInfo type is not TPM_ST_ATTEST_CERTIFY");
  const char* hash = DigestNameForAlg(alg.value());
  if (hash == nullptr) {
    return WebAuthnError(
        ErrorKind::kUnsupportedAlgorithm,
        "tpm attestation alg " + std::to_string(alg.value()) + " is not supported");
  }
  Bytes att_to_be_signed = Concat(in.auth_data_bytes, in.client_data_hash);
  if (!SameBytes(extra, Digest(hash, att_to_be_signed))) {
    return Invalid(in.fmt,
                   "certInfo.extraData is not the hash of authenticatorData || "
                   "clientDataHash");
  }
  const char* name_hash = TpmHashName(name_alg);
  if (name_hash == nullptr || name.size() < 2 || ((uint16_t{name[0]} << 8) | name[1]) != name_alg ||
      !SameBytes(name.subspan(2), Digest(name_hash, *pub_area.value()))) {
    return Invalid(in.fmt, "certInfo.attested.name is not the name of pubArea");
  }
  X509* aik = chain.value()[0].get();
  STRATO_RETURN_IF_ERROR(VerifyWithEvp(X509_get0_pubkey(aik), alg.value(), *cert_info.value(),
                                       *sig.value(), ErrorKind::kAttestationInvalid,
                                       "tpm attestation sig"));
  // §8.3.1 AIK certificate requirements.
  if (X509_get_version(aik) != 2) return Invalid(in.fmt, "the AIK certificate is not version 3");
  if (X509_NAME_entry_count(X509_get_subject_name(aik)) != 0) {
    return Invalid(in.fmt, "the AIK certificate subject is not empty");
  }
  if (!FindExtension(aik, "2.5.29.17")) {
    return Invalid(in.fmt, "the AIK certificate has no subject alternative name");
  }
  bool aik_eku = false;
  if (auto* eku = static_cast<EXTENDED_KEY_USAGE*>(
          X509_get_ext_d2i(aik, NID_ext_key_usage, nullptr, nullptr))) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
      char oid[64];
      OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, i), 1);
      if (std::string_view(oid) == kOidTcgAikCertificate) aik_eku = true;
    }
    EXTENDED_KEY_USAGE_free(eku);
  }
  ERR_clear_error();
  if (!aik_eku) {
    return Invalid(in.fmt, "the AIK certificate lacks extended key usage tcg-kp-AIKCertificate");
  }
  if (IsCa(aik)) return Invalid(in.fmt, "the AIK certificate is a CA certificate");
  STRATO_RETURN_IF_ERROR(CheckAaguidExtension(in, aik));
  return AttestationOutcome{AttestationType::kAttCA, std::move(chain).value()};
}

}  // namespace

Result<AttestationOutcome> VerifyAttestationStatement(const AttestationInput& in) {
  if (in.statement.type != CborType::kMap) {
    return Bad(in.fmt, "is a " + std::string(CborTypeName(in.statement.type)) + "; expected a map");
  }
  if (in.fmt == "none") return VerifyNone(in);
  if (in.fmt == "packed") return VerifyPacked(in);
  if (in.fmt == "fido-u2f") return VerifyFidoU2f(in);
  if (in.fmt == "tpm") return VerifyTpm(in);
  if (in.fmt == "android-key") return VerifyAndroidKey(in);
  if (in.fmt == "apple") return VerifyApple(in);
  return WebAuthnError(ErrorKind::kUnsupportedFormat,
                       "unsupported attestation format " + Printable(in.fmt));
}

}  // namespace strato::webauthn::internal
