#include <doctest/doctest.h>

#include "core/webauthn/base64url.h"
#include "core/webauthn/cose.h"
#include "test/core/webauthn/test_authenticator.h"

using namespace strato::webauthn;
using strato::webauthn::testing::CborWriter;

namespace {

// The ES256 credential key of the W3C L3 "packed-es256" test vector.
const char* kW3cEs256 =
    "pQECAyYgASFYIBzyfyXaWRIIpCOcLjJPEE9YVSVHmint7t2DD0jneurlIlggWeS32mwBBuIGzjkMk6uYoVpew4h-V_"
    "DMK-zoA7kgxCM";

std::vector<uint8_t> W3cKey() {
  return Base64UrlDecode(kW3cEs256).value();
}

}  // namespace

TEST_CASE("cose parses an ES256 P-256 key") {
  auto key = ParseCoseKey(W3cKey());
  REQUIRE_MESSAGE(key.ok(), key.status().ToString());
  CHECK(key->kty == kCoseKtyEc2);
  CHECK(key->alg == kCoseES256);
  CHECK(key->crv == kCoseCrvP256);
  CHECK(key->x.size() == 32);
  CHECK(key->y.size() == 32);
  CHECK(CoseAlgorithmName(key->alg) == "ES256");
}

TEST_CASE("cose refuses an unknown algorithm") {
  auto bytes = W3cKey();
  bytes[4] = 0x38;                        // alg -7 (0x26) → a one-byte negative argument follows
  bytes.insert(bytes.begin() + 5, 0x63);  // alg -100
  auto key = ParseCoseKey(bytes);
  CHECK(KindOf(key) == ErrorKind::kUnsupportedAlgorithm);
  CHECK(key.status().message().find("COSE algorithm -100 is not supported") != std::string::npos);
}

TEST_CASE("cose refuses an unknown key type and curve") {
  CborWriter akp;
  akp.Map(2).Int(1).Int(7).Int(3).Int(-7);
  CHECK(KindOf(ParseCoseKey(akp.bytes())) == ErrorKind::kUnsupportedAlgorithm);
  CborWriter curve;
  std::vector<uint8_t> coord(32, 1);
  curve.Map(5).Int(1).Int(2).Int(3).Int(-7).Int(-1).Int(8).Int(-2).Bytes(coord).Int(-3).Bytes(
      coord);
  auto r = ParseCoseKey(curve.bytes());
  CHECK(KindOf(r) == ErrorKind::kUnsupportedAlgorithm);
  CHECK(r.status().message().find("curve 8") != std::string::npos);
}

TEST_CASE("cose refuses an algorithm that does not fit the curve") {
  auto bytes = W3cKey();
  bytes[4] = 0x38;
  bytes.insert(bytes.begin() + 5, 0x22);  // alg -35 (ES384) with crv P-256
  CHECK(KindOf(ParseCoseKey(bytes)) == ErrorKind::kUnsupportedAlgorithm);
}

TEST_CASE("cose refuses a point that is not on the curve") {
  auto bytes = W3cKey();
  bytes.back() ^= 0x01;  // last byte of y
  auto key = ParseCoseKey(bytes);
  CHECK(KindOf(key) == ErrorKind::kMalformed);
}

TEST_CASE("cose refuses wrong coordinate sizes and missing members") {
  CborWriter short_x;
  std::vector<uint8_t> x(31, 1), y(32, 1);
  short_x.Map(5).Int(1).Int(2).Int(3).Int(-7).Int(-1).Int(1).Int(-2).Bytes(x).Int(-3).Bytes(y);
  CHECK(KindOf(ParseCoseKey(short_x.bytes())) == ErrorKind::kMalformed);
  CborWriter no_alg;
  no_alg.Map(1).Int(1).Int(2);
  auto r = ParseCoseKey(no_alg.bytes());
  CHECK(KindOf(r) == ErrorKind::kMalformed);
  CHECK(r.status().message().find("alg") != std::string::npos);
  CHECK(KindOf(ParseCoseKey(std::vector<uint8_t>{0x01})) == ErrorKind::kMalformed);
}

TEST_CASE("cose refuses RSA moduli under 2048 bits") {
  CborWriter w;
  std::vector<uint8_t> n(128, 0xff), e = {1, 0, 1};
  w.Map(4).Int(1).Int(3).Int(3).Int(-257).Int(-1).Bytes(n).Int(-2).Bytes(e);
  CHECK(KindOf(ParseCoseKey(w.bytes())) == ErrorKind::kUnsupportedAlgorithm);
}

TEST_CASE("cose signature check refuses a signature over other data") {
  strato::webauthn::testing::TestAuthenticator a;
  auto key = ParseCoseKey(a.CoseKey());
  REQUIRE(key.ok());
  std::vector<uint8_t> data = {1, 2, 3};
  auto sig = a.Sign(data);
  CHECK(VerifyCoseSignature(key.value(), data, sig, "test signature").ok());
  data[0] = 9;
  auto bad = VerifyCoseSignature(key.value(), data, sig, "test signature");
  CHECK(KindOf(bad) == ErrorKind::kSignature);
  CHECK(bad.message() == "test signature does not verify");
}
