#include "test/core/webauthn/conformance_runner.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/webauthn/webauthn.h"

namespace strato::webauthn::conformance {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return buffer.GetString();
}

// "2025-01-08T00:00:00Z" → seconds since the epoch.
std::optional<std::chrono::sys_seconds> ParseTime(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6) {
    return std::nullopt;
  }
  std::chrono::sys_days day =
      std::chrono::year{y} / std::chrono::month{unsigned(mo)} / std::chrono::day{unsigned(d)};
  return day + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

// "876ca4f5-2071-c3e9-b255-09ef2cdf7ed6"
std::string AaguidText(const std::array<uint8_t, 16>& a) {
  std::string out;
  char hex[3];
  for (size_t i = 0; i < a.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    std::snprintf(hex, sizeof(hex), "%02x", a[i]);
    out += hex;
  }
  return out;
}

bool GetBool(const rapidjson::Value& o, const char* name, bool fallback) {
  auto it = o.FindMember(name);
  return it != o.MemberEnd() && it->value.IsBool() ? it->value.GetBool() : fallback;
}

struct Verdict {
  bool ok = false;
  ErrorKind kind = ErrorKind::kNone;
  std::string message;
  std::vector<std::string> mismatches;  // expected_values that differ on success
};

Verdict Failed(const Status& s) {
  return {false, KindOf(s), s.message(), {}};
}

Verdict RunRegistration(const std::string& dir, const rapidjson::Value& c, const RelyingParty& rp,
                        const rapidjson::Value& opts, const std::vector<uint8_t>& challenge) {
  RegistrationOptions options;
  options.challenge = challenge;
  options.require_user_verification = GetBool(opts, "require_user_verification", false);
  options.require_user_presence = GetBool(opts, "require_user_presence", true);
  if (opts.HasMember("supported_algs")) {
    for (const auto& a : opts["supported_algs"].GetArray()) {
      options.allowed_algorithms.push_back(a.GetInt64());
    }
  }
  if (opts.HasMember("attestation_trust_anchor_pem_file")) {
    auto anchors = LoadPemCertificates(
        ReadFile(dir + "/" + opts["attestation_trust_anchor_pem_file"].GetString()));
    if (!anchors.ok()) return Failed(anchors.status().WithContext("loading the trust anchor"));
    options.trust_anchors = anchors.value();
    options.require_trusted_attestation = true;
  }
  options.verification_time =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  if (opts.HasMember("verification_time")) {
    auto t = ParseTime(opts["verification_time"].GetString());
    if (!t) return {false, ErrorKind::kInternal, "the case's verification_time is unreadable", {}};
    options.verification_time = *t;
  }

  auto response = ParseRegistrationResponseJson(Serialize(c["credential"]));
  if (!response.ok()) return Failed(response.status());
  auto result = VerifyRegistration(rp, options, response.value());
  if (!result.ok()) return Failed(result.status());

  Verdict v{true, ErrorKind::kNone, "", {}};
  auto expect = [&](bool same, const std::string& what) {
    if (!same) v.mismatches.push_back(what);
  };
  if (c.HasMember("expected_values")) {
    const auto& ev = c["expected_values"];
    if (ev.HasMember("fmt")) {
      expect(result->attestation_format == ev["fmt"].GetString(), "fmt");
    }
    if (ev.HasMember("credential_id_b64url")) {
      expect(Base64UrlEncode(result->credential_id) == ev["credential_id_b64url"].GetString(),
             "credential id");
    }
    if (ev.HasMember("credential_public_key_cose_b64url")) {
      expect(Base64UrlEncode(result->public_key_cose) ==
                 ev["credential_public_key_cose_b64url"].GetString(),
             "COSE public key");
    }
    if (ev.HasMember("sign_count")) {
      expect(result->sign_count == ev["sign_count"].GetUint(), "sign count");
    }
    if (ev.HasMember("aaguid")) {
      expect(AaguidText(result->aaguid) == ev["aaguid"].GetString(), "AAGUID");
    }
  }
  if (options.require_trusted_attestation) {
    expect(result->attestation_trusted, "attestation_trusted");
  }
  return v;
}

Verdict RunAuthentication(const rapidjson::Value& c, const RelyingParty& rp,
                          const rapidjson::Value& opts, const std::vector<uint8_t>& challenge) {
  AssertionOptions options;
  options.challenge = challenge;
  options.require_user_verification = GetBool(opts, "require_user_verification", false);
  options.require_user_presence = GetBool(opts, "require_user_presence", true);
  auto response = ParseAssertionResponseJson(Serialize(c["credential"]));
  if (!response.ok()) return Failed(response.status());
  StoredCredential stored;
  stored.credential_id = response->raw_id;  // the endpoint looks the credential up by rawId
  auto key = Base64UrlDecode(c["credential_public_key_cose_b64url"].GetString());
  if (!key.ok()) return {false, ErrorKind::kInternal, "the case's stored key is unreadable", {}};
  stored.public_key_cose = key.value();
  stored.sign_count = c["stored_sign_count"].GetUint();
  auto result = VerifyAssertion(rp, options, stored, response.value());
  if (!result.ok()) return Failed(result.status());
  Verdict v{true, ErrorKind::kNone, "", {}};
  if (c.HasMember("expected_values") && c["expected_values"].HasMember("new_sign_count") &&
      result->new_sign_count != c["expected_values"]["new_sign_count"].GetUint()) {
    v.mismatches.push_back("new sign count");
  }
  return v;
}

}  // namespace

std::optional<ErrorKind> ExpectedKind(const std::string& text) {
  struct Rule {
    const char* needle;
    ErrorKind kind;
  };
  // Most specific first: several texts mention "origin" or "challenge" in passing.
  static const Rule kRules[] = {
      {"clientDataJSON.type", ErrorKind::kWrongType},
      {"android-key \xc2\xa7"
       "8.4",
       ErrorKind::kAttestationInvalid},
      {"crossOrigin", ErrorKind::kCrossOrigin},
      {"challenge", ErrorKind::kChallengeMismatch},
      {"origin", ErrorKind::kOriginMismatch},
      {"rpIdHash", ErrorKind::kRpIdMismatch},
      {"rawId", ErrorKind::kCredentialIdMismatch},
      {"not a COSE key", ErrorKind::kMalformed},
      {"signature does not verify", ErrorKind::kSignature},
      {"unsupported", ErrorKind::kUnsupportedFormat},
  };
  for (const Rule& r : kRules) {
    if (text.find(r.needle) != std::string::npos) return r.kind;
  }
  return std::nullopt;
}

const std::map<std::string, std::string>& Deviations() {
  // Empty: every case behaves as index.json says. Add "case id" → "reason" here, never skip.
  static const std::map<std::string, std::string> kDeviations = {};
  return kDeviations;
}

std::vector<std::string> CaseIds(const std::string& dir) {
  rapidjson::Document index;
  index.Parse(ReadFile(dir + "/index.json").c_str());
  std::vector<std::string> ids;
  if (!index.IsObject() || !index.HasMember("cases")) return ids;
  for (const auto& entry : index["cases"].GetArray())
    ids.emplace_back(entry["case_id"].GetString());
  return ids;
}

CaseReport RunCase(const std::string& dir, const std::string& case_id) {
  CaseReport report;
  report.case_id = case_id;
  rapidjson::Document index;
  index.Parse(ReadFile(dir + "/index.json").c_str());
  std::string file;
  if (index.IsObject() && index.HasMember("cases")) {
    for (const auto& entry : index["cases"].GetArray()) {
      if (case_id == entry["case_id"].GetString()) file = entry["file"].GetString();
    }
  }
  if (file.empty()) {
    report.explanation = case_id + " is not in " + dir + "/index.json";
    return report;
  }
  rapidjson::Document c;
  c.Parse(ReadFile(dir + "/" + file).c_str());
  if (!c.IsObject()) {
    report.explanation = file + " is not a JSON object";
    return report;
  }
  const rapidjson::Value empty(rapidjson::kObjectType);
  const rapidjson::Value& opts = c.HasMember("options") ? c["options"] : empty;

  RelyingParty rp;
  rp.id = c["rp_id"].GetString();
  for (const auto& o : c["expected_origin"].GetArray()) rp.origins.emplace_back(o.GetString());
  rp.allow_cross_origin = GetBool(opts, "allow_cross_origin", false);
  if (opts.HasMember("allowed_top_origins")) {
    for (const auto& o : opts["allowed_top_origins"].GetArray()) {
      rp.allowed_top_origins.emplace_back(o.GetString());
    }
  }
  auto challenge = Base64UrlDecode(c["challenge_b64url"].GetString());
  if (!challenge.ok()) {
    report.explanation = "the case's challenge is unreadable: " + challenge.status().message();
    return report;
  }
  std::string ceremony = c["ceremony"].GetString();
  Verdict got = ceremony == "registration" ? RunRegistration(dir, c, rp, opts, challenge.value())
                                           : RunAuthentication(c, rp, opts, challenge.value());

  std::string expected = c["expected"].GetString();
  std::string deviation;
  if (auto it = Deviations().find(case_id); it != Deviations().end()) {
    expected = expected == "ok" ? "error" : "ok";
    deviation = " (listed deviation: " + it->second + ")";
  }
  std::string got_text = got.ok ? "ok" : std::string(ErrorKindName(got.kind)) + ": " + got.message;
  if (expected == "ok") {
    report.passed = got.ok && got.mismatches.empty();
    report.explanation = case_id + " expected ok" + deviation + "; got " + got_text;
    for (const auto& m : got.mismatches) report.explanation += "; " + m + " differs";
    return report;
  }
  std::string text = c.HasMember("expected_error") && c["expected_error"].IsString()
                         ? c["expected_error"].GetString()
                         : "";
  auto want = ExpectedKind(text);
  if (!want) {
    report.explanation = case_id + ": no error class known for \"" + text + "\"";
    return report;
  }
  report.passed = !got.ok && got.kind == *want;
  report.explanation = case_id + " expected " + std::string(ErrorKindName(*want)) + deviation +
                       " (" + text + "); got " + got_text;
  return report;
}

}  // namespace strato::webauthn::conformance
