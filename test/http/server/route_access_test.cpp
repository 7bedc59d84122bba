// Walks the whole route table: for every route, a caller without the declared access is
// refused and one with it is let through. New routes are covered the day they are added.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "core/domain/host.h"
#include "core/ids.h"
#include "test/support/test_env.h"
#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

namespace {

// The path with every {param} filled in: entity ids for the permission's entity, the
// stranger's id for user ids, a placeholder otherwise.
std::string Fill(const http::Route& r, const std::map<std::string, std::string>& ids,
                 const std::string& user_id) {
  std::string path = r.pattern;
  std::regex param("\\{([a-z_]+)\\}");
  std::smatch m;
  while (std::regex_search(path, m, param)) {
    std::string name = m[1];
    std::string value = "x";
    if (r.access.kind() == http::Access::Kind::kPermission && name == r.access.id_param()) {
      value = ids.at(r.access.entity_type());
    } else if (name == "user_id") {
      value = user_id;
    }
    path = m.prefix().str() + value + m.suffix().str();
  }
  return path;
}

WebResponse Call(WebClient& c, const http::Route& r, const std::string& path,
                 const httplib::Headers& headers = {}) {
  if (r.method == "GET") return c.Get(path, headers);
  if (r.method == "DELETE") return c.Delete(path, headers);
  return c.Post(path, "{}", headers);
}

}  // namespace

TEST_CASE("every route refuses callers without its declared access and admits those with it") {
  WebFixture f;
  SoftAuthenticator alice_key("localhost", f.origin()), mallory_key("localhost", f.origin());
  WebClient owner(f), stranger(f), anonymous(f);
  REQUIRE(owner.RegisterWith(alice_key, "alice").status == 201);
  WebResponse m = stranger.RegisterWith(mallory_key, "mallory");
  REQUIRE(m.status == 201);
  std::string mallory_id = JsonField(m.body, "user_id");

  WebResponse org = owner.Post("/api/v1/orgs", R"({"name":"Acme"})");
  REQUIRE_MESSAGE(org.status == 201, org.body);
  std::string org_id = JsonField(org.body, "id");
  WebResponse vm = owner.Post("/api/v1/orgs/" + org_id + "/vms",
                              R"({"name":"web-1","image":"debian-12","start":false})");
  REQUIRE_MESSAGE(vm.status == 201, vm.body);
  std::map<std::string, std::string> ids = {{"organization", org_id},
                                            {"vm", JsonField(vm.body, "id")}};
  // A host, and alice made a platform admin as the installation's operator does, so the host
  // routes have an entity the owner may use and the stranger may not.
  const std::string host_id = RegisterHost(f, "hv-1");
  auto [granted, granted_out] = Platform(f, "grant", "alice", "admin");
  REQUIRE_MESSAGE(granted == 0, granted_out);
  ids["host"] = host_id;

  // The owner's personal API token, for the credential kinds each route declares.
  WebResponse made = owner.Post("/api/v1/account/tokens", R"({"name":"walk"})");
  REQUIRE_MESSAGE(made.status == 201, made.body);
  const httplib::Headers bearer = {{"Authorization", "Bearer " + JsonField(made.body, "token")}};
  WebClient script(f);

  const auto& routes = f.web().router().routes();
  REQUIRE(routes.size() > 10);
  int permission_routes = 0, browser_only = 0;
  // Refusals first: they change nothing.
  for (const http::Route& r : routes) {
    std::string path = Fill(r, ids, mallory_id);
    std::string route = r.method + " " + r.pattern;
    CAPTURE(route);
    switch (r.access.kind()) {
      case http::Access::Kind::kPublic:
        break;
      case http::Access::Kind::kSignedIn:
        CHECK(Call(anonymous, r, path).status == 401);
        break;
      case http::Access::Kind::kPermission: {
        ++permission_routes;
        CHECK(Call(anonymous, r, path).status == 401);
        WebResponse refused = Call(stranger, r, path);
        CHECK(refused.status == 403);
        CHECK(refused.body.find("you may not " + r.access.permission()) != std::string::npos);
        break;
      }
      case http::Access::Kind::kUndeclared:
        FAIL("an undeclared route was served: " << route);
    }
    // Credentials: a route that takes a browser session only refuses even a valid token of
    // a user who could otherwise call it; account security must be such a route.
    if (http::IsAccountSecurityPath(r.pattern) || r.pattern == "/account") {
      CHECK_FALSE(r.access.accepts_tokens());
    }
    if (!r.access.accepts_tokens()) {
      ++browser_only;
      WebResponse refused = Call(script, r, path, bearer);
      CHECK(refused.status == 403);
      CHECK(refused.body.find("an API token cannot reach account security") != std::string::npos);
    }
  }
  CHECK(browser_only >= 14);
  CHECK(permission_routes >= 10);
  // Then the owner, deletions last (they end the entity for the routes after them).
  std::vector<const http::Route*> ordered;
  for (const http::Route& r : routes) {
    if (r.method != "DELETE") ordered.push_back(&r);
  }
  for (const http::Route& r : routes) {
    if (r.method == "DELETE") ordered.push_back(&r);
  }
  for (const http::Route* r : ordered) {
    if (r->access.kind() != http::Access::Kind::kPermission) continue;
    std::string route = r->method + " " + r->pattern;
    CAPTURE(route);
    WebResponse allowed = Call(owner, *r, Fill(*r, ids, mallory_id));
    CHECK(allowed.status != 401);
    CHECK(allowed.status != 403);
    CHECK(allowed.status < 500);
    // The same call with the owner's token, for routes that take tokens (GETs: they change
    // nothing, so the entity is still there for the routes after them).
    if (r->access.accepts_tokens() && r->method == "GET") {
      WebResponse by_token = Call(script, *r, Fill(*r, ids, mallory_id), bearer);
      CHECK(by_token.status != 401);
      CHECK(by_token.status != 403);
    }
  }
}

TEST_CASE("lists show only what the user may read") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  std::string acme = JsonField(alice.Post("/api/v1/orgs", R"({"name":"Acme"})").body, "id");
  std::string bobs = JsonField(bob.Post("/api/v1/orgs", R"({"name":"Bob Co"})").body, "id");
  REQUIRE(alice.Post("/api/v1/orgs/" + acme + "/vms", R"({"name":"alices-vm","image":"debian-12"})")
              .status == 201);
  REQUIRE(bob.Post("/api/v1/orgs/" + bobs + "/vms", R"({"name":"bobs-vm","image":"debian-12"})")
              .status == 201);

  WebResponse mine = alice.Get("/api/v1/vms");
  CHECK(mine.body.find("\"alices-vm\"") != std::string::npos);
  CHECK(mine.body.find("\"bobs-vm\"") == std::string::npos);
  WebResponse orgs = alice.Get("/api/v1/orgs");
  CHECK(orgs.body.find("Acme") != std::string::npos);
  CHECK(orgs.body.find("Bob Co") == std::string::npos);

  // Bob becomes a member of Acme: he sees its VM at once (read-your-writes for the tuples).
  REQUIRE(alice.Post("/api/v1/orgs/" + acme + "/members", R"({"username":"bob"})").status == 200);
  WebResponse theirs = bob.Get("/api/v1/vms");
  CHECK(theirs.body.find("\"alices-vm\"") != std::string::npos);
  CHECK(theirs.body.find("\"bobs-vm\"") != std::string::npos);
  // A member may stop Acme's VM but not delete it (owner or organization owner only).
  rapidjson::Document d;
  d.Parse(alice.Get("/api/v1/vms").body.c_str());
  std::string vm = d["vms"][0]["id"].GetString();
  CHECK(bob.Post("/api/v1/vms/" + vm + "/stop", "{}").status == 200);
  WebResponse del = bob.Delete("/api/v1/vms/" + vm);
  CHECK(del.status == 403);
  CHECK(del.body.find("you may not delete this vm") != std::string::npos);
  CHECK(alice.Delete("/api/v1/vms/" + vm).status == 200);
}

TEST_CASE("the OpenAPI document lists every API route and nothing else") {
  WebFixture f;
  WebClient c(f);
  WebResponse r = c.Get("/api/v1/openapi.json");
  REQUIRE(r.status == 200);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["openapi"].GetString()) == "3.0.3");
  const auto& paths = doc["paths"];
  std::set<std::string> documented;
  for (auto p = paths.MemberBegin(); p != paths.MemberEnd(); ++p) {
    for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m) {
      std::string method = m->name.GetString();
      for (char& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      documented.insert(method + " " + p->name.GetString());
    }
  }
  std::set<std::string> registered;
  for (const http::Route& route : f.web().router().routes()) {
    if (route.pattern.rfind("/api/", 0) == 0 || route.pattern.rfind("/auth/", 0) == 0) {
      registered.insert(route.method + " " + route.pattern);
    }
  }
  CHECK(registered.size() > 20);
  CHECK(documented == registered);
  // Each operation says what it needs.
  const auto& stop = paths["/api/v1/vms/{id}/stop"]["post"];
  CHECK(std::string(stop["x-strato-permission"].GetString()) == "vm:{id}#stop");
  CHECK(std::string(stop["parameters"][0]["name"].GetString()) == "id");
}

TEST_CASE("metrics count requests by route and commands by outcome and show VMs by state") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  REQUIRE(c.RegisterWith(key, "alice").status == 201);
  std::string org = JsonField(c.Post("/api/v1/orgs", R"({"name":"Acme"})").body, "id");
  REQUIRE(
      c.Post("/api/v1/orgs/" + org + "/vms", R"({"name":"web-1","image":"debian-12"})").status ==
      201);
  CHECK(c.Post("/api/v1/orgs/" + org + "/vms", R"({"name":"web-1","image":"debian-12"})").status ==
        409);  // the name is taken
  c.Get("/api/v1/vms/not-a-vm");
  WebResponse m = c.Get("/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.Header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(
      m.body.find(
          "strato_http_requests_total{method=\"POST\",route=\"/api/v1/orgs\",status=\"201\"} 1") !=
      std::string::npos);
  CHECK(m.body.find("strato_http_requests_total{method=\"GET\",route=\"/api/v1/vms/{id}\","
                    "status=\"403\"} 1") != std::string::npos);
  // Commands by their table name, wherever they came from (here: the API and sign-up).
  CHECK(m.body.find("strato_commands_total{command=\"vm.create\",outcome=\"ok\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("strato_commands_total{command=\"vm.create\",outcome=\"refused\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("strato_commands_total{command=\"organization.create\",outcome=\"ok\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("strato_commands_total{command=\"user.register\",outcome=\"ok\"} 1") !=
        std::string::npos);
  CHECK(m.body.find("strato_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/"
                    "orgs\"} 1") != std::string::npos);
  CHECK(m.body.find("strato_vms{observed=\"pending\",desired=\"running\"} 1") != std::string::npos);
  CHECK(m.body.find("strato_hosts{state=\"reachable\"} 0") != std::string::npos);
  CHECK(m.body.find("strato_projection_lag_events{projection=\"vms\"} ") != std::string::npos);
  CHECK(m.body.find("strato_log_position ") != std::string::npos);
  CHECK(m.body.find("not-a-vm") == std::string::npos);  // paths never become labels
}
