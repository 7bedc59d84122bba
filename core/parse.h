// Parsing numbers from text without exceptions: the one integer parser of the code base.
//
// Every decimal integer that arrives from outside (headers, query strings, environment
// variables, file names, database text) goes through ParseInt, which never throws and refuses
// anything that is not exactly a base-10 integer inside the range asked for.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace strato {

// `text` as a whole base-10 integer in [min, max]; nullopt when it is empty, has anything but an
// optional leading '-' and digits (no '+', spaces or trailing characters), overflows int64 or
// falls outside the range.
std::optional<int64_t> ParseInt(std::string_view text,
                                int64_t min = std::numeric_limits<int64_t>::min(),
                                int64_t max = std::numeric_limits<int64_t>::max());

}  // namespace strato
