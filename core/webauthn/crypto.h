// Internal OpenSSL/libsodium helpers for the WebAuthn verifier: digests, owned EVP_PKEY and X509
// handles, signature checks by COSE algorithm, certificate chain checks, and a small DER reader
// for attestation certificate extensions. Not part of the public surface (see webauthn.h).
//
// Functions are stateless and safe from any thread. Handles are unique_ptr with their OpenSSL
// deleter; whoever holds the unique_ptr owns the handle. Spans are borrowed for the call only.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/webauthn/error.h"

namespace strato::webauthn::internal {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

std::array<uint8_t, 32> Sha256(ByteSpan data);
inline std::array<uint8_t, 32> Sha256(std::string_view data) {
  return Sha256(ByteSpan(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}
// Digest with the named OpenSSL algorithm ("SHA1", "SHA256", ...); empty on failure.
Bytes Digest(const char* name, ByteSpan data);

// Constant-time equality of two byte strings (lengths are not secret).
bool SameBytes(ByteSpan a, ByteSpan b);

// The digest a COSE signature algorithm uses ("SHA256" for ES256, RS256, PS256 ...), nullptr for
// EdDSA (which hashes internally) and for unknown algorithms.
const char* DigestNameForAlg(int64_t alg);

// Verifies `sig` over `data` with an OpenSSL key under COSE algorithm `alg`. The key type must
// suit the algorithm (EC on the matching curve for ES*, RSA for RS*/PS*, Ed25519/Ed448 for
// EdDSA). A signature that does not verify yields `on_mismatch` with a sentence naming `what`.
Status VerifyWithEvp(EVP_PKEY* key, int64_t alg, ByteSpan data, ByteSpan sig, ErrorKind on_mismatch,
                     std::string_view what);

// Parses one DER certificate; kMalformed naming `what` when it cannot.
Result<X509Ptr> ParseCertificate(ByteSpan der, std::string_view what);

// Verifies that chain[0] (leaf) leads, through chain[1..] as untrusted intermediates, to one of
// `anchors`, with every validity period checked at `at`. kUntrustedChain on failure.
Status VerifyChain(const std::vector<X509Ptr>& chain, const std::vector<Bytes>& anchors,
                   std::chrono::sys_seconds at);

// The DER contents (inside the extnValue OCTET STRING) of the extension with dotted `oid`, and
// whether it is critical; nullopt when absent.
struct ExtensionData {
  Bytes value;
  bool critical = false;
};
std::optional<ExtensionData> FindExtension(X509* cert, const char* oid);

// A read cursor over DER: one TLV at a time. Refuses indefinite lengths and lengths past the end.
struct DerItem {
  int tag_class = 0;  // 0 universal, 1 application, 2 context-specific, 3 private
  bool constructed = false;
  uint32_t tag = 0;
  ByteSpan content;
};
class DerReader {
 public:
  explicit DerReader(ByteSpan in) : in_(in) {}
  bool empty() const { return pos_ >= in_.size(); }
  // False when the next TLV is malformed or absent.
  bool Next(DerItem* out);

 private:
  ByteSpan in_;
  size_t pos_ = 0;
};

}  // namespace strato::webauthn::internal
