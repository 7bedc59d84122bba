// JsonbText must predict PostgreSQL's jsonb output exactly, or decline (nullopt).
#include <doctest/doctest.h>

#include "events/log/event.h"
#include "events/log/hash_chain.h"
#include "events/pg/jsonb_text.h"
#include "events/pg/pg.h"
#include "events/pg/pg_event_store.h"
#include "test/support/test_env.h"

using namespace strato;
using namespace strato::events;

TEST_CASE("the jsonb text prediction equals PostgreSQL's output or declines") {
  test::TestDatabase db;
  auto c = db.Connect();
  std::vector<std::string> docs = {
      "{}",
      R"({"b": 1, "a": 2, "aa": 3, "B": 4, "ab": [], "c": {}})",
      R"({"dup": 1, "x": true, "dup": 2})",
      R"({"dup": {"n": 1}, "dup": [1, 2, {"z": null, "y": false}]})",
      R"({"n": [0, -1, 1.50, 12345678901234567890123, 0.000, -0.5, 3.14159]})",
      R"({"e": 1e2})",
      R"({"e": -0})",
      R"({"e": -0.0})",
      R"({"e": 1.5E-3})",
      R"({"s": "tab\there \"quoted\" back\\slash \/ slash"})",
      R"({"s": "\u00e9t\u00E9 \ud83d\ude00 caf\u00e9"})",
      R"({"s": "ctrl \u0001 \u001f \b \f \n \r"})",
      "{\"s\": \"del \x7f and raw \xc3\xa9 and \xf0\x9f\x98\x80\"}",
      "{\"\xc3\xa9\": 1, \"z\": 2, \"\\u00e9\\u00e9\": 3}",
      R"({"k\"ey": {"in\\ner": "v"}})",
      "  {\n  \"spaced\"  :  [ 1 ,2,\n 3 ] }  ",
      R"({"deep": {"a": {"b": {"c": {"d": [[[[]]]]}}}}})",
      R"({"name":"web-1","description":"benchmark virtual machine","cpu_count":2,"memory_mb":4096})",
  };
  int predicted = 0;
  for (const auto& d : docs) {
    CAPTURE(d);
    REQUIRE(ValidateJsonObject(d, "doc").ok());
    auto r = c->Exec("SELECT $1::jsonb::text", {d});
    REQUIRE(r.ok());
    auto mine = JsonbText(d);
    if (mine) {
      ++predicted;
      CHECK(*mine == r->Get(0, 0));
    }
  }
  CHECK(predicted >= 14);                   // it covers the common shapes
  CHECK_FALSE(JsonbText(R"({"e": 1e2})"));  // and declines exponents
  CHECK_FALSE(JsonbText(R"({"e": -0})"));   // and negative zero
}

TEST_CASE("events with payloads the prediction declines are stored and hashed correctly") {
  test::TestDatabase db;
  AppendRequest r;
  r.streams.push_back({"vm-n",
                       ExpectedVersion::Any(),
                       {{"VmResized", R"({"memory_gb": 1.5e1, "zero": -0})", "{}"},
                        {"VmResized", R"({"b": 1, "a": 2})", "{}"}}});
  REQUIRE(db.store().Append(r).ok());
  auto events = db.store().ReadAll(0, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].data == R"({"zero": 0, "memory_gb": 15})");
  CHECK((*events)[1].data == R"({"a": 2, "b": 1})");
  auto c = db.Connect();
  auto verify = c->Exec("SELECT count(*) FROM events");
  REQUIRE(verify.ok());
  CHECK(verify->GetInt64(0, 0) == 2);
}

TEST_CASE("a wrong payload text prediction is caught before commit and the batch is redone") {
  test::TestDatabase db;
  PgEventStoreOptions options;
  options.test_skew_prediction = [](std::string& text) { text.insert(1, " "); };
  auto store = PgEventStore::Open(db.url(), options);
  REQUIRE(store.ok());
  for (int i = 0; i < 3; ++i) {
    AppendRequest r;
    r.streams.push_back({"vm-s",
                         ExpectedVersion::Any(),
                         {{"VmRenamed", "{\"name\":\"web-" + std::to_string(i) + "\"}", "{}"}}});
    auto res = (*store)->Append(r);
    REQUIRE(res.ok());
    CHECK(res->last_position == i + 1);
  }
  auto events = db.store().ReadAll(0, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 3);
  Hash previous = kGenesisHash;
  for (const auto& e : *events) {
    CHECK(e.data.rfind("{\"name\": \"web-", 0) == 0);
    CHECK(ChainHash(previous, e) == e.hash);  // hashed over what jsonb gives back
    previous = e.hash;
  }
}

TEST_CASE("a PgArray literal reaches PostgreSQL as exactly its elements") {
  test::TestDatabase db;
  auto c = db.Connect();
  const std::vector<std::string> elements = {"plain",
                                             "",
                                             "with \"quotes\"",
                                             "back\\slash",
                                             "\\\"both\"\\",
                                             "comma, {brace}",
                                             "NULL",
                                             "6f1c2d3e-0000-4000-8000-000000000001",
                                             "caf\xc3\xa9"};
  PgArray array;
  for (const std::string& e : elements) array.Add(e);
  auto r = c->Exec("SELECT u FROM unnest($1::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n",
                   {array.Literal()});
  REQUIRE(r.ok());
  REQUIRE(r->rows() == static_cast<int>(elements.size()));
  for (int i = 0; i < r->rows(); ++i) {
    CAPTURE(i);
    CHECK(r->Get(i, 0) == elements[static_cast<size_t>(i)]);
    CHECK_FALSE(r->IsNull(i, 0));
  }
}
