#include "test/support/soft_authenticator.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace strato::test {

std::string B64Url(const std::string& raw) {
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string FromB64Url(const std::string& text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    throw std::runtime_error("bad base64url in a test: " + text);
  }
  out.resize(len);
  return out;
}

namespace {

// Just enough CBOR for authenticator output: maps, ints, byte and text strings.
class Cbor {
 public:
  Cbor& Head(int major, uint64_t n) {
    uint8_t m = static_cast<uint8_t>(major << 5);
    if (n < 24) {
      out_ += static_cast<char>(m | n);
    } else if (n < 256) {
      out_ += static_cast<char>(m | 24);
      out_ += static_cast<char>(n);
    } else if (n < 65536) {
      out_ += static_cast<char>(m | 25);
      out_ += static_cast<char>(n >> 8);
      out_ += static_cast<char>(n & 0xFF);
    } else {
      out_ += static_cast<char>(m | 26);
      for (int s = 24; s >= 0; s -= 8) out_ += static_cast<char>((n >> s) & 0xFF);
    }
    return *this;
  }
  Cbor& Int(int64_t v) { return v >= 0 ? Head(0, v) : Head(1, static_cast<uint64_t>(-1 - v)); }
  Cbor& Bytes(const std::string& b) {
    Head(2, b.size());
    out_ += b;
    return *this;
  }
  Cbor& Text(const std::string& t) {
    Head(3, t.size());
    out_ += t;
    return *this;
  }
  Cbor& Map(size_t n) { return Head(5, n); }
  const std::string& out() const { return out_; }

 private:
  std::string out_;
};

std::string Sha256(const std::string& data) {
  std::string h(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(h.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return h;
}

std::string Be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  return s;
}

std::string ClientData(const std::string& type, const std::string& challenge,
                       const std::string& origin) {
  return R"({"type":")" + type + R"(","challenge":")" + challenge + R"(","origin":")" + origin +
         R"(","crossOrigin":false})";
}

}  // namespace

struct SoftAuthenticator::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

SoftAuthenticator::SoftAuthenticator(std::string rp_id, std::string origin)
    : key_(std::make_unique<Key>()), rp_id_(std::move(rp_id)), origin_(std::move(origin)) {
  key_->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key_->pkey == nullptr) throw std::runtime_error("OpenSSL could not make a P-256 key");
  credential_id_.resize(32);
  randombytes_buf(credential_id_.data(), credential_id_.size());
  credential_id_b64_ = B64Url(credential_id_);
}

SoftAuthenticator::~SoftAuthenticator() = default;

std::string SoftAuthenticator::Register(const std::string& challenge_b64,
                                        const std::string& user_handle_b64,
                                        const CeremonyTweaks& t) {
  user_handle_ = FromB64Url(user_handle_b64);
  unsigned char point[65];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_->pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                      &len) != 1 ||
      len != 65) {
    throw std::runtime_error("OpenSSL could not export the public key");
  }
  Cbor cose;
  cose.Map(5).Int(1).Int(2).Int(3).Int(t.cose_alg).Int(-1).Int(1);
  cose.Int(-2).Bytes(std::string(reinterpret_cast<char*>(point + 1), 32));
  cose.Int(-3).Bytes(std::string(reinterpret_cast<char*>(point + 33), 32));

  uint8_t flags = (t.user_present ? 0x01 : 0) | (t.user_verified ? 0x04 : 0) | 0x40;  // UP, UV, AT
  std::string auth_data = Sha256(t.rp_id.empty() ? rp_id_ : t.rp_id);
  auth_data += static_cast<char>(flags);
  auth_data += Be32(counter_);
  auth_data += std::string(16, '\0');  // AAGUID
  auth_data += static_cast<char>(credential_id_.size() >> 8);
  auth_data += static_cast<char>(credential_id_.size() & 0xFF);
  auth_data += credential_id_;
  auth_data += cose.out();

  Cbor att;
  att.Map(3).Text("fmt").Text("none").Text("attStmt").Map(0).Text("authData").Bytes(auth_data);
  std::string client_data = ClientData(t.type.empty() ? "webauthn.create" : t.type,
                                       t.challenge.empty() ? challenge_b64 : t.challenge,
                                       t.origin.empty() ? origin_ : t.origin);
  return R"({"id":")" + credential_id_b64_ + R"(","rawId":")" + credential_id_b64_ +
         R"(","type":"public-key","response":{"clientDataJSON":")" + B64Url(client_data) +
         R"(","attestationObject":")" + B64Url(att.out()) + R"(","transports":["internal"]}})";
}

std::string SoftAuthenticator::SignIn(const std::string& challenge_b64, bool discoverable,
                                      const CeremonyTweaks& t, int64_t counter) {
  counter_ = counter >= 0 ? static_cast<uint32_t>(counter) : counter_ + 1;
  uint8_t flags = (t.user_present ? 0x01 : 0) | (t.user_verified ? 0x04 : 0);  // UP, UV
  std::string auth_data = Sha256(t.rp_id.empty() ? rp_id_ : t.rp_id);
  auth_data += static_cast<char>(flags);
  auth_data += Be32(counter_);
  std::string client_data = ClientData(t.type.empty() ? "webauthn.get" : t.type,
                                       t.challenge.empty() ? challenge_b64 : t.challenge,
                                       t.origin.empty() ? origin_ : t.origin);
  std::string signed_bytes = auth_data + Sha256(client_data);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(ctx, nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(signed_bytes.data()),
                     signed_bytes.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("OpenSSL could not sign");
  }
  sig.resize(sig_len);
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(signed_bytes.data()),
                     signed_bytes.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("OpenSSL could not sign");
  }
  EVP_MD_CTX_free(ctx);
  sig.resize(sig_len);
  std::string handle = discoverable ? R"(")" + B64Url(user_handle_) + R"(")" : "null";
  return R"({"id":")" + credential_id_b64_ + R"(","rawId":")" + credential_id_b64_ +
         R"(","type":"public-key","response":{"clientDataJSON":")" + B64Url(client_data) +
         R"(","authenticatorData":")" + B64Url(auth_data) + R"(","signature":")" + B64Url(sig) +
         R"(","userHandle":)" + handle + "}}";
}

}  // namespace strato::test
