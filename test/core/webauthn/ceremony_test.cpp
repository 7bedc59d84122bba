// VerifyRegistration / VerifyAssertion against responses from a software authenticator, one
// wrong field at a time, plus trust-anchor behaviour on real conformance vectors.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>

#include "core/webauthn/client_data.h"
#include "core/webauthn/webauthn.h"
#include "test/core/webauthn/test_authenticator.h"

using namespace strato::webauthn;
using namespace strato::webauthn::testing;

namespace {

const std::string kRpId = "strato.example";
const std::string kOrigin = "https://strato.example";
const Bytes kChallenge = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

RelyingParty Rp() {
  RelyingParty rp;
  rp.id = kRpId;
  rp.origins = {kOrigin};
  return rp;
}

ClientDataSpec Create() {
  return {"webauthn.create", kChallenge, kOrigin, false};
}
ClientDataSpec Get() {
  return {"webauthn.get", kChallenge, kOrigin, false};
}

RegistrationOptions RegOptions() {
  RegistrationOptions o;
  o.challenge = kChallenge;
  return o;
}

AssertionOptions AssertOptions() {
  AssertionOptions o;
  o.challenge = kChallenge;
  return o;
}

StoredCredential Stored(const TestAuthenticator& a, uint32_t count) {
  return {a.credential_id(), a.CoseKey(), count};
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::chrono::sys_seconds At(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

std::string ReadCase(const std::string& relative) {
  std::ifstream in(std::string(STRATO_WEBAUTHN_CONFORMANCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The registration response of a conformance case, and its challenge.
std::pair<RegistrationResponse, Bytes> CaseResponse(const std::string& file) {
  rapidjson::Document doc;
  doc.Parse(ReadCase(file).c_str());
  REQUIRE(doc.IsObject());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc["credential"].Accept(writer);
  auto response = ParseRegistrationResponseJson(buffer.GetString());
  REQUIRE(response.ok());
  auto challenge = Base64UrlDecode(doc["challenge_b64url"].GetString());
  REQUIRE(challenge.ok());
  return {response.value(), challenge.value()};
}

}  // namespace

// ---------------------------------------------------------------- registration

TEST_CASE("registration with none attestation returns the credential to store") {
  TestAuthenticator a;
  auto result = VerifyRegistration(Rp(), RegOptions(), a.Register(kRpId, Create()));
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  CHECK(result->credential_id == a.credential_id());
  CHECK(result->public_key_cose == a.CoseKey());
  CHECK(result->algorithm == -7);
  CHECK(result->sign_count == 0);
  CHECK(result->user_verified);
  CHECK_FALSE(result->backup_eligible);
  CHECK(result->aaguid == a.aaguid());
  CHECK(result->attestation_format == "none");
  CHECK(result->attestation_type == AttestationType::kNone);
  CHECK_FALSE(result->attestation_trusted);
  CHECK(result->transports == std::vector<std::string>{"usb", "internal"});
}

TEST_CASE("registration with packed self attestation verifies ES256 EdDSA and RS256") {
  for (KeyKind kind : {KeyKind::kES256, KeyKind::kEdDSA, KeyKind::kRS256}) {
    TestAuthenticator a(kind);
    INFO("alg " << a.alg());
    auto result = VerifyRegistration(Rp(), RegOptions(), a.Register(kRpId, Create(), "packed"));
    REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    CHECK(result->attestation_type == AttestationType::kSelf);
    CHECK(result->algorithm == a.alg());
  }
}

TEST_CASE("registration refuses a packed self attestation signed over other data") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create(), "packed");
  // Change the clientDataJSON after signing (same challenge, extra member): the hash differs.
  r.client_data_json.insert(r.client_data_json.size() - 1, R"(,"extra":"x")");
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK(KindOf(result) == ErrorKind::kAttestationInvalid);
}

TEST_CASE("registration refuses a wrong rp id") {
  TestAuthenticator a;
  auto result = VerifyRegistration(Rp(), RegOptions(), a.Register("evil.example", Create()));
  CHECK(KindOf(result) == ErrorKind::kRpIdMismatch);
  CHECK(Contains(result.status().message(), "strato.example"));
}

TEST_CASE("registration refuses a wrong origin and names both origins") {
  TestAuthenticator a;
  ClientDataSpec cd = Create();
  cd.origin = "https://evil.example";
  auto result = VerifyRegistration(Rp(), RegOptions(), a.Register(kRpId, cd));
  CHECK(KindOf(result) == ErrorKind::kOriginMismatch);
  CHECK(result.status().message() ==
        "clientDataJSON.origin is https://evil.example; expected one of https://strato.example");
}

TEST_CASE("registration refuses a webauthn.get client data type") {
  TestAuthenticator a;
  auto result = VerifyRegistration(Rp(), RegOptions(), a.Register(kRpId, Get()));
  CHECK(KindOf(result) == ErrorKind::kWrongType);
}

TEST_CASE("registration refuses a challenge mismatch") {
  TestAuthenticator a;
  ClientDataSpec cd = Create();
  cd.challenge.back() ^= 1;
  auto result = VerifyRegistration(Rp(), RegOptions(), a.Register(kRpId, cd));
  CHECK(KindOf(result) == ErrorKind::kChallengeMismatch);
}

TEST_CASE("registration refuses crossOrigin true unless the rp allows it") {
  TestAuthenticator a;
  ClientDataSpec cd = Create();
  cd.cross_origin = true;
  auto refused = VerifyRegistration(Rp(), RegOptions(), a.Register(kRpId, cd));
  CHECK(KindOf(refused) == ErrorKind::kCrossOrigin);
  RelyingParty rp = Rp();
  rp.allow_cross_origin = true;
  CHECK(VerifyRegistration(rp, RegOptions(), a.Register(kRpId, cd)).ok());
}

TEST_CASE("registration refuses missing user presence and missing required verification") {
  TestAuthenticator a;
  auto no_up = a.Register(kRpId, Create(), "none", kFlagUserVerified | kFlagAttestedCredential);
  CHECK(KindOf(VerifyRegistration(Rp(), RegOptions(), no_up)) == ErrorKind::kFlags);
  auto no_uv = a.Register(kRpId, Create(), "none", kFlagUserPresent | kFlagAttestedCredential);
  CHECK(VerifyRegistration(Rp(), RegOptions(), no_uv).ok());
  RegistrationOptions uv = RegOptions();
  uv.require_user_verification = true;
  CHECK(KindOf(VerifyRegistration(Rp(), uv, no_uv)) == ErrorKind::kFlags);
}

TEST_CASE("registration refuses backup state without backup eligibility") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create(), "none",
                      kFlagUserPresent | kFlagBackupState | kFlagAttestedCredential);
  CHECK(KindOf(VerifyRegistration(Rp(), RegOptions(), r)) == ErrorKind::kFlags);
}

TEST_CASE("registration reports an unsupported attestation format by name") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create(), "x-custom");
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK(KindOf(result) == ErrorKind::kUnsupportedFormat);
  CHECK(result.status().message() == "unsupported attestation format x-custom");
}

TEST_CASE("registration refuses an algorithm the rp did not offer") {
  TestAuthenticator a(KeyKind::kEdDSA);
  RegistrationOptions o = RegOptions();
  o.allowed_algorithms = {-7, -257};
  auto result = VerifyRegistration(Rp(), o, a.Register(kRpId, Create()));
  CHECK(KindOf(result) == ErrorKind::kUnsupportedAlgorithm);
}

TEST_CASE("registration refuses an unknown COSE algorithm in authenticatorData") {
  TestAuthenticator a;
  RegistrationResponse r;
  r.raw_id = a.credential_id();
  r.client_data_json = MakeClientData(Create());
  Bytes ad = a.AuthData(kRpId, kFlagUserPresent | kFlagAttestedCredential, 0, a.CoseKey(-999));
  r.attestation_object = a.AttestationObject("none", ad, r.client_data_json);
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK(KindOf(result) == ErrorKind::kUnsupportedAlgorithm);
  CHECK(Contains(result.status().message(), "-999"));
}

TEST_CASE("registration refuses a rawId that is not the attested credential id") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create());
  r.raw_id = {9, 9, 9};
  CHECK(KindOf(VerifyRegistration(Rp(), RegOptions(), r)) == ErrorKind::kCredentialIdMismatch);
}

TEST_CASE("registration refuses malformed clientDataJSON") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create());
  r.client_data_json = R"({"type":"webauthn.create","challenge":)";
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK(KindOf(result) == ErrorKind::kMalformed);
  CHECK(Contains(result.status().message(), "not valid JSON"));
  r.client_data_json = R"({"type":"webauthn.create","type":"webauthn.create"})";
  CHECK(KindOf(VerifyRegistration(Rp(), RegOptions(), r)) == ErrorKind::kMalformed);
  r.client_data_json = R"(["webauthn.create"])";
  CHECK(KindOf(VerifyRegistration(Rp(), RegOptions(), r)) == ErrorKind::kMalformed);
}

TEST_CASE("registration refuses a client data challenge that is not base64url") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create());
  r.client_data_json =
      R"({"type":"webauthn.create","challenge":"AQID+A==","origin":")" + kOrigin + "\"}";
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK(KindOf(result) == ErrorKind::kMalformed);
  CHECK(Contains(result.status().message(), "clientDataJSON.challenge"));
}

TEST_CASE("registration refuses trailing bytes and truncation in the attestationObject") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create());
  auto trailing = r;
  trailing.attestation_object.push_back(0x00);
  auto result = VerifyRegistration(Rp(), RegOptions(), trailing);
  CHECK(KindOf(result) == ErrorKind::kMalformed);
  CHECK(Contains(result.status().message(), "trailing"));
  auto truncated = r;
  truncated.attestation_object.resize(truncated.attestation_object.size() - 5);
  CHECK(KindOf(VerifyRegistration(Rp(), RegOptions(), truncated)) == ErrorKind::kMalformed);
}

TEST_CASE("registration refuses authenticatorData with bytes no flag accounts for") {
  TestAuthenticator a;
  RegistrationResponse r;
  r.raw_id = a.credential_id();
  r.client_data_json = MakeClientData(Create());
  Bytes ad = a.AuthData(kRpId, kFlagUserPresent | kFlagAttestedCredential, 0);
  ad.push_back(0xa0);  // an extensions map without the ED flag
  r.attestation_object = a.AttestationObject("none", ad, r.client_data_json);
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK(KindOf(result) == ErrorKind::kMalformed);
  CHECK(Contains(result.status().message(), "trailing"));
}

TEST_CASE("registration accepts extensions when the ED flag is set") {
  TestAuthenticator a;
  RegistrationResponse r;
  r.raw_id = a.credential_id();
  r.client_data_json = MakeClientData(Create());
  Bytes ad = a.AuthData(kRpId, kFlagUserPresent | kFlagAttestedCredential | kFlagExtensions, 0);
  CborWriter ext;
  ext.Map(1).Text("credProtect").Int(2);
  ad.insert(ad.end(), ext.bytes().begin(), ext.bytes().end());
  r.attestation_object = a.AttestationObject("none", ad, r.client_data_json);
  auto result = VerifyRegistration(Rp(), RegOptions(), r);
  CHECK_MESSAGE(result.ok(), result.status().ToString());
}

TEST_CASE("registration requiring trusted attestation refuses self attestation") {
  TestAuthenticator a;
  RegistrationOptions o = RegOptions();
  o.require_trusted_attestation = true;
  auto result = VerifyRegistration(Rp(), o, a.Register(kRpId, Create(), "packed"));
  CHECK(KindOf(result) == ErrorKind::kUntrustedChain);
}

// ---------------------------------------------------------------- trust anchors

TEST_CASE("packed x5c chains to its anchor only inside the certificate validity") {
  auto [response, challenge] = CaseResponse("w3c-l3/packed-es256.registration.json");
  RelyingParty rp{"example.org", {"https://example.org"}};
  auto anchors = LoadPemCertificates(ReadCase("w3c-l3/attestation_ca_cert.pem"));
  REQUIRE(anchors.ok());
  RegistrationOptions o;
  o.challenge = challenge;
  o.trust_anchors = anchors.value();
  o.verification_time = At(2025, 6, 1);
  auto ok = VerifyRegistration(rp, o, response);
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->attestation_trusted);
  CHECK(ok->attestation_type == AttestationType::kBasic);

  o.verification_time = At(2023, 6, 1);  // before notBefore (2024-01-01)
  auto early = VerifyRegistration(rp, o, response);
  CHECK(KindOf(early) == ErrorKind::kUntrustedChain);
  CHECK(Contains(early.status().message(), "not yet valid"));
}

TEST_CASE("packed x5c does not chain to an unrelated anchor") {
  auto [response, challenge] = CaseResponse("w3c-l3/packed-es256.registration.json");
  RelyingParty rp{"example.org", {"https://example.org"}};
  auto apple = LoadPemCertificates(ReadCase("trust-anchors/apple_webauthn_root_ca.pem"));
  REQUIRE(apple.ok());
  RegistrationOptions o;
  o.challenge = challenge;
  o.trust_anchors = apple.value();
  o.verification_time = At(2025, 6, 1);
  CHECK(KindOf(VerifyRegistration(rp, o, response)) == ErrorKind::kUntrustedChain);
}

TEST_CASE("apple attestation chains to the Apple WebAuthn root at its verification time") {
  auto [response, challenge] = CaseResponse("go-webauthn/apple.json");
  rapidjson::Document doc;
  doc.Parse(ReadCase("go-webauthn/apple.json").c_str());
  RelyingParty rp{doc["rp_id"].GetString(), {doc["expected_origin"][0].GetString()}};
  auto apple = LoadPemCertificates(ReadCase("trust-anchors/apple_webauthn_root_ca.pem"));
  REQUIRE(apple.ok());
  RegistrationOptions o;
  o.challenge = challenge;
  o.trust_anchors = apple.value();
  // The case's verification_time: the midpoint of the x5c validity window.
  o.verification_time = At(2020, 10, 7) + std::chrono::hours{21} + std::chrono::minutes{51};
  auto result = VerifyRegistration(rp, o, response);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  CHECK(result->attestation_trusted);
  CHECK(result->attestation_type == AttestationType::kAnonCA);
}

TEST_CASE("android-key attestation chains to the Google hardware attestation roots") {
  auto [response, challenge] = CaseResponse("go-webauthn/android-key-2.json");
  rapidjson::Document doc;
  doc.Parse(ReadCase("go-webauthn/android-key-2.json").c_str());
  RelyingParty rp{doc["rp_id"].GetString(), {doc["expected_origin"][0].GetString()}};
  std::vector<std::vector<uint8_t>> google;
  for (int i = 1; i <= 4; ++i) {
    auto root = LoadPemCertificates(
        ReadCase("trust-anchors/google_hardware_attestation_root_" + std::to_string(i) + ".pem"));
    REQUIRE(root.ok());
    google.insert(google.end(), root->begin(), root->end());
  }
  RegistrationOptions o;
  o.challenge = challenge;
  o.trust_anchors = google;
  o.require_trusted_attestation = true;
  o.verification_time = At(2025, 1, 20) + std::chrono::hours{13};  // the case's time
  auto result = VerifyRegistration(rp, o, response);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  CHECK(result->attestation_trusted);
  CHECK(result->attestation_format == "android-key");

  o.verification_time = At(2025, 6, 1);  // after the leaf expired (2025-02-02)
  auto late = VerifyRegistration(rp, o, response);
  CHECK(KindOf(late) == ErrorKind::kUntrustedChain);
  CHECK(Contains(late.status().message(), "expired"));
}

TEST_CASE("LoadPemCertificates refuses text without certificates") {
  CHECK(KindOf(LoadPemCertificates("hello")) == ErrorKind::kMalformed);
  auto two = LoadPemCertificates(ReadCase("trust-anchors/globalsign_r2.pem") +
                                 ReadCase("trust-anchors/globalsign_root_ca.pem"));
  REQUIRE(two.ok());
  CHECK(two->size() == 2);
}

// ---------------------------------------------------------------- assertion

TEST_CASE("assertion verifies and returns the new counter") {
  for (KeyKind kind : {KeyKind::kES256, KeyKind::kEdDSA, KeyKind::kRS256}) {
    TestAuthenticator a(kind);
    auto result = VerifyAssertion(Rp(), AssertOptions(), Stored(a, 4), a.Assert(kRpId, Get(), 5));
    REQUIRE_MESSAGE(result.ok(), result.status().ToString());
    CHECK(result->new_sign_count == 5);
    CHECK(result->user_verified);
    CHECK(result->credential_id == a.credential_id());
  }
}

TEST_CASE("assertion refuses a counter that did not grow as a counter regression") {
  TestAuthenticator a;
  auto same = VerifyAssertion(Rp(), AssertOptions(), Stored(a, 5), a.Assert(kRpId, Get(), 5));
  CHECK(KindOf(same) == ErrorKind::kCounterRegression);
  auto lower = VerifyAssertion(Rp(), AssertOptions(), Stored(a, 5), a.Assert(kRpId, Get(), 3));
  CHECK(KindOf(lower) == ErrorKind::kCounterRegression);
  CHECK(lower.status().code() == strato::Code::kFailedPrecondition);
}

TEST_CASE("assertion accepts counters of zero from authenticators without counters") {
  TestAuthenticator a;
  CHECK(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), a.Assert(kRpId, Get(), 0)).ok());
  CHECK(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), a.Assert(kRpId, Get(), 1)).ok());
}

TEST_CASE("assertion refuses a signature by another key") {
  TestAuthenticator a, other;
  auto result = VerifyAssertion(Rp(), AssertOptions(), Stored(other, 0), a.Assert(kRpId, Get(), 1));
  // Same credential id in both test authenticators: only the key differs.
  CHECK(KindOf(result) == ErrorKind::kSignature);
}

TEST_CASE("assertion refuses a flipped signature bit for every key type") {
  for (KeyKind kind : {KeyKind::kES256, KeyKind::kEdDSA, KeyKind::kRS256}) {
    TestAuthenticator a(kind);
    auto r = a.Assert(kRpId, Get(), 1);
    r.signature[r.signature.size() / 2] ^= 0x01;
    CHECK(KindOf(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), r)) == ErrorKind::kSignature);
  }
}

TEST_CASE("assertion refuses wrong rp id origin type and challenge") {
  TestAuthenticator a;
  auto v = [&](const AssertionResponse& r) {
    return KindOf(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), r));
  };
  CHECK(v(a.Assert("other.example", Get(), 1)) == ErrorKind::kRpIdMismatch);
  ClientDataSpec origin = Get();
  origin.origin = "https://strato.example.evil";
  CHECK(v(a.Assert(kRpId, origin, 1)) == ErrorKind::kOriginMismatch);
  CHECK(v(a.Assert(kRpId, Create(), 1)) == ErrorKind::kWrongType);
  ClientDataSpec challenge = Get();
  challenge.challenge.pop_back();
  CHECK(v(a.Assert(kRpId, challenge, 1)) == ErrorKind::kChallengeMismatch);
}

TEST_CASE("assertion enforces user presence and required user verification") {
  TestAuthenticator a;
  auto no_uv = a.Assert(kRpId, Get(), 1, kFlagUserPresent);
  CHECK(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), no_uv).ok());
  AssertionOptions uv = AssertOptions();
  uv.require_user_verification = true;
  CHECK(KindOf(VerifyAssertion(Rp(), uv, Stored(a, 0), no_uv)) == ErrorKind::kFlags);
  auto no_up = a.Assert(kRpId, Get(), 1, kFlagUserVerified);
  CHECK(KindOf(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), no_up)) == ErrorKind::kFlags);
}

TEST_CASE("assertion checks the user handle for discoverable sign-in") {
  TestAuthenticator a;
  AssertionOptions o = AssertOptions();
  o.expected_user_handle = Bytes{'u', 's', 'e', 'r', '-', '7'};
  CHECK(VerifyAssertion(Rp(), o, Stored(a, 0), a.Assert(kRpId, Get(), 1)).ok());
  o.expected_user_handle = Bytes{'u', 's', 'e', 'r', '-', '8'};
  CHECK(KindOf(VerifyAssertion(Rp(), o, Stored(a, 0), a.Assert(kRpId, Get(), 1))) ==
        ErrorKind::kUserHandleMismatch);
  auto no_handle = a.Assert(kRpId, Get(), 1);
  no_handle.user_handle.reset();
  CHECK(KindOf(VerifyAssertion(Rp(), o, Stored(a, 0), no_handle)) ==
        ErrorKind::kUserHandleMismatch);
}

TEST_CASE("assertion refuses a rawId other than the stored credential id") {
  TestAuthenticator a;
  auto r = a.Assert(kRpId, Get(), 1);
  r.raw_id = {1};
  CHECK(KindOf(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), r)) ==
        ErrorKind::kCredentialIdMismatch);
}

TEST_CASE("assertion refuses a stored key that is not a COSE key") {
  TestAuthenticator a;
  StoredCredential s{a.credential_id(), Bytes{'i', 'n', 'v', 'a', 'l', 'i', 'd'}, 0};
  auto result = VerifyAssertion(Rp(), AssertOptions(), s, a.Assert(kRpId, Get(), 1));
  CHECK(KindOf(result) == ErrorKind::kMalformed);
  CHECK(Contains(result.status().message(), "stored credential public key"));
}

TEST_CASE("assertion refuses truncated authenticatorData") {
  TestAuthenticator a;
  auto r = a.Assert(kRpId, Get(), 1);
  r.authenticator_data.resize(36);
  auto result = VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), r);
  CHECK(KindOf(result) == ErrorKind::kMalformed);
  CHECK(Contains(result.status().message(), "37"));
}

// ---------------------------------------------------------------- browser JSON

TEST_CASE("assertion JSON from the browser is decoded strictly") {
  TestAuthenticator a;
  auto r = a.Assert(kRpId, Get(), 1);
  std::string json = R"({"id":")" + Base64UrlEncode(r.raw_id) + R"(","rawId":")" +
                     Base64UrlEncode(r.raw_id) + R"(","type":"public-key","response":{)" +
                     R"("clientDataJSON":")" + Base64UrlEncode(r.client_data_json) +
                     R"(","authenticatorData":")" + Base64UrlEncode(r.authenticator_data) +
                     R"(","signature":")" + Base64UrlEncode(r.signature) + R"(","userHandle":")" +
                     Base64UrlEncode(*r.user_handle) + R"("}})";
  auto parsed = ParseAssertionResponseJson(json);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  CHECK(VerifyAssertion(Rp(), AssertOptions(), Stored(a, 0), parsed.value()).ok());

  std::string padded = json;
  size_t sig_end = padded.find('"', padded.find(R"("signature":")") + 13);
  padded.insert(sig_end, "=");
  auto bad = ParseAssertionResponseJson(padded);
  CHECK(KindOf(bad) == ErrorKind::kMalformed);
  CHECK(Contains(bad.status().message(), "response.signature"));
  CHECK(Contains(bad.status().message(), "unpadded"));

  CHECK(KindOf(ParseAssertionResponseJson("{not json")) == ErrorKind::kMalformed);
  CHECK(KindOf(ParseAssertionResponseJson(R"({"rawId":"AA","type":"public-key"})")) ==
        ErrorKind::kMalformed);
  CHECK(KindOf(ParseAssertionResponseJson(R"({"rawId":"AA","type":"password","response":{}})")) ==
        ErrorKind::kMalformed);
}

TEST_CASE("registration JSON passes transports through") {
  TestAuthenticator a;
  auto r = a.Register(kRpId, Create());
  std::string json = R"({"id":")" + Base64UrlEncode(r.raw_id) + R"(","rawId":")" +
                     Base64UrlEncode(r.raw_id) + R"(","type":"public-key","response":{)" +
                     R"("clientDataJSON":")" + Base64UrlEncode(r.client_data_json) +
                     R"(","attestationObject":")" + Base64UrlEncode(r.attestation_object) +
                     R"(","transports":["hybrid","internal"]}})";
  auto parsed = ParseRegistrationResponseJson(json);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
  auto result = VerifyRegistration(Rp(), RegOptions(), parsed.value());
  REQUIRE(result.ok());
  CHECK(result->transports == std::vector<std::string>{"hybrid", "internal"});
}

TEST_CASE("error kinds have stable names and map onto status codes") {
  CHECK(ErrorKindName(ErrorKind::kCounterRegression) == "counter_regression");
  CHECK(ErrorKindName(ErrorKind::kUntrustedChain) == "untrusted_chain");
  strato::Status s = WebAuthnError(ErrorKind::kOriginMismatch, "clientDataJSON.origin is x");
  CHECK(s.code() == strato::Code::kUnauthenticated);
  CHECK(s.reason() == "origin_mismatch");
  CHECK(s.message() == "clientDataJSON.origin is x");
  CHECK(KindOf(s) == ErrorKind::kOriginMismatch);
  CHECK(KindOf(s.WithContext("assertion")) == ErrorKind::kOriginMismatch);
  CHECK(WebAuthnError(ErrorKind::kMalformed, "m").code() == strato::Code::kInvalidArgument);
  CHECK(WebAuthnError(ErrorKind::kUntrustedChain, "m").code() == strato::Code::kPermissionDenied);
  CHECK(WebAuthnError(ErrorKind::kInternal, "m").code() == strato::Code::kInternal);
  // Every kind survives the trip through a Status.
  for (int k = 1; k <= static_cast<int>(ErrorKind::kInternal); ++k) {
    CHECK(KindOf(WebAuthnError(static_cast<ErrorKind>(k), "m")) == static_cast<ErrorKind>(k));
  }
  // A Status from elsewhere: malformed when its code says the input was bad, else internal.
  CHECK(KindOf(strato::Status::InvalidArgument("bad base64url")) == ErrorKind::kMalformed);
  CHECK(KindOf(strato::Status::Unavailable("x")) == ErrorKind::kInternal);
  CHECK(KindOf(strato::Status::Ok()) == ErrorKind::kNone);
}

TEST_CASE("deeply nested JSON is refused without exhausting the stack") {
  std::string deep(60000, '[');
  auto client = ParseClientData(deep);
  CHECK(KindOf(client) == ErrorKind::kMalformed);
  std::string credential(400000, '[');
  CHECK(KindOf(ParseAssertionResponseJson(credential)) == ErrorKind::kMalformed);
  CHECK(KindOf(ParseRegistrationResponseJson(std::string(600000, ' '))) == ErrorKind::kMalformed);
}
