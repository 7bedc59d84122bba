// Strict base64url (RFC 4648 §5) as WebAuthn uses it: the URL-safe alphabet, no padding, no
// whitespace, and unused trailing bits must be zero so every value has exactly one spelling.
//
// Pure functions with no state: safe from any thread. Inputs are borrowed; outputs are owned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strato::webauthn {

// Encodes without padding.
std::string Base64UrlEncode(std::span<const uint8_t> bytes);
std::string Base64UrlEncode(std::string_view bytes);

// Decodes unpadded base64url. Refuses '=', '+', '/', whitespace and other characters, a length
// that leaves a single dangling character, and non-zero unused bits, with an InvalidArgument
// Status naming the position ("base64url text has '=' at position 43; ...").
Result<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);

}  // namespace strato::webauthn
