// A software authenticator for tests: makes registration and assertion responses with fresh
// ES256 (OpenSSL), EdDSA (libsodium) or RS256 (OpenSSL) keys, and a tiny CBOR writer to build
// them. Lets tests change one field at a time (flags, counter, origin, challenge, ...).
//
// Not thread-safe; each test makes its own. The authenticator owns its key.
#pragma once

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/webauthn/authenticator_data.h"
#include "core/webauthn/base64url.h"
#include "core/webauthn/crypto.h"
#include "core/webauthn/webauthn.h"

namespace strato::webauthn::testing {

using Bytes = std::vector<uint8_t>;

class CborWriter {
 public:
  CborWriter& Head(int major, uint64_t n) {
    uint8_t m = static_cast<uint8_t>(major << 5);
    if (n < 24) {
      out_.push_back(m | static_cast<uint8_t>(n));
    } else if (n <= 0xff) {
      out_.push_back(m | 24);
      out_.push_back(static_cast<uint8_t>(n));
    } else if (n <= 0xffff) {
      out_.push_back(m | 25);
      out_.push_back(static_cast<uint8_t>(n >> 8));
      out_.push_back(static_cast<uint8_t>(n));
    } else {
      out_.push_back(m | 26);
      for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(n >> s));
    }
    return *this;
  }
  CborWriter& Int(int64_t v) { return v >= 0 ? Head(0, uint64_t(v)) : Head(1, uint64_t(-1 - v)); }
  CborWriter& Bytes(std::span<const uint8_t> b) {
    Head(2, b.size());
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  CborWriter& Text(std::string_view t) {
    Head(3, t.size());
    out_.insert(out_.end(), t.begin(), t.end());
    return *this;
  }
  CborWriter& Array(size_t n) { return Head(4, n); }
  CborWriter& Map(size_t n) { return Head(5, n); }
  CborWriter& Raw(std::span<const uint8_t> b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  std::vector<uint8_t> out_;
};

enum class KeyKind { kES256, kEdDSA, kRS256 };

struct ClientDataSpec {
  std::string type;
  Bytes challenge;
  std::string origin;
  bool cross_origin = false;
};

inline std::string MakeClientData(const ClientDataSpec& s) {
  return R"({"type":")" + s.type + R"(","challenge":")" + Base64UrlEncode(s.challenge) +
         R"(","origin":")" + s.origin + R"(","crossOrigin":)" +
         (s.cross_origin ? "true" : "false") + "}";
}

class TestAuthenticator {
 public:
  explicit TestAuthenticator(KeyKind kind = KeyKind::kES256) : kind_(kind) {
    for (size_t i = 0; i < 16; ++i) credential_id_.push_back(static_cast<uint8_t>(0xc0 + i));
    for (size_t i = 0; i < 16; ++i) aaguid_[i] = static_cast<uint8_t>(0xa0 + i);
    if (kind == KeyKind::kEdDSA) {
      [[maybe_unused]] int sodium = sodium_init();
      crypto_sign_keypair(ed_pk_.data(), ed_sk_.data());
      return;
    }
    EVP_PKEY* raw = kind == KeyKind::kES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
    key_.reset(raw);
  }

  const Bytes& credential_id() const { return credential_id_; }
  const std::array<uint8_t, 16>& aaguid() const { return aaguid_; }
  int64_t alg() const {
    return kind_ == KeyKind::kES256 ? -7 : kind_ == KeyKind::kEdDSA ? -8 : -257;
  }

  // COSE_Key of the credential; `alg_override` lets a test claim another algorithm.
  Bytes CoseKey(std::optional<int64_t> alg_override = std::nullopt) const {
    CborWriter w;
    int64_t alg = alg_override.value_or(this->alg());
    if (kind_ == KeyKind::kEdDSA) {
      w.Map(4).Int(1).Int(1).Int(3).Int(alg).Int(-1).Int(6).Int(-2).Bytes(ed_pk_);
    } else if (kind_ == KeyKind::kES256) {
      Bytes point(65);
      size_t len = 0;
      EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                      point.size(), &len);
      std::span<const uint8_t> x(point.data() + 1, 32), y(point.data() + 33, 32);
      w.Map(5).Int(1).Int(2).Int(3).Int(alg).Int(-1).Int(1).Int(-2).Bytes(x).Int(-3).Bytes(y);
    } else {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E, &e);
      Bytes nb(BN_num_bytes(n)), eb(BN_num_bytes(e));
      BN_bn2bin(n, nb.data());
      BN_bn2bin(e, eb.data());
      BN_free(n);
      BN_free(e);
      w.Map(4).Int(1).Int(3).Int(3).Int(alg).Int(-1).Bytes(nb).Int(-2).Bytes(eb);
    }
    return w.bytes();
  }

  Bytes AuthData(std::string_view rp_id, uint8_t flags, uint32_t counter,
                 const Bytes& cose_key = {}) const {
    auto hash = internal::Sha256(rp_id);
    Bytes out(hash.begin(), hash.end());
    out.push_back(flags);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(counter >> s));
    if (flags & kFlagAttestedCredential) {
      out.insert(out.end(), aaguid_.begin(), aaguid_.end());
      out.push_back(static_cast<uint8_t>(credential_id_.size() >> 8));
      out.push_back(static_cast<uint8_t>(credential_id_.size()));
      out.insert(out.end(), credential_id_.begin(), credential_id_.end());
      Bytes key = cose_key.empty() ? CoseKey() : cose_key;
      out.insert(out.end(), key.begin(), key.end());
    }
    return out;
  }

  Bytes Sign(std::span<const uint8_t> data) const {
    if (kind_ == KeyKind::kEdDSA) {
      Bytes sig(crypto_sign_BYTES);
      crypto_sign_detached(sig.data(), nullptr, data.data(), data.size(), ed_sk_.data());
      return sig;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get());
    size_t len = 0;
    EVP_DigestSign(ctx, nullptr, &len, data.data(), data.size());
    Bytes sig(len);
    EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);
    return sig;
  }

  // attestationObject with fmt "none" (empty attStmt) or "packed" self attestation.
  Bytes AttestationObject(std::string_view fmt, const Bytes& auth_data,
                          const std::string& client_data_json) const {
    CborWriter w;
    w.Map(3).Text("fmt").Text(fmt).Text("attStmt");
    if (fmt == "packed") {
      auto cdh = internal::Sha256(client_data_json);
      Bytes to_sign = auth_data;
      to_sign.insert(to_sign.end(), cdh.begin(), cdh.end());
      w.Map(2).Text("alg").Int(alg()).Text("sig").Bytes(Sign(to_sign));
    } else {
      w.Map(0);
    }
    w.Text("authData").Bytes(auth_data);
    return w.bytes();
  }

  RegistrationResponse Register(std::string_view rp_id, const ClientDataSpec& cd,
                                std::string_view fmt = "none",
                                uint8_t flags = kFlagUserPresent | kFlagUserVerified |
                                                kFlagAttestedCredential) const {
    RegistrationResponse r;
    r.raw_id = credential_id_;
    r.client_data_json = MakeClientData(cd);
    r.attestation_object = AttestationObject(fmt, AuthData(rp_id, flags, 0), r.client_data_json);
    r.transports = {"usb", "internal"};
    return r;
  }

  AssertionResponse Assert(std::string_view rp_id, const ClientDataSpec& cd, uint32_t counter,
                           uint8_t flags = kFlagUserPresent | kFlagUserVerified) const {
    AssertionResponse r;
    r.raw_id = credential_id_;
    r.client_data_json = MakeClientData(cd);
    r.authenticator_data = AuthData(rp_id, flags, counter);
    auto cdh = internal::Sha256(r.client_data_json);
    Bytes to_sign = r.authenticator_data;
    to_sign.insert(to_sign.end(), cdh.begin(), cdh.end());
    r.signature = Sign(to_sign);
    r.user_handle = Bytes{'u', 's', 'e', 'r', '-', '7'};
    return r;
  }

 private:
  KeyKind kind_;
  internal::EvpPkeyPtr key_;
  std::array<uint8_t, 32> ed_pk_{};
  std::array<uint8_t, 64> ed_sk_{};
  Bytes credential_id_;
  std::array<uint8_t, 16> aaguid_{};
};

}  // namespace strato::webauthn::testing
