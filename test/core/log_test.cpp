#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "core/log.h"

TEST_CASE("a log line is one JSON object with time and level and message and fields") {
  std::string line =
      strato::log::Format(strato::log::Level::kWarn, "relay \"lagging\"\n",
                          {{"position", int64_t{42}}, {"stream", "vm-1"}, {"ok", false}});
  CHECK(line.find('\n') == std::string::npos);
  rapidjson::Document d;
  d.Parse(line.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["level"].GetString()) == "warn");
  CHECK(std::string(d["msg"].GetString()) == "relay \"lagging\"\n");
  CHECK(d["position"].GetInt64() == 42);
  CHECK(std::string(d["stream"].GetString()) == "vm-1");
  CHECK(d["ok"].GetBool() == false);
  CHECK(std::string(d["ts"].GetString()).back() == 'Z');
}
