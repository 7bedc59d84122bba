// JsonbText: predicts the text PostgreSQL's jsonb gives back for a JSON object (keys sorted by
// length then bytes, the last of duplicate keys kept, ", " and ": " separators, strings escaped
// as PostgreSQL's escape_json does). The event store hashes this text without a round trip,
// and the insert checks the prediction against jsonb's own output before commit; anything the
// prediction does not cover (numbers with exponents, negative zero) returns nullopt and the
// store asks PostgreSQL instead. Pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strato::events {

// `json` must already be valid (ValidateJsonObject); returns nullopt when unsure.
std::optional<std::string> JsonbText(std::string_view json);

}  // namespace strato::events
