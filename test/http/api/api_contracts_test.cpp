// The JSON routes' declared shapes (http/api/api_shapes.h, api_contracts.h) without a database:
// every documented route of the whole table has a contract, the OpenAPI document made from them
// types every request and answer, and the shape checker refuses what differs.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <string>

#include "events/commands/domain_commands.h"
#include "events/log/memory_event_store.h"
#include "events/pg/pg_pool.h"
#include "http/api/api_contracts.h"
#include "http/api/api_shapes.h"
#include "http/api/openapi.h"
#include "http/app/app.h"
#include "http/auth/auth_store.h"
#include "http/cli/web.h"
#include "projections/runner/runner.h"

namespace strato::test {
namespace {

constexpr const char* kNoDatabase = "postgresql://127.0.0.1:1/none?connect_timeout=1";

// The route table `strato serve` builds, over an App whose database is nowhere (adding routes
// reads nothing).
struct Table {
  events::MemoryEventStore store;
  events::DomainCommands commands{store};
  events::PgPool pool{kNoDatabase, 1, std::chrono::milliseconds(10)};
  http::AuthStore auth{pool};
  std::unique_ptr<projections::ProjectionRunner> runner;
  std::unique_ptr<http::App> app;
  http::Router router;

  Table() {
    projections::RunnerOptions options;
    options.database_url = kNoDatabase;
    auto r = projections::ProjectionRunner::Create(store, nullptr, {}, options);
    REQUIRE(r.ok());
    runner = std::move(*r);
    app.reset(new http::App{pool, commands, auth, *runner, webauthn::RelyingParty{}});
    http::AddAllRoutes(router, *app);
  }
};

TEST_CASE(
    "every documented route of the table has a declared contract and every contract a route") {
  Table t;
  Status s = http::CheckRouteContracts(t.router);
  CHECK_MESSAGE(s.ok(), s.ToString());

  http::Route extra;
  extra.method = "GET";
  extra.pattern = "/api/v1/undeclared";
  extra.access = http::Access::SignedIn();
  extra.handler = [](http::Request&) { return http::Response::NoContent(); };
  t.router.Add(extra);
  Status missing = http::CheckRouteContracts(t.router);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.message().find("GET /api/v1/undeclared has no contract") != std::string::npos);
}

TEST_CASE("the OpenAPI document types every request body and every JSON answer") {
  Table t;
  rapidjson::Document doc;
  const std::string text = http::OpenApiDocument(t.router);
  doc.Parse(text.c_str());
  REQUIRE(doc.IsObject());
  const auto& schemas = doc["components"]["schemas"];
  for (const char* name : {"Error", "Vm", "Organization", "Host", "AuditEntry", "SignedIn"}) {
    CHECK_MESSAGE(schemas.HasMember(name), name);
  }
  int operations = 0, bodies = 0;
  for (auto p = doc["paths"].MemberBegin(); p != doc["paths"].MemberEnd(); ++p) {
    for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m) {
      ++operations;
      const std::string op = std::string(m->name.GetString()) + " " + p->name.GetString();
      const http::RouteContract* c = http::FindContract(
          [&] {
            std::string up = m->name.GetString();
            for (char& ch : up)
              ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            return up;
          }(),
          p->name.GetString());
      REQUIRE_MESSAGE(c != nullptr, op);
      CHECK_MESSAGE(m->value.HasMember("requestBody") == c->request.has_value(), op);
      if (c->request) ++bodies;
      for (const http::ApiAnswer& a : c->answers) {
        const auto& r = m->value["responses"][std::to_string(a.status).c_str()];
        CHECK_MESSAGE(r.HasMember("content") == (a.body.has_value() || c->event_stream), op);
      }
      CHECK_MESSAGE(m->value["responses"].HasMember("default"), op);
    }
  }
  CHECK(operations > 30);
  CHECK(bodies > 15);  // every POST and the VM delete declare what they read
  // A VM's state is one of its words; a VM's host is null until scheduled.
  const auto& vm = schemas["Vm"]["properties"];
  CHECK(vm["observed"]["enum"].Size() == 10);
  CHECK(vm["host_id"]["nullable"].GetBool());
  // A successful answer names its component.
  CHECK(std::string(doc["paths"]["/api/v1/vms/{id}"]["get"]["responses"]["200"]["content"]
                       ["application/json"]["schema"]["$ref"]
                           .GetString()) == "#/components/schemas/Vm");
}

TEST_CASE("the shape checker names the first difference and where it is") {
  using http::Optional;
  using http::Required;
  using http::Shape;
  const Shape item =
      Shape::Object({Required("id", Shape::String()), Required("state", Shape::Enum({"on", "off"})),
                     Optional("host", Shape::String().OrNull())});
  const Shape list =
      Shape::Object({Required("items", Shape::Array(item)), Required("count", Shape::Integer())});
  CHECK(http::CheckShapeText(list, R"({"items":[{"id":"a","state":"on"}],"count":1})").ok());
  CHECK(http::CheckShapeText(list, R"({"items":[{"id":"a","state":"on","host":null}],"count":1})")
            .ok());
  auto why = [&](const char* json) { return http::CheckShapeText(list, json).message(); };
  CHECK(why(R"({"items":[],"count":"1"})") == "$.count: expected an integer, got a string");
  CHECK(why(R"({"items":[{"id":"a"}],"count":1})") ==
        "$.items[0]: the required field \"state\" is missing");
  CHECK(why(R"({"items":[{"id":"a","state":"dim"}],"count":1})") ==
        "$.items[0].state: \"dim\" is not one of on, off");
  CHECK(why(R"({"items":[{"id":null,"state":"on"}],"count":1})") ==
        "$.items[0].id: expected a string, got null");
  CHECK(why(R"({"items":[],"count":1,"extra":true})") == "$: the field \"extra\" is not declared");
  CHECK(why("not json") == "$: the body is not JSON");

  // An answer is checked against its route's declared shape for its status.
  CHECK(http::CheckAnswer("GET", "/api/v1/audit/verify", 200, "application/json",
                          R"({"ok":true,"events_checked":3,"head_position":3,)"
                          R"("first_bad_position":null,"problem":null})")
            .ok());
  CHECK_FALSE(http::CheckAnswer("GET", "/api/v1/audit/verify", 201, "application/json", "{}").ok());
  CHECK(http::CheckAnswer("GET", "/api/v1/vms/{id}", 404, "application/json",
                          R"({"error":{"code":"not_found","message":"no","details":{}}})")
            .ok());
  CHECK_FALSE(http::CheckAnswer("GET", "/api/v1/vms/{id}", 404, "application/json",
                                R"({"error":"not_found"})")
                  .ok());
  CHECK(
      http::CheckAnswer("DELETE", "/api/v1/account/tokens/{token_id}", 204, "application/json", "")
          .ok());
}

}  // namespace
}  // namespace strato::test
