#include "core/webauthn/crypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace strato::webauthn::internal {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct StoreDeleter {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackDeleter {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
struct ObjDeleter {
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
};

std::string GroupName(EVP_PKEY* key) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1) {
    return "";
  }
  return std::string(name, len);
}

bool IsPss(int64_t alg) {
  return alg == -37 || alg == -38 || alg == -39;
}

std::string KeyTypeName(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      return "EC " + GroupName(key);
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    default:
      return "unknown";
  }
}

}  // namespace

std::array<uint8_t, 32> Sha256(ByteSpan data) {
  std::array<uint8_t, 32> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

Bytes Digest(const char* name, ByteSpan data) {
  const EVP_MD* md = EVP_get_digestbyname(name);
  if (md == nullptr) return {};
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) return {};
  out.resize(len);
  return out;
}

bool SameBytes(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

const char* DigestNameForAlg(int64_t alg) {
  switch (alg) {
    case -7:    // ES256
    case -257:  // RS256
    case -37:   // PS256
      return "SHA256";
    case -35:   // ES384
    case -258:  // RS384
    case -38:   // PS384
      return "SHA384";
    case -36:   // ES512
    case -259:  // RS512
    case -39:   // PS512
      return "SHA512";
    case -65535:  // RS1 (legacy TPM)
      return "SHA1";
    default:
      return nullptr;
  }
}

Status VerifyWithEvp(EVP_PKEY* key, int64_t alg, ByteSpan data, ByteSpan sig, ErrorKind on_mismatch,
                     std::string_view what) {
  if (key == nullptr) {
    // X509_get0_pubkey gives nullptr for key types OpenSSL cannot decode.
    return WebAuthnError(on_mismatch, std::string(what) +
                                          " cannot be checked: the certificate "
                                          "has no public key OpenSSL can use");
  }
  int base = EVP_PKEY_get_base_id(key);
  bool suits = false;
  switch (alg) {
    case -7:
      suits = base == EVP_PKEY_EC && GroupName(key) == "prime256v1";
      break;
    case -35:
      suits = base == EVP_PKEY_EC && GroupName(key) == "secp384r1";
      break;
    case -36:
      suits = base == EVP_PKEY_EC && GroupName(key) == "secp521r1";
      break;
    case -8:
      suits = base == EVP_PKEY_ED25519 || base == EVP_PKEY_ED448;
      break;
    case -19:
      suits = base == EVP_PKEY_ED25519;
      break;
    case -53:
      suits = base == EVP_PKEY_ED448;
      break;
    case -257:
    case -258:
    case -259:
    case -37:
    case -38:
    case -39:
    case -65535:
      suits = base == EVP_PKEY_RSA;
      break;
    default:
      return WebAuthnError(ErrorKind::kUnsupportedAlgorithm,
                           std::string(what) + " uses COSE algorithm " + std::to_string(alg) +
                               ", which is not supported");
  }
  if (!suits) {
    return WebAuthnError(on_mismatch, std::string(what) + " names COSE algorithm " +
                                          std::to_string(alg) + " but the key is " +
                                          KeyTypeName(key));
  }
  const EVP_MD* md = nullptr;
  if (const char* name = DigestNameForAlg(alg)) md = EVP_get_digestbyname(name);
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    ERR_clear_error();
    return WebAuthnError(
        ErrorKind::kInternal,
        "OpenSSL could not set up signature verification for " + std::string(what));
  }
  if (IsPss(alg)) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      ERR_clear_error();
      return WebAuthnError(ErrorKind::kInternal, "OpenSSL could not set RSA-PSS padding");
    }
  }
  int rc = EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size());
  ERR_clear_error();
  if (rc != 1) {
    return WebAuthnError(on_mismatch, std::string(what) + " does not verify");
  }
  return Status::Ok();
}

Result<X509Ptr> ParseCertificate(ByteSpan der, std::string_view what) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!cert) {
    return WebAuthnError(ErrorKind::kMalformed,
                         std::string(what) + " is not a DER X.509 certificate");
  }
  if (p != der.data() + der.size()) {
    return WebAuthnError(ErrorKind::kMalformed,
                         std::string(what) + " has bytes after its DER certificate");
  }
  return cert;
}

Status VerifyChain(const std::vector<X509Ptr>& chain, const std::vector<Bytes>& anchors,
                   std::chrono::sys_seconds at) {
  if (chain.empty()) {
    return WebAuthnError(ErrorKind::kUntrustedChain, "the attestation has no certificates");
  }
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  if (!store) return WebAuthnError(ErrorKind::kInternal, "OpenSSL could not make a store");
  for (size_t i = 0; i < anchors.size(); ++i) {
    auto anchor = ParseCertificate(anchors[i], "trust anchor " + std::to_string(i));
    if (!anchor.ok()) return anchor.status();
    X509_STORE_add_cert(store.get(), anchor->get());
  }
  std::unique_ptr<STACK_OF(X509), StackDeleter> untrusted(sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return WebAuthnError(ErrorKind::kInternal, "OpenSSL could not set up chain verification");
  }
  // Anchors may be intermediates an operator chose to pin; PARTIAL_CHAIN lets them end a path.
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(at.time_since_epoch().count()));
  int rc = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  ERR_clear_error();
  if (rc != 1) {
    return WebAuthnError(ErrorKind::kUntrustedChain,
                         "the attestation certificate chain does not lead to a trust anchor: " +
                             std::string(X509_verify_cert_error_string(err)) + " (certificate " +
                             std::to_string(depth) + " of x5c)");
  }
  return Status::Ok();
}

std::optional<ExtensionData> FindExtension(X509* cert, const char* oid) {
  std::unique_ptr<ASN1_OBJECT, ObjDeleter> obj(OBJ_txt2obj(oid, 1));
  if (!obj) return std::nullopt;
  int index = X509_get_ext_by_OBJ(cert, obj.get(), -1);
  if (index < 0) return std::nullopt;
  X509_EXTENSION* ext = X509_get_ext(cert, index);
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  ExtensionData out;
  out.critical = X509_EXTENSION_get_critical(ext) == 1;
  out.value.assign(ASN1_STRING_get0_data(data),
                   ASN1_STRING_get0_data(data) + ASN1_STRING_length(data));
  return out;
}

bool DerReader::Next(DerItem* out) {
  if (pos_ >= in_.size()) return false;
  uint8_t first = in_[pos_++];
  out->tag_class = first >> 6;
  out->constructed = (first & 0x20) != 0;
  uint32_t tag = first & 0x1f;
  if (tag == 0x1f) {
    tag = 0;
    for (int i = 0;; ++i) {
      if (pos_ >= in_.size() || i >= 4) return false;
      uint8_t b = in_[pos_++];
      tag = (tag << 7) | (b & 0x7f);
      if ((b & 0x80) == 0) break;
    }
  }
  out->tag = tag;
  if (pos_ >= in_.size()) return false;
  uint8_t l = in_[pos_++];
  size_t len = 0;
  if (l < 0x80) {
    len = l;
  } else {
    size_t n = l & 0x7f;
    if (n == 0 || n > 4 || in_.size() - pos_ < n) return false;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | in_[pos_++];
  }
  if (len > in_.size() - pos_) return false;
  out->content = in_.subspan(pos_, len);
  pos_ += len;
  return true;
}

}  // namespace strato::webauthn::internal
