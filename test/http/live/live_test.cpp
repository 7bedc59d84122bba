// Live updates over real HTTP (GET /api/v1/events/stream, server-sent events) against a real
// database: who receives which events, resuming with Last-Event-ID, refusals, and the promise
// that an event arrives only once the read models show it.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/domain/vm.h"
#include "test/support/soft_authenticator.h"
#include "test/support/sse_client.h"
#include "test/support/web_fixture.h"

namespace strato::test {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kWait{15000};

httplib::Headers CookieOf(const WebClient& c) {
  return {{"Cookie", c.cookie}};
}

// A "change" message about `stream` whose type is `type` ("" any).
std::function<bool(const SseMessage&)> ChangeOf(const std::string& stream,
                                                const std::string& type = "") {
  return [stream, type](const SseMessage& m) {
    if (m.event != "change") return false;
    rapidjson::Document d;
    d.Parse(m.data.c_str());
    if (!d.IsObject() || !d.HasMember("stream")) return false;
    return d["stream"].GetString() == stream && (type.empty() || d["type"].GetString() == type);
  };
}

}  // namespace

TEST_CASE("the live stream sends the events a user may read and none of another user's") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  SseClient live(f.port(), CookieOf(alice));
  REQUIRE(live.WaitStatus(kWait) == 200);

  std::string bobs_org = CreateOrg(bob, "Bob Co");
  std::string bobs_vm = CreateVm(bob, bobs_org, "bobs-vm");
  std::string acme = CreateOrg(alice, "Acme");
  std::string vm = CreateVm(alice, acme, "alices-vm");

  auto created = live.WaitFor(ChangeOf("vm-" + vm, "VmCreated"), kWait);
  REQUIRE(created.has_value());
  rapidjson::Document d;
  d.Parse(created->data.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["kind"].GetString()) == "vm");
  CHECK(std::string(d["id"].GetString()) == vm);
  // The SSE id is the event's global position, so a reconnect resumes after it.
  CHECK(created->id == std::to_string(d["position"].GetInt64()));
  CHECK(live.WaitFor(ChangeOf("org-" + acme, "OrganizationCreated"), kWait).has_value());
  // Bob's events came first in the log; none of them reached Alice.
  for (const SseMessage& m : live.Messages()) {
    CAPTURE(m.data);
    CHECK(m.data.find(bobs_vm) == std::string::npos);
    CHECK(m.data.find(bobs_org) == std::string::npos);
  }

  // Once Bob is a member of Acme, he is told of its VM's changes too.
  SseClient bobs_live(f.port(), CookieOf(bob));
  REQUIRE(bobs_live.WaitStatus(kWait) == 200);
  REQUIRE(alice.Post("/api/v1/orgs/" + acme + "/members", R"({"username":"bob"})").status == 200);
  REQUIRE(alice.Post("/api/v1/vms/" + vm + "/start", "{}").status == 200);
  CHECK(bobs_live.WaitFor(ChangeOf("vm-" + vm, "VmStartRequested"), kWait).has_value());
  CHECK(live.WaitFor(ChangeOf("vm-" + vm, "VmStartRequested"), kWait).has_value());
}

TEST_CASE("an event arrives only once the read models show it") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  std::string org = CreateOrg(alice, "Acme");
  std::string vm = CreateVm(alice, org, "web-1");
  SseClient live(f.port(), CookieOf(alice));
  REQUIRE(live.WaitStatus(kWait) == 200);

  // A command that no HTTP handler waits for (as hostd's reports or the scheduler's are).
  events::CommandContext ctx;
  ctx.actor = "user-" + JsonField(alice.Get("/auth/session").body, "user_id");
  REQUIRE(f.web().app().commands.Vm(ctx, vm, domain::StartVm{}).ok());
  REQUIRE(live.WaitFor(ChangeOf("vm-" + vm, "VmStartRequested"), kWait).has_value());
  WebResponse now = alice.Get("/api/v1/vms/" + vm);
  REQUIRE(now.status == 200);
  CHECK(JsonField(now.body, "desired") == "running");
}

TEST_CASE("a reconnect with Last-Event-ID resumes after the last event it saw") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  std::string last_seen;
  std::string org;
  {
    SseClient live(f.port(), CookieOf(alice));
    REQUIRE(live.WaitStatus(kWait) == 200);
    org = CreateOrg(alice, "Acme");
    auto m = live.WaitFor(ChangeOf("org-" + org), kWait);
    REQUIRE(m.has_value());
    last_seen = m->id;
  }
  // Missed while away:
  std::string vm = CreateVm(alice, org, "web-1");
  SseClient again(f.port(), {{"Cookie", alice.cookie}, {"Last-Event-ID", last_seen}});
  REQUIRE(again.WaitStatus(kWait) == 200);
  CHECK(again.WaitFor(ChangeOf("vm-" + vm, "VmCreated"), kWait).has_value());
  for (const SseMessage& m : again.Messages()) {
    if (m.event == "change") CHECK(std::stoll(m.id) > std::stoll(last_seen));
    CHECK(m.event != "reset");
  }
}

TEST_CASE("the live stream refuses strangers and positions that are not positions") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);

  SseClient anonymous(f.port(), {});
  CHECK(anonymous.WaitStatus(kWait) == 401);

  SseClient bad(f.port(), {{"Cookie", alice.cookie}, {"Last-Event-ID", "yesterday"}});
  CHECK(bad.WaitStatus(kWait) == 400);
  REQUIRE(bad.WaitEnded(kWait));
  CHECK(bad.body().find("Last-Event-ID") != std::string::npos);
  CHECK(bad.body().find("yesterday") != std::string::npos);

  // A position the log has not reached (another installation's): told to reload, then live.
  SseClient ahead(f.port(), {{"Cookie", alice.cookie}, {"Last-Event-ID", "999999999"}});
  REQUIRE(ahead.WaitStatus(kWait) == 200);
  CHECK(ahead.WaitFor([](const SseMessage& m) { return m.event == "reset"; }, kWait).has_value());
  std::string org = CreateOrg(alice, "Acme");
  CHECK(ahead.WaitFor(ChangeOf("org-" + org), kWait).has_value());
}

TEST_CASE("metrics count the open live streams") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin());
  WebClient alice(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  auto clients = [&] {
    std::string m = alice.Get("/metrics").body;
    size_t at = m.find("\nstrato_sse_clients ");
    REQUIRE(at != std::string::npos);
    return std::stoi(m.substr(at + 20));
  };
  CHECK(clients() == 0);
  {
    SseClient one(f.port(), CookieOf(alice)), two(f.port(), CookieOf(alice));
    REQUIRE(one.WaitStatus(kWait) == 200);
    REQUIRE(two.WaitStatus(kWait) == 200);
    // The stream function holds its slot from the handler on.
    CHECK(clients() == 2);
  }
  // A closed stream gives its slot back once the server notices, at the latest on a write after
  // the connection is gone: make events until it has.
  bool released = false;
  for (int i = 0; i < 20 && !released; ++i) {
    CreateOrg(alice, "Acme " + std::to_string(i));
    std::this_thread::sleep_for(milliseconds(300));
    released = clients() == 0;
  }
  CHECK(released);
}

TEST_CASE("one user may hold 16 live streams at once and the next is refused with 429") {
  WebFixture f;
  SoftAuthenticator a("localhost", f.origin()), b("localhost", f.origin());
  WebClient alice(f), bob(f);
  REQUIRE(alice.RegisterWith(a, "alice").status == 201);
  REQUIRE(bob.RegisterWith(b, "bob").status == 201);
  const size_t cap = f.web().app().live->options().max_clients_per_user;
  REQUIRE(cap == 16);  // STRATO_LIVE_STREAMS_PER_USER's default

  // The attack: one user opens stream after stream, each holding a server thread, until the
  // server's 128 are gone and nobody else gets live updates.
  std::vector<std::unique_ptr<SseClient>> streams;
  for (size_t i = 0; i < cap; ++i) {
    streams.push_back(std::make_unique<SseClient>(f.port(), CookieOf(alice)));
    REQUIRE(streams.back()->WaitStatus(kWait) == 200);
  }
  SseClient one_more(f.port(), CookieOf(alice));
  CHECK(one_more.WaitStatus(kWait) == 429);
  REQUIRE(one_more.WaitEnded(kWait));
  CHECK(Has(one_more.body(), "You have 16 live-update streams open already"));
  CHECK(f.web().app().live->clients_of(JsonField(alice.Get("/auth/session").body, "user_id")) ==
        cap);

  // Someone else is not affected.
  SseClient bobs(f.port(), CookieOf(bob));
  CHECK(bobs.WaitStatus(kWait) == 200);

  // A stream closed gives its slot back once the server notices (on its next write): then she
  // may open one again.
  streams.pop_back();
  bool reopened = false;
  for (int i = 0; i < 20 && !reopened; ++i) {
    CreateOrg(alice, "Acme " + std::to_string(i));
    std::this_thread::sleep_for(milliseconds(300));
    SseClient again(f.port(), CookieOf(alice));
    int status = again.WaitStatus(kWait);
    REQUIRE((status == 200 || status == 429));
    reopened = status == 200;
  }
  CHECK(reopened);
}

}  // namespace strato::test
