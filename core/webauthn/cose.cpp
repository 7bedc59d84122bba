#include "core/webauthn/cose.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include <memory>
#include <string>

#include "core/webauthn/cose_evp.h"

namespace strato::webauthn {
namespace {

using internal::EvpPkeyPtr;

Status Bad(std::string m) {
  return WebAuthnError(ErrorKind::kMalformed, std::move(m));
}
Status Unsupported(std::string m) {
  return WebAuthnError(ErrorKind::kUnsupportedAlgorithm, std::move(m));
}

size_t CoordinateSize(int64_t crv) {
  switch (crv) {
    case kCoseCrvP256:
      return 32;
    case kCoseCrvP384:
      return 48;
    case kCoseCrvP521:
      return 66;
    default:
      return 0;
  }
}

int64_t AlgForCurve(int64_t crv) {
  switch (crv) {
    case kCoseCrvP256:
      return kCoseES256;
    case kCoseCrvP384:
      return kCoseES384;
    case kCoseCrvP521:
      return kCoseES512;
    default:
      return 0;
  }
}

const char* GroupForCurve(int64_t crv) {
  switch (crv) {
    case kCoseCrvP256:
      return "prime256v1";
    case kCoseCrvP384:
      return "secp384r1";
    case kCoseCrvP521:
      return "secp521r1";
    default:
      return nullptr;
  }
}

bool IsRsaAlg(int64_t alg) {
  return alg == kCoseRS256 || alg == kCoseRS384 || alg == kCoseRS512 || alg == kCosePS256 ||
         alg == kCosePS384 || alg == kCosePS512 || alg == kCoseRS1;
}

Result<std::vector<uint8_t>> BytesParam(const CborValue& map, int64_t label, const char* name) {
  const CborValue* v = map.Find(label);
  if (v == nullptr)
    return Bad("COSE key has no " + std::string(name) + " (label " + std::to_string(label) + ")");
  if (v->type != CborType::kBytes) {
    return Bad("COSE key " + std::string(name) + " is a " + std::string(CborTypeName(v->type)) +
               "; expected a byte string");
  }
  return v->bytes;
}

void EnsureSodium() {
  static const int once = sodium_init();
  (void)once;
}

struct BldDeleter {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_free(p); }
};

Result<EvpPkeyPtr> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return Bad(std::string("COSE ") + type + " key is not a valid public key");
  }
  EvpPkeyPtr key(raw);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return Bad(std::string("COSE ") + type + " key is not a valid public key");
  }
  return key;
}

}  // namespace

std::string_view CoseAlgorithmName(int64_t alg) {
  switch (alg) {
    case kCoseES256:
      return "ES256";
    case kCoseES384:
      return "ES384";
    case kCoseES512:
      return "ES512";
    case kCoseEdDSA:
      return "EdDSA";
    case kCoseEd25519:
      return "Ed25519";
    case kCoseEd448:
      return "Ed448";
    case kCosePS256:
      return "PS256";
    case kCosePS384:
      return "PS384";
    case kCosePS512:
      return "PS512";
    case kCoseRS256:
      return "RS256";
    case kCoseRS384:
      return "RS384";
    case kCoseRS512:
      return "RS512";
    case kCoseRS1:
      return "RS1";
    default:
      return "";
  }
}

Result<CoseKey> CoseKeyFromCbor(const CborValue& map) {
  if (map.type != CborType::kMap) {
    return Bad("COSE key is a " + std::string(CborTypeName(map.type)) + "; expected a map");
  }
  const CborValue* kty = map.Find(1);
  const CborValue* alg = map.Find(3);
  if (kty == nullptr || !kty->AsInt()) return Bad("COSE key has no integer kty (label 1)");
  if (alg == nullptr || !alg->AsInt()) return Bad("COSE key has no integer alg (label 3)");
  CoseKey key;
  key.kty = *kty->AsInt();
  key.alg = *alg->AsInt();
  if (CoseAlgorithmName(key.alg).empty()) {
    return Unsupported("COSE algorithm " + std::to_string(key.alg) +
                       " is not supported; supported are ES256 (-7), ES384 (-35), ES512 (-36), "
                       "EdDSA (-8), Ed25519 (-19), Ed448 (-53), RS256 (-257), RS384 (-258), RS512 "
                       "(-259), PS256 (-37), "
                       "PS384 (-38), PS512 (-39) and RS1 (-65535)");
  }
  if (key.kty == kCoseKtyEc2) {
    const CborValue* crv = map.Find(-1);
    if (crv == nullptr || !crv->AsInt()) return Bad("COSE EC2 key has no integer crv (label -1)");
    key.crv = *crv->AsInt();
    size_t size = CoordinateSize(key.crv);
    if (size == 0) {
      return Unsupported("COSE EC2 curve " + std::to_string(key.crv) +
                         " is not supported; supported are P-256 (1), P-384 (2), P-521 (3)");
    }
    if (AlgForCurve(key.crv) != key.alg) {
      return Unsupported("COSE EC2 key on curve " + std::to_string(key.crv) +
                         " cannot be used with algorithm " + std::to_string(key.alg));
    }
    const CborValue* y = map.Find(-3);
    if (y != nullptr && y->type == CborType::kBool) {
      return Unsupported("COSE EC2 key uses point compression, which WebAuthn does not allow");
    }
    auto xb = BytesParam(map, -2, "x");
    if (!xb.ok()) return xb.status();
    auto yb = BytesParam(map, -3, "y");
    if (!yb.ok()) return yb.status();
    if (xb->size() != size || yb->size() != size) {
      return Bad("COSE EC2 key coordinates are " + std::to_string(xb->size()) + " and " +
                 std::to_string(yb->size()) + " bytes; curve " + std::to_string(key.crv) +
                 " needs " + std::to_string(size));
    }
    key.x = std::move(xb).value();
    key.y = std::move(yb).value();
  } else if (key.kty == kCoseKtyOkp) {
    const CborValue* crv = map.Find(-1);
    if (crv == nullptr || !crv->AsInt()) return Bad("COSE OKP key has no integer crv (label -1)");
    key.crv = *crv->AsInt();
    size_t size = key.crv == kCoseCrvEd25519 ? 32 : key.crv == kCoseCrvEd448 ? 57 : 0;
    if (size == 0) {
      return Unsupported("COSE OKP curve " + std::to_string(key.crv) +
                         " is not supported; supported are Ed25519 (6) and Ed448 (7)");
    }
    bool fits = key.alg == kCoseEdDSA || (key.alg == kCoseEd25519 && key.crv == kCoseCrvEd25519) ||
                (key.alg == kCoseEd448 && key.crv == kCoseCrvEd448);
    if (!fits) {
      return Unsupported("COSE OKP key on curve " + std::to_string(key.crv) +
                         " cannot be used with algorithm " + std::to_string(key.alg));
    }
    auto xb = BytesParam(map, -2, "x");
    if (!xb.ok()) return xb.status();
    if (xb->size() != size) {
      return Bad("COSE OKP key is " + std::to_string(xb->size()) + " bytes; expected " +
                 std::to_string(size));
    }
    key.x = std::move(xb).value();
  } else if (key.kty == kCoseKtyRsa) {
    if (!IsRsaAlg(key.alg)) {
      return Unsupported("COSE RSA key cannot be used with algorithm " + std::to_string(key.alg));
    }
    auto nb = BytesParam(map, -1, "n");
    if (!nb.ok()) return nb.status();
    auto eb = BytesParam(map, -2, "e");
    if (!eb.ok()) return eb.status();
    key.n = std::move(nb).value();
    key.e = std::move(eb).value();
    size_t lead = 0;
    while (lead < key.n.size() && key.n[lead] == 0) ++lead;
    size_t bits = (key.n.size() - lead) * 8;
    if (bits < 2048) {
      return Unsupported("COSE RSA modulus has about " + std::to_string(bits) +
                         " bits; at least 2048 are required");
    }
    if (key.e.empty() || key.e.size() > 8) return Bad("COSE RSA exponent has an invalid size");
  } else {
    return Unsupported("COSE key type " + std::to_string(key.kty) +
                       " is not supported; supported are OKP (1), EC2 (2) and RSA (3)");
  }
  // Building the OpenSSL key also checks EC points lie on their curve.
  auto evp = internal::CoseKeyToEvp(key);
  if (!evp.ok()) return evp.status();
  return key;
}

Result<CoseKey> ParseCoseKey(std::span<const uint8_t> cose) {
  CborLimits limits;
  limits.max_depth = 2;
  limits.max_input_bytes = 4096;
  auto value = DecodeCbor(cose, limits);
  if (!value.ok()) return Malformed(value.status(), "COSE key");
  return CoseKeyFromCbor(value.value());
}

namespace internal {

Result<EvpPkeyPtr> CoseKeyToEvp(const CoseKey& key) {
  if (key.kty == kCoseKtyOkp) {
    int type = key.crv == kCoseCrvEd25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448;
    EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(type, nullptr, key.x.data(), key.x.size()));
    ERR_clear_error();
    if (!pkey) return Bad("COSE OKP key is not a valid public key");
    return pkey;
  }
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld) return WebAuthnError(ErrorKind::kInternal, "OpenSSL could not allocate");
  if (key.kty == kCoseKtyEc2) {
    std::vector<uint8_t> point;
    point.reserve(1 + key.x.size() + key.y.size());
    point.push_back(0x04);
    point.insert(point.end(), key.x.begin(), key.x.end());
    point.insert(point.end(), key.y.begin(), key.y.end());
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, GroupForCurve(key.crv),
                                    0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
    return FromData("EC", bld.get());
  }
  if (key.kty == kCoseKtyRsa) {
    std::unique_ptr<BIGNUM, BnDeleter> n(
        BN_bin2bn(key.n.data(), static_cast<int>(key.n.size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> e(
        BN_bin2bn(key.e.data(), static_cast<int>(key.e.size()), nullptr));
    if (!n || !e) return WebAuthnError(ErrorKind::kInternal, "OpenSSL could not allocate");
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    return FromData("RSA", bld.get());
  }
  return Unsupported("COSE key type " + std::to_string(key.kty) + " is not supported");
}

}  // namespace internal

Status VerifyCoseSignature(const CoseKey& key, std::span<const uint8_t> data,
                           std::span<const uint8_t> signature, std::string_view what) {
  if (key.kty == kCoseKtyOkp && key.crv == kCoseCrvEd25519) {
    EnsureSodium();
    if (signature.size() != crypto_sign_BYTES ||
        crypto_sign_verify_detached(signature.data(), data.data(), data.size(), key.x.data()) !=
            0) {
      return WebAuthnError(ErrorKind::kSignature, std::string(what) + " does not verify");
    }
    return Status::Ok();
  }
  auto evp = internal::CoseKeyToEvp(key);
  if (!evp.ok()) return evp.status();
  // Fully specified EdDSA algs verify like EdDSA once the curve is known.
  int64_t alg = key.kty == kCoseKtyOkp ? kCoseEdDSA : key.alg;
  return internal::VerifyWithEvp(evp->get(), alg, data, signature, ErrorKind::kSignature, what);
}

}  // namespace strato::webauthn
