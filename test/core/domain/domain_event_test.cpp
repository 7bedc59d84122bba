#include <doctest/doctest.h>

#include <string>

#include "core/domain/domain_event.h"

using namespace strato;
using namespace strato::domain;

TEST_CASE("a JsonParser parsing again gives the new document and nothing of the old one") {
  JsonParser parser;
  const std::string first = R"({"name":"web-1","cpu_count":2})";
  const rapidjson::Value& a = parser.Parse(first);
  REQUIRE(a.IsObject());
  CHECK(std::string(a["name"].GetString()) == "web-1");
  const std::string second = R"({"name":"db-2","tags":["x","y"],"memory_mb":4096})";
  const rapidjson::Value& b = parser.Parse(second);
  REQUIRE(b.IsObject());
  CHECK(std::string(b["name"].GetString()) == "db-2");
  CHECK(b["memory_mb"].GetInt64() == 4096);
  CHECK(b["tags"].Size() == 2);
  CHECK_FALSE(b.HasMember("cpu_count"));
}

TEST_CASE(
    "a JsonParser gives Null for text that is not JSON and parses documents past its buffer") {
  JsonParser parser;
  CHECK(parser.Parse(std::string(R"({"name":)")).IsNull());
  CHECK(parser.Parse(std::string("not json")).IsNull());
  std::string big = R"({"description":")" + std::string(40000, 'd') + R"(","n":7})";
  const rapidjson::Value& v = parser.Parse(big);
  REQUIRE(v.IsObject());
  CHECK(v["description"].GetStringLength() == 40000);
  CHECK(v["n"].GetInt64() == 7);
  const rapidjson::Value& small = parser.Parse(std::string(R"({"n":8})"));
  REQUIRE(small.IsObject());
  CHECK(small["n"].GetInt64() == 8);
}

TEST_CASE("EventFields over parsed data reads fields and names what is missing or not an object") {
  JsonParser parser;
  const std::string type = "VmCreated";
  EventFields ok(type, parser.Parse(std::string(R"({"name":"web-1","cpu_count":2,"x":null})")));
  CHECK(ok.Str("name") == "web-1");
  CHECK(ok.Int("cpu_count") == 2);
  CHECK_FALSE(ok.OptStr("x").has_value());
  CHECK(ok.status().ok());
  CHECK(ok.Str("image").empty());
  CHECK(ok.status().message() ==
        "event VmCreated cannot be read: its field image is missing or is not a string");

  EventFields bad(type, parser.Parse(std::string("[1, 2]")));
  CHECK(bad.Int("cpu_count") == 0);
  CHECK(bad.status().message() == "event VmCreated cannot be read: its data is not a JSON object");
}
