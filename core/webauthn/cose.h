// COSE_Key (RFC 9052/9053, RFC 8230) public keys as WebAuthn stores them, and signature checks
// with them: EC2 P-256/P-384/P-521 (ES256/ES384/ES512, DER signatures), OKP Ed25519 (EdDSA,
// verified with libsodium) and Ed448 (also as the fully specified Ed25519 / Ed448 algs), RSA
// (RS256/384/512, PS256/384/512, and legacy RS1).
//
// Stateless functions, safe from any thread; CoseKey is a plain owned value.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/webauthn/cbor.h"
#include "core/webauthn/error.h"

namespace strato::webauthn {

// COSE algorithm identifiers (IANA "COSE Algorithms").
inline constexpr int64_t kCoseES256 = -7;
inline constexpr int64_t kCoseEdDSA = -8;
inline constexpr int64_t kCoseEd25519 = -19;  // fully specified (RFC 9864)
inline constexpr int64_t kCoseEd448 = -53;    // fully specified (RFC 9864)
inline constexpr int64_t kCoseES384 = -35;
inline constexpr int64_t kCoseES512 = -36;
inline constexpr int64_t kCosePS256 = -37;
inline constexpr int64_t kCosePS384 = -38;
inline constexpr int64_t kCosePS512 = -39;
inline constexpr int64_t kCoseRS256 = -257;
inline constexpr int64_t kCoseRS384 = -258;
inline constexpr int64_t kCoseRS512 = -259;
inline constexpr int64_t kCoseRS1 = -65535;  // SHA-1; only seen from old Windows TPMs

// COSE key types and curves.
inline constexpr int64_t kCoseKtyOkp = 1;
inline constexpr int64_t kCoseKtyEc2 = 2;
inline constexpr int64_t kCoseKtyRsa = 3;
inline constexpr int64_t kCoseCrvP256 = 1;
inline constexpr int64_t kCoseCrvP384 = 2;
inline constexpr int64_t kCoseCrvP521 = 3;
inline constexpr int64_t kCoseCrvEd25519 = 6;
inline constexpr int64_t kCoseCrvEd448 = 7;

// "ES256", "EdDSA", ... or "" for an algorithm this library does not know.
std::string_view CoseAlgorithmName(int64_t alg);

struct CoseKey {
  int64_t kty = 0;
  int64_t alg = 0;
  int64_t crv = 0;         // EC2 and OKP
  std::vector<uint8_t> x;  // EC2 x coordinate, OKP public key
  std::vector<uint8_t> y;  // EC2 y coordinate
  std::vector<uint8_t> n;  // RSA modulus
  std::vector<uint8_t> e;  // RSA public exponent
};

// Parses a COSE_Key from its CBOR encoding (the whole input). Structural problems are
// kMalformed; an unknown kty, alg or crv, or an alg that does not fit the key, is
// kUnsupportedAlgorithm. EC points are checked to lie on their curve.
Result<CoseKey> ParseCoseKey(std::span<const uint8_t> cose);
Result<CoseKey> CoseKeyFromCbor(const CborValue& map);

// Verifies `signature` over `data` with `key` under the key's own algorithm. kSignature when
// it does not verify; `what` names the signature in the message ("assertion signature").
Status VerifyCoseSignature(const CoseKey& key, std::span<const uint8_t> data,
                           std::span<const uint8_t> signature, std::string_view what);

}  // namespace strato::webauthn
