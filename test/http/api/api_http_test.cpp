// The JSON API over HTTP, route by route. Every /api/v1 route in the router table must have a
// case in kCases below (a route without one fails the first test, naming it): each case makes
// what its route acts on and says what success, an unknown id and a conflicting state look
// like; the walker adds what every route shares — 401 without credentials, 403 for a signed-in
// stranger on permission routes, 400 for bad bodies and bad query parameters, 409 for a stale
// If-Match — and checks after every refusal that nothing was written.
//
// Unknown ids: a permission route answers 403, never 404, for an id that does not exist. The
// pipeline checks the permission before any handler runs and the engine has no relationship
// for an id nobody created, so "no such VM" and "someone else's VM" are the same answer; a 404
// would let a stranger probe which ids exist. Routes on the caller's own account (passkeys,
// sessions, tokens) have no permission to check and answer 404.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <functional>
#include <latch>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "core/domain/host.h"
#include "core/domain/organization.h"
#include "core/domain/platform.h"
#include "core/domain/vm.h"
#include "core/ids.h"
#include "events/commands/command_pipeline.h"
#include "test/support/web_fixture.h"

using namespace strato;
using namespace strato::test;

namespace {

// A request as a case describes it, and who sends it when it should succeed.
struct Call {
  std::string method = "GET";
  std::string path;
  std::string body;
  WebClient* as = nullptr;  // null: the world's owner
};

WebResponse Send(WebClient& c, const Call& call, const httplib::Headers& headers = {}) {
  if (call.method == "GET") return c.Get(call.path, headers);
  if (call.method == "DELETE") return c.Delete(call.path, headers);
  return c.Post(call.path, call.body, headers);
}

std::string ErrorMessage(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("error") || !d["error"].IsObject() ||
      !d["error"].HasMember("message") || !d["error"]["message"].IsString()) {
    return "";
  }
  return d["error"]["message"].GetString();
}

// The version an ETag header names ("\"4\"" -> 4); -1 when malformed or absent.
int64_t EtagVersion(const WebResponse& r) {
  std::string e = r.Header("ETag");
  if (e.size() < 3 || e.front() != '"' || e.back() != '"') return -1;
  return std::stoll(e.substr(1, e.size() - 2));
}

// Everyone and everything the cases share. Alice owns organization Acme; Mallory is a stranger
// to everything Alice makes.
struct World {
  WebFixture& f;
  WebClient& owner;
  WebClient& stranger;
  WebClient& anonymous;
  std::string alice_id, mallory_id, acme;
  std::vector<std::unique_ptr<SoftAuthenticator>> keys;
  std::vector<std::unique_ptr<WebClient>> clients;
  int serial = 0;

  std::string Unique(const std::string& prefix) { return prefix + "-" + std::to_string(++serial); }

  // What a refused request must not change: the event log's head, open tokens and sessions.
  std::string Written() {
    return f.Query(
        "SELECT (SELECT coalesce(max(global_position), 0) FROM events)::text || '/' || (SELECT "
        "count(*) FROM api_tokens WHERE revoked_at IS NULL)::text || '/' || (SELECT count(*) "
        "FROM sessions WHERE ended_at IS NULL)::text");
  }

  std::string NewOrg() {
    WebResponse r = owner.Post("/api/v1/orgs", R"({"name":")" + Unique("org") + R"("})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return JsonField(r.body, "id");
  }

  // A VM of Acme, stopped (or running when `start`).
  std::string NewVm(bool start = false, const std::string& org = "") {
    WebResponse r = owner.Post("/api/v1/orgs/" + (org.empty() ? acme : org) + "/vms",
                               R"({"name":")" + Unique("vm") + R"(","image":"debian-12","start":)" +
                                   (start ? "true" : "false") + "}");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return JsonField(r.body, "id");
  }

  // A second client signed in as a new user with two passkeys; returns it and the credential id
  // of the second passkey (the one that may be removed).
  std::pair<WebClient*, std::string> UserWithTwoPasskeys() {
    keys.push_back(std::make_unique<SoftAuthenticator>("localhost", f.origin()));
    SoftAuthenticator& first = *keys.back();
    keys.push_back(std::make_unique<SoftAuthenticator>("localhost", f.origin()));
    SoftAuthenticator& second = *keys.back();
    clients.push_back(std::make_unique<WebClient>(f));
    WebClient& c = *clients.back();
    REQUIRE(c.RegisterWith(first, Unique("pk")).status == 201);
    WebResponse options = c.Post("/auth/register/options", "{}");
    REQUIRE_MESSAGE(options.status == 200, options.body);
    rapidjson::Document d;
    d.Parse(options.body.c_str());
    std::string credential =
        second.Register(JsonField(options.body, "challenge"), d["user"]["id"].GetString());
    WebResponse added = c.Post("/auth/register/verify", R"({"credential":)" + credential + "}");
    REQUIRE_MESSAGE(added.status == 201, added.body);
    return {&c, second.credential_id()};
  }

  // Another session of Alice's; returns its id.
  std::string SecondSessionOfAlice() {
    clients.push_back(std::make_unique<WebClient>(f));
    REQUIRE(clients.back()->SignInWith(*keys.front(), "alice").status == 200);
    rapidjson::Document d;
    d.Parse(owner.Get("/api/v1/account/sessions").body.c_str());
    REQUIRE(d.IsObject());
    for (const auto& row : d["sessions"].GetArray()) {
      if (!row["current"].GetBool()) return row["session_id"].GetString();
    }
    FAIL("alice has no second session");
    return "";
  }

  // Waits until the read models and the authorization tuples show the whole log.
  void CatchUp() { test::CatchUp(f); }

  // `strato platform grant --role admin` for this user.
  void MakeAdmin(const std::string& user_id) {
    const std::string name = f.Query("SELECT username FROM users WHERE user_id = $1", {user_id});
    REQUIRE(!name.empty());
    auto [code, said] = Platform(f, "grant", name, "admin");
    REQUIRE_MESSAGE(code == 0, said);
  }

  // A host registered as hostd registers it.
  std::string NewHost() { return RegisterHost(f, Unique("hv")); }

  std::string NewToken() {
    WebResponse r = owner.Post("/api/v1/account/tokens", R"({"name":")" + Unique("ci") + R"("})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    return JsonField(r.body, "id");
  }
};

// One route's case. The walker runs the refusals first, then `success`.
struct RouteCase {
  std::function<Call(World&)> make;  // makes what the route acts on; the request that succeeds
  int success = 200;
  // The status for an unknown id in the path (0: the route has no id).
  int unknown_id = 0;
  // Bodies that are wrong for this route in particular (wrong types, huge numbers, ...); the
  // walker adds the ones every JSON body shares.
  std::vector<std::string> bad_bodies;
  std::vector<std::string> bad_queries;  // appended to the path: "?limit=0"
  // Takes If-Match; `versioned` is the GET that gives the entity's ETag.
  bool if_match = false;
  std::function<std::string(const Call&)> versioned;
  // A request refused with 409 by the state of things (not by If-Match); `no_conflict` says
  // why a route has none.
  std::function<Call(World&)> conflict;
  std::string no_conflict;
  // Server-sent events: success is the stream's first answer (status and content type), read
  // and then dropped.
  bool stream = false;
};

std::vector<std::string> Split(const std::string& path);

std::string Segment(const std::string& path, int index) {
  std::vector<std::string> parts = Split(path);
  return index < static_cast<int>(parts.size()) ? parts[index] : "";
}

std::string VmOf(const Call& c) {
  return "/api/v1/vms/" + Segment(c.path, 4);
}
std::string OrgOf(const Call& c) {
  return "/api/v1/orgs/" + Segment(c.path, 4);
}

const std::vector<std::string> kPagedQueries = {
    "?limit=0",     "?limit=-1", "?limit=abc",         "?limit=1001",
    "?limit=1.5",   "?limit=",   "?limit=99999999999", "?cursor=not*base64",
    "?cursor=WzFd",  // base64url of [1]
    "?cursor="};

std::map<std::string, RouteCase> Cases() {
  std::map<std::string, RouteCase> c;
  auto vm_action = [&c](const std::string& action, std::function<Call(World&)> conflict,
                        std::string no_conflict, std::vector<std::string> bad) {
    RouteCase rc;
    rc.make = [action](World& w) {
      bool running = action == "stop" || action == "restart" || action == "pause";
      std::string vm = w.NewVm(running);
      if (action == "resume") {
        REQUIRE(w.owner.Post("/api/v1/vms/" + vm + "/start", "").status == 200);
        REQUIRE(w.owner.Post("/api/v1/vms/" + vm + "/pause", "").status == 200);
      }
      return Call{"POST", "/api/v1/vms/" + vm + "/" + action, "{}"};
    };
    rc.unknown_id = 403;
    rc.if_match = true;
    rc.versioned = VmOf;
    rc.conflict = std::move(conflict);
    rc.no_conflict = std::move(no_conflict);
    rc.bad_bodies = std::move(bad);
    c["POST /api/v1/vms/{id}/" + action] = rc;
  };
  // A VM action on a stopped VM that the domain refuses.
  auto on_stopped = [](const std::string& action) {
    return [action](World& w) {
      return Call{"POST", "/api/v1/vms/" + w.NewVm(false) + "/" + action, ""};
    };
  };

  c["GET /api/v1/orgs"] = {[](World&) {
                             return Call{"GET", "/api/v1/orgs"};
                           },
                           200,
                           0,
                           {},
                           kPagedQueries,
                           false,
                           {},
                           {},
                           "a read changes nothing"};
  c["POST /api/v1/orgs"] = {
      [](World& w) {
        return Call{"POST", "/api/v1/orgs", R"({"name":")" + w.Unique("org") + "\"}"};
      },
      201,
      0,
      {R"({"name":5})", R"({"name":"Acme","name":"Other"})", R"({})"},
      {},
      false,
      {},
      {},
      "organization names need not be unique, and a retry with the same Idempotency-Key answers "
      "the first result (tested below)"};
  c["GET /api/v1/orgs/{id}"] = {[](World& w) {
                                  return Call{"GET", "/api/v1/orgs/" + w.acme};
                                },
                                200,
                                403,
                                {},
                                {},
                                false,
                                {},
                                {},
                                "a read changes nothing"};
  c["POST /api/v1/orgs/{id}/members"] = {
      [](World& w) {
        return Call{"POST", "/api/v1/orgs/" + w.NewOrg() + "/members",
                    R"({"username":"mallory","role":"member"})"};
      },
      200,
      403,
      {R"({"username":7})", R"({"username":"mallory","role":"emperor"})",
       R"({"username":"mallory","role":["owner"]})"},
      {},
      true,
      OrgOf,
      // Alice is already the owner.
      [](World& w) {
        return Call{"POST", "/api/v1/orgs/" + w.NewOrg() + "/members", R"({"username":"alice"})"};
      },
      ""};
  c["DELETE /api/v1/orgs/{id}/members/{user_id}"] = {
      [](World& w) {
        std::string org = w.NewOrg();
        REQUIRE(
            w.owner.Post("/api/v1/orgs/" + org + "/members", R"({"username":"mallory"})").status ==
            200);
        return Call{"DELETE", "/api/v1/orgs/" + org + "/members/" + w.mallory_id};
      },
      200,
      403,
      {},
      {},
      true,
      OrgOf,
      // The last owner cannot leave.
      [](World& w) {
        return Call{"DELETE", "/api/v1/orgs/" + w.NewOrg() + "/members/" + w.alice_id};
      },
      ""};
  c["POST /api/v1/orgs/{id}/vms"] = {
      [](World& w) {
        return Call{"POST", "/api/v1/orgs/" + w.acme + "/vms",
                    R"({"name":")" + w.Unique("vm") + R"(","image":"debian-12","start":false})"};
      },
      201,
      403,
      {R"({"name":"x","image":"debian-12","cpu_count":"two"})",
       R"({"name":"x","image":"debian-12","cpu_count":99999999999999999999})",
       R"({"name":"x","image":"debian-12","memory_mb":1.5})",
       R"({"name":"x","image":"debian-12","disk_gb":-1})", R"({"name":"x","image":7})",
       R"({"name":"x","image":"debian-12","start":"yes"})", R"({"image":"debian-12"})",
       "{\"name\":\"x\\u0000y\",\"image\":\"debian-12\"}"},
      {},
      false,
      {},
      // The name is taken in this organization.
      [](World& w) {
        std::string name = w.Unique("dup");
        REQUIRE(w.owner
                    .Post("/api/v1/orgs/" + w.acme + "/vms",
                          R"({"name":")" + name + R"(","image":"debian-12","start":false})")
                    .status == 201);
        return Call{"POST", "/api/v1/orgs/" + w.acme + "/vms",
                    R"({"name":")" + name + R"(","image":"debian-12"})"};
      },
      ""};
  c["GET /api/v1/vms"] = {[](World&) {
                            return Call{"GET", "/api/v1/vms"};
                          },
                          200,
                          0,
                          {},
                          [] {
                            auto q = kPagedQueries;
                            q.push_back("?state=sleeping");
                            return q;
                          }(),
                          false,
                          {},
                          {},
                          "a read changes nothing"};
  c["GET /api/v1/vms/{id}"] = {[](World& w) {
                                 return Call{"GET", "/api/v1/vms/" + w.NewVm()};
                               },
                               200,
                               403,
                               {},
                               {},
                               false,
                               {},
                               {},
                               "a read changes nothing"};
  c["GET /api/v1/vms/{id}/events"] = {[](World& w) {
                                        return Call{"GET", "/api/v1/vms/" + w.NewVm() + "/events"};
                                      },
                                      200,
                                      403,
                                      {},
                                      {},
                                      false,
                                      {},
                                      {},
                                      "a read changes nothing"};
  vm_action("start",
            [](World& w) {
              // A paused VM is resumed, not started.
              std::string vm = w.NewVm(true);
              REQUIRE(w.owner.Post("/api/v1/vms/" + vm + "/pause", "").status == 200);
              return Call{"POST", "/api/v1/vms/" + vm + "/start", ""};
            },
            "", {});
  vm_action("stop", {},
            "a stop is refused only for a deleted VM, which the stranger check "
            "cannot reach; the stale If-Match covers 409",
            {R"({"force":"yes"})", R"({"force":1})", R"({"force":true,"force":false})"});
  vm_action("restart", on_stopped("restart"), "", {});
  vm_action("pause", on_stopped("pause"), "", {});
  vm_action("resume", on_stopped("resume"), "", {});
  c["DELETE /api/v1/vms/{id}"] = {
      [](World& w) {
        return Call{"DELETE", "/api/v1/vms/" + w.NewVm()};
      },
      200,
      403,
      {},
      {},
      true,
      VmOf,
      {},
      "deleting is allowed in every state; the stale If-Match covers 409"};

  c["GET /api/v1/account/passkeys"] = {[](World&) {
                                         return Call{"GET", "/api/v1/account/passkeys"};
                                       },
                                       200,
                                       0,
                                       {},
                                       {},
                                       false,
                                       {},
                                       {},
                                       "a read changes nothing"};
  c["DELETE /api/v1/account/passkeys/{credential_id}"] = {
      [](World& w) {
        auto [client, credential] = w.UserWithTwoPasskeys();
        Call call{"DELETE", "/api/v1/account/passkeys/" + credential};
        call.as = client;
        return call;
      },
      204,
      404,
      {},
      {},
      false,
      {},
      // Alice has one passkey: it is the last.
      [](World& w) {
        return Call{"DELETE", "/api/v1/account/passkeys/" + w.keys.front()->credential_id()};
      },
      ""};
  c["GET /api/v1/account/sessions"] = {[](World&) {
                                         return Call{"GET", "/api/v1/account/sessions"};
                                       },
                                       200,
                                       0,
                                       {},
                                       {},
                                       false,
                                       {},
                                       {},
                                       "a read changes nothing"};
  c["DELETE /api/v1/account/sessions/{session_id}"] = {
      [](World& w) {
        return Call{"DELETE", "/api/v1/account/sessions/" + w.SecondSessionOfAlice()};
      },
      204,
      404,
      {},
      {},
      false,
      {},
      {},
      "ending a session that ended is 404 (the unknown-id check)"};
  c["GET /api/v1/account/tokens"] = {[](World&) {
                                       return Call{"GET", "/api/v1/account/tokens"};
                                     },
                                     200,
                                     0,
                                     {},
                                     {},
                                     false,
                                     {},
                                     {},
                                     "a read changes nothing"};
  c["POST /api/v1/account/tokens"] = {
      [](World& w) {
        return Call{"POST", "/api/v1/account/tokens", R"({"name":"deploy"})"};
      },
      201,
      0,
      {R"({"name":5})", R"({"name":""})", R"({})", R"({"name":"a","name":"b"})"},
      {},
      false,
      {},
      {},
      "token names need not be unique"};
  c["DELETE /api/v1/account/tokens/{token_id}"] = {
      [](World& w) {
        return Call{"DELETE", "/api/v1/account/tokens/" + w.NewToken()};
      },
      204,
      404,
      {},
      {},
      false,
      {},
      {},
      "revoking a revoked token is 404 (the unknown-id check)"};
  // Hosts (Alice is a platform admin; Mallory is nobody on the platform).
  c["GET /api/v1/hosts"] = {[](World&) {
                              return Call{"GET", "/api/v1/hosts"};
                            },
                            200,
                            0,
                            {},
                            {},
                            false,
                            {},
                            {},
                            "a read changes nothing"};
  c["GET /api/v1/hosts/{id}"] = {[](World& w) {
                                   return Call{"GET", "/api/v1/hosts/" + w.NewHost()};
                                 },
                                 200,
                                 403,
                                 {},
                                 {},
                                 false,
                                 {},
                                 {},
                                 "a read changes nothing"};
  c["POST /api/v1/hosts/{id}/cordon"] = {
      [](World& w) {
        return Call{"POST", "/api/v1/hosts/" + w.NewHost() + "/cordon",
                    R"({"reason":"disk replacement"})"};
      },
      200,
      403,
      {R"({"reason":5})", R"({"reason":")" + std::string(501, 'x') + "\"}"},
      {},
      false,
      {},
      {},
      "cordoning a cordoned host changes nothing (hosts take no If-Match)"};
  c["POST /api/v1/hosts/{id}/uncordon"] = {
      [](World& w) {
        std::string host = w.NewHost();
        REQUIRE(w.owner.Post("/api/v1/hosts/" + host + "/cordon", "{}").status == 200);
        return Call{"POST", "/api/v1/hosts/" + host + "/uncordon", ""};
      },
      200,
      403,
      {R"({"reason":"x"})"},
      {},
      false,
      {},
      {},
      "uncordoning an uncordoned host changes nothing (hosts take no If-Match)"};
  // The log.
  c["GET /api/v1/events"] = {[](World&) {
                               return Call{"GET", "/api/v1/events"};
                             },
                             200,
                             0,
                             {},
                             {"?limit=0", "?limit=abc", "?before=x", "?from=yesterday",
                              "?stream=nope", "?type=NoSuchEvent"},
                             false,
                             {},
                             {},
                             "a read changes nothing"};
  c["GET /api/v1/audit/verify"] = {[](World&) {
                                     return Call{"GET", "/api/v1/audit/verify"};
                                   },
                                   200,
                                   0,
                                   {},
                                   {},
                                   false,
                                   {},
                                   {},
                                   "a read changes nothing"};
  {
    RouteCase live;
    live.make = [](World&) { return Call{"GET", "/api/v1/events/stream"}; };
    live.stream = true;
    live.no_conflict = "a read changes nothing";
    c["GET /api/v1/events/stream"] = live;
  }
  c["GET /api/v1/openapi.json"] = {[](World&) {
                                     return Call{"GET", "/api/v1/openapi.json"};
                                   },
                                   200,
                                   0,
                                   {},
                                   {},
                                   false,
                                   {},
                                   {},
                                   "a read changes nothing"};
  return c;
}

// Bodies no JSON route accepts.
std::vector<std::pair<std::string, int>> SharedBadBodies() {
  return {
      {R"({"name":)", 400},                // malformed
      {"[1,2]", 400},                      // not an object
      {R"({"zz_unknown_field":1})", 400},  // unknown field
      {R"({"zz":1e999})", 400},            // a number no double holds
      {"{\"name\":\"\xff\xfe\"}", 400},    // invalid UTF-8
      {"{\"name\":\"\\ud800\"}", 400},     // a lone surrogate
      {R"({} {})", 400},                   // two values
      {std::string(200000, '['), 400},     // deep nesting: an error, not a crash
      {"{\"name\":\"" + std::string(2 << 20, 'a') + "\"}", 413},  // over the 1 MiB limit
  };
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

// The path with the route's id parameter (the permission's, else the last one) replaced by a
// random uuid.
std::string WithUnknownId(const http::Route& route, const std::string& path) {
  std::vector<std::string> pattern = Split(route.pattern), parts = Split(path);
  if (pattern.size() != parts.size()) return "";
  int index = -1;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& seg = pattern[i];
    if (seg.size() < 3 || seg.front() != '{') continue;
    bool is_permission_id = route.access.kind() == http::Access::Kind::kPermission &&
                            seg == "{" + route.access.id_param() + "}";
    if (is_permission_id || route.access.kind() != http::Access::Kind::kPermission) {
      index = static_cast<int>(i);
      if (is_permission_id) break;
    }
  }
  if (index < 0) return "";
  parts[index] = Uuid::NewV4().ToString();
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

// Opens a server-sent event stream as `c` and drops it after the answer's head: "<status>
// <content type>".
std::string StreamOpens(WebFixture& f, WebClient& c, const std::string& path) {
  httplib::Client client("127.0.0.1", f.port());
  client.set_read_timeout(10, 0);
  std::string seen;
  httplib::Headers headers;
  if (!c.cookie.empty()) headers.emplace("Cookie", c.cookie);
  client.Get(
      path, headers,
      [&](const httplib::Response& r) {
        std::string type = r.get_header_value("Content-Type");
        seen = std::to_string(r.status) + " " + type.substr(0, type.find(';'));
        return false;  // enough: close the stream
      },
      [](const char*, size_t) { return false; });
  return seen;
}

}  // namespace

TEST_CASE(
    "every API route answers success and each refusal as its case says and refusals "
    "write nothing") {
  WebFixture f;
  WebClient owner(f), stranger(f), anonymous(f);
  World w{f, owner, stranger, anonymous};
  w.keys.push_back(std::make_unique<SoftAuthenticator>("localhost", f.origin()));
  SoftAuthenticator* alice_key = w.keys.front().get();
  SoftAuthenticator mallory_key("localhost", f.origin());
  WebResponse a = owner.RegisterWith(*alice_key, "alice");
  REQUIRE(a.status == 201);
  w.alice_id = JsonField(a.body, "user_id");
  WebResponse m = stranger.RegisterWith(mallory_key, "mallory");
  REQUIRE(m.status == 201);
  w.mallory_id = JsonField(m.body, "user_id");
  w.acme = w.NewOrg();
  w.MakeAdmin(w.alice_id);

  std::map<std::string, RouteCase> cases = Cases();
  std::vector<std::string> missing;
  std::set<std::string> registered;
  for (const http::Route& route : f.web().router().routes()) {
    if (route.pattern.rfind("/api/v1/", 0) != 0) continue;
    const std::string name = route.method + " " + route.pattern;
    registered.insert(name);
    auto it = cases.find(name);
    if (it == cases.end()) {
      missing.push_back(name);
      continue;
    }
    const RouteCase& rc = it->second;
    CAPTURE(name);
    Call ok = rc.make(w);
    WebClient& actor = ok.as ? *ok.as : owner;
    const std::string before = w.Written();
    auto refused = [&](const WebResponse& r, int status, const std::string& what) {
      CAPTURE(what);
      CHECK_MESSAGE(r.status == status, r.body);
      if (r.status >= 400) CHECK_MESSAGE(!ErrorMessage(r.body).empty(), r.body);
      CHECK(w.Written() == before);
    };

    if (route.access.kind() != http::Access::Kind::kPublic) {
      refused(Send(anonymous, ok), 401, "without credentials");
    }
    if (route.access.kind() == http::Access::Kind::kPermission) {
      WebResponse r = Send(stranger, ok);
      refused(r, 403, "a signed-in stranger");
      CHECK(ErrorMessage(r.body).find("you may not " + route.access.permission()) !=
            std::string::npos);
    }
    if (rc.unknown_id != 0) {
      Call unknown = ok;
      unknown.path = WithUnknownId(route, ok.path);
      REQUIRE(!unknown.path.empty());
      REQUIRE(unknown.path != ok.path);
      refused(Send(actor, unknown), rc.unknown_id, "an unknown id: " + unknown.path);
    }
    if (route.method == "POST") {
      for (const auto& [body, status] : SharedBadBodies()) {
        Call bad = ok;
        bad.body = body;
        WebResponse r = Send(actor, bad);
        refused(r, status, "the body " + body.substr(0, 40));
      }
    }
    for (const std::string& body : rc.bad_bodies) {
      Call bad = ok;
      bad.body = body;
      refused(Send(actor, bad), 400, "the body " + body);
    }
    for (const std::string& query : rc.bad_queries) {
      Call bad = ok;
      bad.path += query;
      WebResponse r = Send(actor, bad);
      refused(r, 400, "the query " + query);
      std::string parameter = query.substr(1, query.find('=') - 1);
      CHECK_MESSAGE(ErrorMessage(r.body).find(parameter) != std::string::npos, r.body);
    }
    std::string etag;
    if (rc.if_match) {
      WebResponse current = actor.Get(rc.versioned(ok));
      REQUIRE(current.status == 200);
      int64_t version = EtagVersion(current);
      REQUIRE(version >= 1);
      etag = current.Header("ETag");
      std::string stale = "\"" + std::to_string(version > 1 ? version - 1 : version + 1) + "\"";
      WebResponse r = Send(actor, ok, {{"If-Match", stale}});
      refused(r, 409, "a stale If-Match " + stale);
      CHECK(ErrorMessage(r.body).find("changed since you read it (version " +
                                      stale.substr(1, stale.size() - 2) + ", now " +
                                      std::to_string(version) + ")") != std::string::npos);
      for (std::string bad : {"4", "W/\"1\"", "\"x\"", "\"\"", "\"1\", \"2\"", "\"-1\""}) {
        WebResponse b = Send(actor, ok, {{"If-Match", bad}});
        refused(b, 400, "the If-Match " + bad);
        CHECK(ErrorMessage(b.body).find("If-Match") != std::string::npos);
      }
    }
    if (rc.conflict) {
      Call conflict = rc.conflict(w);
      const std::string at = w.Written();
      WebResponse r = Send(conflict.as ? *conflict.as : owner, conflict);
      CHECK_MESSAGE(r.status == 409, conflict.method << " " << conflict.path << ": " << r.body);
      CHECK(!ErrorMessage(r.body).empty());
      CHECK(w.Written() == at);
    } else {
      CHECK_MESSAGE(!rc.no_conflict.empty(), "a case without a conflict must say why");
    }

    httplib::Headers headers;
    if (!etag.empty()) headers.emplace("If-Match", etag);
    if (rc.stream) {
      CHECK(StreamOpens(f, actor, ok.path) == "200 text/event-stream");
    } else {
      const std::string at = w.Written();
      WebResponse success = Send(actor, ok, headers);
      CHECK_MESSAGE(success.status == rc.success, success.body);
      // A read writes nothing; a change writes (an event, a token or a session).
      if (route.method == "GET") {
        CHECK(w.Written() == at);
      } else {
        CHECK(w.Written() != at);
      }
    }
  }
  for (const auto& [name, rc] : cases) {
    CHECK_MESSAGE(registered.count(name) == 1,
                  "a case for a route that is not registered: " << name);
  }
  std::string list;
  for (const std::string& name : missing) list += "\n  " + name;
  CHECK_MESSAGE(missing.empty(), "API routes without a case in api_http_test.cpp:" << list);
}

TEST_CASE(
    "GET of a VM and an organization carries its version as an ETag and If-Match guards "
    "changes") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin()), bob_key("localhost", f.origin());
  WebClient c(f), bob(f);
  REQUIRE(c.RegisterWith(key, "alice").status == 201);
  REQUIRE(bob.RegisterWith(bob_key, "bob").status == 201);
  std::string org = JsonField(c.Post("/api/v1/orgs", R"({"name":"Acme"})").body, "id");
  WebResponse created = c.Post("/api/v1/orgs/" + org + "/vms",
                               R"({"name":"web-1","image":"debian-12","start":false})");
  REQUIRE(created.status == 201);
  CHECK(created.Header("ETag") == "\"1\"");
  std::string vm = JsonField(created.body, "id");
  auto head = [&f] { return f.Query("SELECT coalesce(max(global_position), 0) FROM events"); };

  WebResponse read = c.Get("/api/v1/vms/" + vm);
  REQUIRE(read.status == 200);
  CHECK(read.Header("ETag") == "\"1\"");
  WebResponse started = c.Post("/api/v1/vms/" + vm + "/start", "", {{"If-Match", "\"1\""}});
  REQUIRE_MESSAGE(started.status == 200, started.body);
  CHECK(started.Header("ETag") == "\"2\"");
  CHECK(c.Get("/api/v1/vms/" + vm).Header("ETag") == "\"2\"");

  // Someone acting on what they read before the start is refused, and nothing is written.
  std::string at = head();
  WebResponse stale = c.Post("/api/v1/vms/" + vm + "/stop", "{}", {{"If-Match", "\"1\""}});
  CHECK(stale.status == 409);
  CHECK(ErrorMessage(stale.body) ==
        "VM web-1 changed since you read it (version 1, now 2); reload it and try again");
  rapidjson::Document d;
  d.Parse(stale.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(d["error"]["code"].GetString() == std::string("conflict"));
  CHECK(d["error"]["details"]["expected_version"].GetInt64() == 1);
  CHECK(d["error"]["details"]["current_version"].GetInt64() == 2);
  CHECK(head() == at);
  // An already-satisfied command with a stale version is refused too (it would write nothing,
  // but the caller must learn that what they saw is gone).
  CHECK(c.Post("/api/v1/vms/" + vm + "/start", "", {{"If-Match", "\"1\""}}).status == 409);
  CHECK(c.Delete("/api/v1/vms/" + vm, {{"If-Match", "\"7\""}}).status == 409);
  WebResponse malformed = c.Post("/api/v1/vms/" + vm + "/stop", "{}", {{"If-Match", "2"}});
  CHECK(malformed.status == 400);
  CHECK(ErrorMessage(malformed.body).find("If-Match") != std::string::npos);
  CHECK(head() == at);
  // "*" and no header at all mean any version.
  CHECK(c.Post("/api/v1/vms/" + vm + "/stop", "{}", {{"If-Match", "*"}}).status == 200);
  CHECK(c.Post("/api/v1/vms/" + vm + "/start", "{}").status == 200);
  CHECK(c.Get("/api/v1/vms/" + vm).Header("ETag") == "\"4\"");
  // A retry (same Idempotency-Key) of a guarded command that landed gets its first answer, not
  // a conflict with its own write.
  httplib::Headers retry = {{"If-Match", "\"4\""}, {"Idempotency-Key", "stop-once"}};
  WebResponse once = c.Post("/api/v1/vms/" + vm + "/stop", "{}", retry);
  REQUIRE_MESSAGE(once.status == 200, once.body);
  at = head();
  WebResponse twice = c.Post("/api/v1/vms/" + vm + "/stop", "{}", retry);
  CHECK_MESSAGE(twice.status == 200, twice.body);
  CHECK(twice.Header("Idempotent-Replayed") == "true");
  CHECK(head() == at);
  // Another key with the old version is a new command: refused.
  CHECK(c.Post("/api/v1/vms/" + vm + "/stop", "{}",
               {{"If-Match", "\"4\""}, {"Idempotency-Key", "stop-again"}})
            .status == 409);

  // The organization: members change its version.
  WebResponse acme = c.Get("/api/v1/orgs/" + org);
  REQUIRE(acme.status == 200);
  CHECK(acme.Header("ETag") == "\"1\"");
  WebResponse added =
      c.Post("/api/v1/orgs/" + org + "/members", R"({"username":"bob"})", {{"If-Match", "\"1\""}});
  REQUIRE_MESSAGE(added.status == 200, added.body);
  CHECK(added.Header("ETag") == "\"2\"");
  std::string bob_id = JsonField(bob.Get("/auth/session").body, "user_id");
  REQUIRE(!bob_id.empty());
  at = head();
  WebResponse refused =
      c.Delete("/api/v1/orgs/" + org + "/members/" + bob_id, {{"If-Match", "\"1\""}});
  CHECK(refused.status == 409);
  CHECK(ErrorMessage(refused.body) ==
        "organization Acme changed since you read it (version 1, now 2); reload it and try again");
  CHECK(head() == at);
  WebResponse removed =
      c.Delete("/api/v1/orgs/" + org + "/members/" + bob_id, {{"If-Match", "\"2\""}});
  CHECK(removed.status == 200);
  CHECK(removed.Header("ETag") == "\"3\"");
}

TEST_CASE("concurrent commands guarded by the same If-Match: exactly one lands") {
  // Every request reads version 1 and races the others to the append. The check sits inside
  // the command pipeline's retry loop, so a request whose append loses re-reads the stream and
  // is refused; a check made before the command would let it decide again on the new state (a
  // start of a started VM changes nothing) and answer 200.
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  REQUIRE(c.RegisterWith(key, "alice").status == 201);
  std::string org = JsonField(c.Post("/api/v1/orgs", R"({"name":"Acme"})").body, "id");
  constexpr int kRequests = 6;
  for (int round = 0; round < 3; ++round) {
    std::string name = "race-" + std::to_string(round);
    WebResponse created = c.Post("/api/v1/orgs/" + org + "/vms",
                                 R"({"name":")" + name + R"(","image":"debian-12","start":false})");
    REQUIRE_MESSAGE(created.status == 201, created.body);
    REQUIRE(created.Header("ETag") == "\"1\"");
    std::string vm = JsonField(created.body, "id");

    std::vector<std::unique_ptr<WebClient>> clients;
    for (int i = 0; i < kRequests; ++i) {
      clients.push_back(std::make_unique<WebClient>(f));
      clients.back()->cookie = c.cookie;
      clients.back()->csrf = c.csrf;
    }
    std::vector<WebResponse> answers(kRequests);
    std::latch go(kRequests);
    std::vector<std::thread> threads;
    for (int i = 0; i < kRequests; ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        answers[i] = clients[i]->Post("/api/v1/vms/" + vm + "/start", "", {{"If-Match", "\"1\""}});
      });
    }
    for (std::thread& t : threads) t.join();

    int landed = 0, refused = 0;
    for (const WebResponse& r : answers) {
      if (r.status == 200) {
        ++landed;
        CHECK(r.Header("ETag") == "\"2\"");
      } else {
        CHECK_MESSAGE(r.status == 409, r.body);
        CHECK(ErrorMessage(r.body) == "VM " + name +
                                          " changed since you read it (version 1, now 2); reload "
                                          "it and try again");
        ++refused;
      }
    }
    CHECK(landed == 1);
    CHECK(refused == kRequests - 1);
    CHECK(f.Query("SELECT count(*) FROM events WHERE stream_id = $1", {domain::VmStreamId(vm)}) ==
          "2");
    CHECK(c.Get("/api/v1/vms/" + vm).Header("ETag") == "\"2\"");
  }
}

namespace {

struct ListPage {
  std::vector<std::string> keys;  // "name/id"
  std::string next;               // "" when null
  bool next_is_null = false;
};

ListPage ReadPage(WebClient& c, const std::string& path, const char* list) {
  WebResponse r = c.Get(path);
  REQUIRE_MESSAGE(r.status == 200, path << ": " << r.body);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE(d.IsObject());
  ListPage p;
  for (const auto& item : d[list].GetArray()) {
    p.keys.push_back(std::string(item["name"].GetString()) + "/" + item["id"].GetString());
  }
  REQUIRE(d.HasMember("next_cursor"));
  p.next_is_null = d["next_cursor"].IsNull();
  if (!p.next_is_null) p.next = d["next_cursor"].GetString();
  return p;
}

// Every page from the first, `limit` at a time.
std::vector<std::string> AllPages(WebClient& c, const std::string& base, const char* list,
                                  int limit, int* pages) {
  std::vector<std::string> all;
  std::string cursor;
  *pages = 0;
  char sep = base.find('?') == std::string::npos ? '?' : '&';
  while (true) {
    std::string path = base + sep + "limit=" + std::to_string(limit);
    if (!cursor.empty()) path += "&cursor=" + cursor;
    ListPage p = ReadPage(c, path, list);
    ++*pages;
    REQUIRE(p.keys.size() <= static_cast<size_t>(limit));
    all.insert(all.end(), p.keys.begin(), p.keys.end());
    if (p.next_is_null) break;
    CHECK(p.keys.size() == static_cast<size_t>(limit));
    cursor = p.next;
    REQUIRE(*pages < 100);
  }
  return all;
}

}  // namespace

TEST_CASE("cursor paging returns every readable VM and organization once in a stable order") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  // Two organizations with the same VM names: ties on the name are broken by the id.
  std::vector<std::string> orgs;
  for (const char* name : {"Beta", "Alpha", "Beta", "Gamma", "Delta"}) {
    WebResponse r = alice.Post("/api/v1/orgs", std::string(R"({"name":")") + name + "\"}");
    REQUIRE(r.status == 201);
    orgs.push_back(JsonField(r.body, "id"));
  }
  for (const std::string& org : {orgs[0], orgs[1]}) {
    for (const char* name : {"db", "web-2", "web-1", "cache", "api", "web-10", "zeta"}) {
      REQUIRE(alice
                  .Post("/api/v1/orgs/" + org + "/vms",
                        std::string(R"({"name":")") + name + R"(","image":"debian-12"})")
                  .status == 201);
    }
  }
  std::string bobs = JsonField(bob.Post("/api/v1/orgs", R"({"name":"Aardvark"})").body, "id");
  REQUIRE(
      bob.Post("/api/v1/orgs/" + bobs + "/vms", R"({"name":"aaa","image":"debian-12"})").status ==
      201);

  ListPage everything = ReadPage(alice, "/api/v1/vms", "vms");
  CHECK(everything.keys.size() == 14);
  CHECK(everything.next_is_null);
  CHECK(everything.keys.front().rfind("api/", 0) == 0);
  CHECK(everything.keys.back().rfind("zeta/", 0) == 0);
  for (int limit : {1, 3, 5, 13, 14, 1000}) {
    CAPTURE(limit);
    int pages = 0;
    std::vector<std::string> paged = AllPages(alice, "/api/v1/vms", "vms", limit, &pages);
    CHECK(paged == everything.keys);           // each once, same order
    CHECK(pages == (14 + limit - 1) / limit);  // a full last page already says null
  }
  // Filters apply on every page.
  int pages = 0;
  std::vector<std::string> webs = AllPages(alice, "/api/v1/vms?q=web", "vms", 2, &pages);
  CHECK(webs.size() == 6);
  CHECK(pages == 3);

  // A VM created between pages after the cursor shows up; one before it does not repeat others.
  ListPage first = ReadPage(alice, "/api/v1/vms?limit=4", "vms");
  REQUIRE(!first.next_is_null);
  REQUIRE(alice.Post("/api/v1/orgs/" + orgs[2] + "/vms", R"({"name":"yak","image":"debian-12"})")
              .status == 201);
  REQUIRE(alice.Post("/api/v1/orgs/" + orgs[2] + "/vms", R"({"name":"a","image":"debian-12"})")
              .status == 201);
  std::vector<std::string> rest;
  std::string cursor = first.next;
  while (!cursor.empty()) {
    ListPage p = ReadPage(alice, "/api/v1/vms?limit=4&cursor=" + cursor, "vms");
    rest.insert(rest.end(), p.keys.begin(), p.keys.end());
    cursor = p.next;
  }
  CHECK(rest.size() == 10 + 1);  // the 10 not yet seen and "yak"
  for (const std::string& k : first.keys) {
    CHECK(std::find(rest.begin(), rest.end(), k) == rest.end());
  }

  // Organizations: Bob's is never on Alice's pages.
  ListPage all_orgs = ReadPage(alice, "/api/v1/orgs", "organizations");
  CHECK(all_orgs.keys.size() == 5);
  std::vector<std::string> paged_orgs = AllPages(alice, "/api/v1/orgs", "organizations", 2, &pages);
  CHECK(paged_orgs == all_orgs.keys);
  CHECK(pages == 3);
  for (const std::string& k : paged_orgs) CHECK(k.find("Aardvark") == std::string::npos);
  CHECK(paged_orgs.front().rfind("Alpha/", 0) == 0);

  // A cursor is opaque but not trusted: garbage is a 400 naming the parameter.
  WebResponse bad = alice.Get("/api/v1/vms?cursor=" + first.next.substr(0, 5) + "!");
  CHECK(bad.status == 400);
  CHECK(ErrorMessage(bad.body).find("cursor") != std::string::npos);
  WebResponse big = alice.Get("/api/v1/orgs?limit=1001");
  CHECK(big.status == 400);
  CHECK(ErrorMessage(big.body).find("limit") != std::string::npos);
}

TEST_CASE("a personal API token works without cookie or CSRF until it is revoked") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient browser(f), script(f);
  REQUIRE(browser.RegisterWith(key, "alice").status == 201);
  std::string org = JsonField(browser.Post("/api/v1/orgs", R"({"name":"Acme"})").body, "id");
  WebResponse made = browser.Post("/api/v1/account/tokens", R"({"name":"ci"})");
  REQUIRE(made.status == 201);
  std::string token = JsonField(made.body, "token");
  std::string token_id = JsonField(made.body, "id");
  REQUIRE(token.rfind("strato_", 0) == 0);
  httplib::Headers bearer = {{"Authorization", "Bearer " + token}};
  REQUIRE(script.cookie.empty());

  CHECK(script.Get("/api/v1/orgs", bearer).status == 200);
  WebResponse vm = script.Post("/api/v1/orgs/" + org + "/vms",
                               R"({"name":"web-1","image":"debian-12"})", bearer);
  CHECK_MESSAGE(vm.status == 201, vm.body);  // no CSRF header: not needed without a cookie
  WebResponse one = script.Get("/api/v1/vms/" + JsonField(vm.body, "id"), bearer);
  CHECK(one.status == 200);
  CHECK(one.Header("ETag") == "\"1\"");
  // A token cannot mint tokens.
  CHECK(script.Post("/api/v1/account/tokens", R"({"name":"more"})", bearer).status == 403);
  // A wrong token is not signed in.
  CHECK(script.Get("/api/v1/orgs", {{"Authorization", "Bearer strato_wrong"}}).status == 401);
  CHECK(script.Get("/api/v1/orgs").status == 401);

  CHECK(browser.Delete("/api/v1/account/tokens/" + token_id).status == 204);
  WebResponse after = script.Get("/api/v1/orgs", bearer);
  CHECK(after.status == 401);
  CHECK(!ErrorMessage(after.body).empty());
}

TEST_CASE("a token's last use is written at most once a minute") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient browser(f), script(f);
  REQUIRE(browser.RegisterWith(key, "alice").status == 201);
  WebResponse made = browser.Post("/api/v1/account/tokens", R"({"name":"ci"})");
  REQUIRE(made.status == 201);
  std::string id = JsonField(made.body, "id");
  httplib::Headers bearer = {{"Authorization", "Bearer " + JsonField(made.body, "token")}};
  auto last_used = [&] {
    return f.Query("SELECT last_used_at::text FROM api_tokens WHERE token_id = $1::uuid", {id});
  };
  CHECK(last_used().empty());  // never used

  REQUIRE(script.Get("/api/v1/orgs", bearer).status == 200);
  std::string first = last_used();
  CHECK(!first.empty());
  for (int i = 0; i < 3; ++i) REQUIRE(script.Get("/api/v1/orgs", bearer).status == 200);
  CHECK(last_used() == first);  // within the minute: not written again

  f.Query(
      "UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE token_id = "
      "$1::uuid RETURNING 1",
      {id});
  std::string old = last_used();
  REQUIRE(script.Get("/api/v1/orgs", bearer).status == 200);
  CHECK(last_used() != old);
  CHECK(f.Query("SELECT last_used_at > now() - interval '1 minute' FROM api_tokens WHERE "
                "token_id = $1::uuid",
                {id}) == "t");
}

TEST_CASE(
    "a retried organization create with the same Idempotency-Key answers the first "
    "result marked Idempotent-Replayed") {
  WebFixture f;
  SoftAuthenticator key("localhost", f.origin());
  WebClient c(f);
  REQUIRE(c.RegisterWith(key, "alice").status == 201);
  std::string idem = Uuid::NewV4().ToString();
  WebResponse first = c.Post("/api/v1/orgs", R"({"name":"Acme"})", {{"Idempotency-Key", idem}});
  REQUIRE(first.status == 201);
  CHECK(first.Header("Idempotent-Replayed").empty());
  std::string head = f.Query("SELECT max(global_position) FROM events");
  WebResponse again = c.Post("/api/v1/orgs", R"({"name":"Acme"})", {{"Idempotency-Key", idem}});
  CHECK(again.status == 201);
  CHECK(again.Header("Idempotent-Replayed") == "true");
  CHECK(JsonField(again.body, "id") == JsonField(first.body, "id"));
  CHECK(f.Query("SELECT max(global_position) FROM events") == head);
  CHECK(f.Query("SELECT count(*) FROM events WHERE type = 'OrganizationCreated' AND stream_id = $1",
                {domain::OrganizationStreamId(JsonField(first.body, "id"))}) == "1");
}

TEST_CASE("retried member changes with the same Idempotency-Key are marked Idempotent-Replayed") {
  WebFixture f;
  SoftAuthenticator alice_key("localhost", f.origin());
  SoftAuthenticator bob_key("localhost", f.origin());
  WebClient alice(f);
  WebClient bob(f);
  REQUIRE(alice.RegisterWith(alice_key, "alice").status == 201);
  REQUIRE(bob.RegisterWith(bob_key, "bob").status == 201);
  WebResponse org = alice.Post("/api/v1/orgs", R"({"name":"Acme"})");
  REQUIRE(org.status == 201);
  const std::string org_id = JsonField(org.body, "id");
  const std::string stream = domain::OrganizationStreamId(org_id);
  auto count = [&](const char* type) {
    return f.Query("SELECT count(*) FROM events WHERE type = $1 AND stream_id = $2",
                   {type, stream});
  };

  const httplib::Headers add_key = {{"Idempotency-Key", Uuid::NewV4().ToString()}};
  const std::string members = "/api/v1/orgs/" + org_id + "/members";
  WebResponse added = alice.Post(members, R"({"username":"bob"})", add_key);
  REQUIRE_MESSAGE(added.status == 200, added.body);
  CHECK(added.Header("Idempotent-Replayed").empty());
  WebResponse added_again = alice.Post(members, R"({"username":"bob"})", add_key);
  CHECK(added_again.status == 200);
  CHECK(added_again.Header("Idempotent-Replayed") == "true");
  CHECK(count("MemberAdded") == "1");

  const std::string bob_id = f.Query("SELECT user_id FROM users WHERE username = 'bob'");
  const httplib::Headers remove_key = {{"Idempotency-Key", Uuid::NewV4().ToString()}};
  WebResponse removed = alice.Delete(members + "/" + bob_id, remove_key);
  REQUIRE_MESSAGE(removed.status == 200, removed.body);
  CHECK(removed.Header("Idempotent-Replayed").empty());
  WebResponse removed_again = alice.Delete(members + "/" + bob_id, remove_key);
  CHECK(removed_again.status == 200);
  CHECK(removed_again.Header("Idempotent-Replayed") == "true");
  CHECK(count("MemberRemoved") == "1");
}

TEST_CASE("the OpenAPI document names If-Match and ETag and the paging parameters") {
  WebFixture f;
  WebClient c(f);
  WebResponse r = c.Get("/api/v1/openapi.json");
  REQUIRE(r.status == 200);
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE(doc.IsObject());
  auto parameters = [&](const char* path, const char* method) {
    std::set<std::string> names;
    for (const auto& p : doc["paths"][path][method]["parameters"].GetArray()) {
      names.insert(std::string(p["in"].GetString()) + ":" + p["name"].GetString());
    }
    return names;
  };
  CHECK(parameters("/api/v1/vms/{id}/stop", "post").count("header:If-Match") == 1);
  CHECK(parameters("/api/v1/vms/{id}", "delete").count("header:If-Match") == 1);
  CHECK(parameters("/api/v1/orgs/{id}/members", "post").count("header:If-Match") == 1);
  CHECK(parameters("/api/v1/orgs", "post").count("header:If-Match") == 0);
  CHECK(parameters("/api/v1/vms", "get").count("query:limit") == 1);
  CHECK(parameters("/api/v1/orgs", "get").count("query:cursor") == 1);
  CHECK(parameters("/api/v1/vms/{id}", "get").count("query:limit") == 0);
  CHECK(doc["paths"]["/api/v1/vms/{id}"]["get"]["responses"]["200"]["headers"].HasMember("ETag"));
  CHECK(doc["paths"]["/api/v1/orgs/{id}"]["get"]["responses"]["200"]["headers"].HasMember("ETag"));
  CHECK(doc["paths"]["/api/v1/vms/{id}/stop"]["post"]["responses"].HasMember("409"));
  CHECK(doc["components"]["securitySchemes"].HasMember("bearer"));
}
