#include "core/webauthn/client_data.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>

#include "core/webauthn/base64url.h"
#include "core/webauthn/crypto.h"

namespace strato::webauthn {
namespace {

Status Bad(std::string m) {
  return WebAuthnError(ErrorKind::kMalformed, "clientDataJSON " + std::move(m));
}

// Client-supplied text quoted in messages: bounded and printable so logs stay readable.
std::string Quote(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (s.size() > 200) out += "...";
  return out;
}

std::string JoinList(const std::vector<std::string>& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += list[i];
  }
  return out.empty() ? "(none configured)" : out;
}

}  // namespace

Result<CollectedClientData> ParseClientData(std::string_view json) {
  if (json.size() > 64 * 1024) {
    return Bad("is " + std::to_string(json.size()) + " bytes; the limit is 65536");
  }
  rapidjson::Document doc;
  // Iterative parsing: deeply nested input must not recurse on the caller's stack.
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                    json.size());
  if (doc.HasParseError()) {
    return Bad(
        "is not valid JSON: " + std::string(rapidjson::GetParseError_En(doc.GetParseError())) +
        " at offset " + std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return Bad("is not a JSON object");
  // Bounds the repeated-member check below; browsers send about five members.
  if (doc.MemberCount() > 64) return Bad("has more than 64 members");
  for (auto a = doc.MemberBegin(); a != doc.MemberEnd(); ++a) {
    for (auto b = a + 1; b != doc.MemberEnd(); ++b) {
      if (a->name == b->name) {
        return Bad("has the member " + Quote(a->name.GetString()) + " more than once");
      }
    }
  }
  CollectedClientData out;
  auto text = [&](const char* name, std::string* dst) -> Status {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return Bad(std::string("has no ") + name);
    if (!it->value.IsString()) return Bad(std::string(name) + " is not a string");
    dst->assign(it->value.GetString(), it->value.GetStringLength());
    return Status::Ok();
  };
  STRATO_RETURN_IF_ERROR(text("type", &out.type));
  STRATO_RETURN_IF_ERROR(text("challenge", &out.challenge));
  STRATO_RETURN_IF_ERROR(text("origin", &out.origin));
  if (auto it = doc.FindMember("crossOrigin"); it != doc.MemberEnd()) {
    if (!it->value.IsBool()) return Bad("crossOrigin is not a boolean");
    out.cross_origin = it->value.GetBool();
  }
  if (auto it = doc.FindMember("topOrigin"); it != doc.MemberEnd()) {
    if (!it->value.IsString()) return Bad("topOrigin is not a string");
    out.top_origin = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  if (auto it = doc.FindMember("tokenBinding"); it != doc.MemberEnd()) {
    // Token binding is dead in browsers; accept the two statuses §5.8.1 defines, refuse others.
    if (!it->value.IsObject()) return Bad("tokenBinding is not an object");
    auto st = it->value.FindMember("status");
    if (st == it->value.MemberEnd() || !st->value.IsString()) {
      return Bad("tokenBinding has no status string");
    }
    std::string status = st->value.GetString();
    if (status != "present" && status != "supported") {
      return Bad("tokenBinding.status is " + Quote(status) +
                 "; expected \"present\" or \"supported\"");
    }
  }
  return out;
}

Result<CollectedClientData> CheckClientData(std::string_view json, std::string_view expected_type,
                                            std::span<const uint8_t> expected_challenge,
                                            const RelyingParty& rp) {
  auto parsed = ParseClientData(json);
  if (!parsed.ok()) return parsed;
  const CollectedClientData& cd = parsed.value();
  if (cd.type != expected_type) {
    return WebAuthnError(ErrorKind::kWrongType, "clientDataJSON.type is " + Quote(cd.type) +
                                                    "; expected " + std::string(expected_type));
  }
  auto challenge = Base64UrlDecode(cd.challenge);
  if (!challenge.ok()) return Malformed(challenge.status(), "clientDataJSON.challenge");
  if (!internal::SameBytes(challenge.value(), expected_challenge)) {
    return WebAuthnError(ErrorKind::kChallengeMismatch,
                         "clientDataJSON.challenge does not match the challenge issued for this "
                         "ceremony");
  }
  if (std::find(rp.origins.begin(), rp.origins.end(), cd.origin) == rp.origins.end()) {
    return WebAuthnError(ErrorKind::kOriginMismatch, "clientDataJSON.origin is " +
                                                         Quote(cd.origin) + "; expected one of " +
                                                         JoinList(rp.origins));
  }
  if ((cd.cross_origin || cd.top_origin) && !rp.allow_cross_origin) {
    return WebAuthnError(ErrorKind::kCrossOrigin,
                         "clientDataJSON says the ceremony ran in a cross-origin frame" +
                             (cd.top_origin ? " under " + Quote(*cd.top_origin) : "") +
                             "; this relying party does not allow cross-origin use");
  }
  if (cd.top_origin && std::find(rp.allowed_top_origins.begin(), rp.allowed_top_origins.end(),
                                 *cd.top_origin) == rp.allowed_top_origins.end()) {
    return WebAuthnError(ErrorKind::kCrossOrigin, "clientDataJSON.topOrigin is " +
                                                      Quote(*cd.top_origin) + "; expected one of " +
                                                      JoinList(rp.allowed_top_origins));
  }
  return parsed;
}

}  // namespace strato::webauthn
