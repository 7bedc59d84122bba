#include <doctest/doctest.h>

#include "events/commands/domain_commands.h"
#include "http/app/app.h"
#include "http/server/pipeline.h"
#include "http/server/router.h"

using namespace strato;
using namespace strato::http;

namespace {

// A cookie "good" signs in user u1 with CSRF token "csrf-1"; a bearer token "tok" signs in u2
// without a cookie.
class FakeAuthenticator final : public Authenticator {
 public:
  Result<std::optional<Principal>> Authenticate(const Request& r) override {
    if (r.Cookie(kSessionCookie) == "good") {
      return std::optional<Principal>(Principal{"u1", "ada", "s1", "csrf-1", true});
    }
    if (r.Header("Authorization") == "Bearer tok") {
      return std::optional<Principal>(Principal{"u2", "bob", "t1", "", false});
    }
    return std::optional<Principal>();
  }
};

// u1 owns vm-a; nobody else may do anything.
class FakeAuthorizer final : public Authorizer {
 public:
  Result<bool> Check(const Principal& who, std::string_view type, std::string_view id,
                     std::string_view permission) override {
    ++checks;
    last = std::string(type) + ":" + std::string(id) + "#" + std::string(permission);
    return who.user_id == "u1" && type == "vm" && id == "vm-a";
  }
  int checks = 0;
  std::string last;
};

Route R(std::string method, std::string pattern, Access access, std::string body = "ok") {
  Route r;
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.access = std::move(access);
  r.handler = [body](Request& req) {
    return Response::Json(200,
                          "\"" + body + (req.params.count("id") ? req.params["id"] : "") + "\"");
  };
  return r;
}

struct Fixture {
  Router router;
  FakeAuthenticator authn;
  FakeAuthorizer authz;
  RateLimiter limiter{2, 60};
  Fixture() {
    router.Add(R("GET", "/healthz", Access::Public()));
    router.Add(R("GET", "/api/v1/me", Access::SignedIn()));
    router.Add(R("GET", "/api/v1/vms/{id}", Access::Permission("vm:{id}#read"), "vm "));
    router.Add(R("POST", "/api/v1/vms/{id}/stop", Access::Permission("vm:{id}#stop"), "stopped "));
    router.Add(R("GET", "/vms/{id}", Access::Permission("vm:{id}#read"), "page "));
    router.Add(R("GET", "/vms/new", Access::SignedIn(), "new form"));
    router.Add(R("POST", "/vms/{id}/stop", Access::Permission("vm:{id}#stop"), "page stopped "));
    Route limited = R("POST", "/auth/login/options", Access::Public().BrowserSessionOnly());
    limited.rate_limited = true;
    router.Add(limited);
  }
  Response Call(std::string method, std::string path,
                std::vector<std::pair<std::string, std::string>> headers = {},
                std::string body = "") {
    Pipeline p(router, authn, authz, limiter);
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.client_address = "127.0.0.1";
    r.body = std::move(body);
    for (auto& [k, v] : headers) r.headers.emplace(k, v);
    return p.Handle(r);
  }
};

std::string HeaderOf(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

TEST_CASE("the route table refuses undeclared routes and unknown permissions") {
  Router router;
  Route undeclared;
  undeclared.method = "GET";
  undeclared.pattern = "/secret";
  undeclared.handler = [](Request&) { return Response::NoContent(); };
  router.Add(undeclared);
  router.Add(R("GET", "/vms/{id}", Access::Permission("vm:{vm}#read")));
  router.Add(R("GET", "/orgs/{id}", Access::Permission("organization:{id}#fly")));
  router.Add(R("GET", "/bad/{id}", Access::Permission("vm-read")));
  router.Add(R("DELETE", "/api/v1/account/passkeys/{id}", Access::SignedIn()));
  Status s =
      router.Validate([](std::string_view type, std::string_view perm) { return perm != "fly"; });
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("GET /secret: it does not declare who may call it") != std::string::npos);
  CHECK(s.message().find("GET /vms/{id}: its permission takes the id from {vm}, which is not in "
                         "the path") != std::string::npos);
  CHECK(s.message().find("GET /orgs/{id}: the schema defines no permission fly on entity "
                         "organization") != std::string::npos);
  CHECK(s.message().find("\"vm-read\" is not of the form type:{param}#permission") !=
        std::string::npos);
  CHECK(s.message().find("DELETE /api/v1/account/passkeys/{id}: it is account security, which "
                         "must accept a browser session only") != std::string::npos);

  Fixture f;
  CHECK(f.router.Validate([](std::string_view, std::string_view) { return true; }).ok());
}

TEST_CASE("routes match literal segments before parameters and decode parameters") {
  Fixture f;
  auto m = f.router.Find("GET", "/vms/new");
  REQUIRE(m.route != nullptr);
  CHECK(m.route->pattern == "/vms/new");
  m = f.router.Find("GET", "/vms/web%201");
  REQUIRE(m.route != nullptr);
  CHECK(m.params["id"] == "web 1");
  CHECK(f.router.Find("GET", "/vms/").route == nullptr);
  CHECK(f.router.Find("GET", "/vms/a/b").route == nullptr);
  auto wrong = f.router.Find("DELETE", "/vms/x");
  CHECK(wrong.route == nullptr);
  CHECK(wrong.other_method);
}

TEST_CASE("the pipeline answers 401 for the API and redirects pages to sign-in") {
  Fixture f;
  CHECK(f.Call("GET", "/healthz").status == 200);
  Response api = f.Call("GET", "/api/v1/me");
  CHECK(api.status == 401);
  CHECK(api.body.find("\"code\":\"unauthenticated\"") != std::string::npos);
  Response page = f.Call("GET", "/vms/vm-a", {{"Accept", "text/html"}});
  CHECK(page.status == 303);
  CHECK(HeaderOf(page, "Location") == "/signin?next=/vms/vm-a");
  Response htmx = f.Call("GET", "/vms/vm-a", {{"HX-Request", "true"}});
  CHECK(HeaderOf(htmx, "HX-Redirect") == "/signin?next=/vms/vm-a");
  CHECK(f.authz.checks == 0);  // nobody signed in: no permission was even asked
}

TEST_CASE("the pipeline checks the declared permission on the entity from the path") {
  Fixture f;
  Response mine = f.Call("GET", "/api/v1/vms/vm-a", {{"Cookie", "strato_session=good"}});
  CHECK(mine.status == 200);
  CHECK(mine.body == "\"vm vm-a\"");
  CHECK(f.authz.last == "vm:vm-a#read");
  Response other = f.Call("GET", "/api/v1/vms/vm-b", {{"Cookie", "strato_session=good"}});
  CHECK(other.status == 403);
  CHECK(other.body.find("you may not read this vm (vm-b)") != std::string::npos);
  Response page =
      f.Call("GET", "/vms/vm-b", {{"Cookie", "a=b; strato_session=good"}, {"Accept", "text/html"}});
  CHECK(page.status == 403);
  CHECK(page.content_type.rfind("text/html", 0) == 0);
  CHECK(page.body.find("you may not read this vm (vm-b)") != std::string::npos);
}

TEST_CASE("state changes with a session cookie need the CSRF token") {
  Fixture f;
  Response none = f.Call("POST", "/api/v1/vms/vm-a/stop", {{"Cookie", "strato_session=good"}});
  CHECK(none.status == 403);
  CHECK(none.body.find("security token (CSRF)") != std::string::npos);
  CHECK(f.authz.checks == 0);
  Response wrong = f.Call("POST", "/api/v1/vms/vm-a/stop",
                          {{"Cookie", "strato_session=good"}, {"X-CSRF-Token", "csrf-2"}});
  CHECK(wrong.status == 403);
  Response header = f.Call("POST", "/api/v1/vms/vm-a/stop",
                           {{"Cookie", "strato_session=good"}, {"X-CSRF-Token", "csrf-1"}});
  CHECK(header.status == 200);
  Response form = f.Call(
      "POST", "/vms/vm-a/stop",
      {{"Cookie", "strato_session=good"}, {"Content-Type", "application/x-www-form-urlencoded"}},
      "x=1&csrf_token=csrf-1");
  CHECK(form.status == 200);
  // A bearer token is not sent by the browser on its own: no CSRF token is needed, but the
  // permission still is.
  Response bearer = f.Call("POST", "/api/v1/vms/vm-a/stop", {{"Authorization", "Bearer tok"}});
  CHECK(bearer.status == 403);
  CHECK(bearer.body.find("you may not stop") != std::string::npos);
}

TEST_CASE("unknown paths are 404 and known paths with another method are refused") {
  Fixture f;
  Response missing = f.Call("GET", "/api/v1/nothing");
  CHECK(missing.status == 404);
  CHECK(missing.body.find("\"code\":\"not_found\"") != std::string::npos);
  Response method = f.Call("DELETE", "/api/v1/vms/vm-a");
  CHECK(method.status == 400);
  CHECK(method.body.find("the method DELETE is not allowed on /api/v1/vms/vm-a") !=
        std::string::npos);
}

TEST_CASE("ceremony starts are rate-limited per client address") {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> json = {
      {"Content-Type", "application/json"}};
  CHECK(f.Call("POST", "/auth/login/options", json).status == 200);
  CHECK(f.Call("POST", "/auth/login/options", json).status == 200);
  Response third = f.Call("POST", "/auth/login/options", json);
  CHECK(third.status == 429);
  CHECK(HeaderOf(third, "Retry-After") == "60");
  CHECK(f.Call("GET", "/healthz").status == 200);  // other routes are not limited
}

TEST_CASE("a bearer token is refused on a route that takes a browser session only") {
  Fixture f;
  f.router.Add(R("GET", "/api/v1/account/tokens", Access::SignedIn().BrowserSessionOnly(), "t"));
  Response token = f.Call("GET", "/api/v1/account/tokens", {{"Authorization", "Bearer tok"}});
  CHECK(token.status == 403);
  CHECK(token.body.find("an API token cannot reach account security") != std::string::npos);
  CHECK(f.Call("GET", "/api/v1/account/tokens", {{"Cookie", "strato_session=good"}}).status == 200);
  // A public ceremony, too: with a token it is refused rather than run as that user.
  Response ceremony =
      f.Call("POST", "/auth/login/options",
             {{"Authorization", "Bearer tok"}, {"Content-Type", "application/json"}});
  CHECK(ceremony.status == 403);
  // Routes that take tokens still do.
  CHECK(f.Call("GET", "/api/v1/me", {{"Authorization", "Bearer tok"}}).status == 200);
  CHECK(f.router.routes().back().access.Describe() == "signed in (browser session only)");
}

TEST_CASE("state changes a browser says come from elsewhere are refused before anything runs") {
  Fixture f;
  auto stop = [&](std::vector<std::pair<std::string, std::string>> headers) {
    headers.emplace_back("Authorization", "Bearer tok");
    return f.Call("POST", "/api/v1/vms/vm-a/stop", headers).status;
  };
  CHECK(stop({{"Sec-Fetch-Site", "cross-site"}}) == 403);
  CHECK(stop({{"Sec-Fetch-Site", "same-site"}}) == 403);
  CHECK(stop({{"Origin", "null"}}) == 403);
  CHECK(f.authz.checks == 0);  // refused before authorization was even asked
  // Same origin, a user's own navigation, or no browser headers at all go on (to 403 here: u2
  // may not stop vm-a, which the authorizer was asked).
  CHECK(stop({{"Sec-Fetch-Site", "same-origin"}}) == 403);
  CHECK(stop({}) == 403);
  CHECK(f.authz.checks == 2);

  Request r;
  r.method = "POST";
  r.headers.emplace("Origin", "https://evil.example");
  const std::vector<std::string> ours = {"https://strato.example"};
  CHECK(CheckSameOrigin(r, ours).code() == Code::kPermissionDenied);
  CHECK(CheckSameOrigin(r, ours).message().find("https://evil.example") != std::string::npos);
  r.headers.clear();
  r.headers.emplace("Origin", "https://strato.example");
  r.headers.emplace("Sec-Fetch-Site", "same-origin");
  CHECK(CheckSameOrigin(r, ours).ok());
}

TEST_CASE("ceremonies and JSON API bodies must be sent as application/json") {
  Fixture f;
  Response plain = f.Call("POST", "/auth/login/options", {{"Content-Type", "text/plain"}}, "{}");
  CHECK(plain.status == 415);
  CHECK(plain.body.find("Content-Type: application/json") != std::string::npos);
  CHECK(f.Call("POST", "/auth/login/options", {}).status == 415);  // even without a body
  Fixture g;                                                       // a fresh rate limit
  CHECK(g.Call("POST", "/auth/login/options", {{"Content-Type", "application/json; charset=utf-8"}})
            .status == 200);
  // An API state change with a body in another type is refused before authentication.
  CHECK(f.Call("POST", "/api/v1/vms/vm-a/stop",
               {{"Cookie", "strato_session=good"},
                {"X-CSRF-Token", "csrf-1"},
                {"Content-Type", "application/x-www-form-urlencoded"}},
               "a=b")
            .status == 415);
  // Without a body an action needs no type.
  CHECK(f.Call("POST", "/api/v1/vms/vm-a/stop",
               {{"Cookie", "strato_session=good"}, {"X-CSRF-Token", "csrf-1"}})
            .status == 200);
}

TEST_CASE("a token bucket refills with time") {
  ManualClock clock(FromUnixMicros(1'700'000'000'000'000));
  RateLimiter limiter(1, 60, clock);
  CHECK(limiter.Allow("a"));
  CHECK_FALSE(limiter.Allow("a"));
  CHECK(limiter.Allow("b"));
  clock.Advance(std::chrono::seconds(1));
  CHECK(limiter.Allow("a"));
}

TEST_CASE("requests read cookies and form fields and escape HTML") {
  Request r;
  r.headers.emplace("cookie", "a=1; strato_session=tok en ; b=2");
  r.headers.emplace("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  r.body = "name=web+1&csrf_token=x%2Fy&bad=%zz";
  CHECK(r.Cookie("strato_session") == "tok en");
  CHECK(r.Cookie("missing") == "");
  CHECK(r.FormField("name") == "web 1");
  CHECK(r.FormField("csrf_token") == "x/y");
  CHECK(r.FormField("bad") == "");
  CHECK_FALSE(UrlDecode("%4").has_value());
  CHECK(HtmlEscape("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(HttpStatusFor(Code::kConflict) == 409);
  CHECK(JsonError(Status::NotFound("no VM named web-1")).body ==
        R"({"error":{"code":"not_found","message":"no VM named web-1","details":{}}})");
}

TEST_CASE("a command's route takes its permission from the command table") {
  for (const events::CommandSpec& c : events::CommandTable()) {
    CAPTURE(c.name);
    Access a = CommandAccess(c.name);
    if (std::string_view(c.permission).find('{') == std::string_view::npos) {
      // "system", "public", "authenticated": no route of a person may run it as such.
      CHECK(a.kind() == Access::Kind::kUndeclared);
      continue;
    }
    REQUIRE(a.kind() == Access::Kind::kPermission);
    CHECK(a.id_param() == "id");
    CHECK(std::string_view(c.permission).substr(0, c.permission.find(':')) == a.entity_type());
    CHECK(std::string_view(c.permission).substr(c.permission.find('#') + 1) == a.permission());
  }
  CHECK(CommandAccess("vm.start").spec() == "vm:{id}#start");
  CHECK(CommandAccess("vm.pause").spec() == "vm:{id}#stop");
  CHECK(CommandAccess("vm.create").spec() == "organization:{id}#create_vm");
  CHECK(CommandAccess("host.cordon", "host").spec() == "host:{host}#manage");
  CHECK(CommandAccess("vm.fly").kind() == Access::Kind::kUndeclared);
}
