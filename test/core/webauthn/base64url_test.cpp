#include <doctest/doctest.h>

#include "core/webauthn/base64url.h"

using namespace strato::webauthn;

namespace {
std::vector<uint8_t> B(std::string_view s) {
  return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("base64url round-trips every length without padding") {
  std::vector<uint8_t> data;
  for (int i = 0; i < 40; ++i) {
    auto text = Base64UrlEncode(data);
    CHECK(text.find('=') == std::string::npos);
    auto back = Base64UrlDecode(text);
    REQUIRE(back.ok());
    CHECK(back.value() == data);
    data.push_back(static_cast<uint8_t>(i * 37 + 250));
  }
}

TEST_CASE("base64url uses the URL-safe alphabet") {
  CHECK(Base64UrlEncode(std::vector<uint8_t>{0xfb, 0xff}) == "-_8");
  CHECK(Base64UrlEncode(std::string_view("hello")) == "aGVsbG8");
  auto decoded = Base64UrlDecode("-_8");
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == std::vector<uint8_t>{0xfb, 0xff});
}

TEST_CASE("base64url refuses padding with a clear error") {
  auto r = Base64UrlDecode("aGVsbG8=");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == strato::Code::kInvalidArgument);
  CHECK(r.status().message() ==
        "base64url text has '=' at position 7; WebAuthn uses unpadded base64url");
}

TEST_CASE("base64url refuses the standard base64 alphabet and whitespace") {
  auto plus = Base64UrlDecode("ab+c");
  REQUIRE_FALSE(plus.ok());
  CHECK(plus.status().message().find("standard base64") != std::string::npos);
  CHECK_FALSE(Base64UrlDecode("ab/c").ok());
  auto space = Base64UrlDecode("ab c");
  REQUIRE_FALSE(space.ok());
  CHECK(space.status().message().find("position 2") != std::string::npos);
  CHECK_FALSE(Base64UrlDecode("abc\n").ok());
  CHECK_FALSE(Base64UrlDecode(std::string("ab\0c", 4)).ok());
}

TEST_CASE("base64url refuses a dangling character and non-zero unused bits") {
  auto dangling = Base64UrlDecode("aGVsb");
  REQUIRE_FALSE(dangling.ok());
  CHECK(dangling.status().message().find("dangling") != std::string::npos);
  // "aGVsbG9" is canonical for "hello"; "aGVsbG9" with a last char carrying extra bits is not.
  CHECK(Base64UrlDecode("aGVsbG8").ok());
  auto bits = Base64UrlDecode("aGVsbG9");
  REQUIRE_FALSE(bits.ok());
  CHECK(bits.status().message().find("unused bits") != std::string::npos);
}

TEST_CASE("base64url decodes the empty string to no bytes") {
  auto r = Base64UrlDecode("");
  REQUIRE(r.ok());
  CHECK(r.value().empty());
  CHECK(B("") == r.value());
}
