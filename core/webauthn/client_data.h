// clientDataJSON (WebAuthn §5.8.1): parsed with RapidJSON and checked against the ceremony:
// type, challenge (base64url, compared with the raw challenge the server issued), origin,
// crossOrigin / topOrigin, and tokenBinding status if present.
//
// Stateless and thread-safe; CollectedClientData is a plain owned value.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/webauthn/error.h"
#include "core/webauthn/relying_party.h"

namespace strato::webauthn {

inline constexpr std::string_view kTypeCreate = "webauthn.create";
inline constexpr std::string_view kTypeGet = "webauthn.get";

struct CollectedClientData {
  std::string type;
  std::string challenge;  // base64url as sent
  std::string origin;
  bool cross_origin = false;
  std::optional<std::string> top_origin;
};

// Parses clientDataJSON (UTF-8 JSON object; repeated members refused) without checking it.
Result<CollectedClientData> ParseClientData(std::string_view json);

// Parses and checks: type == expected_type (kWrongType), challenge decodes to exactly
// expected_challenge (kChallengeMismatch), origin is one of rp.origins (kOriginMismatch),
// crossOrigin/topOrigin allowed by rp (kCrossOrigin).
Result<CollectedClientData> CheckClientData(std::string_view json, std::string_view expected_type,
                                            std::span<const uint8_t> expected_challenge,
                                            const RelyingParty& rp);

}  // namespace strato::webauthn
