#include "core/parse.h"

#include <doctest/doctest.h>

#include <limits>

using strato::ParseInt;

TEST_CASE("ParseInt takes exactly a base-10 integer") {
  CHECK(ParseInt("0") == std::optional<int64_t>(0));
  CHECK(ParseInt("42") == std::optional<int64_t>(42));
  CHECK(ParseInt("-7") == std::optional<int64_t>(-7));
  CHECK(ParseInt("9223372036854775807") ==
        std::optional<int64_t>(std::numeric_limits<int64_t>::max()));
  CHECK(ParseInt("-9223372036854775808") ==
        std::optional<int64_t>(std::numeric_limits<int64_t>::min()));
}

TEST_CASE("ParseInt refuses anything else without throwing") {
  for (const char* bad :
       {"", " ", "+1", " 1", "1 ", "1x", "x1", "0x10", "1.5", "1e3", "--1", "-",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999999"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseInt(bad).has_value());
  }
}

TEST_CASE("ParseInt keeps to the range asked for") {
  CHECK(ParseInt("1", 1, 10) == std::optional<int64_t>(1));
  CHECK(ParseInt("10", 1, 10) == std::optional<int64_t>(10));
  CHECK_FALSE(ParseInt("0", 1, 10).has_value());
  CHECK_FALSE(ParseInt("11", 1, 10).has_value());
  CHECK_FALSE(ParseInt("-1", 0).has_value());
}
