#include <doctest/doctest.h>

#include <set>

#include "core/ids.h"

using strato::Uuid;

TEST_CASE("v4 uuids are random and versioned and round-trip through text") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Uuid u = Uuid::NewV4();
    CHECK(u.Version() == 4);
    CHECK((u.bytes()[8] & 0xC0) == 0x80);
    std::string s = u.ToString();
    CHECK(s.size() == 36);
    auto back = Uuid::Parse(s);
    REQUIRE(back.ok());
    CHECK(*back == u);
    seen.insert(s);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("v7 uuids carry the millisecond time and sort by it") {
  Uuid a = Uuid::NewV7At(1'700'000'000'000);
  Uuid b = Uuid::NewV7At(1'700'000'000'001);
  CHECK(a.Version() == 7);
  CHECK(a < b);
  CHECK(a.ToString().substr(0, 13) == "018bcfe5-6800");
}

TEST_CASE("parsing refuses malformed uuids with a sentence") {
  CHECK_FALSE(Uuid::Parse("").ok());
  CHECK_FALSE(Uuid::Parse("123e4567-e89b-12d3-a456-42661417400g").ok());
  CHECK_FALSE(Uuid::Parse("123e4567e89b-12d3-a456-4266141740000").ok());
  auto r = Uuid::Parse("nope");
  CHECK(r.status().message().find("is not a UUID") != std::string::npos);
  auto upper = Uuid::Parse("123E4567-E89B-12D3-A456-426614174000");
  REQUIRE(upper.ok());
  CHECK(upper->ToString() == "123e4567-e89b-12d3-a456-426614174000");
  CHECK(Uuid().IsNil());
}
