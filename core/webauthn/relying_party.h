// The relying party as the verifier sees it: its RP ID and the origins (and, optionally, the
// embedding top-level origins) it accepts in clientDataJSON.
//
// A plain value built once from configuration (WEBAUTHN_RELYING_PARTY_ID / _ORIGIN) and shared
// read-only between threads.
#pragma once

#include <string>
#include <vector>

namespace strato::webauthn {

struct RelyingParty {
  std::string id;                    // "strato.example"; SHA-256 of it must be the rpIdHash
  std::vector<std::string> origins;  // exact origins, e.g. "https://strato.example"
  // Cross-origin iframes: refused unless allowed. When allowed, a topOrigin in clientDataJSON
  // must be one of allowed_top_origins.
  bool allow_cross_origin = false;
  std::vector<std::string> allowed_top_origins;
};

}  // namespace strato::webauthn
