#include "core/json_writer.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <optional>
#include <string>

using strato::JsonWriter;

TEST_CASE("JsonWriter writes objects arrays and escaped strings") {
  JsonWriter w;
  w.BeginObject()
      .Str("name", "web \"1\"\n<b>")
      .Int("version", -3)
      .Bool("ok", true)
      .Null("gone")
      .OptStr("absent", std::nullopt)
      .OptStr("present", std::string("x"))
      .OptInt("count", 5)
      .Raw("data", R"({"a":[1,2]})")
      .Key("tags")
      .BeginArray()
      .String("a")
      .Int(1)
      .Double(0.5)
      .EndArray()
      .EndObject();
  CHECK(w.Complete());
  CHECK(w.Text() == R"({"name":"web \"1\"\n<b>","version":-3,"ok":true,"gone":null,"absent":null,)"
                    R"("present":"x","count":5,"data":{"a":[1,2]},"tags":["a",1,0.5]})");
}

TEST_CASE("JsonWriter keeps strings with NUL and non-ASCII bytes whole") {
  JsonWriter w;
  w.BeginArray().String(std::string_view("a\0b", 3)).String("caf\xc3\xa9").EndArray();
  CHECK(w.Text() == "[\"a\\u0000b\",\"caf\xc3\xa9\"]");
}

TEST_CASE("JsonWriter copies a parsed value compactly") {
  rapidjson::Document d;
  d.Parse(R"({ "a" : [1, -2, 18446744073709551615, 0.5, true, null], "b" : "x\u00e9" })");
  REQUIRE(!d.HasParseError());
  JsonWriter w;
  w.BeginObject().Key("copy").Copy(d).Key("a").Copy(d["a"]).EndObject();
  CHECK(w.Text() ==
        "{\"copy\":{\"a\":[1,-2,18446744073709551615,0.5,true,null],\"b\":\"x\xc3\xa9\"},"
        "\"a\":[1,-2,18446744073709551615,0.5,true,null]}");
}
